"""Placeholder resolution, unused-placeholder checks and the value-type checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from dynastore.engine.expr import (
    And,
    Arith,
    Call,
    Compare,
    Literal,
    Path,
    Projection,
    RemoveAction,
    Resolver,
    SetAction,
    check_attribute_maps,
    parse_condition,
    parse_projection,
    parse_update,
)
from dynastore.engine.expr.resolve import java_set_order
from dynastore.errors import ValidationException

S = {"S": "x"}
N = {"N": "1"}


def message(call: Any, *args: Any) -> str:
    with pytest.raises(ValidationException) as caught:
        call(*args)
    assert caught.value.message is not None
    return caught.value.message


def resolver(names: Mapping[str, str] | None = None, **values: Any) -> Resolver:
    return Resolver(names, {":" + k: v for k, v in values.items()} or None)


def cond(text: str, r: Resolver, kind: Any = "ConditionExpression") -> Any:
    return r.condition(parse_condition(text, kind), kind)


# --- substitution ------------------------------------------------------------------


def test_names_and_values_are_substituted() -> None:
    r = resolver({"#a": "attr.with.dots", "#b": "b"}, v=S)
    node = cond("#a.#b[1] = :v", r)
    assert node == Compare("=", Path(("attr.with.dots", "b", 1)), Literal(S))
    assert r.used_names == {"#a", "#b"} and r.used_values == {":v"}
    r.check_unused()


def test_update_and_projection_are_substituted() -> None:
    r = resolver({"#n": "name"}, v=N)
    update = r.update(parse_update("SET #n = #n + :v REMOVE prev"))
    assert update.clauses[0].actions == (
        SetAction(Path(("name",)), Arith("+", Path(("name",)), Literal(N))),
    )
    assert update.clauses[1].actions == (RemoveAction(Path(("prev",))),)
    assert r.projection(parse_projection("#n, a.b")) == Projection(
        (Path(("name",)), Path(("a", "b")))
    )


def test_one_resolver_spans_all_expressions_of_a_request() -> None:
    r = resolver({"#a": "a", "#b": "b"}, x=N, y=N)
    r.update(parse_update("SET #a = :x"))
    r.condition(parse_condition("#b = :y"))
    r.check_unused()


def test_undefined_name_and_value() -> None:
    assert message(cond, "#n = :v", resolver(v=S)) == (
        "Invalid ConditionExpression: An expression attribute name used in the document path "
        "is not defined; attribute name: #n"
    )
    assert message(cond, "a = :v", resolver({"#n": "n"})) == (
        "Invalid ConditionExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :v"
    )
    assert message(cond, "a = :v", resolver(), "FilterExpression").startswith(
        "Invalid FilterExpression: An expression attribute value"
    )
    assert message(Resolver().projection, parse_projection("#p")).startswith(
        "Invalid ProjectionExpression: An expression attribute name used"
    )
    assert message(Resolver().update, parse_update("SET a = :v")) == (
        "Invalid UpdateExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :v"
    )


def test_first_undefined_placeholder_in_written_order() -> None:
    assert message(cond, "a = :v AND #n = :w", resolver()).endswith("attribute value: :v")
    assert message(cond, "#n = :v", resolver()).endswith("attribute name: #n")


def test_earlier_type_error_wins_over_later_placeholder() -> None:
    r = resolver(n=N)
    assert message(cond, "begins_with(a, :n) AND #x = :v", r).endswith(
        "operator or function: begins_with, operand type: N"
    )


# --- unused placeholders -----------------------------------------------------------


def test_check_unused_names_then_values() -> None:
    r = resolver({"#a": "a", "#b": "b", "#used": "u"}, x=N, used=N)
    cond("#used = :used", r)
    assert message(r.check_unused) == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}"
    )
    r2 = resolver(None, x=N, used=N)
    cond("a = :used", r2)
    assert message(r2.check_unused) == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"
    )
    r2.check_unused(values=False)


def test_unused_keys_listed_in_java_hash_set_order() -> None:
    r = resolver({"#a": "a", "#b": "b", "#c": "c"})
    assert message(r.check_unused).endswith("keys: {#c, #a, #b}")
    assert java_set_order(["#tags", "#excluded"], 2) == ["#excluded", "#tags"]


# --- values checks (conditions) ----------------------------------------------------


def test_between_bounds() -> None:
    r = resolver(lo={"N": "5"}, hi={"N": "1"})
    assert message(cond, "k BETWEEN :lo AND :hi", r, "KeyConditionExpression") == (
        "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater "
        "than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound "
        "operand: AttributeValue: {N:1}"
    )
    r = resolver(lo={"S": "b"}, hi={"N": "1"})
    assert message(cond, "k BETWEEN :lo AND :hi", r) == (
        "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and "
        "upper bounds; lower bound operand: AttributeValue: {S:b}, upper bound operand: "
        "AttributeValue: {N:1}"
    )
    r = resolver(lo={"B": "AgM="}, hi={"B": "AQ=="})
    assert message(cond, "k BETWEEN :lo AND :hi", r).endswith(
        "lower bound operand: AttributeValue: {B:java.nio.HeapByteBuffer[pos=0 lim=2 cap=2]}, "
        "upper bound operand: AttributeValue: {B:java.nio.HeapByteBuffer[pos=0 lim=1 cap=1]}"
    )
    # Equal bounds, and numbers compared numerically, are fine.
    cond("k BETWEEN :lo AND :hi", resolver(lo={"N": "9"}, hi={"N": "10"}))
    cond("k BETWEEN :lo AND :hi", resolver(lo=S, hi=S))
    # Strings compare by UTF-8 bytes.
    cond("k BETWEEN :lo AND :hi", resolver(lo={"S": "z"}, hi={"S": "é"}))


@pytest.mark.parametrize(
    ("text", "values", "op", "type_name"),
    [
        ("begins_with(a, :v)", {"v": N}, "begins_with", "N"),
        ("begins_with(:v, a)", {"v": {"BOOL": True}}, "begins_with", "BOOL"),
        ("begins_with(a, size(b))", {}, "begins_with", "N"),
        ("size(:v) > a", {"v": N}, "size", "N"),
        ("size(:v) > a", {"v": {"NULL": True}}, "size", "NULL"),
        ("size(size(a)) > b", {}, "size", "N"),
        ("a < :v", {"v": {"BOOL": False}}, "<", "BOOL"),
        ("a >= :v", {"v": {"SS": ["x"]}}, ">=", "SS"),
        ("a BETWEEN :v AND b", {"v": {"L": []}}, "BETWEEN", "L"),
        ("attribute_type(a, :v)", {"v": N}, "attribute_type", "N"),
        ("attribute_type(a, size(b))", {}, "attribute_type", "N"),
    ],
)
def test_operand_types(text: str, values: dict[str, Any], op: str, type_name: str) -> None:
    assert message(cond, text, resolver(**values)) == (
        "Invalid ConditionExpression: Incorrect operand type for operator or function; "
        f"operator or function: {op}, operand type: {type_name}"
    )


def test_equality_accepts_any_type() -> None:
    cond("a = :v AND b <> :w", resolver(v={"L": []}, w={"NULL": True}))


def test_attribute_type_names() -> None:
    for name in ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"):
        cond("attribute_type(a, :t)", resolver(t={"S": name}))
    assert message(cond, "attribute_type(a, :t)", resolver(t={"S": "STRING"})) == (
        "Invalid ConditionExpression: Invalid attribute type name found; type: STRING, "
        "valid types: {N,BS,L,B,NULL,M,S,SS,NS,BOOL}"
    )
    assert "operand type: {SS,M,DECIMAL" in message(cond, "attribute_type(a, b)", resolver())


def test_functions_requiring_a_document_path() -> None:
    for name in ("attribute_exists", "attribute_not_exists"):
        assert message(cond, f"{name}(:v)", resolver(v=S)) == (
            "Invalid ConditionExpression: Operator or function requires a document path; "
            f"operator or function: {name}"
        )
    assert message(cond, "attribute_type(:v, :v)", resolver(v=S)).endswith(
        "operator or function: attribute_type"
    )


def test_operands_must_be_distinct() -> None:
    template = (
        "Invalid ConditionExpression: The first operand must be distinct from the remaining "
        "operands for this operator or function; operator: {op}, first operand: {path}"
    )
    r = resolver({"#a": "a"}, v=S)
    assert message(cond, "a = a", r) == template.format(op="=", path="[a]")
    assert message(cond, "#a.b[1] < a.b[1]", r) == template.format(op="<", path="[a, b, [1]]")
    assert message(cond, "a BETWEEN :v AND a", r) == template.format(op="BETWEEN", path="[a]")
    assert message(cond, "a IN (:v, a)", r) == template.format(op="IN", path="[a]")
    assert message(cond, "begins_with(a, a)", r) == template.format(op="begins_with", path="[a]")
    assert message(cond, "contains(a, #a)", r) == template.format(op="contains", path="[a]")
    # Different paths, or a value first, are fine.
    cond("a = b AND :v = :v AND a.b = a", resolver(v=S))


def test_in_operand_limit() -> None:
    values = {f"v{i}": {"N": str(i)} for i in range(101)}
    hundred = ", ".join(f":v{i}" for i in range(100))
    cond(f"a IN ({hundred})", resolver(**values))
    all_of_them = ", ".join(f":v{i}" for i in range(101))
    assert message(cond, f"a IN ({all_of_them})", resolver(**values)) == (
        "Invalid ConditionExpression: The IN operator is provided with too many operands; "
        "number of operands: 101"
    )


def test_document_path_depth() -> None:
    deep32 = ".".join(f"a{i}" for i in range(32))
    cond(f"attribute_exists({deep32})", resolver())
    deep33 = deep32 + "[0]"
    assert message(cond, f"attribute_exists({deep33})", resolver()) == (
        "Invalid ConditionExpression: The document path has too many nesting levels; "
        "nesting levels: 33"
    )


def test_resolved_tree_keeps_structure() -> None:
    node = cond("a = :v AND size(b) > :v", resolver(v=N))
    assert node == And(
        (
            Compare("=", Path(("a",)), Literal(N)),
            Compare(">", Call("size", (Path(("b",)),)), Literal(N)),
        )
    )


# --- updates -----------------------------------------------------------------------


def upd(text: str, r: Resolver) -> Any:
    return r.update(parse_update(text))


def test_update_overlap_and_conflict() -> None:
    r = resolver({"#a": "a"}, a=N, b=N)
    assert message(upd, "SET a = :a, a.b = :b", r) == (
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
        "rewrite one of these paths; path one: [a], path two: [a, b]"
    )
    assert message(upd, "SET a[0] = :a, a.b = :b", r) == (
        "Invalid UpdateExpression: Two document paths conflict with each other; must remove or "
        "rewrite one of these paths; path one: [a, [0]], path two: [a, b]"
    )
    assert message(upd, "SET #a = :a REMOVE a", r).endswith("path one: [a], path two: [a]")
    assert message(upd, "SET a.b.c = :a REMOVE a.b", r).endswith(
        "path one: [a, b, c], path two: [a, b]"
    )
    assert message(upd, "REMOVE x, a.b[1] ADD a.b[1].c :a", r).endswith(
        "path one: [a, b, [1]], path two: [a, b, [1], c]"
    )
    # Siblings don't overlap.
    upd("SET a.b = :a, a.c = :b, l[0] = :a, l[1] = :b", resolver(a=N, b=N))


def test_update_names_then_overlap_then_values() -> None:
    # An undefined #name in a written path comes before an overlap ...
    assert message(upd, "SET a = :a, a = :b, #x = :a", resolver()).endswith("attribute name: #x")
    # ... and an overlap before an undefined :value.
    assert message(upd, "SET a = :a, a = :b", resolver()).startswith(
        "Invalid UpdateExpression: Two document paths overlap"
    )
    # #names anywhere before any :value.
    assert message(upd, "SET a = :a, b = #n", resolver()).endswith("attribute name: #n")
    # Values are checked from the last action back to the first.
    assert message(upd, "SET a = :a, b = :b", resolver()).endswith("attribute value: :b")


def test_update_function_arity_and_types() -> None:
    r = resolver(l={"L": []}, s=S, n=N)
    assert message(upd, "SET a = list_append(:l)", r) == (
        "Invalid UpdateExpression: Incorrect number of operands for operator or function; "
        "operator or function: list_append, number of operands: 1"
    )
    assert message(upd, "SET a = if_not_exists(a, :n, :n)", r).endswith(
        "operator or function: if_not_exists, number of operands: 3"
    )
    assert message(upd, "SET a = list_append(a, :s)", r) == (
        "Invalid UpdateExpression: Incorrect operand type for operator or function; "
        "operator or function: list_append, operand type: S"
    )
    assert message(upd, "SET a = b + :s", r).endswith("operator or function: +, operand type: S")
    assert message(upd, "SET a = :l - b", r).endswith("operator or function: -, operand type: L")
    assert message(upd, "SET a = if_not_exists(:n, :n)", r).endswith(
        "Operator or function requires a document path; operator or function: if_not_exists"
    )
    upd("SET a = if_not_exists(a, :n) + :n, b = list_append(:l, b), c = (d + :n) - :n", r)


@pytest.mark.parametrize(
    ("keyword", "value", "type_name"),
    [
        ("ADD", {"S": "x"}, "STRING"),
        ("ADD", {"B": "AA=="}, "BINARY"),
        ("ADD", {"L": []}, "LIST"),
        ("ADD", {"M": {}}, "MAP"),
        ("ADD", {"BOOL": True}, "BOOLEAN"),
        ("ADD", {"NULL": True}, "NULL"),
        ("DELETE", {"N": "1"}, "NUMBER"),
        ("DELETE", {"S": "x"}, "STRING"),
    ],
)
def test_add_delete_operand_types(keyword: str, value: Any, type_name: str) -> None:
    assert message(upd, f"{keyword} a :v", resolver(v=value)) == (
        "Invalid UpdateExpression: Incorrect operand type for operator or function; "
        f"operator: {keyword}, operand type: {type_name}, typeSet: ALLOWED_FOR_{keyword}_OPERAND"
    )


def test_add_delete_accept_numbers_and_sets() -> None:
    upd(
        "ADD a :n, b :ss DELETE c :ns, d :bs",
        resolver(n=N, ss={"SS": ["x"]}, ns={"NS": ["1"]}, bs={"BS": ["AA=="]}),
    )


# --- projections -------------------------------------------------------------------


def test_projection_overlaps() -> None:
    r = resolver({"#a": "a"})
    assert message(r.projection, parse_projection("a, #a")) == (
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove "
        "or rewrite one of these paths; path one: [a], path two: [a]"
    )
    assert message(r.projection, parse_projection("a.b, a")).endswith(
        "path one: [a, b], path two: [a]"
    )
    assert message(r.projection, parse_projection("a.b, a[0]")).startswith(
        "Invalid ProjectionExpression: Two document paths conflict"
    )
    Resolver().projection(parse_projection("a.b, a.c, l[0], l[2]"))


# --- the maps themselves -----------------------------------------------------------


def test_check_attribute_maps() -> None:
    check_attribute_maps({"#a_1": "a"}, {":v0": N})
    check_attribute_maps(None, None)
    assert message(check_attribute_maps, {}, None) == "ExpressionAttributeNames must not be empty"
    assert message(check_attribute_maps, None, {}) == "ExpressionAttributeValues must not be empty"
    assert message(check_attribute_maps, {"a": "a"}, None) == (
        'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'
    )
    assert message(check_attribute_maps, {"#va#l": "a"}, None) == (
        'ExpressionAttributeNames contains invalid key: Syntax error; key: "#va#l"'
    )
    assert message(check_attribute_maps, None, {"v": N}) == (
        'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"'
    )
    assert message(check_attribute_maps, {"#a": ""}, None) == (
        "ExpressionAttributeNames contains invalid value: Empty attribute name for key #a"
    )
    assert message(check_attribute_maps, {"#" + "a" * 255: "a"}, None) == (
        "ExpressionAttributeNames contains invalid key: The expression attribute map contains "
        "a key that is too long; size of key: 256"
    )
