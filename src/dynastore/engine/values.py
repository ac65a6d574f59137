"""AttributeValues: DynamoDB's typed values as they travel on the wire.

An item is kept in its DynamoDB-JSON form (``{"name": {"S": "x"}}``) from request to
storage and back, so a read without projection never re-encodes. Numbers stay strings
on the wire; arithmetic and comparison go through a 38-digit decimal context.
"""

from __future__ import annotations

import base64
from decimal import Context, Decimal, InvalidOperation, Overflow, Rounded, localcontext
from typing import Any

from dynastore.errors import ValidationException

AttrValue = dict[str, Any]
Item = dict[str, AttrValue]

MAX_ITEM_SIZE = 400 * 1024
MAX_NUMBER_DIGITS = 38
MAX_DEPTH = 32

# DynamoDB's number range: magnitudes from 1E-130 to 9.99...E+125 (38 digits).
_MAX_EXP = 125
_MIN_EXP = -130
NUMBER_CONTEXT = Context(prec=MAX_NUMBER_DIGITS, Emax=_MAX_EXP, Emin=_MIN_EXP, traps=[])

SCALAR_TYPES = ("S", "N", "B")
SET_TYPES = ("SS", "NS", "BS")
ALL_TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")


def parse_number(text: str) -> Decimal:
    """Parse a DynamoDB number, raising DynamoDB's ValidationException when it can't be."""
    try:
        value = Decimal(text) if text == text.strip() else Decimal("x")
    except InvalidOperation:
        raise _not_a_number(text) from None
    if not value.is_finite():
        raise _not_a_number(text)
    check_number_range(value)
    return value


def _not_a_number(text: str) -> ValidationException:
    message = "The parameter cannot be converted to a numeric value"
    return ValidationException(f"{message}: {text}" if text else message)


def check_number_range(value: Decimal) -> None:
    """Raise when a number has too many digits or lies outside DynamoDB's range.

    A zero is judged by its written exponent, as DynamoDB does: "0E+126" and "0E-131"
    are refused while "0.0E+126" is accepted.
    """
    # No context arithmetic here: exponents far beyond any context's range are legal text.
    if not value.is_zero():
        digits = len("".join(map(str, value.as_tuple().digits)).strip("0"))
        if digits > MAX_NUMBER_DIGITS:
            raise ValidationException(
                "Attempting to store more than 38 significant digits in a Number"
            )
    adjusted = value.adjusted()
    if adjusted > _MAX_EXP:
        raise ValidationException(
            "Number overflow. Attempting to store a number with magnitude larger than supported "
            "range"
        )
    if adjusted < _MIN_EXP:
        raise ValidationException(
            "Number underflow. Attempting to store a number with magnitude smaller than supported "
            "range"
        )


def format_number(value: Decimal) -> str:
    """DynamoDB's canonical text for a number: plain notation, no trailing zeros."""
    if value.is_zero():
        return "0"
    text = format(value.normalize(Context(prec=200)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def normalize_number(text: str) -> str:
    """Validate a number's text and return its canonical form."""
    return format_number(parse_number(text))


def _arith(a: str, b: str, subtract: bool) -> str:
    with localcontext(NUMBER_CONTEXT) as ctx:
        ctx.clear_flags()
        x, y = Decimal(a), Decimal(b)
        result = x - y if subtract else x + y
        if ctx.flags[Overflow] or (not result.is_zero() and result.adjusted() > _MAX_EXP):
            raise ValidationException(
                "Number overflow. Attempting to store a number with magnitude larger than "
                "supported range"
            )
        if ctx.flags[Rounded]:
            raise ValidationException(
                "Attempting to store more than 38 significant digits in a Number"
            )
        if not result.is_zero() and result.adjusted() < _MIN_EXP:
            raise ValidationException(
                "Number underflow. Attempting to store a number with magnitude smaller than "
                "supported range"
            )
    return format_number(result)


def number_add(a: str, b: str) -> str:
    """a + b with DynamoDB's precision and range checks."""
    return _arith(a, b, subtract=False)


def number_sub(a: str, b: str) -> str:
    """a - b with DynamoDB's precision and range checks."""
    return _arith(a, b, subtract=True)


def value_type(value: AttrValue) -> str:
    """The single type tag of an AttributeValue (``"S"``, ``"M"``, ...)."""
    return next(iter(value))


def binary_bytes(text: str) -> bytes:
    """Decode the base64 text of a B value."""
    return base64.b64decode(text)


def _scalar_key(tag: str, raw: Any) -> Any:
    if tag == "N":
        return Decimal(raw)
    if tag == "B":
        return binary_bytes(raw)
    return raw


def compare(a: AttrValue, b: AttrValue) -> int | None:
    """Order two scalar values of one type (S by UTF-8 bytes, N numerically, B by bytes).

    Returns -1, 0 or 1, or None when the values are not of one comparable scalar type.
    """
    ta, tb = value_type(a), value_type(b)
    if ta != tb or ta not in SCALAR_TYPES:
        return None
    if ta == "S":
        x: Any = a["S"].encode()
        y: Any = b["S"].encode()
    else:
        x, y = _scalar_key(ta, a[ta]), _scalar_key(tb, b[tb])
    return int(x > y) - int(x < y)


def values_equal(a: AttrValue, b: AttrValue) -> bool:
    """DynamoDB equality: numbers numerically, sets regardless of order, deep for L and M."""
    ta, tb = value_type(a), value_type(b)
    if ta != tb:
        return False
    x, y = a[ta], b[tb]
    if ta == "N":
        return bool(Decimal(x) == Decimal(y))
    if ta == "B":
        return binary_bytes(x) == binary_bytes(y)
    if ta == "NS":
        return {Decimal(v) for v in x} == {Decimal(v) for v in y}
    if ta == "BS":
        return {binary_bytes(v) for v in x} == {binary_bytes(v) for v in y}
    if ta == "SS":
        return set(x) == set(y)
    if ta == "L":
        return len(x) == len(y) and all(values_equal(p, q) for p, q in zip(x, y, strict=True))
    if ta == "M":
        return x.keys() == y.keys() and all(values_equal(x[k], y[k]) for k in x)
    return bool(x == y)


def _number_size(text: str) -> int:
    if "e" in text or "E" in text:
        value = Decimal(text)
        if value.is_zero():
            return 1
        count = len(value.normalize(Context(prec=200)).as_tuple().digits)
    else:
        # Plain notation (what stored numbers use): count significant digits textually.
        digits = text.lstrip("+-").replace(".", "").strip("0")
        if not digits:
            return 1
        count = len(digits)
    return (count + 1) // 2 + 1


def value_size(value: AttrValue) -> int:
    """Bytes a value counts for in DynamoDB's item size (the documented rules)."""
    tag = value_type(value)
    raw = value[tag]
    if tag == "S":
        return len(raw.encode())
    if tag == "N":
        return _number_size(raw)
    if tag == "B":
        return len(binary_bytes(raw))
    if tag in ("BOOL", "NULL"):
        return 1
    if tag == "SS":
        return sum(len(s.encode()) for s in raw)
    if tag == "NS":
        return sum(_number_size(n) for n in raw)
    if tag == "BS":
        return sum(len(binary_bytes(b)) for b in raw)
    if tag == "L":
        return 3 + sum(value_size(v) + 1 for v in raw)
    # M
    return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in raw.items())


def item_size(item: Item) -> int:
    """Bytes an item counts for: attribute names plus values."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())
