"""Key conditions: turn a resolved KeyConditionExpression into a key range.

A key condition is an AND of at most one condition per key attribute: the partition
key with `=`, the sort key with `= < <= > >=`, BETWEEN or begins_with. Structural
problems (OR, NOT, IN, <>, other functions, nested paths) are found first, in written
order; then the key schema is walked, partition key first, as DynamoDB does. The
legacy KeyConditions parameter is translated into the same tree (see `legacy.py`) and
checked here with `legacy=True`, which words an unusable operator as DynamoDB does for
that parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dynastore.engine.expr.nodes import (
    And,
    Between,
    Call,
    Compare,
    Condition,
    In,
    Literal,
    Not,
    Operand,
    Or,
    Path,
)
from dynastore.engine.values import AttrValue, binary_bytes, value_type
from dynastore.errors import ValidationException

_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
SORT_OPERATORS = ("=", "<", "<=", ">", ">=", "BETWEEN", "begins_with")


@dataclass(frozen=True, slots=True)
class SortCondition:
    """The sort key's condition: op is one of `SORT_OPERATORS`."""

    op: str
    values: tuple[AttrValue, ...]


@dataclass(frozen=True, slots=True)
class KeyCondition:
    """What a Query reads: one partition, optionally narrowed on the sort key."""

    partition_key: str
    partition_value: AttrValue
    sort_key: str | None = None
    sort: SortCondition | None = None


@dataclass(frozen=True, slots=True)
class _Term:
    name: str
    op: str  # a SORT_OPERATORS member, or "" for an operator no key condition can use
    values: tuple[Operand, ...]


def _error(message: str) -> ValidationException:
    return ValidationException(message)


def _key_name(operand: Operand) -> str | None:
    if not isinstance(operand, Path):
        return None
    if len(operand.elements) > 1:
        raise _error(
            "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions "
            "on nested attributes"
        )
    head = operand.elements[0]
    return head if isinstance(head, str) else None


def _has_call(operands: tuple[Operand, ...]) -> bool:
    return any(isinstance(o, Call) for o in operands)


def _structure(node: Condition, legacy: bool, terms: list[_Term]) -> None:
    """Flatten the ANDs into terms, refusing what no key condition may contain."""
    if isinstance(node, And):
        for operand in node.operands:
            _structure(operand, legacy, terms)
        return
    if legacy:
        terms.append(_legacy_term(node))
        return
    prefix = "Invalid operator used in KeyConditionExpression: "
    if isinstance(node, Or):
        raise _error(prefix + "OR")
    if isinstance(node, Not):
        raise _error(prefix + "NOT")
    if isinstance(node, In):
        raise _error(prefix + "IN")
    if isinstance(node, Compare) and node.op == "<>":
        raise _error(prefix + "<>")
    if isinstance(node, Call) and node.name != "begins_with":
        raise _error(prefix + node.name)
    assert isinstance(node, Compare | Between | Call)
    operands = (
        (node.left, node.right)
        if isinstance(node, Compare)
        else (node.operand, node.low, node.high)
        if isinstance(node, Between)
        else node.args
    )
    if _has_call(operands):
        raise _error(
            "Invalid KeyConditionExpression: KeyConditionExpressions cannot contain nested "
            "operations"
        )
    terms.append(_expression_term(node, operands))


def _expression_term(node: Compare | Between | Call, operands: tuple[Operand, ...]) -> _Term:
    invalid = "Invalid condition in KeyConditionExpression: "
    names = [o for o in operands if isinstance(o, Path)]
    if len(names) > 1:
        raise _error(invalid + "Multiple attribute names used in one condition")
    if not names:
        raise _error(invalid + "No key attribute specified")
    if isinstance(node, Compare):
        if isinstance(node.left, Path):
            return _Term(_key_name(node.left) or "", node.op, (node.right,))
        return _Term(_key_name(node.right) or "", _FLIPPED[node.op], (node.left,))
    label = "BETWEEN" if isinstance(node, Between) else "begins_with"
    if not isinstance(operands[0], Path):
        raise _error(f"{invalid}{label} operator must have the key attribute as its first operand")
    return _Term(_key_name(operands[0]) or "", label, operands[1:])


def _legacy_term(node: Condition) -> _Term:
    """A term from translated KeyConditions: always `path op literals`."""
    if isinstance(node, Compare) and node.op != "<>":
        return _Term(_key_name(node.left) or "", node.op, (node.right,))
    if isinstance(node, Between):
        return _Term(_key_name(node.operand) or "", "BETWEEN", (node.low, node.high))
    if isinstance(node, Call) and node.name == "begins_with":
        return _Term(_key_name(node.args[0]) or "", "begins_with", node.args[1:])
    target: Condition | Operand = node
    while isinstance(target, Not):
        target = target.operand
    if isinstance(target, Compare):
        target = target.left
    elif isinstance(target, In):
        target = target.operand
    elif isinstance(target, Call):
        target = target.args[0]
    name = _key_name(target) if isinstance(target, Path) else None
    return _Term(name or "", "", ())


def plan_key_condition(
    condition: Condition,
    partition_key: str,
    sort_key: str | None = None,
    key_types: Mapping[str, str] | None = None,
    *,
    legacy: bool = False,
) -> KeyCondition:
    """Check a resolved key condition against a key schema and return the key range.

    `key_types` maps key attribute names to S, N or B; when given, values of another
    type are refused as DynamoDB does.
    """
    terms: list[_Term] = []
    _structure(condition, legacy, terms)
    by_name: dict[str, _Term] = {}
    for term in terms:
        if term.name in by_name:
            raise _error("KeyConditionExpressions must only contain one condition per key")
        by_name[term.name] = term

    if sort_key is None and len(terms) > 1:
        raise _error("Query key condition not supported")
    found: dict[str, _Term] = {}
    for name, is_partition in ((partition_key, True), (sort_key, False)):
        if name is None:
            continue
        matched = by_name.get(name)
        if matched is None:
            if is_partition or len(terms) > 1:
                raise _error(f"Query condition missed key schema element: {name}")
            continue
        term = matched
        if not term.op:
            raise _error("Attempted conditional constraint is not an indexable operation")
        expected = (key_types or {}).get(name)
        for operand in term.values:
            if not isinstance(operand, Literal):
                continue
            tag = value_type(operand.value)
            if expected is not None and tag != expected:
                raise _error(
                    "One or more parameter values were invalid: Condition parameter type does "
                    "not match schema type"
                )
            empty = _empty_kind(operand.value)
            if empty is not None:
                raise _error(
                    "One or more parameter values are not valid. The AttributeValue for a key "
                    f"attribute cannot contain an empty {empty} value. Key: {name}"
                )
        if is_partition and term.op != "=":
            raise _error("Query key condition not supported")
        found[name] = term

    partition = found[partition_key]
    partition_value = _literal(partition.values[0])
    sort = found.get(sort_key) if sort_key is not None else None
    if sort is None:
        return KeyCondition(partition_key, partition_value)
    values = tuple(_literal(v) for v in sort.values)
    return KeyCondition(partition_key, partition_value, sort_key, SortCondition(sort.op, values))


def _empty_kind(value: AttrValue) -> str | None:
    """The kind of an empty S or B value ("string", "binary"; refused in a key), else None."""
    tag = value_type(value)
    if tag == "S":
        return None if value["S"] else "string"
    if tag == "B":
        return None if binary_bytes(value["B"]) else "binary"
    return None


def _literal(operand: Operand) -> AttrValue:
    if not isinstance(operand, Literal):
        raise _error("Invalid condition in KeyConditionExpression: No key attribute specified")
    return operand.value
