"""DeleteItem: deletes, ReturnValues, conditions, capacity, and errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import (
    CAPACITY_INVALID,
    KEY_SCHEMA_MISMATCH,
    ONLY_ALL_OLD,
    REQUEST_FAILED,
    RESOURCE_NOT_FOUND,
    RETURN_VALUES_INVALID,
    VALUES_WITHOUT_CONDITION,
    WRITE_CAPACITY_MODES,
    Client,
    Item,
    TableFactory,
    empty_key,
    errors,
    failure_item,
    key,
    mixed,
    n,
    raises,
    read,
    s,
    seed,
    unique_name,
    validation,
)

ITEM: Item = {**key("a"), "v": n("1"), "tags": {"SS": ["x"]}}


def assert_untouched(client: Client, name: str) -> None:
    assert read(client, name, key("a")) == ITEM


def test_deletes_the_item(dynamodb: Client, seeded: str) -> None:
    answer = dynamodb.delete_item(TableName=seeded, Key=key("a"))
    assert set(answer) == {"ResponseMetadata"}
    assert read(dynamodb, seeded, key("a")) is None


def test_deleting_a_missing_item_succeeds(dynamodb: Client, seeded: str) -> None:
    answer = dynamodb.delete_item(TableName=seeded, Key=key("nope"), ReturnValues="ALL_OLD")
    assert "Attributes" not in answer
    assert_untouched(dynamodb, seeded)


def test_deletes_only_the_addressed_range_item(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    seed(dynamodb, name, key("a", "1"))
    seed(dynamodb, name, key("a", "2"))
    dynamodb.delete_item(TableName=name, Key=key("a", "1"))
    assert read(dynamodb, name, key("a", "1")) is None
    assert read(dynamodb, name, key("a", "2")) == key("a", "2")


def test_return_all_old(dynamodb: Client, seeded: str) -> None:
    answer = dynamodb.delete_item(TableName=seeded, Key=key("a"), ReturnValues="ALL_OLD")
    assert answer["Attributes"] == ITEM


def test_return_none(dynamodb: Client, seeded: str) -> None:
    answer = dynamodb.delete_item(TableName=seeded, Key=key("a"), ReturnValues="NONE")
    assert "Attributes" not in answer


@pytest.mark.parametrize("value", ["ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"])
def test_unsupported_return_values(dynamodb: Client, seeded: str, value: str) -> None:
    with validation(ONLY_ALL_OLD):
        dynamodb.delete_item(TableName=seeded, Key=key("a"), ReturnValues=value)
    assert_untouched(dynamodb, seeded)


def test_condition_passes(dynamodb: Client, seeded: str) -> None:
    dynamodb.delete_item(
        TableName=seeded,
        Key=key("a"),
        ConditionExpression="v = :one AND contains(tags, :x)",
        ExpressionAttributeValues={":one": n("1"), ":x": s("x")},
    )
    assert read(dynamodb, seeded, key("a")) is None


@pytest.mark.parametrize(
    ("condition", "returned"),
    [
        ({"ConditionExpression": "v <> :one", "ExpressionAttributeValues": {":one": n("1")}}, None),
        (
            {
                "ConditionExpression": "attribute_not_exists(v)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
            ITEM,
        ),
    ],
    ids=["no-item", "returns-old-item"],
)
def test_condition_fails(
    dynamodb: Client, seeded: str, condition: dict[str, Any], returned: Item | None
) -> None:
    with raises("ConditionalCheckFailedException", REQUEST_FAILED) as info:
        dynamodb.delete_item(TableName=seeded, Key=key("a"), **condition)
    assert failure_item(info.value) == returned
    assert_untouched(dynamodb, seeded)


def test_condition_on_missing_item(dynamodb: Client, seeded: str) -> None:
    with raises("ConditionalCheckFailedException", REQUEST_FAILED):
        dynamodb.delete_item(
            TableName=seeded, Key=key("nope"), ConditionExpression="attribute_exists(pk)"
        )
    assert_untouched(dynamodb, seeded)


def test_legacy_expected(dynamodb: Client, seeded: str) -> None:
    with raises("ConditionalCheckFailedException", REQUEST_FAILED):
        dynamodb.delete_item(TableName=seeded, Key=key("a"), Expected={"v": {"Value": n("2")}})
    assert_untouched(dynamodb, seeded)
    dynamodb.delete_item(
        TableName=seeded,
        Key=key("a"),
        Expected={"v": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [n("0"), n("1")]}},
    )
    assert read(dynamodb, seeded, key("a")) is None


@pytest.mark.parametrize(("mode", "expected"), WRITE_CAPACITY_MODES)
def test_consumed_capacity(
    dynamodb: Client, seeded: str, mode: str, expected: dict[str, Any]
) -> None:
    answer = dynamodb.delete_item(TableName=seeded, Key=key("a"), ReturnConsumedCapacity=mode)
    assert answer["ConsumedCapacity"] == {"TableName": seeded, **expected}


def test_capacity_of_missing_item(dynamodb: Client, seeded: str) -> None:
    answer = dynamodb.delete_item(TableName=seeded, Key=key("nope"), ReturnConsumedCapacity="TOTAL")
    assert answer["ConsumedCapacity"] == {"TableName": seeded, "CapacityUnits": 1.0}


def test_capacity_of_large_item(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    seed(dynamodb, name, {**key("a"), "d": s("x" * 2500)})
    answer = dynamodb.delete_item(TableName=name, Key=key("a"), ReturnConsumedCapacity="TOTAL")
    assert answer["ConsumedCapacity"]["CapacityUnits"] == 3.0


def test_item_collection_metrics_without_lsi(dynamodb: Client, seeded: str) -> None:
    answer = dynamodb.delete_item(
        TableName=seeded, Key=key("a"), ReturnItemCollectionMetrics="SIZE"
    )
    assert "ItemCollectionMetrics" not in answer


def test_unknown_table(dynamodb: Client) -> None:
    with raises("ResourceNotFoundException", RESOURCE_NOT_FOUND):
        dynamodb.delete_item(TableName=unique_name("missing"), Key=key("a"))


@pytest.mark.parametrize(
    "bad_key",
    [{"pk": n("1")}, {**key("a"), "v": n("1")}, {"v": n("1")}],
    ids=["wrong-type", "extra-attribute", "wrong-name"],
)
def test_key_not_matching_schema(dynamodb: Client, seeded: str, bad_key: Item) -> None:
    with validation(KEY_SCHEMA_MISMATCH):
        dynamodb.delete_item(TableName=seeded, Key=bad_key)
    assert_untouched(dynamodb, seeded)


def test_missing_range_key(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    seed(dynamodb, name, key("a", "1"))
    with validation(KEY_SCHEMA_MISMATCH):
        dynamodb.delete_item(TableName=name, Key=key("a"))
    assert read(dynamodb, name, key("a", "1")) == key("a", "1")


def test_empty_string_key(dynamodb: Client, seeded: str) -> None:
    with validation(empty_key("pk")):
        dynamodb.delete_item(TableName=seeded, Key=key(""))
    assert_untouched(dynamodb, seeded)


def test_enum_errors_are_aggregated(unchecked: Client, seeded: str) -> None:
    with validation(errors(RETURN_VALUES_INVALID, CAPACITY_INVALID)):
        unchecked.delete_item(
            TableName=seeded, Key=key("a"), ReturnValues="INVALID", ReturnConsumedCapacity="INVALID"
        )
    assert_untouched(unchecked, seeded)


def test_values_without_condition(dynamodb: Client, seeded: str) -> None:
    with validation(VALUES_WITHOUT_CONDITION):
        dynamodb.delete_item(
            TableName=seeded, Key=key("a"), ExpressionAttributeValues={":v": n("1")}
        )
    assert_untouched(dynamodb, seeded)


def test_expected_with_condition_expression(dynamodb: Client, seeded: str) -> None:
    with validation(mixed("Expected", "ConditionExpression")):
        dynamodb.delete_item(
            TableName=seeded,
            Key=key("a"),
            Expected={"v": {"Exists": True, "Value": n("1")}},
            ConditionExpression="attribute_exists(v)",
        )
    assert_untouched(dynamodb, seeded)


@pytest.mark.parametrize(
    ("legacy", "message"),
    [
        ({}, "ConditionalOperator cannot be used without Filter or Expected"),
        (
            {"Expected": {"v": {"Value": n("1")}}},
            "ConditionalOperator can only be used when Filter or Expected has two or more elements",
        ),
        (
            {"ConditionExpression": "attribute_exists(v)"},
            mixed("ConditionalOperator", "ConditionExpression"),
        ),
    ],
    ids=["no-expected", "one-condition", "with-condition-expression"],
)
def test_conditional_operator_misuse(
    dynamodb: Client, seeded: str, legacy: dict[str, Any], message: str
) -> None:
    with validation(message):
        dynamodb.delete_item(TableName=seeded, Key=key("a"), ConditionalOperator="AND", **legacy)
    assert_untouched(dynamodb, seeded)


def test_conditional_operator_joins_expected(dynamodb: Client, seeded: str) -> None:
    dynamodb.delete_item(
        TableName=seeded,
        Key=key("a"),
        Expected={"v": {"Value": n("2")}, "tags": {"Exists": True, "Value": {"SS": ["x"]}}},
        ConditionalOperator="OR",
    )
    assert read(dynamodb, seeded, key("a")) is None
