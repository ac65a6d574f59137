"""Point-in-time recovery: UpdateContinuousBackups, DescribeContinuousBackups and
RestoreTableToPointInTime, against a live server.

boto3 sends RestoreDateTime in whole seconds, so the states compared here are laid out
around second boundaries: every write of a state lands before the second it is restored
to, and the next state's writes after it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.api.helpers import (
    Client,
    Item,
    TableFactory,
    attr,
    aws_client,
    gsi_item_keys,
    index_spec,
    raises,
    scan_all,
    unique_name,
    validation,
    wait_active,
)

PITR_OFF = {"PointInTimeRecoveryStatus": "DISABLED"}
LATEST_LAG = 1.0  # LatestRestorableDateTime trails now by this (README, DESIGN.md)


def client_for(endpoint: str) -> Client:
    """A client of its own (boto3 clients are not shared between threads)."""
    return aws_client(endpoint, session=boto3.session.Session())


def enable(client: Client, name: str, **extra: Any) -> dict[str, Any]:
    spec = {"PointInTimeRecoveryEnabled": True, **extra}
    answer: dict[str, Any] = client.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification=spec
    )["ContinuousBackupsDescription"]
    return answer


def pitr_table(table: TableFactory, client: Client) -> str:
    """A table with a GSI (gk S) and PITR enabled."""
    name = table(
        range_key=True,
        AttributeDefinitions=[attr("pk"), attr("sk"), attr("gk")],
        GlobalSecondaryIndexes=[index_spec("by-gk", "gk")],
    )
    enable(client, name)
    return name


def gsi_keys(client: Client, name: str, gk: str) -> set[tuple[str, str]]:
    return set(gsi_item_keys(client, name, gk))


def next_second() -> int:
    """A whole second after now; sleeps until it has passed (with a margin)."""
    second = math.floor(time.time()) + 1
    time.sleep(max(0.0, second + 0.15 - time.time()))
    return second


def restore_to(
    client: Client, cleanup: Callable[[str], str], source: str, when: float | datetime
) -> str:
    target = cleanup(unique_name("pitr"))
    answer = client.restore_table_to_point_in_time(
        SourceTableName=source, TargetTableName=target, RestoreDateTime=when
    )["TableDescription"]
    assert answer["TableName"] == target
    assert answer["RestoreSummary"]["RestoreInProgress"] is True
    wait_active(client, target)
    return target


# --- UpdateContinuousBackups / DescribeContinuousBackups --------------------------------


def test_describe_defaults_to_disabled(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    answer = dynamodb.describe_continuous_backups(TableName=name)
    assert answer["ContinuousBackupsDescription"] == {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": PITR_OFF,
    }


def test_enable_update_period_disable(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    before = time.time()
    answer = enable(dynamodb, name)
    pitr = answer["PointInTimeRecoveryDescription"]
    assert answer["ContinuousBackupsStatus"] == "ENABLED"
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    assert pitr["RecoveryPeriodInDays"] == 35
    earliest = pitr["EarliestRestorableDateTime"].timestamp()
    assert before - 1 <= earliest <= time.time() + 1
    assert pitr["LatestRestorableDateTime"] >= pitr["EarliestRestorableDateTime"]
    assert (
        dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"][
            "PointInTimeRecoveryDescription"
        ]["EarliestRestorableDateTime"]
        == pitr["EarliestRestorableDateTime"]
    )
    # The period changes in place; enabling again keeps the window's start.
    again = enable(dynamodb, name, RecoveryPeriodInDays=7)["PointInTimeRecoveryDescription"]
    assert again["RecoveryPeriodInDays"] == 7
    assert again["EarliestRestorableDateTime"] == pitr["EarliestRestorableDateTime"]
    off = dynamodb.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )["ContinuousBackupsDescription"]
    assert off == {"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": PITR_OFF}
    # Re-enabling forgets the period and starts a new window.
    time.sleep(0.05)
    fresh = enable(dynamodb, name)["PointInTimeRecoveryDescription"]
    assert fresh["RecoveryPeriodInDays"] == 35
    assert fresh["EarliestRestorableDateTime"] > pitr["EarliestRestorableDateTime"]


def test_update_and_describe_errors(
    dynamodb: Client, unchecked: Client, table: TableFactory
) -> None:
    name = table()
    with validation(
        "Invalid Request: Cannot specify RecoveryPeriodInDays when disabling point-in-time "
        "recovery."
    ):
        dynamodb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": False,
                "RecoveryPeriodInDays": 7,
            },
        )
    with validation(
        "1 validation error detected: Value '36' at "
        "'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy "
        "constraint: Member must have value less than or equal to 35"
    ):
        unchecked.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": True,
                "RecoveryPeriodInDays": 36,
            },
        )
    missing = unique_name()
    with raises("TableNotFoundException", f"Table not found: {missing}"):
        dynamodb.describe_continuous_backups(TableName=missing)
    with raises("TableNotFoundException", f"Table not found: {missing}"):
        enable(dynamodb, missing)


# --- RestoreTableToPointInTime ----------------------------------------------------------


def test_three_points_in_time_give_three_states(
    dynamodb: Client, table: TableFactory, cleanup: Callable[[str], str]
) -> None:
    name = pitr_table(table, dynamodb)
    state: dict[tuple[str, str], Item] = {}

    def put(pk: str, sk: str, gk: str, v: str) -> None:
        item = {"pk": {"S": pk}, "sk": {"S": sk}, "gk": {"S": gk}, "v": {"S": v}}
        dynamodb.put_item(TableName=name, Item=item)
        state[(pk, sk)] = item

    def delete(pk: str, sk: str) -> None:
        dynamodb.delete_item(TableName=name, Key={"pk": {"S": pk}, "sk": {"S": sk}})
        del state[(pk, sk)]

    for i in range(20):
        put(f"p{i % 4}", f"s{i}", "g1" if i % 2 else "g2", "a")
    first = next_second()
    state_a = dict(state)
    for i in range(0, 20, 3):
        put(f"p{i % 4}", f"s{i}", "g3", "b")  # overwrite, and move to another GSI key
    delete("p1", "s1")
    delete("p2", "s2")
    put("p9", "new", "g1", "b")
    second = next_second()
    state_b = dict(state)
    dynamodb.update_item(
        TableName=name,
        Key={"pk": {"S": "p9"}, "sk": {"S": "new"}},
        UpdateExpression="SET v = :c REMOVE gk",
        ExpressionAttributeValues={":c": {"S": "c"}},
    )
    state[("p9", "new")] = {"pk": {"S": "p9"}, "sk": {"S": "new"}, "v": {"S": "c"}}
    delete("p0", "s0")
    put("p1", "s1", "g2", "c")  # deleted in B, back in C
    third = next_second()
    state_c = dict(state)
    put("p5", "after", "g1", "d")  # after every restore point
    time.sleep(LATEST_LAG + 0.2)

    for when, expected in ((first, state_a), (second, state_b), (third, state_c)):
        restored = restore_to(dynamodb, cleanup, name, datetime.fromtimestamp(when, UTC))
        assert scan_all(dynamodb, restored) == expected, f"restore to {when}"
        for gk in ("g1", "g2", "g3"):
            wanted = {k for k, item in expected.items() if item.get("gk", {}).get("S") == gk}
            assert gsi_keys(dynamodb, restored, gk) == wanted, (when, gk)
        described = dynamodb.describe_table(TableName=restored)["Table"]
        assert described["ItemCount"] == len(expected)
        assert "RestoreSummary" not in described  # only while the restore runs
        assert described["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE"
    # The source is untouched.
    assert scan_all(dynamodb, name) == state


def test_use_latest_restorable_time(
    dynamodb: Client, table: TableFactory, cleanup: Callable[[str], str]
) -> None:
    name = pitr_table(table, dynamodb)
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "gk": {"S": "g"}})
    time.sleep(LATEST_LAG + 0.3)
    target = cleanup(unique_name("pitr"))
    answer = dynamodb.restore_table_to_point_in_time(
        SourceTableName=name, TargetTableName=target, UseLatestRestorableTime=True
    )["TableDescription"]
    assert answer["TableStatus"] == "CREATING"
    summary = answer["RestoreSummary"]
    assert summary["SourceTableArn"].endswith(f":table/{name}")
    assert summary["RestoreInProgress"] is True
    assert "SourceBackupArn" not in summary
    wait_active(dynamodb, target)
    assert set(scan_all(dynamodb, target)) == {("a", "1")}
    # Restores drop PITR, streams and tags but keep the key schema and indexes.
    assert (
        dynamodb.describe_continuous_backups(TableName=target)["ContinuousBackupsDescription"][
            "PointInTimeRecoveryDescription"
        ]
        == PITR_OFF
    )
    restored = dynamodb.describe_table(TableName=target)["Table"]
    assert restored["KeySchema"] == dynamodb.describe_table(TableName=name)["Table"]["KeySchema"]
    assert [g["IndexName"] for g in restored["GlobalSecondaryIndexes"]] == ["by-gk"]


def test_restore_by_arn_with_overrides(
    dynamodb: Client, table: TableFactory, cleanup: Callable[[str], str]
) -> None:
    name = pitr_table(table, dynamodb)
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "gk": {"S": "g"}})
    arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
    time.sleep(LATEST_LAG + 0.3)
    target = cleanup(unique_name("pitr"))
    dynamodb.restore_table_to_point_in_time(
        SourceTableArn=arn,
        TargetTableName=target,
        UseLatestRestorableTime=True,
        BillingModeOverride="PROVISIONED",
        ProvisionedThroughputOverride={"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
        GlobalSecondaryIndexOverride=[],
    )
    wait_active(dynamodb, target)
    restored = dynamodb.describe_table(TableName=target)["Table"]
    assert restored["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert restored["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert "GlobalSecondaryIndexes" not in restored
    assert [d["AttributeName"] for d in restored["AttributeDefinitions"]] == ["pk", "sk"]
    assert set(scan_all(dynamodb, target)) == {("a", "1")}


def test_restore_errors(
    dynamodb: Client, unchecked: Client, table: TableFactory, cleanup: Callable[[str], str]
) -> None:
    plain = table()
    with raises(
        "PointInTimeRecoveryUnavailableException",
        f"Point in time recovery is not enabled for table '{plain}'",
    ):
        dynamodb.restore_table_to_point_in_time(
            SourceTableName=plain, TargetTableName=unique_name(), UseLatestRestorableTime=True
        )
    name = pitr_table(table, dynamodb)
    missing = unique_name()
    with raises("TableNotFoundException", f"Table not found: {missing}"):
        dynamodb.restore_table_to_point_in_time(
            SourceTableName=missing, TargetTableName=unique_name(), UseLatestRestorableTime=True
        )
    with raises("TableAlreadyExistsException", f"Table already exists: {plain}"):
        dynamodb.restore_table_to_point_in_time(
            SourceTableName=name, TargetTableName=plain, UseLatestRestorableTime=True
        )
    with validation(
        "Invalid Request: Either one of RestoreDateTime or UseLatestRestorableTime must be "
        "specified, but not both"
    ):
        dynamodb.restore_table_to_point_in_time(SourceTableName=name, TargetTableName="xyz")
    with validation(
        "Invalid Request: Both RestoreDateTime and UseLatestRestorableTime cannot be set for "
        "point-in-time restore request. Please specify only one."
    ):
        dynamodb.restore_table_to_point_in_time(
            SourceTableName=name,
            TargetTableName="xyz",
            UseLatestRestorableTime=True,
            RestoreDateTime=datetime.now(UTC),
        )
    with validation("The parameter 'TableName' is required but was not present in the request"):
        unchecked.restore_table_to_point_in_time(
            TargetTableName="xyz", UseLatestRestorableTime=True
        )
    window = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"
    ]
    earliest = window["EarliestRestorableDateTime"]
    for when in (datetime(2020, 1, 1, tzinfo=UTC), datetime.fromtimestamp(time.time() + 3600, UTC)):
        with pytest.raises(ClientError) as info:
            dynamodb.restore_table_to_point_in_time(
                SourceTableName=name, TargetTableName=unique_name(), RestoreDateTime=when
            )
        error = info.value.response["Error"]
        assert error["Code"] == "InvalidRestoreTimeException"
        stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert error["Message"].startswith(
            f"RestoreDateTime '{stamp}' must be within EarliestRestorableDateTime "
            f"'{earliest.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}' and "
            "LatestRestorableDateTime '"
        )


def test_deleted_table_restores_from_its_system_backup(
    dynamodb: Client, table: TableFactory, cleanup: Callable[[str], str]
) -> None:
    """DynamoDB keeps a deleted PITR table as a 35-day SYSTEM backup: restoring the
    deleted table is restoring that backup (its PITR source is gone at once)."""
    name = pitr_table(table, dynamodb)
    for i in range(5):
        dynamodb.put_item(
            TableName=name,
            Item={"pk": {"S": f"k{i}"}, "sk": {"S": "x"}, "gk": {"S": "g"}, "n": {"N": str(i)}},
        )
    expected = scan_all(dynamodb, name)
    dynamodb.delete_table(TableName=name)
    listed = dynamodb.list_backups(TableName=name)["BackupSummaries"]
    assert listed == []  # ListBackups shows USER backups unless asked
    system = dynamodb.list_backups(TableName=name, BackupType="SYSTEM")["BackupSummaries"]
    assert len(system) == 1
    backup = system[0]
    assert backup["BackupName"] == f"{name}$DeletedTableBackup"
    assert backup["BackupType"] == "SYSTEM"
    assert backup["BackupArn"].endswith("-00000000")
    days = (backup["BackupExpiryDateTime"] - backup["BackupCreationDateTime"]).total_seconds()
    assert abs(days - 35 * 86400) < 2
    with raises("TableNotFoundException", f"Table not found: {name}"):
        dynamodb.restore_table_to_point_in_time(
            SourceTableName=name, TargetTableName=unique_name(), UseLatestRestorableTime=True
        )
    with pytest.raises(ClientError) as info:
        dynamodb.delete_backup(BackupArn=backup["BackupArn"])
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith(
        "Invalid Request: User is not allowed to delete the system backup with arn "
        f"{backup['BackupArn']}. It will automatically expire on "
    )
    target = cleanup(unique_name("undeleted"))
    dynamodb.restore_table_from_backup(TargetTableName=target, BackupArn=backup["BackupArn"])
    wait_active(dynamodb, target)
    assert scan_all(dynamodb, target) == expected
    assert gsi_keys(dynamodb, target, "g") == set(expected)


def load(endpoint_client: Callable[[], Client], name: str, total: int, threads: int = 8) -> None:
    """BatchWriteItem `total` items (pk k000000.., gk g0..g99, v) from several clients."""

    def part(first: int) -> None:
        client = endpoint_client()
        for start in range(first, total, 25 * threads):
            batch = [
                {
                    "PutRequest": {
                        "Item": {
                            "pk": {"S": f"k{i:06d}"},
                            "gk": {"S": f"g{i % 100}"},
                            "v": {"N": str(i)},
                        }
                    }
                }
                for i in range(start, min(start + 25, total))
            ]
            pending: dict[str, Any] = {name: batch}
            while pending:
                pending = client.batch_write_item(RequestItems=pending)["UnprocessedItems"]

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(part, range(0, 25 * threads, 25)))


@pytest.mark.slow
def test_restore_of_a_large_table_is_timed(
    dynamodb: Client, endpoint: str, table: TableFactory, cleanup: Callable[[str], str]
) -> None:
    """100,000 items restored to a point in time, with writes to undo (README: timing)."""
    name = table(
        AttributeDefinitions=[attr("pk"), attr("gk")],
        GlobalSecondaryIndexes=[index_spec("by-gk", "gk", ProjectionType="KEYS_ONLY")],
    )
    total = 100_000
    load(lambda: client_for(endpoint), name, total)
    enable(dynamodb, name)
    point = next_second()
    for i in range(0, 1000, 10):  # changes after the point, undone by the restore
        dynamodb.delete_item(TableName=name, Key={"pk": {"S": f"k{i:06d}"}})
    time.sleep(LATEST_LAG + 0.2)
    target = cleanup(unique_name("big"))
    started = time.monotonic()
    dynamodb.restore_table_to_point_in_time(
        SourceTableName=name,
        TargetTableName=target,
        RestoreDateTime=datetime.fromtimestamp(point, UTC),
    )
    wait_active(dynamodb, target)
    elapsed = time.monotonic() - started
    print(f"\nrestore of {total} items (1 GSI): {elapsed:.1f} s")
    described = dynamodb.describe_table(TableName=target)["Table"]
    assert described["ItemCount"] == total
    assert described["GlobalSecondaryIndexes"][0]["ItemCount"] == total
    got = dynamodb.get_item(TableName=target, Key={"pk": {"S": "k000010"}}, ConsistentRead=True)
    assert got["Item"]["v"] == {"N": "10"}
    # The same table through an on-demand backup: taken in the background, then restored.
    started = time.monotonic()
    arn = dynamodb.create_backup(TableName=name, BackupName="big")["BackupDetails"]["BackupArn"]
    while (
        dynamodb.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"][
            "BackupStatus"
        ]
        != "AVAILABLE"
    ):
        time.sleep(0.1)
    taken = time.monotonic() - started
    copy = cleanup(unique_name("big"))
    started = time.monotonic()
    dynamodb.restore_table_from_backup(TargetTableName=copy, BackupArn=arn)
    wait_active(dynamodb, copy)
    print(f"backup: {taken:.1f} s, restore from it: {time.monotonic() - started:.1f} s")
    assert dynamodb.describe_table(TableName=copy)["Table"]["ItemCount"] == total - 100
    dynamodb.delete_backup(BackupArn=arn)
