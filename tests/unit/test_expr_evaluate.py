"""Condition evaluation against items: DynamoDB's semantics for every operator."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from dynastore.engine.expr import Path, Resolver, evaluate, get_path, parse_condition, size_of

ITEM: dict[str, Any] = {
    "s": {"S": "hello world"},
    "n": {"N": "10"},
    "b": {"B": base64.b64encode(b"\x01\x02\x03").decode()},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.50"]},
    "bs": {"BS": [base64.b64encode(b"\x01").decode()]},
    "l": {"L": [{"S": "x"}, {"N": "2"}, {"M": {"k": {"S": "v"}}}]},
    "m": {"M": {"nested": {"M": {"deep": {"N": "5"}}}, "arr": {"L": [{"S": "e0"}, {"S": "e1"}]}}},
    "t": {"BOOL": True},
    "z": {"NULL": True},
    "e": {"S": ""},
}


def b64(data: bytes) -> dict[str, str]:
    return {"B": base64.b64encode(data).decode()}


def holds(text: str, item: dict[str, Any] | None = None, **values: Any) -> bool:
    resolver = Resolver({"#ns": "ns"}, {":" + k: v for k, v in values.items()} or None)
    condition = resolver.condition(parse_condition(text))
    return evaluate(condition, ITEM if item is None else item)


# --- paths -------------------------------------------------------------------------


def test_get_path() -> None:
    assert get_path(ITEM, Path(("m", "nested", "deep"))) == {"N": "5"}
    assert get_path(ITEM, Path(("m", "arr", 1))) == {"S": "e1"}
    assert get_path(ITEM, Path(("l", 2, "k"))) == {"S": "v"}
    assert get_path(ITEM, Path(("l", 3))) is None
    assert get_path(ITEM, Path(("s", 0))) is None
    assert get_path(ITEM, Path(("s", "x"))) is None
    assert get_path(ITEM, Path(("l", "x"))) is None
    assert get_path(ITEM, Path(("m", 0))) is None
    assert get_path(ITEM, Path(("absent", "x"))) is None


# --- comparisons -------------------------------------------------------------------


def test_equality() -> None:
    assert holds("s = :v", v={"S": "hello world"})
    assert holds("n = :v", v={"N": "10.000"})
    assert not holds("n = :v", v={"S": "10"})
    assert holds("ss = :v", v={"SS": ["b", "a"]})
    assert holds("ns = :v", v={"NS": ["2.5", "1"]})
    assert holds("l = :v", v=ITEM["l"])
    assert holds("m.nested = :v", v={"M": {"deep": {"N": "5.0"}}})
    assert holds("t = :v", v={"BOOL": True})
    assert holds("z = :v", v={"NULL": True})
    assert not holds("absent = :v", v={"S": "x"})
    assert not holds("absent = other_absent")


def test_not_equal() -> None:
    assert holds("s <> :v", v={"S": "other"})
    assert not holds("s <> :v", v={"S": "hello world"})
    assert holds("n <> :v", v={"S": "10"})  # different types are different
    assert holds("absent <> :v", v={"S": "x"})  # a absent attribute is not equal
    assert not holds("n <> :v", v={"N": "1E1"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n < :v", True),
        ("n <= :v", True),
        ("n > :v", False),
        ("n >= :v", False),
    ],
)
def test_numbers_compare_numerically(text: str, expected: bool) -> None:
    assert holds(text, v={"N": "9.5E1"}) is expected


def test_ordering_edge_cases() -> None:
    assert holds("n >= :v", v={"N": "10"}) and holds("n <= :v", v={"N": "10.0"})
    assert holds("n > :v", v={"N": "-100"})
    assert not holds("n < :v", v={"S": "z"})  # mixed types never order
    assert not holds("absent < :v", v={"N": "1"})
    assert not holds("ss < s")  # only scalars order (a set from the item)
    assert holds("b < :v", v=b64(b"\x01\x02\x04"))
    assert holds("b > :v", v=b64(b"\x01\x02"))


def test_strings_order_by_utf8_bytes() -> None:
    item = {"a": {"S": "z"}, "c": {"S": "\uff61"}, "d": {"S": "\U0001f600"}}
    # U+00E9 (C3 A9) sorts after "z" (7A); U+FF61 (EF BD A1) before U+1F600 (F0 ...),
    # although UTF-16 would order the surrogate pair first.
    assert holds("a < :v", item, v={"S": "é"})
    assert holds("c < d", item)


def test_between() -> None:
    assert holds("n BETWEEN :lo AND :hi", lo={"N": "10"}, hi={"N": "10"})
    assert holds("n BETWEEN :lo AND :hi", lo={"N": "-1"}, hi={"N": "1e2"})
    assert not holds("n BETWEEN :lo AND :hi", lo={"N": "11"}, hi={"N": "20"})
    assert holds("s BETWEEN :lo AND :hi", lo={"S": "a"}, hi={"S": "i"})
    assert not holds("s BETWEEN :lo AND :hi", lo={"N": "1"}, hi={"N": "2"})
    assert not holds("absent BETWEEN :lo AND :hi", lo={"N": "1"}, hi={"N": "2"})


def test_in() -> None:
    assert holds("n IN (:a, :b)", a={"S": "10"}, b={"N": "10"})
    assert not holds("n IN (:a, :b)", a={"S": "10"}, b={"N": "11"})
    assert holds("ss IN (:a)", a={"SS": ["b", "a"]})
    assert not holds("absent IN (:a)", a={"S": "x"})
    assert holds(":a IN (s, n)", a={"N": "10"})


# --- functions ---------------------------------------------------------------------


def test_attribute_exists() -> None:
    assert holds("attribute_exists(s) AND attribute_exists(m.nested.deep)")
    assert holds("attribute_exists(z)")  # NULL is a value
    assert holds("attribute_not_exists(absent) AND attribute_not_exists(m.nope)")
    assert not holds("attribute_not_exists(l[0])")
    assert holds("attribute_not_exists(l[9])")


@pytest.mark.parametrize(
    ("path", "type_name"),
    [
        ("s", "S"),
        ("n", "N"),
        ("b", "B"),
        ("ss", "SS"),
        ("#ns", "NS"),
        ("bs", "BS"),
        ("l", "L"),
        ("m", "M"),
        ("t", "BOOL"),
        ("z", "NULL"),
    ],
)
def test_attribute_type(path: str, type_name: str) -> None:
    assert holds(f"attribute_type({path}, :t)", t={"S": type_name})
    other = "N" if type_name != "N" else "S"
    assert not holds(f"attribute_type({path}, :t)", t={"S": other})


def test_attribute_type_of_absent_is_false() -> None:
    assert not holds("attribute_type(absent, :t)", t={"S": "S"})


def test_begins_with() -> None:
    assert holds("begins_with(s, :p)", p={"S": "hello"})
    assert holds("begins_with(s, :p)", p={"S": ""})
    assert not holds("begins_with(s, :p)", p={"S": "world"})
    assert holds("begins_with(b, :p)", p=b64(b"\x01\x02"))
    assert not holds("begins_with(b, :p)", p=b64(b"\x02"))
    assert not holds("begins_with(s, :p)", p=b64(b"h"))  # types must match
    assert not holds("begins_with(absent, :p)", p={"S": ""})
    assert not holds("begins_with(l, :p)", p={"S": "x"})


def test_contains() -> None:
    assert holds("contains(s, :v)", v={"S": "lo wo"})
    assert not holds("contains(s, :v)", v={"S": "xyz"})
    assert holds("contains(ss, :v)", v={"S": "a"})
    assert not holds("contains(ss, :v)", v={"N": "1"})
    assert holds("contains(#ns, :v)", v={"N": "2.5"})
    assert holds("contains(bs, :v)", v=b64(b"\x01"))
    assert holds("contains(b, :v)", v=b64(b"\x02\x03"))
    assert holds("contains(l, :v)", v={"N": "2.0"})
    assert holds("contains(l, :v)", v={"M": {"k": {"S": "v"}}})
    assert not holds("contains(l, :v)", v={"S": "y"})
    assert not holds("contains(n, :v)", v={"N": "1"})
    assert not holds("contains(absent, :v)", v={"S": "x"})
    assert holds("NOT contains(absent, :v)", v={"S": "x"})
    assert holds("contains(s, m.arr[0])", {"s": {"S": "xe0x"}, "m": ITEM["m"]})


def test_size() -> None:
    assert holds("size(s) = :v", v={"N": "11"})
    assert holds("size(e) = :v", v={"N": "0"})
    assert holds("size(b) = :v", v={"N": "3"})
    assert holds("size(ss) = :v AND size(#ns) = :v", v={"N": "2"})
    assert holds("size(l) = :v", v={"N": "3"})
    assert holds("size(m) = :v AND size(m.arr) = :v", v={"N": "2"})
    assert not holds("size(n) = :v", v={"N": "2"})
    assert not holds("size(absent) = :v", v={"N": "0"})
    assert holds("size(absent) <> :v", v={"N": "0"})


def test_size_of_counts_utf16_units() -> None:
    assert size_of({"S": "é"}) == 1
    assert size_of({"S": "\U0001f600"}) == 2
    assert size_of({"BOOL": True}) is None and size_of({"NULL": True}) is None


# --- logic -------------------------------------------------------------------------


def test_and_or_not() -> None:
    assert holds("n = :ten AND s = :s", ten={"N": "10"}, s={"S": "hello world"})
    assert not holds("n = :ten AND s = :s", ten={"N": "10"}, s={"S": "x"})
    assert holds("n = :one OR s = :s", one={"N": "1"}, s={"S": "hello world"})
    assert not holds("NOT n = :ten", ten={"N": "10"})
    assert holds("NOT (n = :one OR absent = :one)", one={"N": "1"})
    assert holds("NOT n = :one AND NOT n = :two", one={"N": "1"}, two={"N": "2"})


def test_absent_item_and_empty_item() -> None:
    condition = Resolver().condition(parse_condition("attribute_not_exists(pk)"))
    assert evaluate(condition, None)
    assert evaluate(condition, {})
    assert not evaluate(condition, {"pk": {"S": "k"}})
