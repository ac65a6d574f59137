"""Legacy parameters: translated into the expression AST, validated with DynamoDB's texts."""

from __future__ import annotations

from typing import Any

import pytest

from dynastore.engine.expr import (
    OPERATION_PARAMETERS,
    And,
    Call,
    Compare,
    Literal,
    Not,
    Or,
    Path,
    apply_update,
    attribute_updates_to_update,
    attributes_to_projection,
    check_expression_mix,
    evaluate,
    expected_to_condition,
    filter_to_condition,
    key_conditions_to_condition,
)
from dynastore.engine.expr.update import TYPE_ERROR
from dynastore.errors import ValidationException

ITEM: dict[str, Any] = {
    "n": {"N": "5"},
    "s": {"S": "hello"},
    "ss": {"SS": ["a", "b"]},
    "l": {"L": [{"S": "x"}]},
    "dotted.name": {"S": "d"},
}
INVALID = "One or more parameter values were invalid: "


def refused(call: Any, *args: Any) -> str:
    with pytest.raises(ValidationException) as caught:
        call(*args)
    assert caught.value.message is not None
    return caught.value.message


# --- Expected ----------------------------------------------------------------------


def test_expected_value_and_exists() -> None:
    node = expected_to_condition({"n": {"Value": {"N": "5"}}})
    assert node == Compare("=", Path(("n",)), Literal({"N": "5"}))
    assert evaluate(node, ITEM)
    node = expected_to_condition({"n": {"Value": {"N": "5"}, "Exists": True}})
    assert node is not None and evaluate(node, ITEM)
    node = expected_to_condition({"absent": {"Exists": False}})
    assert node == Call("attribute_not_exists", (Path(("absent",)),))
    assert node is not None and evaluate(node, ITEM) and not evaluate(node, {"absent": {"N": "1"}})
    assert expected_to_condition({}) is None and expected_to_condition(None) is None


def test_expected_names_are_literal() -> None:
    node = expected_to_condition({"dotted.name": {"Value": {"S": "d"}}})
    assert node is not None and evaluate(node, ITEM)


def test_expected_conditional_operator() -> None:
    spec = {"n": {"Value": {"N": "1"}}, "s": {"Value": {"S": "hello"}}}
    and_node = expected_to_condition(spec)
    or_node = expected_to_condition(spec, "OR")
    assert isinstance(and_node, And) and isinstance(or_node, Or)
    assert not evaluate(and_node, ITEM)
    assert evaluate(or_node, ITEM)
    assert isinstance(expected_to_condition(spec, "AND"), And)


@pytest.mark.parametrize(
    ("operator", "values", "expected"),
    [
        ("EQ", [{"N": "5"}], True),
        ("NE", [{"N": "5"}], False),
        ("LE", [{"N": "5"}], True),
        ("LT", [{"N": "5"}], False),
        ("GE", [{"N": "6"}], False),
        ("GT", [{"N": "4"}], True),
        ("NOT_NULL", [], True),
        ("NULL", [], False),
        ("IN", [{"N": "1"}, {"N": "5"}], True),
        ("BETWEEN", [{"N": "1"}, {"N": "5"}], True),
    ],
)
def test_expected_comparison_operators(operator: str, values: list[Any], expected: bool) -> None:
    node = expected_to_condition(
        {"n": {"ComparisonOperator": operator, "AttributeValueList": values}}
    )
    assert node is not None and evaluate(node, ITEM) is expected


def test_expected_string_and_set_operators() -> None:
    def check(name: str, operator: str, value: Any) -> bool:
        spec = {name: {"ComparisonOperator": operator, "AttributeValueList": [value]}}
        node = expected_to_condition(spec)
        assert node is not None
        return evaluate(node, ITEM)

    assert check("s", "BEGINS_WITH", {"S": "he"})
    assert check("s", "CONTAINS", {"S": "ell"})
    assert check("ss", "CONTAINS", {"S": "a"})
    assert check("l", "CONTAINS", {"S": "x"})
    assert check("ss", "NOT_CONTAINS", {"S": "z"})
    assert not check("s", "NOT_CONTAINS", {"S": "ell"})
    node = expected_to_condition({"s": {"ComparisonOperator": "NOT_CONTAINS", "Value": {"S": "q"}}})
    assert node == Not(Call("contains", (Path(("s",)), Literal({"S": "q"}))))


def test_expected_validation_messages() -> None:
    avl = [{"N": "1"}]
    cases = [
        (
            {"a": {"Value": {"N": "1"}, "AttributeValueList": avl}},
            f"{INVALID}Value and AttributeValueList cannot be used together for Attribute: a",
        ),
        (
            {"a": {"ComparisonOperator": "EQ", "Exists": True, "Value": {"N": "1"}}},
            f"{INVALID}Exists and ComparisonOperator cannot be used together for Attribute: a",
        ),
        (
            {"a": {"ComparisonOperator": "EQ"}},
            f"{INVALID}Value or AttributeValueList must be used with ComparisonOperator: EQ "
            "for Attribute: a",
        ),
        (
            {"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": avl}},
            f"{INVALID}Invalid number of argument(s) for the BETWEEN ComparisonOperator",
        ),
        (
            {"a": {"ComparisonOperator": "NULL", "AttributeValueList": avl}},
            f"{INVALID}Invalid number of argument(s) for the NULL ComparisonOperator",
        ),
        (
            {"a": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "1"}, {"S": "1"}]}},
            f"{INVALID}AttributeValues inside AttributeValueList must be of same type",
        ),
        (
            {
                "a": {
                    "ComparisonOperator": "BETWEEN",
                    "AttributeValueList": [{"N": "2"}, {"N": "1"}],
                }
            },
            "The BETWEEN condition was provided a range where the lower bound is greater than "
            "the upper bound",
        ),
        (
            {"a": {"AttributeValueList": avl}},
            f"{INVALID}AttributeValueList can only be used with a ComparisonOperator for "
            "Attribute: a",
        ),
        ({"a": {}}, f"{INVALID}Value must be provided when Exists is null for Attribute: a"),
        (
            {"a": {"Exists": True}},
            f"{INVALID}Value must be provided when Exists is true for Attribute: a",
        ),
        (
            {"a": {"Exists": False, "Value": {"N": "1"}}},
            f"{INVALID}Value cannot be used when Exists is false for Attribute: a",
        ),
    ]
    for spec, text in cases:
        assert refused(expected_to_condition, spec) == text


# --- QueryFilter / ScanFilter / KeyConditions --------------------------------------


def test_filters() -> None:
    node = filter_to_condition(
        {
            "n": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "1"}]},
            "s": {"ComparisonOperator": "NULL"},
        },
        "OR",
    )
    assert isinstance(node, Or) and evaluate(node, ITEM)
    assert filter_to_condition({}) is None


def test_filter_validation_messages() -> None:
    assert refused(
        filter_to_condition, {"a": {"ComparisonOperator": "EQ", "AttributeValueList": []}}
    ) == (f"{INVALID}Invalid number of argument(s) for the EQ ComparisonOperator")
    assert refused(
        filter_to_condition, {"a": {"ComparisonOperator": "IN", "AttributeValueList": []}}
    ) == (f"{INVALID}Invalid number of argument(s) for the IN ComparisonOperator")
    assert (
        refused(
            filter_to_condition,
            {"a": {"ComparisonOperator": "LT", "AttributeValueList": [{"SS": ["x"]}]}},
        )
        == f"{INVALID}ComparisonOperator LT is not valid for SS AttributeValue type"
    )
    assert (
        refused(
            filter_to_condition,
            {"a": {"ComparisonOperator": "EQ", "AttributeValueList": [{"L": []}]}},
        )
        == f"{INVALID}ComparisonOperator EQ is not valid for L AttributeValue type"
    )
    assert (
        refused(
            filter_to_condition,
            {"a": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"N": "1"}]}},
        )
        == f"{INVALID}ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type"
    )


def test_key_conditions_count() -> None:
    spec = {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]}
    assert refused(key_conditions_to_condition, {}) == "Conditions can be of length 1 or 2 only"
    assert refused(key_conditions_to_condition, {"a": spec, "b": spec, "c": spec}) == (
        "Conditions can be of length 1 or 2 only"
    )


# --- AttributeUpdates --------------------------------------------------------------


def test_attribute_updates_actions() -> None:
    update = attribute_updates_to_update(
        {
            "put": {"Value": {"S": "v"}},
            "put2": {"Value": {"S": "w"}, "Action": "PUT"},
            "n": {"Value": {"N": "2"}, "Action": "ADD"},
            "ss": {"Value": {"SS": ["b"]}, "Action": "DELETE"},
            "s": {"Action": "DELETE"},
            "l": {"Value": {"L": [{"S": "y"}]}, "Action": "ADD"},
            "fresh": {"Value": {"L": [{"S": "z"}]}, "Action": "ADD"},
        }
    )
    assert update is not None
    assert [c.keyword for c in update.clauses] == ["SET", "REMOVE", "ADD", "DELETE"]
    new, paths = apply_update(update, ITEM)
    assert new["put"] == {"S": "v"} and new["put2"] == {"S": "w"}
    assert new["n"] == {"N": "7"}
    assert new["ss"] == {"SS": ["a"]}
    assert "s" not in new
    assert new["l"] == {"L": [{"S": "x"}, {"S": "y"}]}
    assert new["fresh"] == {"L": [{"S": "z"}]}
    assert len(paths) == 7
    assert attribute_updates_to_update({}) is None


def test_attribute_updates_add_list_to_non_list() -> None:
    update = attribute_updates_to_update({"s": {"Value": {"L": []}, "Action": "ADD"}})
    assert update is not None
    with pytest.raises(ValidationException, match=TYPE_ERROR):
        apply_update(update, ITEM)


def test_attribute_updates_validation_messages() -> None:
    assert refused(attribute_updates_to_update, {"a": {"Action": "PUT"}}) == (
        f"{INVALID}Only DELETE action is allowed when no attribute value is specified"
    )
    assert refused(
        attribute_updates_to_update, {"a": {"Value": {"S": "x"}, "Action": "DELETE"}}
    ) == (f"{INVALID}DELETE action with value is not supported for the type S")
    assert refused(attribute_updates_to_update, {"a": {"Value": {"S": "x"}, "Action": "ADD"}}) == (
        f"{INVALID}ADD action is not supported for the type S"
    )


# --- AttributesToGet ---------------------------------------------------------------


def test_attributes_to_get() -> None:
    assert attributes_to_projection(["a", "b.c"]).paths == (Path(("a",)), Path(("b.c",)))
    assert refused(attributes_to_projection, ["a", "b", "a"]) == (
        f"{INVALID}Duplicate value in attribute name: a"
    )


# --- mixing the two styles ---------------------------------------------------------


def test_mixing_expression_and_legacy_parameters() -> None:
    expressions, legacy = OPERATION_PARAMETERS["UpdateItem"]
    assert refused(
        check_expression_mix,
        {"ConditionExpression": "a = :v", "Expected": {}},
        ("ConditionExpression",),
        ("Expected",),
    ) == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"
    )
    assert refused(
        check_expression_mix,
        {
            "UpdateExpression": "SET a = :v",
            "ConditionExpression": "x",
            "AttributeUpdates": {},
            "Expected": {},
        },
        expressions,
        legacy,
    ).endswith(
        "Non-expression parameters: {AttributeUpdates, Expected} "
        "Expression parameters: {UpdateExpression, ConditionExpression}"
    )
    check_expression_mix({"UpdateExpression": "SET a = :v"}, expressions, legacy)
    check_expression_mix({"AttributeUpdates": {}, "Expected": {}}, expressions, legacy)


def test_key_conditions_may_accompany_other_expressions() -> None:
    expressions, legacy = OPERATION_PARAMETERS["Query"]
    check_expression_mix({"KeyConditions": {}, "FilterExpression": "a = :v"}, expressions, legacy)
    assert refused(
        check_expression_mix,
        {"KeyConditions": {}, "KeyConditionExpression": "pk = :v"},
        expressions,
        legacy,
    ).endswith(
        "Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}"
    )


def test_placeholder_maps_need_expressions() -> None:
    expressions, legacy = OPERATION_PARAMETERS["Query"]
    assert (
        refused(
            check_expression_mix, {"ExpressionAttributeNames": {"#a": "a"}}, expressions, legacy
        )
        == "ExpressionAttributeNames can only be specified when using expressions"
    )
    assert refused(
        check_expression_mix,
        {"ExpressionAttributeValues": {":v": {"N": "1"}}, "ProjectionExpression": "a"},
        expressions,
        legacy,
    ) == (
        "ExpressionAttributeValues can only be specified when using expressions: "
        "FilterExpression and KeyConditionExpression are null"
    )
    put_expressions, put_legacy = OPERATION_PARAMETERS["PutItem"]
    assert refused(
        check_expression_mix, {"ExpressionAttributeValues": {}}, put_expressions, put_legacy
    ) == (
        "ExpressionAttributeValues can only be specified when using expressions: "
        "ConditionExpression is null"
    )
    get_expressions, get_legacy = OPERATION_PARAMETERS["GetItem"]
    check_expression_mix(
        {"ProjectionExpression": "#a", "ExpressionAttributeNames": {"#a": "a"}},
        get_expressions,
        get_legacy,
    )
