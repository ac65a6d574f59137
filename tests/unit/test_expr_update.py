"""apply_update: DynamoDB's update semantics, errors and purity."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dynastore.engine.expr import Path, Resolver, apply_update, parse_update
from dynastore.engine.expr.update import MISSING_ERROR, PATH_ERROR, TYPE_ERROR
from dynastore.errors import ValidationException


def run(text: str, item: dict[str, Any] | None, **values: Any) -> dict[str, Any]:
    new, _ = run_with_paths(text, item, **values)
    return new


def run_with_paths(
    text: str, item: dict[str, Any] | None, **values: Any
) -> tuple[dict[str, Any], list[Path]]:
    resolver = Resolver({"#n": "n"}, {":" + k: v for k, v in values.items()} or None)
    update = resolver.update(parse_update(text))
    before = copy.deepcopy(item)
    result = apply_update(update, item)
    assert item == before, "apply_update must not modify its input"
    return result


def failure(text: str, item: dict[str, Any] | None, **values: Any) -> str:
    with pytest.raises(ValidationException) as caught:
        run(text, item, **values)
    assert caught.value.message is not None
    return caught.value.message


def N(x: str | int) -> dict[str, str]:
    return {"N": str(x)}


def S(x: str) -> dict[str, str]:
    return {"S": x}


def L(*xs: Any) -> dict[str, Any]:
    return {"L": list(xs)}


def M(**xs: Any) -> dict[str, Any]:
    return {"M": xs}


# --- SET ---------------------------------------------------------------------------


def test_set_top_level_and_new_item() -> None:
    assert run("SET a = :v", None, v=S("x")) == {"a": S("x")}
    assert run("SET a = :v, b = :w", {"a": N(1), "k": S("k")}, v=S("x"), w=N(2)) == {
        "a": S("x"),
        "k": S("k"),
        "b": N(2),
    }


def test_set_arithmetic() -> None:
    item = {"n": N(10), "m": N("0.5")}
    assert run("SET r = #n + :v", item, v=N(5))["r"] == N(15)
    assert run("SET r = #n - m", item)["r"] == N("9.5")
    assert run("SET #n = #n - :v", item, v=N(-10))["n"] == N(20)
    assert run("SET r = (#n + :v) - m", item, v=N(1))["r"] == N("10.5")
    assert run("SET r = :a + :b", {}, a=N("1E2"), b=N("0.01"))["r"] == N("100.01")


def test_set_arithmetic_errors() -> None:
    assert failure("SET r = s + :v", {"s": S("x")}, v=N(1)) == TYPE_ERROR
    assert failure("SET r = :v - l", {"l": L()}, v=N(1)) == TYPE_ERROR
    assert failure("SET r = absent + :v", {}, v=N(1)) == MISSING_ERROR
    assert failure("SET r = :v + absent", {}, v=N(1)) == MISSING_ERROR
    assert failure(
        "SET r = #n + :v", {"n": N("9.9999999999999999999999999999999999999E125")}, v=N("1E125")
    ) == (
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    )
    assert failure("SET r = #n + :v", {"n": N("1" * 38)}, v=N("0.1")) == (
        "Attempting to store more than 38 significant digits in a Number"
    )


def test_set_copies_an_attribute() -> None:
    item = {"a": M(x=N(1))}
    new = run("SET b = a", item)
    assert new["b"] == M(x=N(1))
    assert failure("SET b = absent", {}) == MISSING_ERROR


def test_set_values_come_from_the_old_item() -> None:
    item = {"a": N(1), "b": N(2)}
    assert run("SET a = b, b = a", item) == {"a": N(2), "b": N(1)}
    assert run("SET a = a + :one, b = a", item, one=N(1)) == {"a": N(2), "b": N(1)}


def test_if_not_exists() -> None:
    assert run("SET a = if_not_exists(a, :v)", {}, v=N(0))["a"] == N(0)
    assert run("SET a = if_not_exists(a, :v)", {"a": N(5)}, v=N(0))["a"] == N(5)
    assert run("SET c = if_not_exists(a, :v) + :one", {}, v=N(0), one=N(1))["c"] == N(1)
    assert run("SET a = if_not_exists(b, a)", {"a": N(3)})["a"] == N(3)
    assert failure("SET a = if_not_exists(b, c)", {}) == MISSING_ERROR


def test_list_append() -> None:
    item = {"l": L(N(1))}
    assert run("SET l = list_append(l, :v)", item, v=L(N(2)))["l"] == L(N(1), N(2))
    assert run("SET l = list_append(:v, l)", item, v=L(N(0)))["l"] == L(N(0), N(1))
    assert run("SET l = list_append(if_not_exists(l, :e), :v)", {}, e=L(), v=L(S("x")))["l"] == L(
        S("x")
    )
    assert failure("SET l = list_append(s, :v)", {"s": S("x")}, v=L()) == TYPE_ERROR
    assert failure("SET l = list_append(absent, :v)", {}, v=L()) == MISSING_ERROR


def test_set_nested_map_member() -> None:
    item = {"m": M(a=N(1), b=M(c=N(2)))}
    new = run("SET m.b.d = :v, m.a = :w", item, v=S("x"), w=N(9))
    assert new == {"m": M(a=N(9), b=M(c=N(2), d=S("x")))}


def test_set_nested_parent_missing_or_wrong_type() -> None:
    assert failure("SET absent.x = :v", {}, v=N(1)) == PATH_ERROR
    assert failure("SET m.absent.x = :v", {"m": M()}, v=N(1)) == PATH_ERROR
    assert failure("SET s.x = :v", {"s": S("str")}, v=N(1)) == PATH_ERROR
    assert failure("SET s[0] = :v", {"s": S("str")}, v=N(1)) == PATH_ERROR
    assert failure("SET m[0] = :v", {"m": M()}, v=N(1)) == PATH_ERROR
    assert failure("SET l.x = :v", {"l": L()}, v=N(1)) == PATH_ERROR


def test_set_list_elements() -> None:
    item = {"l": L(S("a"), S("b"), S("c"))}
    assert run("SET l[1] = :v", item, v=S("B"))["l"] == L(S("a"), S("B"), S("c"))
    # Past the end appends, whatever the index, in index order.
    assert run("SET l[10] = :v", item, v=S("x"))["l"] == L(S("a"), S("b"), S("c"), S("x"))
    new = run("SET l[20] = :y, l[5] = :x", item, x=S("x"), y=S("y"))
    assert new["l"] == L(S("a"), S("b"), S("c"), S("x"), S("y"))


def test_set_inside_list_element() -> None:
    item = {"m": M(l=L(M(a=N(1)), M(a=N(2))))}
    new = run("SET m.l[1].b = :v", item, v=N(3))
    assert new["m"] == M(l=L(M(a=N(1)), M(a=N(2), b=N(3))))
    assert failure("SET m.l[5].b = :v", item, v=N(3)) == PATH_ERROR


# --- REMOVE ------------------------------------------------------------------------


def test_remove() -> None:
    item = {"a": N(1), "m": M(x=N(1), y=N(2))}
    assert run("REMOVE a, m.x", item) == {"m": M(y=N(2))}
    assert run("REMOVE absent, m.absent", item) == item


def test_remove_list_indexes_use_original_positions() -> None:
    item = {"l": L(*(N(i) for i in range(5)))}
    assert run("REMOVE l[1], l[3]", item)["l"] == L(N(0), N(2), N(4))
    assert run("REMOVE l[3], l[1]", item)["l"] == L(N(0), N(2), N(4))
    assert run("REMOVE l[9]", item)["l"] == item["l"]
    assert run("REMOVE l[0] SET l[1] = :v", item, v=S("x"))["l"] == L(S("x"), N(2), N(3), N(4))


def test_remove_nested_in_list() -> None:
    item = {"m": M(l=L(M(a=N(1), b=N(2)), M(a=N(3))))}
    assert run("REMOVE m.l[0].a", item)["m"] == M(l=L(M(b=N(2)), M(a=N(3))))


def test_remove_under_missing_parent() -> None:
    assert failure("REMOVE absent.x", {}) == PATH_ERROR
    assert failure("REMOVE s[0]", {"s": S("x")}) == PATH_ERROR


# --- ADD and DELETE ----------------------------------------------------------------


def test_add_numbers() -> None:
    assert run("ADD c :v", {"c": N(5)}, v=N(-2))["c"] == N(3)
    assert run("ADD c :v", {}, v=N(7))["c"] == N(7)
    assert run("ADD m.c :v", {"m": M()}, v=N(1))["m"] == M(c=N(1))
    assert failure("ADD c :v", {"c": S("x")}, v=N(1)) == TYPE_ERROR
    assert failure("ADD m.c :v", {}, v=N(1)) == PATH_ERROR
    assert failure("ADD c :v", {"c": N("9E125")}, v=N("9E125")).startswith("Number overflow")


def test_add_to_sets() -> None:
    item = {"ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["AQ=="]}}
    assert run("ADD ss :v", item, v={"SS": ["b", "c"]})["ss"] == {"SS": ["a", "b", "c"]}
    assert run("ADD ns :v", item, v={"NS": ["2.0", "3"]})["ns"] == {"NS": ["1", "2", "3"]}
    assert run("ADD bs :v", item, v={"BS": ["AQ==", "Ag=="]})["bs"] == {"BS": ["AQ==", "Ag=="]}
    assert run("ADD fresh :v", item, v={"SS": ["x"]})["fresh"] == {"SS": ["x"]}
    assert failure("ADD ss :v", item, v={"NS": ["1"]}) == TYPE_ERROR
    assert failure("ADD ss :v", item, v=N(1)) == TYPE_ERROR


def test_delete_from_sets() -> None:
    item = {"ss": {"SS": ["a", "b", "c"]}, "ns": {"NS": ["1", "2"]}}
    assert run("DELETE ss :v", item, v={"SS": ["b", "z"]})["ss"] == {"SS": ["a", "c"]}
    assert run("DELETE ns :v", item, v={"NS": ["1.0"]})["ns"] == {"NS": ["2"]}
    # Removing the last members removes the attribute.
    assert "ss" not in run("DELETE ss :v", item, v={"SS": ["a", "b", "c"]})
    assert run("DELETE absent :v", item, v={"SS": ["a"]}) == item
    assert failure("DELETE ss :v", item, v={"NS": ["1"]}) == TYPE_ERROR
    assert failure("DELETE s :v", {"s": S("a")}, v={"SS": ["a"]}) == TYPE_ERROR


# --- error order, purity and the result --------------------------------------------


def test_error_order() -> None:
    item = {"s": S("x"), "m": M()}
    # A wrong parent type beats a type error.
    assert failure("SET r = s + :v, s.x = :v", item, v=N(1)) == PATH_ERROR
    # A type error beats a missing parent and a missing attribute.
    assert failure("SET r = absent, absent.x = :v, q = s + :v", item, v=N(1)) == TYPE_ERROR
    # Missing parents beat missing attributes within a section ...
    assert failure("SET r = absent, absent.x = :v", item, v=N(1)) == PATH_ERROR
    # ... and later sections are looked at first.
    assert failure("SET r = absent REMOVE absent.x", item) == PATH_ERROR
    assert failure("REMOVE absent.x SET r = absent", item) == MISSING_ERROR


def test_input_untouched_and_unchanged_values_shared() -> None:
    shared = M(deep=L(N(1)))
    item = {"a": shared, "m": M(x=N(1), keep=M(y=N(2)))}
    new, _ = run_with_paths("SET m.x = :v", item, v=N(2))
    assert new["a"] is shared
    assert new["m"]["M"]["keep"] is item["m"]["M"]["keep"]
    assert item["m"]["M"]["x"] == N(1)


def test_updated_paths_in_written_order() -> None:
    _, paths = run_with_paths(
        "SET a = :v, m.x = :v REMOVE b ADD c :v DELETE d :s",
        {"m": M()},
        v=N(1),
        s={"SS": ["x"]},
    )
    assert [p.elements for p in paths] == [("a",), ("m", "x"), ("b",), ("c",), ("d",)]
