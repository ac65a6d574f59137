"""A statement's `?` parameters: AttributeValues whose numbers DynamoDB reads as Java's
BigDecimal reads text.

A parameter is validated like any AttributeValue (`attrs.validate_value`, first problem
in document order), but a number out of range is reported as DynamoDB's BigDecimal
conversion sees it: an exponent, or a scale (digits after the point less the exponent),
that does not fit a 32-bit integer cannot be converted at all ("The parameter cannot be
converted to a numeric value: 1e99999999999"), and the range check works on precision
less scale in 32-bit arithmetic, which wraps (1e2147483647 is an underflow).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from dynastore.engine import attrs
from dynastore.engine.values import AttrValue, parse_number
from dynastore.errors import ValidationException

UNCONVERTIBLE = "The parameter cannot be converted to a numeric value"
OVERFLOW = (
    "Number overflow. Attempting to store a number with magnitude larger than supported range"
)
UNDERFLOW = (
    "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)
_NUMBER_ERRORS = (OVERFLOW, UNDERFLOW, "Attempting to store more than 38 significant digits")
_JAVA_NUMBER = re.compile(
    r"[+-]?(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?:[eE](?P<exp>[+-]?[0-9]+))?"
)
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def validate_parameters(raw: list[Any] | None) -> list[AttrValue]:
    """The request's Parameters, validated (and normalised) in place."""
    values: list[AttrValue] = raw or []
    for value in values:
        try:
            attrs.validate_value(value)
        except ValidationException as error:
            if not (error.message or "").startswith(_NUMBER_ERRORS):
                raise
            raise _as_converted(value, error) from None
    return values


def _as_converted(value: AttrValue, error: ValidationException) -> ValidationException:
    """`error`, a number's range error, as DynamoDB reports it for a parameter."""
    text = next((text for text in _numbers(value) if _out_of_range(text)), None)
    if text is None:
        return error
    magnitude = _java_magnitude(text)
    if magnitude is None:
        return ValidationException(f"{UNCONVERTIBLE}: {text}")
    wrapped = (magnitude - _INT_MIN) % 2**32 + _INT_MIN
    if wrapped != magnitude and error.message in (OVERFLOW, UNDERFLOW):
        return ValidationException(OVERFLOW if wrapped > 0 else UNDERFLOW)
    return error


def _numbers(value: AttrValue) -> Iterator[str]:
    """The number texts in a (structurally valid) value, in document order."""
    for tag, raw in value.items():
        if tag == "N":
            yield raw
        elif tag == "NS":
            yield from raw
        elif tag in ("L", "M"):
            for member in raw if tag == "L" else raw.values():
                yield from _numbers(member)


def _out_of_range(text: str) -> bool:
    try:
        parse_number(text)
    except ValidationException:
        return True
    return False


def _java_magnitude(text: str) -> int | None:
    """Precision less scale of BigDecimal(text), or None when it cannot be converted."""
    match = _JAVA_NUMBER.fullmatch(text)
    if match is None:
        return None
    fraction = match["frac"] or ""
    digits = (match["int"] or "") + fraction
    if not digits:
        return None
    exponent = int(match["exp"] or 0)
    scale = len(fraction) - exponent
    if not (_INT_MIN <= exponent <= _INT_MAX and _INT_MIN <= scale <= _INT_MAX):
        return None
    return (len(digits.lstrip("0")) or 1) - scale
