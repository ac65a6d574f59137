"""Evaluate a resolved condition against an item, with DynamoDB's semantics.

A missing attribute makes every comparison false except `<>` (which is true unless
both sides exist and are equal); ordering comparisons only hold between two values
of one scalar type (S by UTF-8 bytes, N numerically, B by bytes).
"""

from __future__ import annotations

from collections.abc import Mapping

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
from dynastore.engine.values import AttrValue, binary_bytes, compare, value_type, values_equal

_ORDER_TESTS = {
    "<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
    ">": lambda c: c > 0,
    ">=": lambda c: c >= 0,
}


def get_path(item: Mapping[str, AttrValue], path: Path) -> AttrValue | None:
    """The value at a resolved document path, or None when any step is missing."""
    elements = path.elements
    head = elements[0]
    if not isinstance(head, str):
        raise TypeError(f"unresolved or invalid path {path!r}")
    current: AttrValue | None = item.get(head)
    for element in elements[1:]:
        if current is None:
            return None
        if isinstance(element, int):
            items = current.get("L")
            current = items[element] if items is not None and element < len(items) else None
        elif isinstance(element, str):
            members = current.get("M")
            current = members.get(element) if members is not None else None
        else:
            raise TypeError(f"unresolved path {path!r}")
    return current


def size_of(value: AttrValue) -> int | None:
    """What size() returns: characters of S (Java's UTF-16 count), bytes of B,
    members of sets, L and M; None for types size() does not apply to."""
    tag = value_type(value)
    raw = value[tag]
    if tag == "S":
        return len(raw.encode("utf-16-le", "surrogatepass")) // 2
    if tag == "B":
        return len(binary_bytes(raw))
    if tag in ("SS", "NS", "BS", "L", "M"):
        return len(raw)
    return None


def operand_value(item: Mapping[str, AttrValue], operand: Operand) -> AttrValue | None:
    """The value of a resolved operand for one item, or None."""
    if isinstance(operand, Path):
        return get_path(item, operand)
    if isinstance(operand, Literal):
        return operand.value
    if isinstance(operand, Call) and operand.name == "size":
        value = operand_value(item, operand.args[0])
        size = size_of(value) if value is not None else None
        return {"N": str(size)} if size is not None else None
    raise TypeError(f"cannot evaluate operand {operand!r}")


def evaluate(condition: Condition, item: Mapping[str, AttrValue] | None) -> bool:
    """Whether a resolved condition holds for `item` (None: no item, as for a new key)."""
    return _holds(condition, item or {})


def _holds(node: Condition, item: Mapping[str, AttrValue]) -> bool:
    if isinstance(node, And):
        return all(_holds(term, item) for term in node.operands)
    if isinstance(node, Or):
        return any(_holds(term, item) for term in node.operands)
    if isinstance(node, Not):
        return not _holds(node.operand, item)
    if isinstance(node, Compare):
        left = operand_value(item, node.left)
        right = operand_value(item, node.right)
        if node.op == "=":
            return left is not None and right is not None and values_equal(left, right)
        if node.op == "<>":
            return not (left is not None and right is not None and values_equal(left, right))
        if left is None or right is None:
            return False
        order = compare(left, right)
        return order is not None and _ORDER_TESTS[node.op](order)
    if isinstance(node, Between):
        value = operand_value(item, node.operand)
        low = operand_value(item, node.low)
        high = operand_value(item, node.high)
        if value is None or low is None or high is None:
            return False
        above = compare(low, value)
        below = compare(value, high)
        return above is not None and below is not None and above <= 0 and below <= 0
    if isinstance(node, In):
        value = operand_value(item, node.operand)
        if value is None:
            return False
        for choice in node.choices:
            candidate = operand_value(item, choice)
            if candidate is not None and values_equal(value, candidate):
                return True
        return False
    return _function(node, item)


def _function(node: Call, item: Mapping[str, AttrValue]) -> bool:
    first = operand_value(item, node.args[0])
    name = node.name
    if name == "attribute_exists":
        return first is not None
    if name == "attribute_not_exists":
        return first is None
    second = operand_value(item, node.args[1])
    if first is None or second is None:
        return False
    if name == "attribute_type":
        return value_type(second) == "S" and value_type(first) == second["S"]
    if name == "begins_with":
        return _begins_with(first, second)
    if name == "contains":
        return _contains(first, second)
    raise ValueError(f"{name} is not a condition function")


def _begins_with(value: AttrValue, prefix: AttrValue) -> bool:
    tag = value_type(value)
    if tag != value_type(prefix):
        return False
    if tag == "S":
        return bool(value["S"].startswith(prefix["S"]))
    if tag == "B":
        return binary_bytes(value["B"]).startswith(binary_bytes(prefix["B"]))
    return False


def _contains(value: AttrValue, member: AttrValue) -> bool:
    tag, member_tag = value_type(value), value_type(member)
    if tag == "S":
        return member_tag == "S" and member["S"] in value["S"]
    if tag == "B":
        return member_tag == "B" and binary_bytes(member["B"]) in binary_bytes(value["B"])
    if tag in ("SS", "NS", "BS"):
        if member_tag != tag[0]:
            return False
        return any(values_equal({member_tag: element}, member) for element in value[tag])
    if tag == "L":
        return any(values_equal(element, member) for element in value["L"])
    return False
