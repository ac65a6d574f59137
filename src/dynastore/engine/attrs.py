"""AttributeValue, item and key validation with DynamoDB's messages.

Runs after the request validator's type pass, so JSON types are normally right already;
the few type checks here keep the engine safe when it is handed values some other way
(they raise the same SerializationException texts as the type pass).

Everything validates *in place* and returns the object it was given: numbers (N, NS)
are rewritten to their canonical text, so a stored item is canonical; members that are
not AttributeValue types, or are null, are dropped, as DynamoDB's parser ignores them.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable, Sequence
from typing import Any

from dynastore.engine.values import (
    MAX_DEPTH,
    MAX_ITEM_SIZE,
    AttrValue,
    Item,
    item_size,
    normalize_number,
)
from dynastore.errors import SerializationException, ValidationException

_INVALID = "One or more parameter values were invalid: "
_NOT_VALID = "One or more parameter values are not valid. "

EMPTY_VALUE = (
    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
)
MULTIPLE_TYPES = (
    "Supplied AttributeValue has more than one datatypes set, "
    "must contain exactly one of the supported datatypes"
)
NULL_NOT_TRUE = _INVALID + "Null attribute value types must have the value of true"
# sic: DynamoDB's double space
EMPTY_STRING_SET = _INVALID + "An string set  may not be empty"
EMPTY_NUMBER_SET = _INVALID + "An number set  may not be empty"
EMPTY_BINARY_SET = _INVALID + "Binary sets should not be empty"
NULL_IN_STRING_SET = _INVALID + "An string set may not have a null string as a member"
NUMBER_SET_DUPLICATES = "Input collection contains duplicates"
NESTING_TOO_DEEP = (
    "Nesting Levels have exceeded supported limits: "
    "Attributes in the item have nested levels beyond supported limit"
)
ITEM_TOO_LARGE = "Item size has exceeded the maximum allowed size"
KEY_SCHEMA_MISMATCH = "The provided key element does not match the schema"
# sic: no space before 2048
HASH_KEY_TOO_LARGE = _INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"
RANGE_KEY_TOO_LARGE = (
    _INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
)
MAX_HASH_KEY_BYTES = 2048
MAX_RANGE_KEY_BYTES = 1024

# sic: "dectected"
INVALID_BASE64 = "Invalid last non-pad Base64 character dectected"
STRUCTURE_NOT_EXPECTED = "Start of structure or map found where not expected"
BOOLEAN_TOKEN = "Unexpected token received from parser"
_TRUE_TEXTS = frozenset({"TRUE", "1", "YES"})
_FALSE_TEXTS = frozenset({"FALSE", "0", "NO"})
# an upper bound of a number's size (38 digits: 19 bytes + 1), see values.value_size
_NUMBER_SIZE_BOUND = 21
# Text that is already canonical (as values.format_number writes it): no leading or
# trailing zeros, no exponent. At most 38 characters means at most 38 digits and a
# magnitude well inside DynamoDB's range, so such text needs no decimal arithmetic.
_CANONICAL_NUMBER = re.compile(r"(?:0|-?[1-9][0-9]*)(?:\.[0-9]*[1-9])?|-0\.[0-9]*[1-9]")
_CANONICAL_MAX = 38


# --- wire-type helpers (shared with ops/validate.py) ----------------------------------


def conversion_error(target: str, java_class: str, value: Any) -> str:
    """DynamoDB's SerializationException text for a JSON value of the wrong scalar type.

    `target` is the Java type's short name ("String", "Integer"), `java_class` its
    class name, used when an array arrives ("java.lang.String").
    """
    if value is True or value is False:
        return f"{'TRUE' if value else 'FALSE'}_VALUE cannot be converted to {target}"
    if isinstance(value, int):
        return f"NUMBER_VALUE cannot be converted to {target}"
    if isinstance(value, float):
        return f"DECIMAL_VALUE cannot be converted to {target}"
    if isinstance(value, str):
        return f"STRING_VALUE cannot be converted to {target}"
    if isinstance(value, list):
        return f"Unrecognized collection type class {java_class}"
    return STRUCTURE_NOT_EXPECTED


def parse_boolean(value: Any) -> bool:
    """A JSON value read as a Boolean, as DynamoDB's parser does ("yes", "0" convert)."""
    if value is True or value is False:
        return value
    if isinstance(value, str):
        upper = value.upper()
        if upper in _TRUE_TEXTS:
            return True
        if upper in _FALSE_TEXTS:
            return False
        raise SerializationException(BOOLEAN_TOKEN)
    raise SerializationException(conversion_error("Boolean", "java.lang.Boolean", value))


def base64_error(text: str) -> str | None:
    """Why `text` is not canonical base64 (DynamoDB's message), or None when it is."""
    if len(text) % 4:
        return f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(text)}"
    try:
        raw = binascii.a2b_base64(text, strict_mode=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        return INVALID_BASE64
    # Unused bits after the last character must be zero: only canonical text round-trips.
    if binascii.b2a_base64(raw, newline=False) != text.encode("ascii"):
        return INVALID_BASE64
    return None


def _number(text: str) -> str:
    if len(text) <= _CANONICAL_MAX and _CANONICAL_NUMBER.fullmatch(text) is not None:
        return text
    return normalize_number(text)


def _string(raw: Any) -> str:
    if type(raw) is not str:
        raise SerializationException(conversion_error("String", "java.lang.String", raw))
    return raw


def _binary(raw: Any) -> str:
    if type(raw) is not str:
        if isinstance(raw, list):
            raise SerializationException("Unrecognized collection type class java.nio.ByteBuffer")
        if isinstance(raw, dict):
            raise SerializationException(STRUCTURE_NOT_EXPECTED)
        raise SerializationException("only base-64-encoded strings are convertible to bytes")
    if raw:
        error = base64_error(raw)
        if error is not None:
            raise SerializationException(error)
    return raw


def binary_length(text: str) -> int:
    """Bytes in a (canonical) base64 text, without decoding it."""
    return len(text) * 3 // 4 - text[-2:].count("=") if text else 0


def _list(raw: Any) -> list[Any]:
    if type(raw) is not list:
        if isinstance(raw, dict):
            raise SerializationException(STRUCTURE_NOT_EXPECTED)
        raise SerializationException("Unexpected field type")
    return raw


# --- AttributeValues -------------------------------------------------------------------

# Each checker validates value[tag] (raw), normalises it in place and returns an upper
# bound of the value's size in bytes (so an item's exact size is only computed when the
# bound is near the limit).
_Checker = Callable[[AttrValue, Any, int], int]


def _check_s(value: AttrValue, raw: Any, depth: int) -> int:
    return 4 * len(_string(raw))  # a code point is at most 4 UTF-8 bytes


def _check_n(value: AttrValue, raw: Any, depth: int) -> int:
    text = _string(raw)
    canonical = _number(text)
    if canonical is not text:
        value["N"] = canonical
    return _NUMBER_SIZE_BOUND


def _check_b(value: AttrValue, raw: Any, depth: int) -> int:
    return binary_length(_binary(raw))


def _check_bool(value: AttrValue, raw: Any, depth: int) -> int:
    if raw is not True and raw is not False:
        value["BOOL"] = parse_boolean(raw)
    return 1


def _check_null(value: AttrValue, raw: Any, depth: int) -> int:
    if raw is not True:
        if not parse_boolean(raw):
            raise ValidationException(NULL_NOT_TRUE)
        value["NULL"] = True
    return 1


def _check_ss(value: AttrValue, raw: Any, depth: int) -> int:
    members = _list(raw)
    if not members:
        raise ValidationException(EMPTY_STRING_SET)
    size = 0
    for text in members:
        if text is None:
            raise ValidationException(NULL_IN_STRING_SET)
        size += 4 * len(_string(text))
    if len(set(members)) != len(members):
        raise ValidationException(
            f"{_INVALID}Input collection [{', '.join(members)}] contains duplicates."
        )
    return size


def _check_ns(value: AttrValue, raw: Any, depth: int) -> int:
    members = _list(raw)
    if not members:
        raise ValidationException(EMPTY_NUMBER_SET)
    normalized = [_number(_set_member(text, _string)) for text in members]
    # After normalisation "1" and "1.0" are one number: DynamoDB calls that a duplicate.
    if len(set(normalized)) != len(normalized):
        raise ValidationException(NUMBER_SET_DUPLICATES)
    value["NS"] = normalized
    return _NUMBER_SIZE_BOUND * len(normalized)


def _check_bs(value: AttrValue, raw: Any, depth: int) -> int:
    members = _list(raw)
    if not members:
        raise ValidationException(EMPTY_BINARY_SET)
    size = 0
    for text in members:
        size += binary_length(_set_member(text, _binary))
    # Canonical base64 is one text per byte string, so comparing texts is exact.
    if len(set(members)) != len(members):
        raise ValidationException(
            f"{_INVALID}Input collection [{', '.join(members)}]of type BS contains duplicates."
        )
    return size


def _check_m(value: AttrValue, raw: Any, depth: int) -> int:
    if type(raw) is not dict:
        if isinstance(raw, list):
            raise SerializationException(
                "Unrecognized collection type java.util.Map<java.lang.String, "
                "com.amazonaws.dynamodb.v20120810.AttributeValue>"
            )
        raise SerializationException("Unexpected field type")
    size = 3
    for name, member in raw.items():
        size += 4 * len(name) + 1 + _check(member, depth + 1)
    return size


def _check_l(value: AttrValue, raw: Any, depth: int) -> int:
    size = 3
    for member in _list(raw):
        size += 1 + _check(member, depth + 1)
    return size


def _set_member(raw: Any, check: Callable[[Any], str]) -> str:
    if raw is None:  # a null inside a set: nothing to convert
        raise ValidationException(EMPTY_VALUE)
    return check(raw)


_CHECKS: dict[str, _Checker] = {
    "S": _check_s,
    "N": _check_n,
    "B": _check_b,
    "SS": _check_ss,
    "NS": _check_ns,
    "BS": _check_bs,
    "M": _check_m,
    "L": _check_l,
    "NULL": _check_null,
    "BOOL": _check_bool,
}


def _check(value: Any, depth: int) -> int:
    if depth > MAX_DEPTH:
        raise ValidationException(NESTING_TOO_DEEP)
    if type(value) is not dict:
        if value is None:
            raise ValidationException(EMPTY_VALUE)
        if isinstance(value, list):
            raise SerializationException(
                "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue"
            )
        raise SerializationException("Unexpected value type in payload")
    if len(value) == 1:  # the common case: one type, nothing to drop
        for tag, raw in value.items():
            checker = _CHECKS.get(tag)
            if checker is not None and raw is not None:
                return checker(value, raw, depth)
    tags = [tag for tag, raw in value.items() if tag in _CHECKS and raw is not None]
    if len(tags) != len(value):
        for tag in [tag for tag in value if tag not in tags]:
            del value[tag]
    if not tags:
        raise ValidationException(EMPTY_VALUE)
    # Each type's own errors come before the "more than one datatypes" error.
    size = 0
    for tag in tags:
        size += _CHECKS[tag](value, value[tag], depth)
    if len(tags) > 1:
        raise ValidationException(MULTIPLE_TYPES)
    return size


def validate_value(value: Any, depth: int = 1) -> AttrValue:
    """Validate one AttributeValue and normalise it in place; returns it.

    `depth` is the value's nesting level: 1 for an item's attribute (or any top-level
    value), one more for each M or L it sits in; a value deeper than 32 is rejected.
    """
    _check(value, depth)
    result: AttrValue = value
    return result


def validate_values(values: Any) -> dict[str, AttrValue]:
    """Validate every value of a name -> AttributeValue map in place; returns it."""
    for value in values.values():
        _check(value, 1)
    result: dict[str, AttrValue] = values
    return result


def validate_item(item: Item) -> Item:
    """Validate an item's values and its size, normalising in place; returns it."""
    bound = 0
    for name, value in item.items():
        # Inline the commonest values (one S, BOOL or canonical N member).
        if type(value) is dict and len(value) == 1:
            ((tag, raw),) = value.items()
            if tag == "S" and type(raw) is str:
                bound += 4 * (len(name) + len(raw))
                continue
            if tag == "BOOL" and type(raw) is bool:
                bound += 4 * len(name) + 1
                continue
            if (
                tag == "N"
                and type(raw) is str
                and len(raw) <= _CANONICAL_MAX
                and _CANONICAL_NUMBER.fullmatch(raw) is not None
            ):
                bound += 4 * len(name) + _NUMBER_SIZE_BOUND
                continue
        bound += 4 * len(name) + _check(value, 1)
    if bound > MAX_ITEM_SIZE and item_size(item) > MAX_ITEM_SIZE:
        raise ValidationException(ITEM_TOO_LARGE)
    return item


# --- keys -------------------------------------------------------------------------------


def _empty_key(tag: str, name: str) -> ValidationException:
    kind = "string" if tag == "S" else "binary"
    return ValidationException(
        f"{_NOT_VALID}The AttributeValue for a key attribute cannot contain an empty "
        f"{kind} value. Key: {name}"
    )


def _check_key_part(name: str, tag: str, raw: Any, is_hash: bool) -> None:
    if tag == "N":
        return
    if not raw:
        raise _empty_key(tag, name)
    limit = MAX_HASH_KEY_BYTES if is_hash else MAX_RANGE_KEY_BYTES
    if tag == "S":
        # Cheap first: a code point is at most 4 UTF-8 bytes.
        size = len(raw) if 4 * len(raw) <= limit else len(raw.encode("utf-8"))
    else:
        size = binary_length(raw)
    if size > limit:
        raise ValidationException(HASH_KEY_TOO_LARGE if is_hash else RANGE_KEY_TOO_LARGE)


def validate_key(
    key: Item, key_schema: Sequence[tuple[str, str]], *, values_checked: bool = False
) -> Item:
    """Validate a Key parameter (GetItem, DeleteItem, UpdateItem, batch keys) in place.

    `key_schema` lists (attribute name, scalar type) with the partition key first.
    Missing, extra or wrongly typed key attributes all answer DynamoDB's one sentence.
    `values_checked`: the values already passed `validate_item` (before the table lookup).
    """
    if not values_checked:
        for value in key.values():
            _check(value, 1)
    if len(key) != len(key_schema):
        raise ValidationException(KEY_SCHEMA_MISMATCH)
    for position, (name, tag) in enumerate(key_schema):
        part = key.get(name)
        if part is None or tag not in part:
            raise ValidationException(KEY_SCHEMA_MISMATCH)
        _check_key_part(name, tag, part[tag], position == 0)
    return key


def validate_item_key(item: Item, key_schema: Sequence[tuple[str, str]]) -> None:
    """Check that an item to write (already validated) carries its table's key."""
    for position, (name, tag) in enumerate(key_schema):
        value = item.get(name)
        if value is None:
            raise ValidationException(f"{_INVALID}Missing the key {name} in the item")
        if tag not in value:
            actual = next(iter(value))
            raise ValidationException(
                f"{_INVALID}Type mismatch for key {name} expected: {tag} actual: {actual}"
            )
        _check_key_part(name, tag, value[tag], position == 0)
