"""Resolve placeholders across a request's expressions, with DynamoDB's checks.

One `Resolver` serves all the expressions of one request: it substitutes `#names`
and `:values`, records which were used (`check_unused` then reports the rest), and
makes the checks that need the values but not the item: undefined placeholders,
operand counts of update functions, operands that must be document paths or must
differ, operand types of literal values, BETWEEN bounds, IN's operand count, document
path depth, and overlapping paths in updates and projections.

Checks run in DynamoDB's order: a condition is walked in written order and each node
is checked after its operands (so an earlier node's type error wins over a later
undefined placeholder). An update first checks the #names of the paths it writes,
then that those paths don't overlap, then every #name, then - from the last action
back to the first - values and types. Call the resolver for the expressions of one
request in DynamoDB's order (UpdateItem: update, condition; Query: filter,
projection, key condition; Scan: filter, projection), then `check_unused()`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from dynastore.engine.expr.nodes import (
    AddAction,
    And,
    Arith,
    Between,
    Call,
    Compare,
    Condition,
    ConditionKind,
    DeleteAction,
    In,
    Literal,
    NameRef,
    Not,
    Operand,
    Or,
    Path,
    PathElement,
    Projection,
    RemoveAction,
    SetAction,
    SetValue,
    UpdateAction,
    UpdateClause,
    UpdateExpr,
    ValueRef,
    iter_paths,
)
from dynastore.engine.expr.parser import check_arity, invalid
from dynastore.engine.values import AttrValue, binary_bytes, compare, value_type
from dynastore.errors import ValidationException

MAX_PATH_DEPTH = 32
MAX_IN_OPERANDS = 100

SCALAR = ("S", "N", "B")
ATTRIBUTE_TYPES = ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")
# DynamoDB lists the valid type names in this (hash set) order.
_TYPE_NAMES = "{N,BS,L,B,NULL,M,S,SS,NS,BOOL}"
# What DynamoDB names as the type of a document path given to attribute_type.
_ANY_TYPE = (
    "{SS,M,DECIMAL,DOUBLESET,HDS,N,B,DICT,INTSET,BOOL,HD,BS,INT,DECIMALSET,NULL,FLOAT,FS,S,L,"
    "NS,DOUBLE}"
)
LONG_TYPE_NAMES = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "BOOL": "BOOLEAN",
    "NULL": "NULL",
    "L": "LIST",
    "M": "MAP",
    "SS": "STRING_SET",
    "NS": "NUMBER_SET",
    "BS": "BINARY_SET",
}
_NEEDS_PATH = frozenset(
    ("attribute_exists", "attribute_not_exists", "attribute_type", "if_not_exists")
)
_SIZED = frozenset(("S", "B", "SS", "NS", "BS", "L", "M"))


def bound_text(value: AttrValue) -> str:
    """How DynamoDB prints a BETWEEN bound in its messages."""
    tag = value_type(value)
    raw = value[tag]
    if tag == "B":
        # DynamoDB shows the Java ByteBuffer, not the bytes.
        size = len(binary_bytes(raw))
        return f"AttributeValue: {{B:java.nio.HeapByteBuffer[pos=0 lim={size} cap={size}]}}"
    return f"AttributeValue: {{{tag}:{raw}}}"


def static_type(operand: object) -> str | None:
    """The type an operand has whatever the item: a literal's, N for size(), else None."""
    if isinstance(operand, Literal):
        return value_type(operand.value)
    if isinstance(operand, Call) and operand.name == "size":
        return "N"
    if isinstance(operand, Arith):
        return "N"
    return None


def java_set_order(keys: Sequence[str], total: int) -> list[str]:
    """`keys` in the iteration order of a Java HashSet built from `total` keys.

    DynamoDB lists unused placeholders in this order, not sorted.
    """
    capacity = 1
    wanted = max(int(total / 0.75) + 1, 16)
    while capacity < wanted:
        capacity *= 2

    def bucket(key: str) -> int:
        h = 0
        for unit in _utf16_units(key):
            h = (31 * h + unit) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (capacity - 1)

    order = sorted(range(len(keys)), key=lambda i: (bucket(keys[i]), i))
    return [keys[i] for i in order]


def _refuse_unused(parameter: str, given: Mapping[str, object], used: set[str]) -> None:
    """Refuse the keys of `parameter` (a placeholder map) that no expression used."""
    unused = [key for key in given if key not in used]
    if unused:
        keys = ", ".join(java_set_order(unused, len(given)))
        raise ValidationException(
            f"Value provided in {parameter} unused in expressions: keys: {{{keys}}}"
        )


def _utf16_units(text: str) -> Iterable[int]:
    data = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        yield data[i] | (data[i + 1] << 8)


def _clash(one: tuple[PathElement, ...], two: tuple[PathElement, ...]) -> str | None:
    for a, b in zip(one, two, strict=False):
        if isinstance(a, int) != isinstance(b, int):
            return "conflict"
        if a != b:
            return None
    return "overlap"


def check_overlaps(kind: str, paths: Sequence[Path]) -> None:
    """Refuse two paths that are equal, nested, or use one attribute as map and list.

    Indexes every prefix, so the check stays linear in the total path length.
    """
    full: dict[tuple[PathElement, ...], int] = {}
    # prefix -> (index of the first path extending it, whether it continued with [i])
    extended: dict[tuple[PathElement, ...], tuple[int, bool]] = {}
    for j, path in enumerate(paths):
        elements = path.elements
        other: int | None = None
        for k, element in enumerate(elements):
            prefix = elements[:k]
            if k and prefix in full:
                other = full[prefix]
                break
            seen = extended.get(prefix)
            if seen is not None and seen[1] != isinstance(element, int):
                other = seen[0]
                break
        else:
            if elements in full:
                other = full[elements]
            elif elements in extended:
                other = extended[elements][0]
        if other is not None:
            first = paths[other]
            what = _clash(first.elements, elements) or "overlap"
            raise invalid(
                kind,
                f"Two document paths {what} with each other; must remove or rewrite one of "
                f"these paths; path one: {first.text()}, path two: {path.text()}",
            )
        full.setdefault(elements, j)
        for k, element in enumerate(elements):
            extended.setdefault(elements[:k], (j, isinstance(element, int)))


_NAME_KEY = re.compile(r"#[0-9A-Za-z_]+")
_VALUE_KEY = re.compile(r":[0-9A-Za-z_]+")
MAX_PLACEHOLDER_BYTES = 255


def check_attribute_maps(
    names: Mapping[str, object] | None, values: Mapping[str, object] | None
) -> None:
    """The request-level checks on ExpressionAttributeNames / Values keys.

    The values themselves are AttributeValues, validated where all values are.
    """
    for label, mapping, pattern in (
        ("ExpressionAttributeNames", names, _NAME_KEY),
        ("ExpressionAttributeValues", values, _VALUE_KEY),
    ):
        if mapping is None:
            continue
        if not mapping:
            raise ValidationException(f"{label} must not be empty")
        for key, value in mapping.items():
            size = len(key.encode("utf-8", "surrogatepass"))
            if size > MAX_PLACEHOLDER_BYTES:
                # DynamoDB gives the size for a name only.
                shown = f" size of key: {size}" if label == "ExpressionAttributeNames" else ""
                raise ValidationException(
                    f"{label} contains invalid key: The expression attribute map contains a key "
                    f"that is too long;{shown}"
                )
            if not pattern.fullmatch(key):
                raise ValidationException(
                    f'{label} contains invalid key: Syntax error; key: "{key}"'
                )
            if label == "ExpressionAttributeNames" and value == "":
                raise ValidationException(
                    f"{label} contains invalid value: Empty attribute name for key {key}"
                )


class Resolver:
    """Substitutes placeholders for every expression of one request."""

    def __init__(
        self,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, AttrValue] | None = None,
    ) -> None:
        self.names: dict[str, str] = dict(names or {})
        self.values: dict[str, AttrValue] = dict(values or {})
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()
        self._kind = "ConditionExpression"

    # --- public entry points -------------------------------------------------------

    def condition(self, node: Condition, kind: ConditionKind = "ConditionExpression") -> Condition:
        """Resolve a ConditionExpression, FilterExpression or KeyConditionExpression."""
        self._kind = kind
        return self._condition(node)

    def update(self, update: UpdateExpr) -> UpdateExpr:
        """Resolve an UpdateExpression (checks in DynamoDB's order, see module doc)."""
        self._kind = "UpdateExpression"
        actions = [
            (clause.keyword, action) for clause in update.clauses for action in clause.actions
        ]
        for _, action in actions:
            self._check_names(action.path)
        check_overlaps(self._kind, [self._path_names(action.path) for _, action in actions])
        for _, action in reversed(actions):
            self._check_names(action)
        resolved = [self._action(keyword, action) for keyword, action in reversed(actions)]
        resolved.reverse()
        clauses: list[UpdateClause] = []
        position = 0
        for clause in update.clauses:
            count = len(clause.actions)
            clauses.append(
                UpdateClause(clause.keyword, tuple(resolved[position : position + count]))
            )
            position += count
        return UpdateExpr(tuple(clauses))

    def projection(self, projection: Projection) -> Projection:
        """Resolve a ProjectionExpression."""
        self._kind = "ProjectionExpression"
        paths = tuple(self._path(path) for path in projection.paths)
        check_overlaps(self._kind, paths)
        return Projection(paths)

    def check_unused(self, *, names: bool = True, values: bool = True) -> None:
        """Refuse placeholders no expression used (names first, then values)."""
        # The used placeholders are among the given ones: equal counts mean none is unused.
        if names and len(self.used_names) < len(self.names):
            _refuse_unused("ExpressionAttributeNames", self.names, self.used_names)
        if values and len(self.used_values) < len(self.values):
            _refuse_unused("ExpressionAttributeValues", self.values, self.used_values)

    # --- placeholders --------------------------------------------------------------

    def _error(self, message: str) -> ValidationException:
        return invalid(self._kind, message)

    def _name(self, ref: NameRef) -> str:
        try:
            name = self.names[ref.name]
        except KeyError:
            raise self._error(
                "An expression attribute name used in the document path is not defined; "
                f"attribute name: {ref.name}"
            ) from None
        self.used_names.add(ref.name)
        return name

    def _check_names(self, node: object) -> None:
        """Only the #names of a subtree (an update's first passes)."""
        for path in iter_paths(node):
            for element in path.elements:
                if isinstance(element, NameRef):
                    self._name(element)

    def _path_names(self, path: Path) -> Path:
        if not any(isinstance(e, NameRef) for e in path.elements):
            return path
        return Path(tuple(self._name(e) if isinstance(e, NameRef) else e for e in path.elements))

    def _path(self, path: Path) -> Path:
        resolved = self._path_names(path)
        depth = len(resolved.elements)
        if depth > MAX_PATH_DEPTH:
            raise self._error(
                f"The document path has too many nesting levels; nesting levels: {depth}"
            )
        return resolved

    def _value(self, ref: ValueRef) -> Literal:
        try:
            value = self.values[ref.name]
        except KeyError:
            raise self._error(
                "An expression attribute value used in expression is not defined; "
                f"attribute value: {ref.name}"
            ) from None
        self.used_values.add(ref.name)
        return Literal(value)

    # --- conditions ----------------------------------------------------------------

    def _condition(self, node: Condition) -> Condition:
        if isinstance(node, And):
            return And(tuple(self._condition(c) for c in node.operands))
        if isinstance(node, Or):
            return Or(tuple(self._condition(c) for c in node.operands))
        if isinstance(node, Not):
            return Not(self._condition(node.operand))
        if isinstance(node, Compare):
            left, right = self._operand(node.left), self._operand(node.right)
            self._distinct(node.op, left, (right,))
            if node.op not in ("=", "<>"):
                for operand in (left, right):
                    self._scalar(node.op, operand)
            return Compare(node.op, left, right)
        if isinstance(node, Between):
            operand = self._operand(node.operand)
            low, high = self._operand(node.low), self._operand(node.high)
            self._distinct("BETWEEN", operand, (low, high))
            for item in (operand, low, high):
                self._scalar("BETWEEN", item)
            if isinstance(low, Literal) and isinstance(high, Literal):
                self._bounds(low.value, high.value)
            return Between(operand, low, high)
        if isinstance(node, In):
            operand = self._operand(node.operand)
            choices = tuple(self._operand(c) for c in node.choices)
            if len(choices) > MAX_IN_OPERANDS:
                raise self._error(
                    "The IN operator is provided with too many operands; "
                    f"number of operands: {len(choices)}"
                )
            self._distinct("IN", operand, choices)
            return In(operand, choices)
        return self._call(node)

    def _operand(self, node: Operand) -> Operand:
        if isinstance(node, Path):
            return self._path(node)
        if isinstance(node, ValueRef):
            return self._value(node)
        if isinstance(node, Call):
            return self._call(node)
        return node

    def _type_error(self, op: str, type_name: str) -> ValidationException:
        return self._error(
            "Incorrect operand type for operator or function; "
            f"operator or function: {op}, operand type: {type_name}"
        )

    def _scalar(self, op: str, operand: Operand) -> None:
        kind = static_type(operand)
        if kind is not None and kind not in SCALAR:
            raise self._type_error(op, kind)

    def _distinct(self, op: str, first: Operand, rest: Iterable[Operand]) -> None:
        if not isinstance(first, Path):
            return
        for other in rest:
            if isinstance(other, Path) and other.elements == first.elements:
                raise self._error(
                    "The first operand must be distinct from the remaining operands for this "
                    f"operator or function; operator: {op}, first operand: {first.text()}"
                )

    def _bounds(self, low: AttrValue, high: AttrValue) -> None:
        low_type, high_type = value_type(low), value_type(high)
        if low_type != high_type:
            raise self._error(
                "The BETWEEN operator requires same data type for lower and upper bounds; "
                f"lower bound operand: {bound_text(low)}, upper bound operand: {bound_text(high)}"
            )
        order = compare(low, high)
        if order is not None and order > 0:
            raise self._error(
                "The BETWEEN operator requires upper bound to be greater than or equal to "
                f"lower bound; lower bound operand: {bound_text(low)}, "
                f"upper bound operand: {bound_text(high)}"
            )

    def _call(self, node: Call) -> Call:
        name = node.name
        if self._kind == "UpdateExpression":
            check_arity(self._kind, node)
        args = tuple(self._operand(arg) for arg in node.args)
        if name in _NEEDS_PATH and not isinstance(args[0], Path):
            raise self._error(
                f"Operator or function requires a document path; operator or function: {name}"
            )
        if name not in ("size", "list_append"):
            self._distinct(name, args[0], args[1:])
        if name == "size":
            kind = static_type(args[0])
            if kind is not None and kind not in _SIZED:
                raise self._type_error(name, kind)
        elif name == "begins_with":
            for arg in args:
                kind = static_type(arg)
                if kind is not None and kind not in ("S", "B"):
                    raise self._type_error(name, kind)
        elif name == "attribute_type":
            self._attribute_type(args[1])
        elif name == "list_append":
            for arg in args:
                kind = static_type(arg)
                if kind is not None and kind != "L":
                    raise self._type_error(name, kind)
        return Call(name, args)

    def _attribute_type(self, operand: Operand) -> None:
        if not isinstance(operand, Literal):
            raise self._type_error("attribute_type", static_type(operand) or _ANY_TYPE)
        kind = value_type(operand.value)
        if kind != "S":
            raise self._type_error("attribute_type", kind)
        wanted = operand.value["S"]
        if wanted not in ATTRIBUTE_TYPES:
            raise self._error(
                f"Invalid attribute type name found; type: {wanted}, valid types: {_TYPE_NAMES}"
            )

    # --- updates -------------------------------------------------------------------

    def _set_value(self, node: SetValue) -> SetValue:
        if isinstance(node, Arith):
            left, right = self._set_value(node.left), self._set_value(node.right)
            for operand in (left, right):
                kind = static_type(operand)
                if kind is not None and kind != "N":
                    raise self._type_error(node.op, kind)
            return Arith(node.op, left, right)
        return self._operand(node)

    def _action(self, keyword: str, action: UpdateAction) -> UpdateAction:
        path = self._path(action.path)
        if isinstance(action, SetAction):
            return SetAction(path, self._set_value(action.value))
        if isinstance(action, RemoveAction):
            return RemoveAction(path)
        value = self._operand(action.value)
        kind = static_type(value)
        allowed = ("N", "SS", "NS", "BS") if keyword == "ADD" else ("SS", "NS", "BS")
        if kind is not None and kind not in allowed:
            raise self._error(
                "Incorrect operand type for operator or function; "
                f"operator: {keyword}, operand type: {LONG_TYPE_NAMES[kind]}, "
                f"typeSet: ALLOWED_FOR_{keyword}_OPERAND"
            )
        return (
            AddAction(path, value) if isinstance(action, AddAction) else DeleteAction(path, value)
        )
