"""BatchWriteItem and BatchGetItem: success, limits, errors, capacity and index upkeep."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import (
    KEY_SCHEMA_MISMATCH,
    RESOURCE_NOT_FOUND,
    Client,
    Item,
    TableFactory,
    attr,
    index_items,
    index_spec,
    key,
    raises,
    read,
    seed,
    validation,
)

DUPLICATES = "Provided list of item keys contains duplicates"
TOO_MANY = "Too many items requested for the BatchGetItem call"
EMPTY_REQUEST = (
    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of "
    "the supported datatypes"
)


def put(item: Item) -> dict[str, Any]:
    return {"PutRequest": {"Item": item}}


def delete(item_key: Item) -> dict[str, Any]:
    return {"DeleteRequest": {"Key": item_key}}


def with_gsi(table: TableFactory) -> str:
    return table(
        AttributeDefinitions=[attr("pk"), attr("g")],
        GlobalSecondaryIndexes=[index_spec("byG", "g")],
    )


def with_lsi(table: TableFactory) -> str:
    return table(
        range_key=True,
        AttributeDefinitions=[attr("pk"), attr("sk"), attr("l")],
        LocalSecondaryIndexes=[index_spec("byL", "pk", "l", ProjectionType="KEYS_ONLY")],
    )


# --- BatchWriteItem -----------------------------------------------------------------------


def test_puts_and_deletes_across_tables(dynamodb: Client, table: TableFactory) -> None:
    one, two = table(), table(range_key=True)
    seed(dynamodb, one, {**key("gone"), "a": {"S": "x"}})
    answer = dynamodb.batch_write_item(
        RequestItems={
            one: [put({**key("a"), "n": {"N": "1"}}), delete(key("gone"))],
            two: [put({**key("b", "1"), "s": {"SS": ["x", "y"]}})],
        }
    )
    assert answer["UnprocessedItems"] == {}
    assert read(dynamodb, one, key("a")) == {**key("a"), "n": {"N": "1"}}
    assert read(dynamodb, one, key("gone")) is None
    assert read(dynamodb, two, key("b", "1")) is not None


def test_a_put_replaces_the_whole_item(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    seed(dynamodb, name, {**key("a"), "old": {"S": "x"}})
    dynamodb.batch_write_item(RequestItems={name: [put({**key("a"), "new": {"S": "y"}})]})
    assert read(dynamodb, name, key("a")) == {**key("a"), "new": {"S": "y"}}


def test_deleting_a_missing_item_is_fine(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    answer = dynamodb.batch_write_item(RequestItems={name: [delete(key("nothing"))]})
    assert answer["UnprocessedItems"] == {}


def test_twenty_five_writes_is_the_limit(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    dynamodb.batch_write_item(RequestItems={name: [put(key(f"k{i}")) for i in range(25)]})
    assert all(read(dynamodb, name, key(f"k{i}")) for i in (0, 24))
    with raises("ValidationException") as info:
        dynamodb.batch_write_item(RequestItems={name: [put(key(f"x{i}")) for i in range(26)]})
    assert "length less than or equal to 25" in info.value.response["Error"]["Message"]
    assert read(dynamodb, name, key("x0")) is None


def test_twenty_five_writes_in_all_tables(dynamodb: Client, table: TableFactory) -> None:
    one, two = table(), table()
    dynamodb.batch_write_item(
        RequestItems={
            one: [put(key(f"k{i}")) for i in range(13)],
            two: [put(key(f"k{i}")) for i in range(12)],
        }
    )
    assert read(dynamodb, two, key("k11")) is not None
    with validation("Too many items requested for the BatchWriteItem call"):
        dynamodb.batch_write_item(
            RequestItems={
                one: [put(key(f"x{i}")) for i in range(13)],
                two: [put(key(f"x{i}")) for i in range(13)],
            }
        )
    assert read(dynamodb, one, key("x0")) is None


def test_an_empty_list_of_requests(unchecked: Client, table: TableFactory) -> None:
    name = table()
    with validation(
        f"1 validation error detected: Value '{{{name}=[]}}' at 'requestItems' failed to "
        "satisfy constraint: Map value must satisfy constraint: [Member must have length less "
        "than or equal to 25, Member must have length greater than or equal to 1]"
    ):
        unchecked.batch_write_item(RequestItems={name: []})


def test_the_same_key_twice_is_refused(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation(DUPLICATES):
        dynamodb.batch_write_item(RequestItems={name: [put(key("a")), delete(key("a"))]})
    assert read(dynamodb, name, key("a")) is None


def test_key_schema_mismatch(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    with validation(KEY_SCHEMA_MISMATCH):
        dynamodb.batch_write_item(RequestItems={name: [put(key("a"))]})
    with validation(KEY_SCHEMA_MISMATCH):
        dynamodb.batch_write_item(RequestItems={name: [put({"pk": {"S": "a"}, "sk": {"N": "1"}})]})
    with validation(KEY_SCHEMA_MISMATCH):
        dynamodb.batch_write_item(RequestItems={name: [delete(key("a"))]})


def test_an_empty_write_request(unchecked: Client, table: TableFactory) -> None:
    name = table()
    with validation(EMPTY_REQUEST):
        unchecked.batch_write_item(RequestItems={name: [{}]})


def test_an_item_over_400_kb(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    big = {**key("big"), "d": {"S": "x" * (400 * 1024)}}
    with validation("Item size has exceeded the maximum allowed size"):
        dynamodb.batch_write_item(RequestItems={name: [put(big)]})


def test_a_missing_table_writes_nothing(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with raises("ResourceNotFoundException", RESOURCE_NOT_FOUND):
        dynamodb.batch_write_item(
            RequestItems={name: [put(key("a"))], "no-such-table-here": [put(key("a"))]}
        )
    assert read(dynamodb, name, key("a")) is None


def test_consumed_capacity_per_table(dynamodb: Client, table: TableFactory) -> None:
    one, two = table(), with_gsi(table)
    answer = dynamodb.batch_write_item(
        RequestItems={
            one: [put(key("a")), put({**key("b"), "d": {"S": "x" * 1500}})],
            two: [put({**key("c"), "g": {"S": "g1"}})],
        },
        ReturnConsumedCapacity="INDEXES",
    )
    by_table = {entry["TableName"]: entry for entry in answer["ConsumedCapacity"]}
    assert by_table[one]["CapacityUnits"] == 3.0  # 1 + 2 (1.5 KB)
    assert by_table[one]["Table"]["CapacityUnits"] == 3.0
    assert by_table[two]["CapacityUnits"] == 2.0  # the table and its GSI
    assert by_table[two]["GlobalSecondaryIndexes"]["byG"]["CapacityUnits"] == 1.0


def test_writes_maintain_global_indexes(dynamodb: Client, table: TableFactory) -> None:
    name = with_gsi(table)
    seed(dynamodb, name, {**key("old"), "g": {"S": "g1"}})
    dynamodb.batch_write_item(
        RequestItems={name: [put({**key("new"), "g": {"S": "g1"}}), delete(key("old"))]}
    )
    found = index_items(dynamodb, name, "byG", "g", "g1")
    assert [item["pk"]["S"] for item in found] == ["new"]


def test_item_collection_metrics_for_local_indexes(dynamodb: Client, table: TableFactory) -> None:
    name = with_lsi(table)
    answer = dynamodb.batch_write_item(
        RequestItems={name: [put({**key("a", "1"), "l": {"S": "x"}})]},
        ReturnItemCollectionMetrics="SIZE",
    )
    metrics = answer["ItemCollectionMetrics"][name]
    assert metrics[0]["ItemCollectionKey"] == {"pk": {"S": "a"}}
    assert len(metrics[0]["SizeEstimateRangeGB"]) == 2


# --- BatchGetItem -------------------------------------------------------------------------


def test_gets_across_tables(dynamodb: Client, table: TableFactory) -> None:
    one, two = table(), table(range_key=True)
    seed(dynamodb, one, {**key("a"), "n": {"N": "1"}})
    seed(dynamodb, two, {**key("b", "1"), "m": {"M": {"x": {"S": "y"}}}})
    answer = dynamodb.batch_get_item(
        RequestItems={
            one: {"Keys": [key("a"), key("missing")]},
            two: {"Keys": [key("b", "1")], "ConsistentRead": True},
        }
    )
    assert answer["Responses"][one] == [{**key("a"), "n": {"N": "1"}}]
    assert answer["Responses"][two] == [{**key("b", "1"), "m": {"M": {"x": {"S": "y"}}}}]
    assert answer["UnprocessedKeys"] == {}


def test_projection_per_table(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    seed(dynamodb, name, {**key("a"), "n": {"N": "1"}, "m": {"M": {"x": {"S": "y"}}}})
    answer = dynamodb.batch_get_item(
        RequestItems={
            name: {
                "Keys": [key("a")],
                "ProjectionExpression": "#n, m.x",
                "ExpressionAttributeNames": {"#n": "n"},
            }
        }
    )
    assert answer["Responses"][name] == [{"n": {"N": "1"}, "m": {"M": {"x": {"S": "y"}}}}]


def test_a_hundred_keys_is_the_limit(dynamodb: Client, table: TableFactory) -> None:
    one, two = table(), table()
    keys = [key(f"k{i}") for i in range(60)]
    answer = dynamodb.batch_get_item(
        RequestItems={one: {"Keys": keys}, two: {"Keys": [key(f"k{i}") for i in range(40)]}}
    )
    assert answer["Responses"] == {one: [], two: []}
    with validation(TOO_MANY):
        dynamodb.batch_get_item(
            RequestItems={one: {"Keys": keys}, two: {"Keys": [key(f"k{i}") for i in range(41)]}}
        )


def test_duplicate_keys(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation(DUPLICATES):
        dynamodb.batch_get_item(RequestItems={name: {"Keys": [key("a"), key("a")]}})
    number = table(
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "N"}],
    )
    with validation(DUPLICATES):  # 1 and 1.0 are one number
        dynamodb.batch_get_item(
            RequestItems={number: {"Keys": [{"pk": {"N": "1"}}, {"pk": {"N": "1.0"}}]}}
        )


def test_get_errors(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with raises("ResourceNotFoundException", RESOURCE_NOT_FOUND):
        dynamodb.batch_get_item(RequestItems={"no-such-table-here": {"Keys": [key("a")]}})
    with validation(KEY_SCHEMA_MISMATCH):
        dynamodb.batch_get_item(RequestItems={name: {"Keys": [key("a", "extra")]}})


def test_projection_styles_do_not_mix_across_tables(dynamodb: Client, table: TableFactory) -> None:
    """ProjectionExpression and AttributesToGet are refused together in one request, even
    when each table uses only one of them."""
    one, two = table(), table()
    with validation(
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributesToGet} Expression parameters: "
        "{ProjectionExpression}"
    ):
        dynamodb.batch_get_item(
            RequestItems={
                one: {"Keys": [key("a")], "ProjectionExpression": "pk"},
                two: {"Keys": [key("a")], "AttributesToGet": ["pk"]},
            }
        )
    answer = dynamodb.batch_get_item(
        RequestItems={
            one: {"Keys": [key("a")], "AttributesToGet": ["pk"]},
            two: {"Keys": [key("a")], "AttributesToGet": ["pk"]},
        }
    )
    assert answer["Responses"] == {one: [], two: []}


def test_read_capacity(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    seed(dynamodb, name, {**key("big"), "d": {"S": "x" * 5000}})
    seed(dynamodb, name, key("small"))
    keys = [key("big"), key("small"), key("missing")]
    eventual = dynamodb.batch_get_item(
        RequestItems={name: {"Keys": keys}}, ReturnConsumedCapacity="TOTAL"
    )
    strong = dynamodb.batch_get_item(
        RequestItems={name: {"Keys": keys, "ConsistentRead": True}},
        ReturnConsumedCapacity="TOTAL",
    )
    assert eventual["ConsumedCapacity"][0]["CapacityUnits"] == 2.0  # 1 + 0.5 + 0.5
    assert strong["ConsumedCapacity"][0]["CapacityUnits"] == 4.0  # 2 + 1 + 1
    assert strong["ConsumedCapacity"][0]["TableName"] == name


@pytest.mark.slow
def test_sixteen_megabytes_leave_keys_unprocessed(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    padding = "x" * (390 * 1024)
    keys = [key(f"k{i:02}") for i in range(50)]  # about 19.5 MB in all
    for start in range(0, 50, 10):
        dynamodb.batch_write_item(
            RequestItems={name: [put({**k, "d": {"S": padding}}) for k in keys[start : start + 10]]}
        )
    answer = dynamodb.batch_get_item(
        RequestItems={name: {"Keys": keys, "ProjectionExpression": "pk, d"}}
    )
    returned = answer["Responses"][name]
    left = answer["UnprocessedKeys"][name]
    assert left["ProjectionExpression"] == "pk, d"
    assert 0 < len(left["Keys"]) < 50
    assert len(returned) + len(left["Keys"]) == 50
    again = dynamodb.batch_get_item(RequestItems={name: left})
    assert len(again["Responses"][name]) == len(left["Keys"])
