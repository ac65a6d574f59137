"""AttributeValue, item and key validation (engine/attrs.py)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynastore.engine import attrs
from dynastore.engine.attrs import (
    validate_item,
    validate_item_key,
    validate_key,
    validate_value,
    validate_values,
)
from dynastore.engine.values import normalize_number
from dynastore.errors import SerializationException, ValidationException

INVALID = "One or more parameter values were invalid: "


def invalid(value: Any) -> str:
    with pytest.raises(ValidationException) as caught:
        validate_value(value)
    assert caught.value.message is not None
    return caught.value.message


def deep_map(depth: int) -> dict[str, Any]:
    """`depth` single-key maps around a string leaf (depth 1: {"M": {"n": {"S": ..}}})."""
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(depth):
        value = {"M": {"n": value}}
    return value


# --- values ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [{}, {"a": ""}, {"S": None}, None, {"M": {"a": {}}}])
def test_empty_values(value: Any) -> None:
    assert invalid(value) == (
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
    )


def test_empty_values_inside_documents() -> None:
    values: list[Any] = [{"L": [{}]}, {"L": [{"a": {}}]}, {"M": {"x": None}}]
    for value in values:
        assert invalid(value).startswith("Supplied AttributeValue is empty")


def test_more_than_one_type() -> None:
    assert invalid({"S": "a", "N": "1"}) == (
        "Supplied AttributeValue has more than one datatypes set, "
        "must contain exactly one of the supported datatypes"
    )


def test_each_types_own_error_comes_first() -> None:
    # DynamoDB reports the bad number before the "more than one datatypes" error.
    assert invalid({"S": "a", "N": "b"}) == (
        "The parameter cannot be converted to a numeric value: b"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"NULL": False}, INVALID + "Null attribute value types must have the value of true"),
        ({"SS": []}, INVALID + "An string set  may not be empty"),
        ({"NS": []}, INVALID + "An number set  may not be empty"),
        ({"BS": []}, INVALID + "Binary sets should not be empty"),
        ({"SS": ["a", "a"]}, INVALID + "Input collection [a, a] contains duplicates."),
        ({"SS": ["0", "1", "0"]}, INVALID + "Input collection [0, 1, 0] contains duplicates."),
        (
            {"BS": ["Yg==", "Yg=="]},
            INVALID + "Input collection [Yg==, Yg==]of type BS contains duplicates.",
        ),
        ({"NS": ["1", "1"]}, "Input collection contains duplicates"),
        ({"NS": ["1", "1.0"]}, "Input collection contains duplicates"),
        ({"NS": ["100", "1E2"]}, "Input collection contains duplicates"),
        ({"N": ""}, "The parameter cannot be converted to a numeric value"),
        ({"N": "b"}, "The parameter cannot be converted to a numeric value: b"),
        ({"NS": ["1", "b"]}, "The parameter cannot be converted to a numeric value: b"),
        (
            {"N": "123456789012345678901234567890123456789"},
            "Attempting to store more than 38 significant digits in a Number",
        ),
        (
            {"N": "1e126"},
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range",
        ),
        (
            {"N": "-1e-131"},
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range",
        ),
        ({"M": {"a": {"SS": []}}}, INVALID + "An string set  may not be empty"),
        (
            {"L": [{"NULL": False}]},
            INVALID + "Null attribute value types must have the value of true",
        ),
    ],
)
def test_invalid_values(value: Any, message: str) -> None:
    assert invalid(value) == message


def test_sets_may_hold_empty_strings_and_binaries() -> None:
    validate_value({"SS": ["", "a"]})
    validate_value({"BS": ["", "AA=="]})
    validate_value({"S": ""})
    validate_value({"B": ""})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"B": "23456"}, "Base64 encoded length is expected a multiple of 4 bytes but found: 5"),
        ({"B": "+/+="}, "Invalid last non-pad Base64 character dectected"),
        ({"BS": ["Yg==", "=+/="]}, "Invalid last non-pad Base64 character dectected"),
        ({"B": 5}, "only base-64-encoded strings are convertible to bytes"),
        ({"S": 5}, "NUMBER_VALUE cannot be converted to String"),
        ({"BOOL": "maybe"}, "Unexpected token received from parser"),
        ({"SS": "a"}, "Unexpected field type"),
        (
            {"M": []},
            "Unrecognized collection type java.util.Map<java.lang.String, "
            "com.amazonaws.dynamodb.v20120810.AttributeValue>",
        ),
    ],
)
def test_wrong_wire_types_are_serialization_errors(value: Any, message: str) -> None:
    with pytest.raises(SerializationException) as caught:
        validate_value(value)
    assert caught.value.message == message


def test_numbers_are_normalised_in_place() -> None:
    value: dict[str, Any] = {
        "M": {
            "n": {"N": "00042.500"},
            "s": {"NS": ["1.0", "-0", "1E2", "3"]},
            "l": {"L": [{"N": "-1.5e1"}]},
        }
    }
    assert validate_value(value) is value
    assert value == {
        "M": {
            "n": {"N": "42.5"},
            "s": {"NS": ["1", "0", "100", "3"]},
            "l": {"L": [{"N": "-15"}]},
        }
    }


def test_unknown_members_and_nulls_are_dropped() -> None:
    value = {"S": "x", "Q": 1, "N": None}
    assert validate_value(value) == {"S": "x"}


def test_boolean_text_converts_as_dynamodb_parses_it() -> None:
    assert validate_value({"BOOL": "yes"}) == {"BOOL": True}
    assert validate_value({"NULL": "true"}) == {"NULL": True}


@given(
    st.one_of(
        st.integers(min_value=-(10**37), max_value=10**37).map(str),
        st.decimals(allow_nan=False, allow_infinity=False, places=6).map(str),
        st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{1,15})?", fullmatch=True),
    )
)
def test_the_number_fast_path_agrees_with_values(text: str) -> None:
    try:
        expected = normalize_number(text)
    except ValidationException:
        return
    assert attrs._number(text) == expected


@pytest.mark.parametrize("depth", [0, 1, 31])
def test_documents_nest_up_to_32_levels(depth: int) -> None:
    validate_value(deep_map(depth))
    validate_item({"a": deep_map(depth)})


def test_nesting_deeper_than_32_levels_is_rejected() -> None:
    message = (
        "Nesting Levels have exceeded supported limits: "
        "Attributes in the item have nested levels beyond supported limit"
    )
    assert invalid(deep_map(32)) == message
    deep_list: dict[str, Any] = {"S": "x"}
    for _ in range(32):
        deep_list = {"L": [deep_list]}
    assert invalid(deep_list) == message


# --- items -----------------------------------------------------------------------------


def test_validate_item_normalises_in_place() -> None:
    item: dict[str, Any] = {"pk": {"S": "a"}, "n": {"N": "1.50"}, "b": {"BOOL": True}}
    assert validate_item(item) is item
    assert item["n"] == {"N": "1.5"}


def test_item_size_limit() -> None:
    # 400 KB: the name "b" (1) + value, plus "a" (1) + "x" (1)
    fits = {"a": {"S": "x"}, "b": {"S": "y" * (400 * 1024 - 3)}}
    validate_item(fits)
    too_big = {"a": {"S": "x"}, "b": {"S": "y" * (400 * 1024 - 2)}}
    with pytest.raises(ValidationException) as caught:
        validate_item(too_big)
    assert caught.value.message == "Item size has exceeded the maximum allowed size"
    # multi-byte text counts its UTF-8 bytes
    with pytest.raises(ValidationException):
        validate_item({"a": {"S": "\u00e9" * (200 * 1024)}})


def test_validate_values() -> None:
    values = {":a": {"N": "01"}, ":b": {"S": "x"}}
    assert validate_values(values) == {":a": {"N": "1"}, ":b": {"S": "x"}}
    with pytest.raises(ValidationException):
        validate_values({":a": {}})


# --- keys ------------------------------------------------------------------------------

SCHEMA = [("pk", "S"), ("sk", "N")]
MISMATCH = "The provided key element does not match the schema"


def key_error(key: dict[str, Any], schema: list[tuple[str, str]] = SCHEMA) -> str:
    with pytest.raises(ValidationException) as caught:
        validate_key(key, schema)
    assert caught.value.message is not None
    return caught.value.message


def test_validate_key_accepts_and_normalises() -> None:
    key = {"pk": {"S": "a"}, "sk": {"N": "1.0"}}
    assert validate_key(key, SCHEMA) == {"pk": {"S": "a"}, "sk": {"N": "1"}}


@pytest.mark.parametrize(
    "key",
    [
        {"pk": {"S": "a"}},  # missing range key
        {"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "b"}},  # extra attribute
        {"pk": {"S": "a"}, "other": {"N": "1"}},  # wrong name
        {"pk": {"N": "5"}, "sk": {"N": "1"}},  # wrong type
        {"pk": {"L": [{"S": "x"}]}, "sk": {"N": "1"}},  # not a scalar
        {},
    ],
)
def test_key_schema_mismatch(key: dict[str, Any]) -> None:
    assert key_error(key) == MISMATCH


def test_key_values_are_validated_first() -> None:
    assert key_error({"pk": {}}).startswith("Supplied AttributeValue is empty")


def test_empty_key_strings_and_binaries() -> None:
    assert key_error({"pk": {"S": ""}, "sk": {"N": "1"}}) == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: pk"
    )
    assert key_error({"pk": {"B": ""}}, [("pk", "B")]) == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty binary value. Key: pk"
    )


def test_key_sizes() -> None:
    validate_key({"pk": {"S": "a" * 2048}}, [("pk", "S")])
    assert key_error({"pk": {"S": "a" * 2049}}, [("pk", "S")]) == (
        INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"
    )
    assert key_error({"pk": {"S": "\u00e9" * 1025}}, [("pk", "S")]).endswith("of2048 bytes")
    validate_key({"pk": {"S": "a"}, "sk": {"S": "b" * 1024}}, [("pk", "S"), ("sk", "S")])
    assert key_error({"pk": {"S": "a"}, "sk": {"S": "b" * 1025}}, [("pk", "S"), ("sk", "S")]) == (
        INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
    )
    too_big = "A" * 1368  # 1026 bytes
    assert key_error({"pk": {"S": "a"}, "sk": {"B": too_big}}, [("pk", "S"), ("sk", "B")]).endswith(
        "size limit of 1024 bytes"
    )


def test_item_keys() -> None:
    item = {"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "y"}}
    validate_item_key(item, SCHEMA)

    def item_error(item: dict[str, Any]) -> str:
        with pytest.raises(ValidationException) as caught:
            validate_item_key(item, SCHEMA)
        assert caught.value.message is not None
        return caught.value.message

    assert item_error({"sk": {"N": "1"}}) == INVALID + "Missing the key pk in the item"
    assert item_error({"pk": {"S": "a"}}) == INVALID + "Missing the key sk in the item"
    assert item_error({"pk": {"N": "1"}, "sk": {"N": "1"}}) == (
        INVALID + "Type mismatch for key pk expected: S actual: N"
    )
    assert item_error({"pk": {"S": "a"}, "sk": {"L": []}}) == (
        INVALID + "Type mismatch for key sk expected: N actual: L"
    )
    assert item_error({"pk": {"S": ""}, "sk": {"N": "1"}}).endswith(
        "cannot contain an empty string value. Key: pk"
    )


def test_validation_does_not_touch_valid_canonical_values() -> None:
    item: dict[str, Any] = {
        "pk": {"S": "a"},
        "n": {"N": "-12.5"},
        "s": {"SS": ["x", "y"]},
        "m": {"M": {"l": {"L": [{"NULL": True}, {"BOOL": False}, {"B": "AA=="}]}}},
    }
    before = copy.deepcopy(item)
    validate_item(item)
    assert item == before
    assert Decimal(item["n"]["N"]) == Decimal("-12.5")
