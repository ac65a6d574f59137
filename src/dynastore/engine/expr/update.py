"""Apply a resolved UpdateExpression to an item: a pure function, old item untouched.

Every value is worked out from the item as it was before the update (so
`SET a = b, b = a` swaps). Problems are reported in DynamoDB's order: a path whose
parent exists but is not the map or list it needs; then wrong types (arithmetic on a
non-number, list_append on a non-list, ADD/DELETE against an attribute of another
type); then, section by section from the last written back to the first, a path that
can't be written (parent missing) and an attribute a SET reads that isn't there;
then numbers out of DynamoDB's range; last, a value set so deep into the item that it
passes DynamoDB's 32 nesting levels.

The new item shares every unchanged value with the old one: only the containers on
the written paths are copied. List writes use the positions the elements had before
the update: removals by original index, a SET past the end appends (in index order).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from dynastore.engine.attrs import NESTING_TOO_DEEP
from dynastore.engine.expr.evaluate import get_path
from dynastore.engine.expr.nodes import (
    AddAction,
    Arith,
    Call,
    DeleteAction,
    Literal,
    Path,
    PathElement,
    RemoveAction,
    SetAction,
    SetValue,
    UpdateExpr,
)
from dynastore.engine.values import (
    MAX_DEPTH,
    AttrValue,
    Item,
    binary_bytes,
    number_add,
    number_sub,
    value_type,
)
from dynastore.errors import ValidationException

TYPE_ERROR = "An operand in the update expression has an incorrect data type"
LEGACY_TYPE_ERROR = "Type mismatch for attribute to update"  # AttributeUpdates' wording
MISSING_ERROR = "The provided expression refers to an attribute that does not exist in the item"
PATH_ERROR = "The document path provided in the update expression is invalid for update"

_SET_TYPES = ("SS", "NS", "BS")


class _Missing(Exception):
    """A SET reads an attribute the item doesn't have (reported later, in order)."""


def _parent_fits(parent: AttrValue, last: PathElement) -> bool:
    return ("L" in parent) if isinstance(last, int) else ("M" in parent)


def _writable(item: Mapping[str, AttrValue], path: Path) -> bool:
    """Everything before the last step exists and is the map or list that step needs."""
    elements = path.elements
    if len(elements) == 1:
        return True
    parent = get_path(item, Path(elements[:-1]))
    return parent is not None and _parent_fits(parent, elements[-1])


def _operand(item: Mapping[str, AttrValue], node: SetValue) -> AttrValue:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Path):
        value = get_path(item, node)
        if value is None:
            raise _Missing
        return value
    if isinstance(node, Arith):
        left = _operand(item, node.left)
        if value_type(left) != "N":
            raise ValidationException(TYPE_ERROR)
        right = _operand(item, node.right)
        if value_type(right) != "N":
            raise ValidationException(TYPE_ERROR)
        arith = number_add if node.op == "+" else number_sub
        return {"N": arith(left["N"], right["N"])}
    if isinstance(node, Call):
        if node.name == "if_not_exists":
            target = node.args[0]
            current = get_path(item, target) if isinstance(target, Path) else None
            return current if current is not None else _operand(item, node.args[1])
        if node.name == "list_append":
            first = _operand(item, node.args[0])
            if value_type(first) != "L":
                raise ValidationException(TYPE_ERROR)
            second = _operand(item, node.args[1])
            if value_type(second) != "L":
                raise ValidationException(TYPE_ERROR)
            return {"L": [*first["L"], *second["L"]]}
    raise TypeError(f"cannot evaluate {node!r} in an update")


def _depth(value: AttrValue) -> int:
    """Levels a value spans: 1, plus its deepest member's for a map or list."""
    members = value.get("M")
    children = members.values() if members is not None else value.get("L")
    if not children:
        return 1
    return 1 + max(_depth(child) for child in children)


def _member_key(tag: str) -> Callable[[str], Hashable]:
    if tag == "NS":
        return lambda text: Decimal(text).normalize()
    if tag == "BS":
        return binary_bytes
    return lambda text: text


def _set_union(current: AttrValue, extra: AttrValue) -> AttrValue:
    tag = value_type(current)
    key = _member_key(tag)
    members = list(current[tag])
    seen = {key(m) for m in members}
    for member in extra[tag]:
        if key(member) not in seen:
            seen.add(key(member))
            members.append(member)
    return {tag: members}


def _set_minus(current: AttrValue, gone: AttrValue) -> list[str]:
    tag = value_type(current)
    key = _member_key(tag)
    drop = {key(m) for m in gone[tag]}
    return [m for m in current[tag] if key(m) not in drop]


@dataclass
class _Node:
    """A node of the tree of writes: `op` at a written path, `children` below it."""

    op: str | None = None  # "set" or "remove"
    value: AttrValue | None = None
    children: dict[PathElement, _Node] = field(default_factory=dict)


def _rebuild_map(members: Mapping[str, AttrValue], node: _Node) -> dict[str, AttrValue]:
    out = dict(members)
    for key, child in node.children.items():
        assert isinstance(key, str)
        if child.op == "set":
            assert child.value is not None
            out[key] = child.value
        elif child.op == "remove":
            out.pop(key, None)
        else:
            out[key] = _rebuild(out[key], child)
    return out


def _rebuild(value: AttrValue, node: _Node) -> AttrValue:
    if value_type(value) == "M":
        return {"M": _rebuild_map(value["M"], node)}
    old: list[AttrValue] = value["L"]
    new = list(old)
    removed: set[int] = set()
    appended: list[tuple[int, AttrValue]] = []
    for index, child in node.children.items():
        assert isinstance(index, int)
        if child.op == "set":
            assert child.value is not None
            if index < len(old):
                new[index] = child.value
            else:
                appended.append((index, child.value))
        elif child.op == "remove":
            if index < len(old):
                removed.add(index)
        else:
            new[index] = _rebuild(old[index], child)
    appended.sort(key=lambda pair: pair[0])
    kept = [v for i, v in enumerate(new) if i not in removed] if removed else new
    return {"L": kept + [v for _, v in appended]}


def _write_all(item: Mapping[str, AttrValue], writes: Sequence[tuple[Path, _Node]]) -> Item:
    root = _Node()
    for path, leaf in writes:
        node = root
        for element in path.elements[:-1]:
            node = node.children.setdefault(element, _Node())
        node.children[path.elements[-1]] = leaf
    return _rebuild_map(item, root)


def apply_update(
    update: UpdateExpr, item: Mapping[str, AttrValue] | None
) -> tuple[Item, list[Path]]:
    """Apply a resolved update to `item` (None or {} for a new item).

    Returns the new item and the paths the update wrote, in written order (what
    ReturnValues UPDATED_OLD / UPDATED_NEW project). The input is never modified.
    """
    old: Mapping[str, AttrValue] = item or {}
    type_error = LEGACY_TYPE_ERROR if update.legacy else TYPE_ERROR
    actions = [
        (index, clause.keyword, action)
        for index, clause in enumerate(update.clauses)
        for action in clause.actions
    ]

    # 1. A parent that exists but is not the container the path needs.
    for _, _, action in actions:
        elements = action.path.elements
        if len(elements) > 1:
            parent = get_path(old, Path(elements[:-1]))
            if parent is not None and not _parent_fits(parent, elements[-1]):
                raise ValidationException(PATH_ERROR)

    # 2. Types; a missing attribute or a number out of range waits its turn.
    values: dict[int, AttrValue] = {}
    missing: dict[int, ValidationException] = {}
    out_of_range: dict[int, ValidationException] = {}
    for position, (_, keyword, action) in enumerate(actions):
        if isinstance(action, SetAction):
            try:
                values[position] = _operand(old, action.value)
            except _Missing:
                missing[position] = ValidationException(MISSING_ERROR)
            except ValidationException as error:
                if error.message != TYPE_ERROR:
                    out_of_range[position] = error
                else:
                    raise
        elif isinstance(action, AddAction | DeleteAction):
            assert isinstance(action.value, Literal)
            operand = action.value.value
            current = get_path(old, action.path) if _writable(old, action.path) else None
            if current is None:
                continue
            tag, current_tag = value_type(operand), value_type(current)
            if keyword == "ADD":
                fits = current_tag == tag and tag in ("N", *_SET_TYPES)
            else:
                fits = current_tag == tag
            if not fits:
                raise ValidationException(type_error)
            if tag == "N":
                values[position] = {"N": number_add(current["N"], operand["N"])}

    # 3. Unwritable paths, then missing attributes, a section at a time from the last.
    for clause_index in range(len(update.clauses) - 1, -1, -1):
        in_clause = [p for p, (index, _, _) in enumerate(actions) if index == clause_index]
        for position in in_clause:
            if not _writable(old, actions[position][2].path):
                raise ValidationException(PATH_ERROR)
        for position in in_clause:
            if position in missing:
                raise missing[position]

    # 4. Numbers out of range, in written order.
    for position in sorted(out_of_range):
        raise out_of_range[position]

    # 5. The writes, all worked out from the old item.
    writes: list[tuple[Path, _Node]] = []
    for position, (_, _, action) in enumerate(actions):
        path = action.path
        if isinstance(action, SetAction):
            value = values[position]
            # A value set below the top sits that many levels deeper in the item.
            if len(path.elements) > 1 and len(path.elements) - 1 + _depth(value) > MAX_DEPTH:
                raise ValidationException(NESTING_TOO_DEEP)
            writes.append((path, _Node("set", value)))
        elif isinstance(action, RemoveAction):
            writes.append((path, _Node("remove")))
        else:
            assert isinstance(action.value, Literal)
            operand = action.value.value
            current = get_path(old, path)
            if isinstance(action, AddAction):
                if current is None:
                    new_value = operand
                elif position in values:
                    new_value = values[position]
                else:
                    new_value = _set_union(current, operand)
                writes.append((path, _Node("set", new_value)))
            elif current is not None:
                remaining = _set_minus(current, operand)
                if remaining:
                    writes.append((path, _Node("set", {value_type(current): remaining})))
                else:
                    writes.append((path, _Node("remove")))
    return _write_all(old, writes), [action.path for _, _, action in actions]
