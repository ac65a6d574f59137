"""PutItem: round trips, every parameter in botocore's model, and the validation errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import (
    CAPACITY_INVALID,
    INVALID,
    METRICS_INVALID,
    NAME_PATTERN,
    NAMES_WITHOUT_EXPRESSION,
    ONLY_ALL_OLD,
    REQUEST_FAILED,
    RESOURCE_NOT_FOUND,
    RETURN_VALUES_ENUM,
    RETURN_VALUES_INVALID,
    VALUES_WITHOUT_CONDITION,
    WRITE_CAPACITY_MODES,
    Client,
    Item,
    TableFactory,
    attr,
    empty_key,
    errors,
    failure_item,
    key,
    mixed,
    normalized,
    one_error,
    raises,
    read,
    schema,
    seed,
    unique_name,
    validation,
)

OVERFLOW = (
    "Number overflow. Attempting to store a number with magnitude larger than supported range"
)
UNDERFLOW = (
    "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)
EVERY_TYPE: Item = {
    **key("every"),
    "s": {"S": "text ✓"},
    "n": {"N": "-12.5"},
    "b": {"B": b"\x00\x01\xff"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b"x", b"y"]},
    "m": {"M": {"inner": {"S": "v"}, "deeper": {"M": {"n": {"N": "1"}}}}},
    "l": {"L": [{"S": "a"}, {"N": "1"}, {"NULL": True}]},
    "null": {"NULL": True},
    "bool": {"BOOL": False},
}


def test_round_trip_of_every_type(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    answer = dynamodb.put_item(TableName=name, Item=EVERY_TYPE)
    assert set(answer) == {"ResponseMetadata"}
    assert normalized(read(dynamodb, name, key("every"))) == normalized(EVERY_TYPE)


def test_put_replaces_the_whole_item(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    seed(dynamodb, name, {**key("a"), "old": {"S": "x"}, "both": {"N": "1"}})
    dynamodb.put_item(TableName=name, Item={**key("a"), "both": {"N": "2"}})
    assert read(dynamodb, name, key("a")) == {**key("a"), "both": {"N": "2"}}


def test_hash_and_range_items_are_distinct(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    seed(dynamodb, name, {**key("a", "1"), "v": {"S": "one"}})
    seed(dynamodb, name, {**key("a", "2"), "v": {"S": "two"}})
    assert read(dynamodb, name, key("a", "1")) == {**key("a", "1"), "v": {"S": "one"}}
    assert read(dynamodb, name, key("a", "2")) == {**key("a", "2"), "v": {"S": "two"}}


def test_empty_non_key_string_and_binary(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    item = {**key("a"), "s": {"S": ""}, "b": {"B": b""}, "l": {"L": [{"S": ""}]}}
    dynamodb.put_item(TableName=name, Item=item)
    assert read(dynamodb, name, key("a")) == item


def test_number_and_binary_keys(dynamodb: Client, table: TableFactory) -> None:
    name = table(AttributeDefinitions=[attr("n", "N"), attr("b", "B")], KeySchema=schema("n", "b"))
    dynamodb.put_item(TableName=name, Item={"n": {"N": "1.50"}, "b": {"B": b"\x01"}})
    got = read(dynamodb, name, {"n": {"N": "1.5"}, "b": {"B": b"\x01"}})
    assert got == {"n": {"N": "1.5"}, "b": {"B": b"\x01"}}


# --- ReturnValues ----------------------------------------------------------------------


def test_all_old_returns_replaced_item(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    old = seed(dynamodb, name, {**key("a"), "v": {"S": "old"}})
    answer = dynamodb.put_item(
        TableName=name, Item={**key("a"), "v": {"S": "new"}}, ReturnValues="ALL_OLD"
    )
    assert answer["Attributes"] == old


def test_all_old_on_new_item_returns_nothing(dynamodb: Client, table: TableFactory) -> None:
    answer = dynamodb.put_item(TableName=table(), Item=key("a"), ReturnValues="ALL_OLD")
    assert "Attributes" not in answer


def test_return_values_none(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    seed(dynamodb, name, key("a"))
    answer = dynamodb.put_item(TableName=name, Item=key("a"), ReturnValues="NONE")
    assert "Attributes" not in answer


@pytest.mark.parametrize("value", ["ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"])
def test_unsupported_return_values(dynamodb: Client, table: TableFactory, value: str) -> None:
    name = table()
    old = seed(dynamodb, name, {**key("a"), "v": {"S": "old"}})
    with validation(ONLY_ALL_OLD):
        dynamodb.put_item(TableName=name, Item=key("a"), ReturnValues=value)
    assert read(dynamodb, name, key("a")) == old


def test_return_values_outside_enum(unchecked: Client, table: TableFactory) -> None:
    with validation(one_error("BAD", "returnValues", RETURN_VALUES_ENUM)):
        unchecked.put_item(TableName=table(), Item=key("a"), ReturnValues="BAD")


def test_three_enum_errors_are_aggregated(unchecked: Client, table: TableFactory) -> None:
    name = table()
    message = errors(RETURN_VALUES_INVALID, CAPACITY_INVALID, METRICS_INVALID)
    with validation(message):
        unchecked.put_item(
            TableName=name,
            Item=key("a"),
            ReturnValues="INVALID",
            ReturnConsumedCapacity="INVALID",
            ReturnItemCollectionMetrics="INVALID",
        )
    assert read(unchecked, name, key("a")) is None


# --- conditions ------------------------------------------------------------------------


def test_condition_passes_on_new_item(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    dynamodb.put_item(TableName=name, Item=key("a"), ConditionExpression="attribute_not_exists(pk)")
    assert read(dynamodb, name, key("a")) == key("a")


@pytest.mark.parametrize(
    ("old", "new", "condition", "returns_old"),
    [
        (
            {**key("a"), "v": {"S": "old"}},
            {**key("a"), "v": {"S": "new"}},
            {"ConditionExpression": "attribute_not_exists(pk)"},
            False,
        ),
        (
            {**key("a"), "v": {"N": "1"}},
            key("a"),
            {
                "ConditionExpression": "v = :two",
                "ExpressionAttributeValues": {":two": {"N": "2"}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
            True,
        ),
    ],
    ids=["no-item", "returns-old-item"],
)
def test_condition_fails_on_existing_item(
    dynamodb: Client,
    table: TableFactory,
    old: Item,
    new: Item,
    condition: dict[str, Any],
    returns_old: bool,
) -> None:
    name = table()
    seed(dynamodb, name, old)
    with raises("ConditionalCheckFailedException", REQUEST_FAILED) as info:
        dynamodb.put_item(TableName=name, Item=new, **condition)
    assert failure_item(info.value) == (old if returns_old else None)
    assert read(dynamodb, name, key("a")) == old


def test_condition_failure_on_missing_item_has_no_item(
    dynamodb: Client, table: TableFactory
) -> None:
    name = table()
    with raises("ConditionalCheckFailedException", REQUEST_FAILED) as info:
        dynamodb.put_item(
            TableName=name,
            Item=key("a"),
            ConditionExpression="attribute_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert "Item" not in info.value.response
    assert read(dynamodb, name, key("a")) is None


def test_condition_with_names_and_values(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    seed(dynamodb, name, {**key("a"), "status": {"S": "open"}})
    dynamodb.put_item(
        TableName=name,
        Item={**key("a"), "status": {"S": "closed"}},
        ConditionExpression="#s = :open",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":open": {"S": "open"}},
    )
    assert read(dynamodb, name, key("a")) == {**key("a"), "status": {"S": "closed"}}


def test_legacy_expected_exists_false(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    dynamodb.put_item(TableName=name, Item=key("a"), Expected={"pk": {"Exists": False}})
    with raises("ConditionalCheckFailedException", REQUEST_FAILED):
        dynamodb.put_item(TableName=name, Item=key("a"), Expected={"pk": {"Exists": False}})


def test_legacy_expected_value_and_operator(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    old = seed(dynamodb, name, {**key("a"), "n": {"N": "5"}, "s": {"S": "x"}})
    dynamodb.put_item(
        TableName=name,
        Item={**old, "t": {"S": "ok"}},
        Expected={
            "n": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "9"}]},
            "s": {"Value": {"S": "x"}},
        },
        ConditionalOperator="OR",
    )
    assert read(dynamodb, name, key("a")) == {**old, "t": {"S": "ok"}}
    with raises("ConditionalCheckFailedException", REQUEST_FAILED):
        dynamodb.put_item(
            TableName=name,
            Item=key("a"),
            Expected={"n": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "9"}]}},
        )
    assert read(dynamodb, name, key("a")) == {**old, "t": {"S": "ok"}}


def test_expected_with_condition_expression(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation(mixed("Expected", "ConditionExpression")):
        dynamodb.put_item(
            TableName=name,
            Item=key("a"),
            Expected={"pk": {"Exists": False}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    assert read(dynamodb, name, key("a")) is None


def test_zero_with_an_exponent_in_range(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    dynamodb.put_item(TableName=name, Item={**key("a"), "z": {"N": "0.0E+126"}, "y": {"N": "0E-5"}})
    assert read(dynamodb, name, key("a")) == {**key("a"), "z": {"N": "0"}, "y": {"N": "0"}}


@pytest.mark.parametrize(
    ("legacy", "message"),
    [
        ({}, "ConditionalOperator cannot be used without Filter or Expected"),
        (
            {"Expected": {"pk": {"Exists": False}}},
            "ConditionalOperator can only be used when Filter or Expected has two or more elements",
        ),
        (
            {
                "Expected": {"pk": {"Exists": False}, "v": {"Exists": False}},
                "ConditionExpression": "attribute_not_exists(pk)",
            },
            mixed("Expected, ConditionalOperator", "ConditionExpression"),
        ),
    ],
    ids=["no-expected", "one-condition", "with-condition-expression"],
)
def test_conditional_operator_misuse(
    dynamodb: Client, table: TableFactory, legacy: dict[str, Any], message: str
) -> None:
    name = table()
    with validation(message):
        dynamodb.put_item(TableName=name, Item=key("a"), ConditionalOperator="OR", **legacy)
    assert read(dynamodb, name, key("a")) is None


def test_values_without_expression(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation(VALUES_WITHOUT_CONDITION):
        dynamodb.put_item(
            TableName=name, Item=key("a"), ExpressionAttributeValues={":v": {"S": "x"}}
        )
    assert read(dynamodb, name, key("a")) is None


def test_names_without_expression(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation(NAMES_WITHOUT_EXPRESSION):
        dynamodb.put_item(TableName=name, Item=key("a"), ExpressionAttributeNames={"#n": "x"})
    assert read(dynamodb, name, key("a")) is None


# --- capacity and metrics --------------------------------------------------------------


@pytest.mark.parametrize(("mode", "expected"), WRITE_CAPACITY_MODES)
def test_consumed_capacity(
    dynamodb: Client, table: TableFactory, mode: str, expected: dict[str, Any]
) -> None:
    name = table()
    answer = dynamodb.put_item(TableName=name, Item=key("a"), ReturnConsumedCapacity=mode)
    assert answer["ConsumedCapacity"] == {"TableName": name, **expected}


def test_no_capacity_unless_asked(dynamodb: Client, table: TableFactory) -> None:
    answer = dynamodb.put_item(TableName=table(), Item=key("a"), ReturnConsumedCapacity="NONE")
    assert "ConsumedCapacity" not in answer


def test_write_units_round_up_per_kb(dynamodb: Client, table: TableFactory) -> None:
    item = {**key("a"), "d": {"S": "x" * 1500}}
    answer = dynamodb.put_item(TableName=table(), Item=item, ReturnConsumedCapacity="TOTAL")
    assert answer["ConsumedCapacity"]["CapacityUnits"] == 2.0


def test_overwrite_charges_the_larger_item(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    seed(dynamodb, name, {**key("a"), "d": {"S": "x" * 3000}})
    answer = dynamodb.put_item(TableName=name, Item=key("a"), ReturnConsumedCapacity="TOTAL")
    assert answer["ConsumedCapacity"]["CapacityUnits"] == 3.0


def test_item_collection_metrics_without_lsi(dynamodb: Client, table: TableFactory) -> None:
    answer = dynamodb.put_item(
        TableName=table(range_key=True), Item=key("a", "b"), ReturnItemCollectionMetrics="SIZE"
    )
    assert "ItemCollectionMetrics" not in answer


# --- key and value errors --------------------------------------------------------------


def test_unknown_table(dynamodb: Client) -> None:
    with raises("ResourceNotFoundException", RESOURCE_NOT_FOUND):
        dynamodb.put_item(TableName=unique_name("missing"), Item=key("a"))


def test_short_name_is_just_unknown(dynamodb: Client) -> None:
    with raises("ResourceNotFoundException", RESOURCE_NOT_FOUND):
        dynamodb.put_item(TableName="ab", Item=key("a"))


def test_table_name_too_long(dynamodb: Client) -> None:
    name = "a" * 256
    with validation(
        one_error(name, "tableName", "Member must have length less than or equal to 255")
    ):
        dynamodb.put_item(TableName=name, Item=key("a"))


def test_table_name_with_bad_characters(dynamodb: Client) -> None:
    message = one_error(
        "bad table!@#",
        "tableName",
        NAME_PATTERN,
    )
    with validation(message):
        dynamodb.put_item(TableName="bad table!@#", Item=key("a"))


def test_missing_table_name(unchecked: Client) -> None:
    with validation(one_error(None, "tableName", "Member must not be null")):
        unchecked.put_item(Item=key("a"))


def test_missing_item(unchecked: Client, table: TableFactory) -> None:
    with validation(one_error(None, "item", "Member must not be null")):
        unchecked.put_item(TableName=table())


def test_missing_hash_key(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    old = seed(dynamodb, name, {**key("x"), "other": {"S": "old"}})
    with validation(INVALID + "Missing the key pk in the item"):
        dynamodb.put_item(TableName=name, Item={"other": {"S": "x"}})
    assert read(dynamodb, name, key("x")) == old


def test_missing_range_key(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    old = seed(dynamodb, name, {**key("a", "1"), "v": {"S": "old"}})
    with validation(INVALID + "Missing the key sk in the item"):
        dynamodb.put_item(TableName=name, Item={**key("a"), "v": {"S": "new"}})
    assert read(dynamodb, name, key("a", "1")) == old


def test_key_type_mismatch(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation(INVALID + "Type mismatch for key pk expected: S actual: N"):
        dynamodb.put_item(TableName=name, Item={"pk": {"N": "1"}})
    assert read(dynamodb, name, key("1")) is None


def test_empty_string_hash_key(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    old = seed(dynamodb, name, key("a"))
    with validation(empty_key("pk")):
        dynamodb.put_item(TableName=name, Item={**key(""), "v": {"S": "x"}})
    assert read(dynamodb, name, key("a")) == old


def test_empty_string_range_key(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    old = seed(dynamodb, name, key("a", "1"))
    with validation(empty_key("sk")):
        dynamodb.put_item(TableName=name, Item=key("a", ""))
    assert read(dynamodb, name, key("a", "1")) == old


def test_empty_binary_key(dynamodb: Client, table: TableFactory) -> None:
    name = table(
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "B"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    seed(dynamodb, name, {"pk": {"B": b"\x00"}})
    with validation(empty_key("pk", "binary")):
        dynamodb.put_item(TableName=name, Item={"pk": {"B": b""}})
    assert read(dynamodb, name, {"pk": {"B": b"\x00"}}) == {"pk": {"B": b"\x00"}}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"SS": []}, INVALID + "An string set  may not be empty"),
        ({"NS": []}, INVALID + "An number set  may not be empty"),
        ({"BS": []}, INVALID + "Binary sets should not be empty"),
        ({"SS": ["a", "a"]}, INVALID + "Input collection [a, a] contains duplicates."),
        ({"NS": ["1", "1.0"]}, "Input collection contains duplicates"),
        (
            {"BS": [b"b", b"b"]},
            INVALID + "Input collection [Yg==, Yg==]of type BS contains duplicates.",
        ),
        (
            {},
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ),
        (
            {"S": "a", "N": "1"},
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
            "of the supported datatypes",
        ),
        ({"M": {"in": {"SS": []}}}, INVALID + "An string set  may not be empty"),
        ({"L": [{"NS": []}]}, INVALID + "An number set  may not be empty"),
        ({"SS": ["a", None]}, INVALID + "An string set may not have a null string as a member"),
        # A zero is judged by its written exponent: 0E+126 is out of range, 0.0E+126 is not.
        ({"N": "0E+126"}, OVERFLOW),
        ({"N": "0E-131"}, UNDERFLOW),
    ],
    ids=[
        "empty-ss",
        "empty-ns",
        "empty-bs",
        "dup-ss",
        "dup-ns",
        "dup-bs",
        "no-type",
        "two-types",
        "in-map",
        "in-list",
        "null-in-ss",
        "zero-overflow",
        "zero-underflow",
    ],
)
def test_invalid_attribute_values(
    unchecked: Client, table: TableFactory, value: dict[str, Any], message: str
) -> None:
    name = table()
    old = seed(unchecked, name, {**key("a"), "v": {"S": "old"}})
    with validation(message):
        unchecked.put_item(TableName=name, Item={**key("a"), "v": value})
    assert read(unchecked, name, key("a")) == old
