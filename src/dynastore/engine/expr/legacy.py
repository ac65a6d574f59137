"""The legacy (pre-expression) parameters, translated into the expression AST.

Expected, QueryFilter, ScanFilter and KeyConditions become conditions,
AttributeUpdates an update and AttributesToGet a projection, so one evaluator, one
update engine and one projector serve both styles. Attribute names here are literal
(no placeholders, no reserved words, dots are part of the name), so the trees come
out already resolved. Each translation first validates its parameter with DynamoDB's
messages. `check_expression_mix` refuses requests that mix both styles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dynastore.engine.attrs import validate_value
from dynastore.engine.expr.nodes import (
    AddAction,
    And,
    Between,
    Call,
    Compare,
    Condition,
    DeleteAction,
    In,
    Literal,
    Not,
    Or,
    Path,
    Projection,
    RemoveAction,
    SetAction,
    UpdateAction,
    UpdateClause,
    UpdateExpr,
)
from dynastore.engine.values import AttrValue, compare, value_type
from dynastore.errors import ValidationException

_INVALID = "One or more parameter values were invalid: "

# How many values each ComparisonOperator takes: (minimum, maximum or None).
ARITY: dict[str, tuple[int, int | None]] = {
    "EQ": (1, 1),
    "NE": (1, 1),
    "LE": (1, 1),
    "LT": (1, 1),
    "GE": (1, 1),
    "GT": (1, 1),
    "NOT_NULL": (0, 0),
    "NULL": (0, 0),
    "CONTAINS": (1, 1),
    "NOT_CONTAINS": (1, 1),
    "BEGINS_WITH": (1, 1),
    "IN": (1, None),
    "BETWEEN": (2, 2),
}

# The value types each operator accepts in QueryFilter, ScanFilter and KeyConditions.
VALUE_TYPES: dict[str, tuple[str, ...]] = {
    "EQ": ("S", "N", "B", "SS", "NS", "BS"),
    "NE": ("S", "N", "B", "SS", "NS", "BS"),
    "LE": ("S", "N", "B"),
    "LT": ("S", "N", "B"),
    "GE": ("S", "N", "B"),
    "GT": ("S", "N", "B"),
    "CONTAINS": ("S", "N", "B"),
    "NOT_CONTAINS": ("S", "N", "B"),
    "BEGINS_WITH": ("S", "B"),
    "IN": ("S", "N", "B"),
    "BETWEEN": ("S", "N", "B"),
}

_COMPARATORS = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}

# Which parameters of each operation are expressions and which are their legacy
# counterparts, in the order DynamoDB lists them in its messages.
OPERATION_PARAMETERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "GetItem": (("ProjectionExpression",), ("AttributesToGet",)),
    "BatchGetItem": (("ProjectionExpression",), ("AttributesToGet",)),
    "PutItem": (("ConditionExpression",), ("Expected", "ConditionalOperator")),
    "DeleteItem": (("ConditionExpression",), ("Expected", "ConditionalOperator")),
    "UpdateItem": (
        ("UpdateExpression", "ConditionExpression"),
        ("AttributeUpdates", "Expected", "ConditionalOperator"),
    ),
    "Query": (
        ("ProjectionExpression", "FilterExpression", "KeyConditionExpression"),
        ("AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions"),
    ),
    "Scan": (
        ("ProjectionExpression", "FilterExpression"),
        ("AttributesToGet", "ScanFilter", "ConditionalOperator"),
    ),
}


def _error(message: str) -> ValidationException:
    return ValidationException(message)


def check_expression_mix(
    request: Mapping[str, Any],
    expression_params: Sequence[str],
    legacy_params: Sequence[str],
) -> None:
    """Refuse a request that mixes expression and legacy parameters, or that sends
    ExpressionAttributeNames / Values without an expression that could use them.

    `OPERATION_PARAMETERS[operation]` gives the two lists for each operation.
    """
    used_expressions = [p for p in expression_params if request.get(p) is not None]
    if used_expressions:
        legacy = list(legacy_params)
        # A KeyConditions parameter may accompany a filter or projection expression.
        if request.get("KeyConditionExpression") is None and "KeyConditions" in legacy:
            legacy.remove("KeyConditions")
        used_legacy = [p for p in legacy if request.get(p) is not None]
        if used_legacy:
            raise _error(
                "Can not use both expression and non-expression parameters in the same "
                f"request: Non-expression parameters: {{{', '.join(used_legacy)}}} "
                f"Expression parameters: {{{', '.join(used_expressions)}}}"
            )
    if request.get("ExpressionAttributeNames") is not None and not used_expressions:
        raise _error("ExpressionAttributeNames can only be specified when using expressions")
    value_expressions = [p for p in expression_params if p != "ProjectionExpression"]
    if (
        value_expressions
        and request.get("ExpressionAttributeValues") is not None
        and all(request.get(p) is None for p in value_expressions)
    ):
        verb = "are" if len(value_expressions) > 1 else "is"
        raise _error(
            "ExpressionAttributeValues can only be specified when using expressions: "
            f"{' and '.join(value_expressions)} {verb} null"
        )


# --- conditions --------------------------------------------------------------------


def condition_for(name: str, operator: str, values: Sequence[AttrValue]) -> Condition:
    """The condition one legacy (attribute, ComparisonOperator, values) triple means."""
    path = Path((name,))
    literals = tuple(Literal(v) for v in values)
    if operator in _COMPARATORS:
        return Compare(_COMPARATORS[operator], path, literals[0])
    if operator == "NOT_NULL":
        return Call("attribute_exists", (path,))
    if operator == "NULL":
        return Call("attribute_not_exists", (path,))
    if operator == "CONTAINS":
        return Call("contains", (path, literals[0]))
    if operator == "NOT_CONTAINS":
        return Not(Call("contains", (path, literals[0])))
    if operator == "BEGINS_WITH":
        return Call("begins_with", (path, literals[0]))
    if operator == "IN":
        return In(path, literals)
    if operator == "BETWEEN":
        return Between(path, literals[0], literals[1])
    raise _error(f"Unsupported ComparisonOperator: {operator}")


def _combine(terms: list[Condition], conditional_operator: str | None) -> Condition | None:
    if not terms:
        return None
    if len(terms) == 1:
        return terms[0]
    return Or(tuple(terms)) if conditional_operator == "OR" else And(tuple(terms))


def _check_values(operator: str, values: Sequence[AttrValue], check_types: bool) -> None:
    for value in values:  # each value's own errors come first
        validate_value(value)
    low, high = ARITY.get(operator, (0, None))
    if len(values) < low or (high is not None and len(values) > high):
        raise _error(
            f"{_INVALID}Invalid number of argument(s) for the {operator} ComparisonOperator"
        )
    if values:
        first = value_type(values[0])
        if any(value_type(v) != first for v in values):
            raise _error(
                f"{_INVALID}AttributeValues inside AttributeValueList must be of same type"
            )
    if check_types and operator in VALUE_TYPES:
        for value in values:
            tag = value_type(value)
            if tag not in VALUE_TYPES[operator]:
                raise _error(
                    f"{_INVALID}ComparisonOperator {operator} is not valid for {tag} "
                    "AttributeValue type"
                )
    if operator == "BETWEEN":
        order = compare(values[0], values[1])
        if order is not None and order > 0:
            raise _error(
                "The BETWEEN condition was provided a range where the lower bound is greater "
                "than the upper bound"
            )


def expected_to_condition(
    expected: Mapping[str, Mapping[str, Any]] | None,
    conditional_operator: str | None = None,
) -> Condition | None:
    """Validate Expected (with ConditionalOperator) and translate it; None when empty."""
    terms: list[Condition] = []
    for name, spec in (expected or {}).items():
        value = spec.get("Value")
        value_list = spec.get("AttributeValueList")
        operator = spec.get("ComparisonOperator")
        exists = spec.get("Exists")
        if value_list is not None and value is not None:
            raise _error(
                f"{_INVALID}Value and AttributeValueList cannot be used together for "
                f"Attribute: {name}"
            )
        if operator is not None:
            if exists is not None:
                raise _error(
                    f"{_INVALID}Exists and ComparisonOperator cannot be used together for "
                    f"Attribute: {name}"
                )
            if operator not in ("NULL", "NOT_NULL") and value_list is None and value is None:
                raise _error(
                    f"{_INVALID}Value or AttributeValueList must be used with "
                    f"ComparisonOperator: {operator} for Attribute: {name}"
                )
            values = (
                list(value_list) if value_list is not None else [] if value is None else [value]
            )
            _check_values(operator, values, check_types=False)
            terms.append(condition_for(name, operator, values))
        elif value_list is not None:
            raise _error(
                f"{_INVALID}AttributeValueList can only be used with a ComparisonOperator for "
                f"Attribute: {name}"
            )
        else:
            must_exist = exists is None or bool(exists)
            if must_exist and value is None:
                shown = "null" if exists is None else "true"
                raise _error(
                    f"{_INVALID}Value must be provided when Exists is {shown} for Attribute: {name}"
                )
            if not must_exist and value is not None:
                raise _error(
                    f"{_INVALID}Value cannot be used when Exists is false for Attribute: {name}"
                )
            if value is None:
                terms.append(condition_for(name, "NULL", []))
            else:
                terms.append(condition_for(name, "EQ", [validate_value(value)]))
    return _combine(terms, conditional_operator)


def filter_to_condition(
    conditions: Mapping[str, Mapping[str, Any]] | None,
    conditional_operator: str | None = None,
) -> Condition | None:
    """Validate and translate QueryFilter or ScanFilter; None when empty."""
    terms: list[Condition] = []
    for name, spec in (conditions or {}).items():
        operator = spec.get("ComparisonOperator")
        if operator is None:
            raise _error(f"{_INVALID}ComparisonOperator must be specified for Attribute: {name}")
        values = list(spec.get("AttributeValueList") or [])
        _check_values(operator, values, check_types=True)
        terms.append(condition_for(name, operator, values))
    return _combine(terms, conditional_operator)


def key_conditions_to_condition(conditions: Mapping[str, Mapping[str, Any]]) -> Condition:
    """Validate and translate KeyConditions; check the result with
    `plan_key_condition(..., legacy=True)`."""
    condition = filter_to_condition(conditions)
    if condition is None or len(conditions) > 2:
        raise _error("Conditions can be of length 1 or 2 only")
    return condition


# --- updates and projections -------------------------------------------------------


def attribute_updates_to_update(
    updates: Mapping[str, Mapping[str, Any]] | None,
) -> UpdateExpr | None:
    """Validate and translate AttributeUpdates (PUT / ADD / DELETE); None when empty."""
    sections: dict[str, list[UpdateAction]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
    for name, spec in (updates or {}).items():
        value = spec.get("Value")
        action = spec.get("Action") or "PUT"
        path = Path((name,))
        if value is None:
            if action != "DELETE":
                raise _error(
                    f"{_INVALID}Only DELETE action is allowed when no attribute value is specified"
                )
            sections["REMOVE"].append(RemoveAction(path))
            continue
        tag = value_type(validate_value(value))
        if action == "DELETE":
            if tag not in ("SS", "NS", "BS"):
                raise _error(
                    f"{_INVALID}DELETE action with value is not supported for the type {tag}"
                )
            sections["DELETE"].append(DeleteAction(path, Literal(value)))
        elif action == "ADD":
            if tag not in ("L", "SS", "NS", "BS", "N"):
                raise _error(f"{_INVALID}ADD action is not supported for the type {tag}")
            if tag == "L":
                # ADD of a list appends to it (or creates it), which SET can say.
                start = Call("if_not_exists", (path, Literal({"L": []})))
                sections["SET"].append(
                    SetAction(path, Call("list_append", (start, Literal(value))))
                )
            else:
                sections["ADD"].append(AddAction(path, Literal(value)))
        else:
            sections["SET"].append(SetAction(path, Literal(value)))
    clauses = tuple(UpdateClause(k, tuple(v)) for k, v in sections.items() if v)
    return UpdateExpr(clauses, legacy=True) if clauses else None


def attributes_to_projection(names: Sequence[str]) -> Projection:
    """Translate AttributesToGet, refusing duplicates as DynamoDB does."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise _error(f"{_INVALID}Duplicate value in attribute name: {name}")
        seen.add(name)
    return Projection(tuple(Path((name,)) for name in names))
