"""On-demand backups: CreateBackup, DescribeBackup, ListBackups, DeleteBackup and
RestoreTableFromBackup, against a live server."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.helpers import (
    INVALID,
    Client,
    Item,
    TableFactory,
    attr,
    gsi_item_keys,
    index_items,
    index_spec,
    raises,
    raw_call,
    scan_all,
    unique_name,
    validation,
    wait_active,
)


def gsi_table(table: TableFactory, **extra: Any) -> str:
    """pk S + sk S, a GSI on (gk, sk) projecting ALL and an LSI on (pk, lk) KEYS_ONLY."""
    return table(
        range_key=True,
        AttributeDefinitions=[attr("pk"), attr("sk"), attr("gk"), attr("lk", "N")],
        GlobalSecondaryIndexes=[index_spec("by-gk", "gk", "sk")],
        LocalSecondaryIndexes=[index_spec("by-lk", "pk", "lk", ProjectionType="KEYS_ONLY")],
        **extra,
    )


def item(pk: str, sk: str, gk: str | None, v: str, lk: int | None = None) -> Item:
    out: Item = {"pk": {"S": pk}, "sk": {"S": sk}, "v": {"S": v}}
    if gk is not None:
        out["gk"] = {"S": gk}
    if lk is not None:
        out["lk"] = {"N": str(lk)}
    return out


def query_gsi(client: Client, name: str, gk: str) -> list[tuple[str, str]]:
    return gsi_item_keys(client, name, gk)


def query_lsi(client: Client, name: str, pk: str) -> list[tuple[str, str]]:
    found = client.query(
        TableName=name,
        IndexName="by-lk",
        KeyConditionExpression="pk = :p AND lk > :zero",
        ExpressionAttributeValues={":p": {"S": pk}, ":zero": {"N": "0"}},
    )["Items"]
    return [(i["pk"]["S"], i["sk"]["S"]) for i in found]


def wait_available(client: Client, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        described: dict[str, Any] = client.describe_backup(BackupArn=arn)["BackupDescription"]
        if described["BackupDetails"]["BackupStatus"] == "AVAILABLE":
            return described
        assert time.monotonic() < deadline, "backup never became AVAILABLE"
        time.sleep(0.1)


def restore(client: Client, cleanup: Callable[[str], str], arn: str, **overrides: Any) -> str:
    target = cleanup(unique_name("restored"))
    answer = client.restore_table_from_backup(TargetTableName=target, BackupArn=arn, **overrides)[
        "TableDescription"
    ]
    assert answer["TableStatus"] == "CREATING"
    assert answer["RestoreSummary"]["SourceBackupArn"] == arn
    assert answer["RestoreSummary"]["RestoreInProgress"] is True
    wait_active(client, target)
    return target


def test_backup_lifecycle(dynamodb: Client, table: TableFactory) -> None:
    name = gsi_table(table)
    for i in range(3):
        dynamodb.put_item(TableName=name, Item=item("p", f"s{i}", "g", "x", i + 1))
    described_table = dynamodb.describe_table(TableName=name)["Table"]
    before = datetime.now(UTC)
    created = dynamodb.create_backup(TableName=name, BackupName="nightly")["BackupDetails"]
    arn = created["BackupArn"]
    assert arn.startswith(f"{described_table['TableArn']}/backup/")
    assert created["BackupName"] == "nightly"
    assert created["BackupStatus"] == "CREATING"  # DynamoDB's answer, however quick
    assert created["BackupType"] == "USER"
    assert "BackupExpiryDateTime" not in created
    assert abs((created["BackupCreationDateTime"] - before).total_seconds()) < 5
    described = wait_available(dynamodb, arn)
    details = described["BackupDetails"]
    assert details["BackupCreationDateTime"] == created["BackupCreationDateTime"]
    assert details["BackupSizeBytes"] > 0
    source = described["SourceTableDetails"]
    assert source["TableName"] == name
    assert source["TableId"] == described_table["TableId"]
    assert source["TableArn"] == described_table["TableArn"]
    assert source["KeySchema"] == described_table["KeySchema"]
    assert source["ItemCount"] == 3
    assert source["BillingMode"] == "PAY_PER_REQUEST"
    assert source["ProvisionedThroughput"] == {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    features = described["SourceTableFeatureDetails"]
    assert [g["IndexName"] for g in features["GlobalSecondaryIndexes"]] == ["by-gk"]
    assert set(features["GlobalSecondaryIndexes"][0]) == {
        "IndexName",
        "KeySchema",
        "Projection",
        "ProvisionedThroughput",
    }
    assert [i["IndexName"] for i in features["LocalSecondaryIndexes"]] == ["by-lk"]
    # Names are not unique: a second backup with the same name is another backup.
    second = dynamodb.create_backup(TableName=name, BackupName="nightly")["BackupDetails"]
    assert second["BackupArn"] != arn
    wait_available(dynamodb, second["BackupArn"])
    deleted = dynamodb.delete_backup(BackupArn=arn)["BackupDescription"]
    assert deleted["BackupDetails"]["BackupStatus"] == "DELETED"
    assert deleted["SourceTableDetails"]["TableName"] == name
    with raises("BackupNotFoundException", f"Backup not found: {arn}"):
        dynamodb.describe_backup(BackupArn=arn)
    with raises("BackupNotFoundException", f"Backup not found: {arn}"):
        dynamodb.delete_backup(BackupArn=arn)
    listed = dynamodb.list_backups(TableName=name)["BackupSummaries"]
    assert [b["BackupArn"] for b in listed] == [second["BackupArn"]]


def test_list_backups_filters_and_pages(
    dynamodb: Client, endpoint: str, table: TableFactory
) -> None:
    name = table()
    other = table()
    arns = []
    for i in range(5):
        arns.append(
            dynamodb.create_backup(TableName=name, BackupName=f"b-{i}")["BackupDetails"][
                "BackupArn"
            ]
        )
        time.sleep(0.01)
    other_arn = dynamodb.create_backup(TableName=other, BackupName="other")["BackupDetails"][
        "BackupArn"
    ]
    listed = dynamodb.list_backups(TableName=name)["BackupSummaries"]
    assert [b["BackupArn"] for b in listed] == arns  # creation order
    assert listed[0]["TableName"] == name
    assert set(listed[0]) == {
        "TableName",
        "TableId",
        "TableArn",
        "BackupArn",
        "BackupName",
        "BackupCreationDateTime",
        "BackupStatus",
        "BackupType",
        "BackupSizeBytes",
    }
    everything = [b["BackupArn"] for b in dynamodb.list_backups()["BackupSummaries"]]
    assert set(arns) | {other_arn} <= set(everything)
    # Paging: Limit, LastEvaluatedBackupArn, ExclusiveStartBackupArn.
    pages: list[str] = []
    kwargs: dict[str, Any] = {"TableName": name, "Limit": 2}
    while True:
        page = dynamodb.list_backups(**kwargs)
        pages += [b["BackupArn"] for b in page["BackupSummaries"]]
        if "LastEvaluatedBackupArn" not in page:
            break
        kwargs["ExclusiveStartBackupArn"] = page["LastEvaluatedBackupArn"]
    assert pages == arns
    exact = dynamodb.list_backups(TableName=name, Limit=5)
    assert "LastEvaluatedBackupArn" not in exact
    # Time range: lower bound inclusive, upper bound exclusive, in milliseconds (boto3
    # sends whole seconds, so the bounds go over raw JSON).
    created = [b["BackupCreationDateTime"].timestamp() for b in listed]
    ranged = raw_call(
        endpoint,
        "ListBackups",
        {"TableName": name, "TimeRangeLowerBound": created[1], "TimeRangeUpperBound": created[3]},
    ).json()["BackupSummaries"]
    assert [b["BackupArn"] for b in ranged] == arns[1:3]
    # BackupType: USER by default; SYSTEM, AWS_BACKUP and ALL.
    assert dynamodb.list_backups(TableName=name, BackupType="SYSTEM")["BackupSummaries"] == []
    assert dynamodb.list_backups(TableName=name, BackupType="AWS_BACKUP")["BackupSummaries"] == []
    assert len(dynamodb.list_backups(TableName=name, BackupType="ALL")["BackupSummaries"]) == 5
    assert dynamodb.list_backups(TableName=unique_name())["BackupSummaries"] == []
    with validation(
        INVALID + "Time range lower bound must be less than or equal to upper bound",
    ):
        dynamodb.list_backups(
            TimeRangeLowerBound=datetime.now(UTC),
            TimeRangeUpperBound=datetime.now(UTC) - timedelta(days=1),
        )


def test_restore_equals_the_snapshot_item_by_item(
    dynamodb: Client, table: TableFactory, cleanup: Callable[[str], str]
) -> None:
    """write, snapshot, overwrite, delete, restore: the restore holds the snapshot."""
    name = gsi_table(table)
    for i in range(30):
        dynamodb.put_item(
            TableName=name,
            Item=item(f"p{i % 3}", f"s{i:02d}", f"g{i % 2}" if i % 5 else None, "v1", i + 1),
        )
    snapshot = scan_all(dynamodb, name)
    arn = dynamodb.create_backup(TableName=name, BackupName="snap")["BackupDetails"]["BackupArn"]
    for i in range(0, 30, 2):
        dynamodb.put_item(TableName=name, Item=item(f"p{i % 3}", f"s{i:02d}", "g9", "v2"))
    for i in range(1, 30, 3):
        dynamodb.delete_item(
            TableName=name, Key={"pk": {"S": f"p{i % 3}"}, "sk": {"S": f"s{i:02d}"}}
        )
    dynamodb.put_item(TableName=name, Item=item("new", "s00", "g0", "v2"))
    wait_available(dynamodb, arn)
    restored = restore(dynamodb, cleanup, arn)
    assert scan_all(dynamodb, restored) == snapshot
    for gk in ("g0", "g1", "g9"):
        wanted = sorted(
            (k for k, v in snapshot.items() if v.get("gk", {}).get("S") == gk),
            key=lambda k: k[1],
        )
        assert sorted(query_gsi(dynamodb, restored, gk), key=lambda k: k[1]) == wanted
    for pk in ("p0", "p1", "p2"):
        assert sorted(query_lsi(dynamodb, restored, pk)) == sorted(
            k for k in snapshot if k[0] == pk
        )
    described = dynamodb.describe_table(TableName=restored)["Table"]
    assert described["ItemCount"] == len(snapshot)
    assert "RestoreSummary" not in described
    assert described["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE"
    assert described["LocalSecondaryIndexes"][0]["IndexName"] == "by-lk"
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_backup_of_a_table_being_written_is_consistent(
    dynamodb: Client, table: TableFactory, cleanup: Callable[[str], str]
) -> None:
    """A table larger than what CreateBackup copies at once is copied in the background
    while writes continue; the backup still holds the table as it was at CreateBackup."""
    name = table()
    total = 3000
    for start in range(0, total, 25):
        dynamodb.batch_write_item(
            RequestItems={
                name: [
                    {"PutRequest": {"Item": {"pk": {"S": f"k{i:05d}"}, "n": {"N": str(i)}}}}
                    for i in range(start, start + 25)
                ]
            }
        )
    arn = dynamodb.create_backup(TableName=name, BackupName="busy")["BackupDetails"]["BackupArn"]
    # Writes racing the background copy: updates, deletes and inserts all over the key space.
    for i in range(0, total, 97):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": f"k{i:05d}"}, "n": {"N": "-1"}})
        dynamodb.delete_item(TableName=name, Key={"pk": {"S": f"k{i + 1:05d}"}})
        dynamodb.put_item(TableName=name, Item={"pk": {"S": f"z{i:05d}"}, "n": {"N": "-2"}})
    described = wait_available(dynamodb, arn)
    assert described["SourceTableDetails"]["ItemCount"] == total
    restored = restore(dynamodb, cleanup, arn)
    got = {pk: v["n"]["N"] for (pk, _), v in scan_all(dynamodb, restored).items()}
    assert got == {f"k{i:05d}": str(i) for i in range(total)}


def test_backup_outlives_its_table(
    dynamodb: Client, table: TableFactory, cleanup: Callable[[str], str]
) -> None:
    name = table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    arn = dynamodb.create_backup(TableName=name, BackupName="keep")["BackupDetails"]["BackupArn"]
    wait_available(dynamodb, arn)
    dynamodb.delete_table(TableName=name)
    assert wait_available(dynamodb, arn)["SourceTableDetails"]["TableName"] == name
    assert [b["BackupArn"] for b in dynamodb.list_backups(TableName=name)["BackupSummaries"]] == [
        arn
    ]
    restored = restore(dynamodb, cleanup, arn)
    assert scan_all(dynamodb, restored) == {("a", ""): {"pk": {"S": "a"}, "n": {"N": "1"}}}
    # The name can be restored to as well, now that the table is gone.
    again = cleanup(name)
    dynamodb.restore_table_from_backup(TargetTableName=again, BackupArn=arn)
    wait_active(dynamodb, again)
    dynamodb.delete_backup(BackupArn=arn)


def test_restore_overrides(
    dynamodb: Client, table: TableFactory, cleanup: Callable[[str], str]
) -> None:
    name = gsi_table(table)
    dynamodb.put_item(TableName=name, Item=item("p", "s", "g", "v", 1))
    arn = dynamodb.create_backup(TableName=name, BackupName="ovr")["BackupDetails"]["BackupArn"]
    wait_available(dynamodb, arn)
    # No indexes at all, provisioned.
    bare = restore(
        dynamodb,
        cleanup,
        arn,
        GlobalSecondaryIndexOverride=[],
        LocalSecondaryIndexOverride=[],
        BillingModeOverride="PROVISIONED",
        ProvisionedThroughputOverride={"ReadCapacityUnits": 5, "WriteCapacityUnits": 6},
    )
    described = dynamodb.describe_table(TableName=bare)["Table"]
    assert "GlobalSecondaryIndexes" not in described
    assert "LocalSecondaryIndexes" not in described
    assert [d["AttributeName"] for d in described["AttributeDefinitions"]] == ["pk", "sk"]
    assert described["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert described["ProvisionedThroughput"]["WriteCapacityUnits"] == 6
    assert described["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    # A renamed GSI with the same keys and projection is allowed.
    renamed = restore(
        dynamodb,
        cleanup,
        arn,
        GlobalSecondaryIndexOverride=[
            {
                "IndexName": "renamed",
                "KeySchema": [
                    {"AttributeName": "gk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    got = index_items(dynamodb, renamed, "renamed", "gk", "g")
    assert [i["pk"]["S"] for i in got] == ["p"]


def test_restore_and_backup_errors(
    dynamodb: Client, unchecked: Client, table: TableFactory, cleanup: Callable[[str], str]
) -> None:
    name = gsi_table(table)
    arn = dynamodb.create_backup(TableName=name, BackupName="err")["BackupDetails"]["BackupArn"]
    wait_available(dynamodb, arn)
    missing = arn[:-8] + "00000001"
    with raises("BackupNotFoundException", f"Backup not found: {missing}"):
        dynamodb.describe_backup(BackupArn=missing)
    with raises("BackupNotFoundException", f"Backup not found: {missing}"):
        dynamodb.restore_table_from_backup(TargetTableName=unique_name(), BackupArn=missing)
    table_arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
    with raises("ValidationException", "Invalid Backup ARN"):
        dynamodb.describe_backup(BackupArn=table_arn + "/stream/not-a-backup-at-all")
    with raises("TableAlreadyExistsException", f"Table already exists: {name}"):
        dynamodb.restore_table_from_backup(TargetTableName=name, BackupArn=arn)
    absent = unique_name()
    with raises("TableNotFoundException", f"Table not found: {absent}"):
        dynamodb.create_backup(TableName=absent, BackupName="nope")
    with validation(
        "Invalid Request: Index other does not match a secondary index that existed in the "
        "source table and cannot be created during the restore operation"
    ):
        dynamodb.restore_table_from_backup(
            TargetTableName=unique_name(),
            BackupArn=arn,
            GlobalSecondaryIndexOverride=[
                {
                    "IndexName": "other",
                    "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
    with validation(
        "Invalid Request: Cannot override ProvisionedThroughput unless BillingMode is PROVISIONED"
    ):
        dynamodb.restore_table_from_backup(
            TargetTableName=unique_name(),
            BackupArn=arn,
            ProvisionedThroughputOverride={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        )
    with validation(
        "Invalid Request: Must override ProvisionedThroughput if BillingMode is overridden to "
        "PROVISIONED"
    ):
        dynamodb.restore_table_from_backup(
            TargetTableName=unique_name(), BackupArn=arn, BillingModeOverride="PROVISIONED"
        )
    with validation("Invalid Request: Must specify provisioned throughput for index by-gk"):
        dynamodb.restore_table_from_backup(
            TargetTableName=unique_name(),
            BackupArn=arn,
            BillingModeOverride="PROVISIONED",
            ProvisionedThroughputOverride={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        )
    # No restore target was left behind by any of these.
    assert [b["BackupArn"] for b in dynamodb.list_backups(TableName=name)["BackupSummaries"]] == [
        arn
    ]


@pytest.mark.parametrize("size", [0, 1])
def test_backup_of_small_tables(
    dynamodb: Client, table: TableFactory, cleanup: Callable[[str], str], size: int
) -> None:
    name = table()
    for i in range(size):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}})
    arn = dynamodb.create_backup(TableName=name, BackupName="tiny")["BackupDetails"]["BackupArn"]
    assert wait_available(dynamodb, arn)["SourceTableDetails"]["ItemCount"] == size
    restored = restore(dynamodb, cleanup, arn)
    assert dynamodb.describe_table(TableName=restored)["Table"]["ItemCount"] == size


def test_encrypted_table_backup_and_restore(
    dynamodb: Client, table: TableFactory, cleanup: Callable[[str], str]
) -> None:
    """A KMS-encrypted table's backup restores to a table encrypted with the same key."""
    name = table(SSESpecification={"Enabled": True, "SSEType": "KMS"})
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "secret": {"S": "s3cr3t"}})
    sse = dynamodb.describe_table(TableName=name)["Table"]["SSEDescription"]
    arn = dynamodb.create_backup(TableName=name, BackupName="enc")["BackupDetails"]["BackupArn"]
    features = wait_available(dynamodb, arn)["SourceTableFeatureDetails"]
    assert features["SSEDescription"]["KMSMasterKeyArn"] == sse["KMSMasterKeyArn"]
    restored = restore(dynamodb, cleanup, arn)
    described = dynamodb.describe_table(TableName=restored)["Table"]
    assert described["SSEDescription"]["KMSMasterKeyArn"] == sse["KMSMasterKeyArn"]
    got = dynamodb.get_item(TableName=restored, Key={"pk": {"S": "a"}})["Item"]
    assert got["secret"] == {"S": "s3cr3t"}
