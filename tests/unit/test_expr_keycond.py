"""Key conditions: structure, key schema rules and the resulting key range."""

from __future__ import annotations

from typing import Any

import pytest

from dynastore.engine.expr import (
    KeyCondition,
    Resolver,
    SortCondition,
    key_conditions_to_condition,
    parse_condition,
    plan_key_condition,
)
from dynastore.errors import ValidationException

P = {"S": "p1"}
V1, V2 = {"N": "1"}, {"N": "2"}


def key(text: str, **values: Any) -> Any:
    resolver = Resolver({"#pk": "pk", "#sk": "sk"}, {":" + k: v for k, v in values.items()})
    return resolver.condition(
        parse_condition(text, "KeyConditionExpression"), "KeyConditionExpression"
    )


def plan(text: str, sort_key: str | None = "sk", types: Any = None, **values: Any) -> KeyCondition:
    return plan_key_condition(key(text, **values), "pk", sort_key, types)


def refused(text: str, sort_key: str | None = "sk", types: Any = None, **values: Any) -> str:
    with pytest.raises(ValidationException) as caught:
        plan(text, sort_key, types, **values)
    assert caught.value.message is not None
    return caught.value.message


def test_partition_only() -> None:
    assert plan("pk = :p", p=P) == KeyCondition("pk", P)
    assert plan("#pk = :p", sort_key=None, p=P) == KeyCondition("pk", P)
    assert plan(":p = pk", p=P) == KeyCondition("pk", P)


@pytest.mark.parametrize("op", ["=", "<", "<=", ">", ">="])
def test_sort_comparisons(op: str) -> None:
    got = plan(f"pk = :p AND sk {op} :a", p=P, a=V1)
    assert got == KeyCondition("pk", P, "sk", SortCondition(op, (V1,)))


def test_value_on_the_left_flips_the_operator() -> None:
    assert plan(":a < sk AND pk = :p", p=P, a=V1).sort == SortCondition(">", (V1,))
    assert plan(":a >= #sk AND pk = :p", p=P, a=V1).sort == SortCondition("<=", (V1,))


def test_between_and_begins_with() -> None:
    assert plan("pk = :p AND sk BETWEEN :a AND :b", p=P, a=V1, b=V2).sort == SortCondition(
        "BETWEEN", (V1, V2)
    )
    prefix = {"S": "ab"}
    assert plan("pk = :p AND begins_with(sk, :x)", p=P, x=prefix).sort == SortCondition(
        "begins_with", (prefix,)
    )
    assert plan("(pk = :p) AND (begins_with(sk, :x))", p=P, x=prefix).sort is not None


@pytest.mark.parametrize(
    ("text", "operator"),
    [
        ("pk = :p OR sk = :a", "OR"),
        ("pk = :p AND NOT sk = :a", "NOT"),
        ("pk = :p AND sk IN (:a)", "IN"),
        ("pk = :p AND sk <> :a", "<>"),
        ("pk = :p AND attribute_exists(sk)", "attribute_exists"),
        ("pk = :p AND attribute_not_exists(sk)", "attribute_not_exists"),
        ("pk = :p AND contains(sk, :a)", "contains"),
        ("pk = :p AND attribute_type(sk, :t)", "attribute_type"),
    ],
)
def test_operators_no_key_condition_can_use(text: str, operator: str) -> None:
    assert refused(text, p=P, a=V1, t={"S": "N"}) == (
        f"Invalid operator used in KeyConditionExpression: {operator}"
    )


def test_structural_errors() -> None:
    assert refused("pk = :p AND size(sk) > :a", p=P, a=V1) == (
        "Invalid KeyConditionExpression: KeyConditionExpressions cannot contain nested operations"
    )
    assert refused("pk.x = :p", p=P) == (
        "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on "
        "nested attributes"
    )
    assert refused("pk = sk") == (
        "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
        "condition"
    )
    assert refused(":p = :a", p=P, a=V1) == (
        "Invalid condition in KeyConditionExpression: No key attribute specified"
    )
    assert refused("pk = :p AND :a BETWEEN sk AND :b", p=P, a=V1, b=V2) == (
        "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key "
        "attribute as its first operand"
    )
    assert refused("pk = :p AND begins_with(:a, sk)", p=P, a={"S": "x"}) == (
        "Invalid condition in KeyConditionExpression: begins_with operator must have the key "
        "attribute as its first operand"
    )


def test_one_condition_per_key() -> None:
    assert refused("pk = :p AND sk > :a AND sk < :b", p=P, a=V1, b=V2) == (
        "KeyConditionExpressions must only contain one condition per key"
    )
    assert refused("pk = :p AND #pk = :p", p=P) == (
        "KeyConditionExpressions must only contain one condition per key"
    )


def test_schema_rules() -> None:
    assert refused("sk = :a", a=V1) == "Query condition missed key schema element: pk"
    assert refused("attr = :a", sort_key=None, a=V1) == (
        "Query condition missed key schema element: pk"
    )
    assert refused("pk = :p AND attr = :a", p=P, a=V1) == (
        "Query condition missed key schema element: sk"
    )
    assert refused("pk = :p AND sk = :a", sort_key=None, p=P, a=V1) == (
        "Query key condition not supported"
    )
    assert refused("pk > :p", p=P) == "Query key condition not supported"
    assert refused("begins_with(pk, :p) AND sk = :a", p=P, a=V1) == (
        "Query key condition not supported"
    )
    assert refused("pk BETWEEN :p AND :p", p=P) == "Query key condition not supported"


def test_key_types() -> None:
    types = {"pk": "S", "sk": "N"}
    assert plan("pk = :p AND sk < :a", types=types, p=P, a=V1).sort == SortCondition("<", (V1,))
    assert refused("pk = :p AND sk < :a", types=types, p=P, a={"S": "1"}) == (
        "One or more parameter values were invalid: Condition parameter type does not match "
        "schema type"
    )
    assert refused("pk = :p", types=types, p=V1).endswith("does not match schema type")
    assert refused("pk = :p", p={"S": ""}) == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: pk"
    )


def test_legacy_key_conditions() -> None:
    condition = key_conditions_to_condition(
        {
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [P]},
            "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [V1, V2]},
        }
    )
    assert plan_key_condition(condition, "pk", "sk", legacy=True) == KeyCondition(
        "pk", P, "sk", SortCondition("BETWEEN", (V1, V2))
    )
    begins = key_conditions_to_condition(
        {
            "sk": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "a"}]},
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [P]},
        }
    )
    assert plan_key_condition(begins, "pk", "sk", legacy=True).sort == SortCondition(
        "begins_with", ({"S": "a"},)
    )


@pytest.mark.parametrize("operator", ["NE", "NULL", "NOT_NULL", "CONTAINS", "NOT_CONTAINS", "IN"])
def test_legacy_operators_not_indexable(operator: str) -> None:
    values = [] if operator in ("NULL", "NOT_NULL") else [{"S": "x"}]
    condition = key_conditions_to_condition(
        {
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [P]},
            "sk": {"ComparisonOperator": operator, "AttributeValueList": values},
        }
    )
    with pytest.raises(ValidationException) as caught:
        plan_key_condition(condition, "pk", "sk", legacy=True)
    assert caught.value.message == "Attempted conditional constraint is not an indexable operation"


def test_legacy_partition_key_rules() -> None:
    condition = key_conditions_to_condition(
        {"pk": {"ComparisonOperator": "GT", "AttributeValueList": [P]}}
    )
    with pytest.raises(ValidationException, match="Query key condition not supported"):
        plan_key_condition(condition, "pk", "sk", legacy=True)
    only_sort = key_conditions_to_condition(
        {"sk": {"ComparisonOperator": "EQ", "AttributeValueList": [V1]}}
    )
    with pytest.raises(ValidationException, match="missed key schema element: pk"):
        plan_key_condition(only_sort, "pk", "sk", legacy=True)
