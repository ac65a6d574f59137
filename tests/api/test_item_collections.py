"""Item collections of tables with local secondary indexes: ItemCollectionMetrics and the
size limit per partition key.

The limit tests run against a server of their own started with a 4 KB
`--item-collection-limit` (DynamoDB's is 10 GB), so a collection fills up in a few
writes. Sizes follow DynamoDB's rules: an item counts for its size, and each LSI entry of
it for its projected attributes plus 100 bytes; the tests fill a collection to exactly
the limit, so an off-by-one in the accounting fails them.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from tests.api.conftest import ENDPOINT_ENV, _client, _drop_table, dropped_after, own_server
from tests.api.helpers import (
    Client,
    Item,
    TableFactory,
    attr,
    create_table,
    index_spec,
    raises,
    read,
    unique_name,
    wait_active,
)

LIMIT = 4096
LIMIT_ERROR = "ItemCollectionSizeLimitExceededException"
LIMIT_MESSAGE = "Item collection size limit exceeded"
LIMIT_REASON = {"Code": "ItemCollectionSizeLimitExceeded", "Message": "Collection size exceeded."}
SMALL = [0.0, 1.0]  # SizeEstimateRangeGB of any collection under 1 GB
LSI_ATTRS = ("l", "k")  # by-l projects ALL, by-k KEYS_ONLY


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """A client of a server whose item collections hold at most LIMIT bytes."""
    if os.environ.get(ENDPOINT_ENV):
        pytest.skip("needs a server started with --item-collection-limit")
    work = tmp_path_factory.mktemp("collections")
    with own_server(work, "--item-collection-limit", str(LIMIT)) as url:
        yield _client(url, validate=True)


def _create(client: Client, lsi: bool = True) -> str:
    """pk/sk (S) with LSIs by-l (ALL) and by-k (KEYS_ONLY), or a GSI on l instead."""
    if not lsi:
        return create_table(
            client,
            range_key=True,
            AttributeDefinitions=[attr(a) for a in ("pk", "sk", "l")],
            GlobalSecondaryIndexes=[index_spec("by-l", "l")],
        )
    return create_table(
        client,
        range_key=True,
        AttributeDefinitions=[attr(a) for a in ("pk", "sk", "l", "k")],
        LocalSecondaryIndexes=[
            index_spec("by-l", "pk", "l"),
            index_spec("by-k", "pk", "k", ProjectionType="KEYS_ONLY"),
        ],
    )


@pytest.fixture
def small_table(small: Client) -> Iterator[Callable[..., str]]:
    """Create tables on the small-limit server; they are deleted after the test."""
    with dropped_after(small) as register:
        yield lambda lsi=True: register(_create(small, lsi))


def item(pk: str, sk: str, **attrs: str) -> Item:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in attrs.items()}}


def size(entry: Item) -> int:
    """DynamoDB's size of an item of strings: names plus values, in bytes."""
    return sum(len(name) + len(value["S"]) for name, value in entry.items())


def footprint(entry: Item) -> int:
    """What an item adds to its collection: itself, and an entry of 100 bytes plus its
    projection in each LSI that holds it."""
    total = size(entry)
    if "l" in entry:
        total += size(entry) + 100
    if "k" in entry:
        total += size({a: entry[a] for a in ("pk", "sk", "k")}) + 100
    return total


def filler(pk: str, sk: str, nbytes: int) -> Item:
    """An item in no LSI that adds exactly `nbytes` to its collection."""
    entry = item(pk, sk, d="")
    entry["d"]["S"] = "x" * (nbytes - size(entry))
    assert footprint(entry) == nbytes
    return entry


def fill(client: Client, name: str, pk: str = "p") -> list[Item]:
    """Fill the collection of `pk` to exactly LIMIT bytes: one item in both LSIs, one
    filler; returns them."""
    indexed = item(pk, "a", l="L", k="K", v="v" * 300)
    client.put_item(TableName=name, Item=indexed)
    rest = filler(pk, "b", LIMIT - footprint(indexed))
    answer = client.put_item(TableName=name, Item=rest, ReturnItemCollectionMetrics="SIZE")
    assert answer["ItemCollectionMetrics"]["SizeEstimateRangeGB"] == SMALL
    return [indexed, rest]


def key_of(entry: Item) -> Item:
    return {"pk": entry["pk"], "sk": entry["sk"]}


# --- ItemCollectionMetrics (the session server) -------------------------------------------


def lsi_table(table: TableFactory) -> str:
    return table(
        range_key=True,
        AttributeDefinitions=[attr(a) for a in ("pk", "sk", "l")],
        LocalSecondaryIndexes=[index_spec("by-l", "pk", "l", ProjectionType="KEYS_ONLY")],
    )


def test_single_item_writes_report_their_collection(dynamodb: Client, table: TableFactory) -> None:
    name = lsi_table(table)
    expected = {"ItemCollectionKey": {"pk": {"S": "p"}}, "SizeEstimateRangeGB": SMALL}
    answer = dynamodb.put_item(
        TableName=name, Item=item("p", "1", l="x"), ReturnItemCollectionMetrics="SIZE"
    )
    assert answer["ItemCollectionMetrics"] == expected
    answer = dynamodb.update_item(
        TableName=name, Key=key_of(item("p", "1")), UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "v"}}, ReturnItemCollectionMetrics="SIZE",
    )  # fmt: skip
    assert answer["ItemCollectionMetrics"] == expected
    answer = dynamodb.delete_item(
        TableName=name, Key=key_of(item("p", "1")), ReturnItemCollectionMetrics="SIZE"
    )
    assert answer["ItemCollectionMetrics"] == expected
    for metrics in ("NONE", None):
        extra = {"ReturnItemCollectionMetrics": metrics} if metrics else {}
        answer = dynamodb.put_item(TableName=name, Item=item("p", "2"), **extra)
        assert "ItemCollectionMetrics" not in answer


def test_tables_without_local_indexes_report_nothing(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    answer = dynamodb.put_item(
        TableName=name, Item=item("p", "1"), ReturnItemCollectionMetrics="SIZE"
    )
    assert "ItemCollectionMetrics" not in answer
    answer = dynamodb.batch_write_item(
        RequestItems={name: [{"PutRequest": {"Item": item("p", "2")}}]},
        ReturnItemCollectionMetrics="SIZE",
    )
    assert answer.get("ItemCollectionMetrics", {}) == {}


def test_batches_and_transactions_report_per_table(dynamodb: Client, table: TableFactory) -> None:
    indexed, plain = lsi_table(table), table(range_key=True)
    answer = dynamodb.batch_write_item(
        RequestItems={
            indexed: [{"PutRequest": {"Item": item("p", "1")}},
                      {"DeleteRequest": {"Key": key_of(item("q", "1"))}}],
            plain: [{"PutRequest": {"Item": item("p", "1")}}],
        },
        ReturnItemCollectionMetrics="SIZE",
    )  # fmt: skip
    assert answer["ItemCollectionMetrics"] == {
        indexed: [
            {"ItemCollectionKey": {"pk": {"S": "p"}}, "SizeEstimateRangeGB": SMALL},
            {"ItemCollectionKey": {"pk": {"S": "q"}}, "SizeEstimateRangeGB": SMALL},
        ]
    }
    answer = dynamodb.transact_write_items(
        TransactItems=[
            {"ConditionCheck": {"TableName": indexed, "Key": key_of(item("p", "1")),
                                "ConditionExpression": "attribute_exists(pk)"}},
            {"Put": {"TableName": indexed, "Item": item("r", "1", l="x")}},
            {"Put": {"TableName": plain, "Item": item("r", "1")}},
        ],
        ReturnItemCollectionMetrics="SIZE",
    )  # fmt: skip
    assert answer["ItemCollectionMetrics"] == {
        indexed: [{"ItemCollectionKey": {"pk": {"S": "r"}}, "SizeEstimateRangeGB": SMALL}]
    }


# --- the size limit (the small-limit server) ------------------------------------------------


def test_limit_is_exact_and_a_refused_write_changes_nothing(
    small: Client, small_table: Callable[..., str]
) -> None:
    name = small_table()
    indexed, rest = fill(small, name)
    with raises(LIMIT_ERROR, LIMIT_MESSAGE):
        small.put_item(TableName=name, Item=item("p", "c"))
    assert read(small, name, key_of(item("p", "c"))) is None
    with raises(LIMIT_ERROR, LIMIT_MESSAGE):
        small.update_item(
            TableName=name, Key=key_of(rest), UpdateExpression="SET e = :e",
            ExpressionAttributeValues={":e": {"S": ""}},
        )  # fmt: skip
    assert read(small, name, key_of(rest)) == rest
    with raises(LIMIT_ERROR, LIMIT_MESSAGE):  # into the ALL index: counts twice
        small.update_item(
            TableName=name, Key=key_of(rest), UpdateExpression="SET l = :l",
            ExpressionAttributeValues={":l": {"S": "L"}},
        )  # fmt: skip
    # Writes that do not grow the collection pass; other collections are not affected.
    same = filler("p", "b", footprint(rest))
    same["d"]["S"] = "y" * len(same["d"]["S"])
    small.put_item(TableName=name, Item=same)
    small.put_item(TableName=name, Item=filler("q", "a", LIMIT))
    # A delete frees room.
    small.delete_item(TableName=name, Key=key_of(indexed))
    small.put_item(TableName=name, Item=filler("p", "c", footprint(indexed)))
    with raises(LIMIT_ERROR, LIMIT_MESSAGE):
        small.put_item(TableName=name, Item=item("p", "d"))


def test_shrinking_an_item_frees_room(small: Client, small_table: Callable[..., str]) -> None:
    name = small_table()
    indexed, _ = fill(small, name)
    # Out of by-l (ALL), and without v: the item and its index entries shrink.
    small.update_item(TableName=name, Key=key_of(indexed), UpdateExpression="REMOVE l, v")
    room = footprint(indexed) - footprint({a: indexed[a] for a in ("pk", "sk", "k")})
    small.put_item(TableName=name, Item=filler("p", "c", room))
    with raises(LIMIT_ERROR, LIMIT_MESSAGE):
        small.put_item(TableName=name, Item=item("p", "d"))


def test_tables_without_local_indexes_have_no_limit(
    small: Client, small_table: Callable[..., str]
) -> None:
    name = small_table(lsi=False)
    for sk in "abc":
        answer = small.put_item(
            TableName=name, Item=filler("p", sk, LIMIT), ReturnItemCollectionMetrics="SIZE"
        )
        assert "ItemCollectionMetrics" not in answer


def test_batch_write_fails_whole(small: Client, small_table: Callable[..., str]) -> None:
    name = small_table()
    fill(small, name)
    with raises(LIMIT_ERROR, LIMIT_MESSAGE):
        small.batch_write_item(
            RequestItems={
                name: [{"PutRequest": {"Item": item("q", "a")}},
                       {"PutRequest": {"Item": item("p", "c")}}]
            }
        )  # fmt: skip
    assert read(small, name, key_of(item("q", "a"))) is None
    assert read(small, name, key_of(item("p", "c"))) is None


def test_transaction_is_cancelled_with_the_reason(
    small: Client, small_table: Callable[..., str]
) -> None:
    name = small_table()
    fill(small, name)
    with raises(
        "TransactionCanceledException",
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ItemCollectionSizeLimitExceeded]",
    ) as caught:
        small.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": item("q", "a")}},
                {"Put": {"TableName": name, "Item": item("p", "c")}},
            ]
        )
    reasons = caught.value.response["CancellationReasons"]
    assert reasons == [{"Code": "None"}, LIMIT_REASON]
    assert read(small, name, key_of(item("q", "a"))) is None


def test_partiql_writes_keep_the_limit(small: Client, small_table: Callable[..., str]) -> None:
    name = small_table()
    fill(small, name)
    insert = f"INSERT INTO \"{name}\" VALUE {{'pk': ?, 'sk': ?}}"
    with raises(LIMIT_ERROR, LIMIT_MESSAGE):
        small.execute_statement(Statement=insert, Parameters=[{"S": "p"}, {"S": "c"}])
    answer = small.batch_execute_statement(
        Statements=[
            {"Statement": insert, "Parameters": [{"S": "p"}, {"S": "c"}]},
            {"Statement": insert, "Parameters": [{"S": "q"}, {"S": "a"}]},
        ]
    )
    error = answer["Responses"][0]["Error"]
    assert (error["Code"], error["Message"]) == (LIMIT_REASON["Code"], LIMIT_MESSAGE)
    assert "Error" not in answer["Responses"][1]
    with raises("TransactionCanceledException") as caught:
        small.execute_transaction(
            TransactStatements=[
                {"Statement": insert, "Parameters": [{"S": "r"}, {"S": "a"}]},
                {"Statement": insert, "Parameters": [{"S": "p"}, {"S": "c"}]},
            ]
        )
    assert caught.value.response["CancellationReasons"] == [{"Code": "None"}, LIMIT_REASON]
    assert read(small, name, key_of(item("p", "c"))) is None
    assert read(small, name, key_of(item("r", "a"))) is None


def _wait_backup(client: Client, arn: str) -> None:
    deadline = time.monotonic() + 60
    while (
        client.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"]["BackupStatus"]
        != "AVAILABLE"
    ):
        assert time.monotonic() < deadline, "backup never became AVAILABLE"
        time.sleep(0.1)


def _assert_full(client: Client, name: str, indexed: Item) -> None:
    """The collection of "p" is at the limit: one byte more is refused; freeing room
    (deleting `indexed`) lets that much in."""
    with raises(LIMIT_ERROR, LIMIT_MESSAGE):
        client.put_item(TableName=name, Item=item("p", "c"))
    client.delete_item(TableName=name, Key=key_of(indexed))
    client.put_item(TableName=name, Item=filler("p", "c", footprint(indexed)))
    with raises(LIMIT_ERROR, LIMIT_MESSAGE):
        client.put_item(TableName=name, Item=item("p", "d"))


def test_restore_from_backup_counts_collections(
    small: Client, small_table: Callable[..., str]
) -> None:
    name = small_table()
    indexed, _ = fill(small, name)
    arn = small.create_backup(TableName=name, BackupName="full")["BackupDetails"]["BackupArn"]
    _wait_backup(small, arn)
    target = unique_name("restored")
    try:
        small.restore_table_from_backup(TargetTableName=target, BackupArn=arn)
        wait_active(small, target)
        _assert_full(small, target, indexed)
    finally:
        _drop_table(small, target)
        small.delete_backup(BackupArn=arn)


def test_point_in_time_restore_counts_collections(
    small: Client, small_table: Callable[..., str]
) -> None:
    name = small_table()
    small.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    indexed, rest = fill(small, name)
    second = math.floor(time.time()) + 1
    time.sleep(max(0.0, second + 0.15 - time.time()))
    small.delete_item(TableName=name, Key=key_of(rest))  # undone by the restore
    small.put_item(TableName=name, Item=item("p", "z"))  # likewise
    time.sleep(1.2)  # the latest restorable time trails now by a second
    target = unique_name("pitr")
    try:
        small.restore_table_to_point_in_time(
            SourceTableName=name, TargetTableName=target,
            RestoreDateTime=datetime.fromtimestamp(second, UTC),
        )  # fmt: skip
        wait_active(small, target)
        assert read(small, target, key_of(rest)) == rest
        assert read(small, target, key_of(item("p", "z"))) is None
        _assert_full(small, target, indexed)
    finally:
        _drop_table(small, target)
