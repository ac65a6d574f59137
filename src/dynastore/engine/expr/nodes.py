"""The expression AST: frozen dataclasses shared by every expression kind.

One tree shape serves parsed text and translated legacy parameters. A freshly parsed
tree still holds placeholders (`NameRef` inside paths, `ValueRef` operands); the
resolver returns a copy where every `NameRef` became a plain name and every
`ValueRef` a `Literal`. Evaluation and updates only ever see resolved trees.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal as TypingLiteral

from dynastore.engine.values import AttrValue

ConditionKind = TypingLiteral["ConditionExpression", "FilterExpression", "KeyConditionExpression"]
ExpressionKind = TypingLiteral[
    "ConditionExpression",
    "FilterExpression",
    "KeyConditionExpression",
    "UpdateExpression",
    "ProjectionExpression",
]
CONDITION_KINDS: tuple[ConditionKind, ...] = (
    "ConditionExpression",
    "FilterExpression",
    "KeyConditionExpression",
)


@dataclass(frozen=True, slots=True)
class NameRef:
    """An `#name` placeholder inside a document path."""

    name: str


PathElement = str | int | NameRef
"""A map key (str), a list index (int) or, before resolving, an `#name` placeholder."""


@dataclass(frozen=True, slots=True)
class Path:
    """A document path such as `a.b[2].#c`."""

    elements: tuple[PathElement, ...]

    @property
    def head(self) -> PathElement:
        return self.elements[0]

    def text(self) -> str:
        """DynamoDB's rendering in messages: ``[a, [0], b]``."""
        parts = [f"[{e}]" if isinstance(e, int) else str(e) for e in self.elements]
        return "[" + ", ".join(parts) + "]"


@dataclass(frozen=True, slots=True)
class ValueRef:
    """A `:value` placeholder."""

    name: str


@dataclass(frozen=True, slots=True)
class Literal:
    """A resolved value (from ExpressionAttributeValues or a legacy parameter).

    Compares by value; not hashable (the value is a dict).
    """

    value: AttrValue


@dataclass(frozen=True, slots=True)
class Call:
    """A function call: a condition (`begins_with(...)`) or an operand (`size(a)`)."""

    name: str
    args: tuple[Operand, ...]


Operand = Path | ValueRef | Literal | Call


# --- conditions --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compare:
    """`left op right` with op one of = <> < <= > >=."""

    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class In:
    operand: Operand
    choices: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class And:
    """Conjunction; chains are flattened, so `operands` has two or more members."""

    operands: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    operand: Condition


Condition = Compare | Between | In | And | Or | Not | Call


# --- updates -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Arith:
    """`left + right` or `left - right` on the right-hand side of SET; a parenthesized
    side may itself be arithmetic."""

    op: str
    left: SetValue
    right: SetValue


SetValue = Operand | Arith


@dataclass(frozen=True, slots=True)
class SetAction:
    path: Path
    value: SetValue


@dataclass(frozen=True, slots=True)
class RemoveAction:
    path: Path


@dataclass(frozen=True, slots=True)
class AddAction:
    path: Path
    value: Operand


@dataclass(frozen=True, slots=True)
class DeleteAction:
    path: Path
    value: Operand


UpdateAction = SetAction | RemoveAction | AddAction | DeleteAction


@dataclass(frozen=True, slots=True)
class UpdateClause:
    """One section: keyword is SET, REMOVE, ADD or DELETE."""

    keyword: str
    actions: tuple[UpdateAction, ...]


@dataclass(frozen=True, slots=True)
class UpdateExpr:
    """An update: its sections in the order they were written. `legacy`: translated
    from AttributeUpdates, whose ADD / DELETE type errors DynamoDB words differently."""

    clauses: tuple[UpdateClause, ...]
    legacy: bool = False

    def actions(self) -> Iterator[tuple[str, UpdateAction]]:
        """(keyword, action) pairs in written order."""
        for clause in self.clauses:
            for action in clause.actions:
                yield clause.keyword, action


@dataclass(frozen=True, slots=True)
class Projection:
    paths: tuple[Path, ...]


Expression = Condition | UpdateExpr | Projection


# --- walking -----------------------------------------------------------------------


def children(node: object) -> tuple[object, ...]:
    """The direct sub-nodes of any AST node, in written order."""
    if isinstance(node, Compare | Arith):
        return (node.left, node.right)
    if isinstance(node, Between):
        return (node.operand, node.low, node.high)
    if isinstance(node, In):
        return (node.operand, *node.choices)
    if isinstance(node, And | Or):
        return node.operands
    if isinstance(node, Not):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, SetAction | AddAction | DeleteAction):
        return (node.path, node.value)
    if isinstance(node, RemoveAction):
        return (node.path,)
    if isinstance(node, UpdateExpr):
        return tuple(action for _, action in node.actions())
    if isinstance(node, Projection):
        return node.paths
    return ()


def iter_paths(node: object) -> Iterator[Path]:
    """Every document path in a tree, in written order (iterative: trees can be deep)."""
    stack: list[object] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Path):
            yield current
            continue
        stack.extend(reversed(children(current)))


def top_level_names(node: object) -> list[str]:
    """The distinct resolved top-level attribute names a tree refers to, in order."""
    seen: dict[str, None] = {}
    for path in iter_paths(node):
        head = path.head
        if isinstance(head, str):
            seen.setdefault(head, None)
    return list(seen)
