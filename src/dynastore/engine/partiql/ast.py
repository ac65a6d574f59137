"""The PartiQL syntax tree: what the parser returns and the planner consumes.

Expressions stay close to the text (the planner decides what each means where it
appears); literal values are already DynamoDB AttributeValues, and collection literals
(`[...]`, `{...}`, `<<...>>`) are folded into one value at parse time.
"""

from __future__ import annotations

from dataclasses import dataclass

from dynastore.engine.partiql.lexer import Token
from dynastore.engine.values import AttrValue

PathStep = str | int


@dataclass(frozen=True, slots=True)
class Lit:
    """A literal value; `value` None is MISSING."""

    value: AttrValue | None
    token: Token


@dataclass(frozen=True, slots=True)
class Param:
    """The `index`-th `?` (0-based)."""

    index: int
    token: Token


@dataclass(frozen=True, slots=True)
class Ref:
    """A document path: `a`, `"a"`, `a.b[2]`, `a['b']`."""

    steps: tuple[PathStep, ...]
    token: Token

    @property
    def label(self) -> str:
        """The name a SELECT answers this path under: its last name and any indexes after."""
        last = max(i for i, step in enumerate(self.steps) if isinstance(step, str))
        tail = "".join(f"[{step}]" for step in self.steps[last + 1 :])
        return f"{self.steps[last]}{tail}"


@dataclass(frozen=True, slots=True)
class Call:
    """A function call; `name` is lower case."""

    name: str
    args: tuple[Expr, ...]
    token: Token


@dataclass(frozen=True, slots=True)
class Unary:
    """NOT, or a sign on something that is not a number literal."""

    op: str
    operand: Expr
    token: Token


@dataclass(frozen=True, slots=True)
class Binary:
    """AND, OR, a comparison (`!=` is `<>`) or arithmetic."""

    op: str
    left: Expr
    right: Expr
    token: Token


@dataclass(frozen=True, slots=True)
class Between:
    operand: Expr
    low: Expr
    high: Expr
    negated: bool
    token: Token


@dataclass(frozen=True, slots=True)
class InList:
    operand: Expr
    choices: tuple[Expr, ...]
    negated: bool
    token: Token


@dataclass(frozen=True, slots=True)
class Is:
    """`x IS [NOT] MISSING | NULL | <type name>` (type upper case)."""

    operand: Expr
    type_name: str
    negated: bool
    token: Token


@dataclass(frozen=True, slots=True)
class ItemLit:
    """An INSERT's item `{'a': 1, 'b': ?}`: unlike a nested literal, its members may be
    parameters."""

    members: tuple[tuple[str, Lit | Param], ...]
    token: Token


Expr = Lit | Param | Ref | Call | Unary | Binary | Between | InList | Is | ItemLit


# --- statements --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """`"table"` or `"table"."index"`."""

    table: str
    index: str | None
    token: Token


@dataclass(frozen=True, slots=True)
class OrderBy:
    name: str
    descending: bool


@dataclass(frozen=True, slots=True)
class Select:
    source: Source
    projection: tuple[Ref, ...] | None  # None: *
    where: Expr | None
    order_by: tuple[OrderBy, ...] = ()


@dataclass(frozen=True, slots=True)
class Insert:
    source: Source
    value: Expr


@dataclass(frozen=True, slots=True)
class Assign:
    """One action of an UPDATE: SET path = value, or REMOVE path (value None)."""

    target: Ref
    value: Expr | None


@dataclass(frozen=True, slots=True)
class Update:
    source: Source
    actions: tuple[Assign, ...]
    where: Expr | None
    returning: str | None  # "ALL OLD", "MODIFIED NEW", ...


@dataclass(frozen=True, slots=True)
class Delete:
    source: Source
    where: Expr | None
    returning: str | None


@dataclass(frozen=True, slots=True)
class Exists:
    """`EXISTS(SELECT ...)`: a condition check, only inside ExecuteTransaction."""

    select: Select


Statement = Select | Insert | Update | Delete | Exists


@dataclass(frozen=True, slots=True)
class Parsed:
    statement: Statement
    parameters: int  # how many `?` the statement holds
