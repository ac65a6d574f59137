"""Service limits: 400 KB items, 32 nesting levels, 38-digit numbers, key sizes."""

from __future__ import annotations

import pytest

from tests.api.helpers import (
    INVALID,
    Client,
    Item,
    TableFactory,
    key,
    n,
    read,
    s,
    seed,
    update,
    validation,
)

MAX_ITEM = 400 * 1024  # 409,600 bytes: DynamoDB refuses items with size > this
PUT_TOO_BIG = "Item size has exceeded the maximum allowed size"
UPDATE_TOO_BIG = "Item size to update has exceeded the maximum allowed size"
TOO_DEEP = (
    "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels "
    "beyond supported limit"
)
OVERFLOW = (
    "Number overflow. Attempting to store a number with magnitude larger than supported range"
)
UNDERFLOW = (
    "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)
TOO_PRECISE = "Attempting to store more than 38 significant digits in a Number"


def sized_item(total: int, attr: str = "d") -> Item:
    """An item of exactly `total` bytes: pk "a" (2 + 1) plus one string attribute."""
    return {**key("a"), attr: s("x" * (total - 3 - len(attr.encode())))}


def nested(levels: int) -> Item:
    """A string wrapped in `levels` maps."""
    value: Item = s("x")
    for _ in range(levels):
        value = {"M": {"m": value}}
    return value


# --- item size -------------------------------------------------------------------------


@pytest.mark.parametrize("attr", ["d", "a" * 1000], ids=["short-name", "long-name"])
def test_item_at_the_limit_is_accepted(dynamodb: Client, table: TableFactory, attr: str) -> None:
    name = table()
    item = sized_item(MAX_ITEM, attr)
    dynamodb.put_item(TableName=name, Item=item)
    assert read(dynamodb, name, key("a")) == item


@pytest.mark.parametrize("attr", ["d", "a" * 1000], ids=["short-name", "long-name"])
def test_item_one_byte_over_is_rejected(dynamodb: Client, table: TableFactory, attr: str) -> None:
    name = table()
    with validation(PUT_TOO_BIG):
        dynamodb.put_item(TableName=name, Item=sized_item(MAX_ITEM + 1, attr))
    assert read(dynamodb, name, key("a")) is None


def test_utf8_bytes_are_counted(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    body = "é" * ((MAX_ITEM - 4) // 2)  # two bytes each: exactly at the limit
    dynamodb.put_item(TableName=name, Item={**key("a"), "d": s(body)})
    with validation(PUT_TOO_BIG):
        dynamodb.put_item(TableName=name, Item={**key("a"), "d": s(body + "x")})
    assert read(dynamodb, name, key("a")) == {**key("a"), "d": s(body)}


def test_binary_is_counted_decoded(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    dynamodb.put_item(TableName=name, Item={**key("a"), "d": {"B": b"\x00" * (MAX_ITEM - 4)}})
    with validation(PUT_TOO_BIG):
        dynamodb.put_item(TableName=name, Item={**key("b"), "d": {"B": b"\x00" * (MAX_ITEM - 3)}})
    assert read(dynamodb, name, key("b")) is None


def test_update_past_the_limit(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    item = seed(dynamodb, name, sized_item(MAX_ITEM - 10))
    update(dynamodb, name, key("a"), "SET e = :v", {":v": s("x" * 8)})  # 1 + 8: still fits
    with validation(UPDATE_TOO_BIG):
        update(dynamodb, name, key("a"), "SET f = :v", {":v": s("x" * 8)})
    assert read(dynamodb, name, key("a")) == {**item, "e": s("x" * 8)}


def test_oversized_update_of_missing_item(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation(UPDATE_TOO_BIG):
        update(dynamodb, name, key("a"), "SET d = :v", {":v": s("x" * MAX_ITEM)})
    assert read(dynamodb, name, key("a")) is None


# --- nesting ---------------------------------------------------------------------------


def test_31_nested_maps_are_accepted(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    item = {**key("a"), "deep": nested(31)}
    dynamodb.put_item(TableName=name, Item=item)
    assert read(dynamodb, name, key("a")) == item


def test_32_nested_maps_are_rejected(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation(TOO_DEEP):
        dynamodb.put_item(TableName=name, Item={**key("a"), "deep": nested(32)})
    assert read(dynamodb, name, key("a")) is None


def test_nesting_counts_lists_too(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    value: Item = n("1")
    for level in range(32):
        value = {"L": [value]} if level % 2 else {"M": {"m": value}}
    with validation(TOO_DEEP):
        dynamodb.put_item(TableName=name, Item={**key("a"), "deep": value})
    assert read(dynamodb, name, key("a")) is None


# --- numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1.50", "1.5"),
        ("00042", "42"),
        ("-0", "0"),
        ("1.5E2", "150"),
        ("3.1400", "3.14"),
        ("0.0010", "0.001"),
        ("-7.0", "-7"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        ("0.12345678901234567890123456789012345678", "0.12345678901234567890123456789012345678"),
    ],
)
def test_numbers_are_stored_canonically(
    dynamodb: Client, table: TableFactory, given: str, stored: str
) -> None:
    name = table()
    dynamodb.put_item(TableName=name, Item={**key("a"), "v": n(given)})
    assert read(dynamodb, name, key("a")) == {**key("a"), "v": n(stored)}


def test_number_set_is_canonical(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    dynamodb.put_item(TableName=name, Item={**key("a"), "v": {"NS": ["1.0", "2.50", "-0.0"]}})
    item = read(dynamodb, name, key("a"))
    assert item is not None
    assert sorted(item["v"]["NS"]) == ["0", "1", "2.5"]


@pytest.mark.parametrize(
    "value",
    [
        "9.9999999999999999999999999999999999999E+125",
        "-9.9999999999999999999999999999999999999E+125",
        "1E-130",
        "-1E-130",
        "1" + "0" * 60,  # trailing zeros are not significant digits
    ],
)
def test_extreme_numbers_are_accepted(dynamodb: Client, table: TableFactory, value: str) -> None:
    name = table()
    dynamodb.put_item(TableName=name, Item={**key("a"), "v": n(value)})
    item = read(dynamodb, name, key("a"))
    assert item is not None and "v" in item


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("123456789012345678901234567890123456789", TOO_PRECISE),
        ("1.23456789012345678901234567890123456789", TOO_PRECISE),
        ("1E+126", OVERFLOW),
        ("-1E+126", OVERFLOW),
        ("1E-131", UNDERFLOW),
        ("abc", "The parameter cannot be converted to a numeric value: abc"),
        ("NaN", "The parameter cannot be converted to a numeric value: NaN"),
        ("", "The parameter cannot be converted to a numeric value"),
    ],
)
def test_invalid_numbers(dynamodb: Client, table: TableFactory, value: str, message: str) -> None:
    name = table()
    old = seed(dynamodb, name, {**key("a"), "v": n("1")})
    with validation(message):
        dynamodb.put_item(TableName=name, Item={**key("a"), "v": n(value)})
    with validation(message):
        dynamodb.put_item(TableName=name, Item={**key("a"), "v": {"NS": ["1", value]}})
    assert read(dynamodb, name, key("a")) == old


def test_invalid_number_in_expression_value(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    old = seed(dynamodb, name, {**key("a"), "v": n("1")})
    with validation(
        "ExpressionAttributeValues contains invalid value: The parameter cannot be converted to "
        "a numeric value: x for key :v"
    ):
        update(dynamodb, name, key("a"), "SET v = :v", {":v": n("x")})
    assert read(dynamodb, name, key("a")) == old


def test_exact_38_digit_arithmetic(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    seed(dynamodb, name, {**key("a"), "v": n("12345678901234567890123456789012345678")})
    update(dynamodb, name, key("a"), "SET v = v + :one", {":one": n("1")})
    item = read(dynamodb, name, key("a"))
    assert item == {**key("a"), "v": n("12345678901234567890123456789012345679")}


def test_arithmetic_overflow(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation(OVERFLOW):
        update(dynamodb, name, key("a"), "SET v = :big + :big", {":big": n("9.9E+125")})
    assert read(dynamodb, name, key("a")) is None


# --- key sizes -------------------------------------------------------------------------


def test_hash_key_size_limit(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    dynamodb.put_item(TableName=name, Item=key("k" * 2048))
    with validation(INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"):
        dynamodb.put_item(TableName=name, Item=key("k" * 2049))
    assert read(dynamodb, name, key("k" * 2048)) == key("k" * 2048)


def test_hash_key_size_limit_on_reads(dynamodb: Client, table: TableFactory) -> None:
    with validation(INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"):
        dynamodb.get_item(TableName=table(), Key=key("k" * 2049))


def test_range_key_size_limit(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    dynamodb.put_item(TableName=name, Item=key("a", "r" * 1024))
    with validation(
        INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
    ):
        dynamodb.put_item(TableName=name, Item=key("a", "r" * 1025))
    assert read(dynamodb, name, key("a", "r" * 1024)) == key("a", "r" * 1024)
