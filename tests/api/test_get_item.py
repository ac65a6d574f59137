"""GetItem: reads, projections, legacy AttributesToGet, read capacity, and key errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import (
    INVALID,
    KEY_SCHEMA_MISMATCH,
    NAMES_WITHOUT_EXPRESSION,
    RESOURCE_NOT_FOUND,
    Client,
    Item,
    TableFactory,
    empty_key,
    key,
    mixed,
    one_error,
    raises,
    seed,
    unique_name,
    validation,
)

ITEM: Item = {
    **key("a"),
    "name": {"S": "ann"},
    "age": {"N": "42"},
    "tags": {"SS": ["x"]},
    "doc": {"M": {"leaf": {"S": "v"}, "arr": {"L": [{"N": "1"}, {"N": "2"}]}}},
}


def test_reads_the_whole_item(dynamodb: Client, seeded: str) -> None:
    answer = dynamodb.get_item(TableName=seeded, Key=key("a"), ConsistentRead=True)
    assert set(answer) == {"Item", "ResponseMetadata"}
    assert answer["Item"] == ITEM


def test_eventually_consistent_read(dynamodb: Client, seeded: str) -> None:
    assert dynamodb.get_item(TableName=seeded, Key=key("a"))["Item"] == ITEM


def test_missing_item_has_no_item_member(dynamodb: Client, seeded: str) -> None:
    answer = dynamodb.get_item(TableName=seeded, Key=key("nope"), ConsistentRead=True)
    assert "Item" not in answer


def test_range_key_read(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    seed(dynamodb, name, {**key("a", "1"), "v": {"N": "1"}})
    answer = dynamodb.get_item(TableName=name, Key=key("a", "1"))
    assert answer["Item"] == {**key("a", "1"), "v": {"N": "1"}}
    assert "Item" not in dynamodb.get_item(TableName=name, Key=key("a", "2"))


def test_number_key_matches_numerically(dynamodb: Client, table: TableFactory) -> None:
    name = table(
        AttributeDefinitions=[{"AttributeName": "n", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "n", "KeyType": "HASH"}],
    )
    seed(dynamodb, name, {"n": {"N": "1.50"}, "v": {"S": "x"}})
    for spelling in ("1.5", "1.500", "15E-1", "01.5"):
        got = dynamodb.get_item(TableName=name, Key={"n": {"N": spelling}})
        assert got["Item"] == {"n": {"N": "1.5"}, "v": {"S": "x"}}, spelling


def test_projection_expression(dynamodb: Client, seeded: str) -> None:
    answer = dynamodb.get_item(
        TableName=seeded,
        Key=key("a"),
        ProjectionExpression="#n, doc.leaf, doc.arr[1]",
        ExpressionAttributeNames={"#n": "name"},
    )
    assert answer["Item"] == {
        "name": {"S": "ann"},
        "doc": {"M": {"leaf": {"S": "v"}, "arr": {"L": [{"N": "2"}]}}},
    }


def test_attributes_to_get(dynamodb: Client, seeded: str) -> None:
    answer = dynamodb.get_item(
        TableName=seeded, Key=key("a"), AttributesToGet=["age", "tags", "zzz"]
    )
    assert answer["Item"] == {"age": {"N": "42"}, "tags": {"SS": ["x"]}}


# --- capacity --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("consistent", "units"), [(True, 1.0), (False, 0.5)], ids=["strong", "eventual"]
)
def test_read_capacity(dynamodb: Client, seeded: str, consistent: bool, units: float) -> None:
    answer = dynamodb.get_item(
        TableName=seeded, Key=key("a"), ConsistentRead=consistent, ReturnConsumedCapacity="TOTAL"
    )
    assert answer["ConsumedCapacity"] == {"TableName": seeded, "CapacityUnits": units}


def test_read_capacity_of_missing_item(dynamodb: Client, seeded: str) -> None:
    answer = dynamodb.get_item(TableName=seeded, Key=key("nope"), ReturnConsumedCapacity="TOTAL")
    assert answer["ConsumedCapacity"] == {"TableName": seeded, "CapacityUnits": 0.5}


def test_read_capacity_indexes(dynamodb: Client, seeded: str) -> None:
    answer = dynamodb.get_item(
        TableName=seeded, Key=key("a"), ConsistentRead=True, ReturnConsumedCapacity="INDEXES"
    )
    assert answer["ConsumedCapacity"] == {
        "TableName": seeded,
        "CapacityUnits": 1.0,
        "Table": {"CapacityUnits": 1.0},
    }


@pytest.mark.parametrize(
    ("consistent", "units"), [(True, 2.0), (False, 1.0)], ids=["strong", "eventual"]
)
def test_read_units_per_4kb(
    dynamodb: Client, table: TableFactory, consistent: bool, units: float
) -> None:
    name = table()
    seed(dynamodb, name, {**key("big"), "d": {"S": "x" * 5000}})
    answer = dynamodb.get_item(
        TableName=name, Key=key("big"), ConsistentRead=consistent, ReturnConsumedCapacity="TOTAL"
    )
    assert answer["ConsumedCapacity"]["CapacityUnits"] == units


def test_no_capacity_by_default(dynamodb: Client, seeded: str) -> None:
    assert "ConsumedCapacity" not in dynamodb.get_item(TableName=seeded, Key=key("a"))


# --- errors ----------------------------------------------------------------------------


def test_unknown_table(dynamodb: Client) -> None:
    with raises("ResourceNotFoundException", RESOURCE_NOT_FOUND):
        dynamodb.get_item(TableName=unique_name("missing"), Key=key("a"))


@pytest.mark.parametrize(
    "bad_key",
    [
        {"other": {"S": "a"}},
        {"pk": {"N": "1"}},
        {**key("a"), "extra": {"S": "x"}},
        {},
    ],
    ids=["wrong-name", "wrong-type", "extra-attribute", "empty"],
)
def test_key_not_matching_schema(dynamodb: Client, seeded: str, bad_key: dict[str, Any]) -> None:
    with validation(KEY_SCHEMA_MISMATCH):
        dynamodb.get_item(TableName=seeded, Key=bad_key)


def test_missing_range_key(dynamodb: Client, table: TableFactory) -> None:
    with validation(KEY_SCHEMA_MISMATCH):
        dynamodb.get_item(TableName=table(range_key=True), Key=key("a"))


def test_empty_string_key(dynamodb: Client, seeded: str) -> None:
    with validation(empty_key("pk")):
        dynamodb.get_item(TableName=seeded, Key=key(""))


def test_missing_key(unchecked: Client, seeded: str) -> None:
    with validation(one_error(None, "key", "Member must not be null")):
        unchecked.get_item(TableName=seeded)


def test_projection_with_attributes_to_get(dynamodb: Client, seeded: str) -> None:
    with validation(mixed("AttributesToGet", "ProjectionExpression")):
        dynamodb.get_item(
            TableName=seeded, Key=key("a"), ProjectionExpression="age", AttributesToGet=["age"]
        )


def test_duplicate_attributes_to_get(dynamodb: Client, seeded: str) -> None:
    with validation(INVALID + "Duplicate value in attribute name: age"):
        dynamodb.get_item(TableName=seeded, Key=key("a"), AttributesToGet=["age", "name", "age"])


def test_names_without_projection(dynamodb: Client, seeded: str) -> None:
    with validation(NAMES_WITHOUT_EXPRESSION):
        dynamodb.get_item(TableName=seeded, Key=key("a"), ExpressionAttributeNames={"#n": "name"})


def test_projection_syntax_error(dynamodb: Client, seeded: str) -> None:
    with validation('Invalid ProjectionExpression: Syntax error; token: "!", near: "!!"'):
        dynamodb.get_item(TableName=seeded, Key=key("a"), ProjectionExpression="!!! INVALID !!!")
