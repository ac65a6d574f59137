"""Parse DynamoDB expressions (all five kinds) into the AST of `nodes`.

Design note
-----------
DynamoDB reports an expression's problems in phases: first the text (length, empty,
syntax, redundant parentheses, too many operators), then a static pass over the tree
in written order (reserved words, list index range, unknown functions, a function used
where it can't be, a condition function's operand count), then the placeholders and
the operand types (that is `resolve.py`, which needs the request's maps). Everything
here depends on the text alone, so the result is cacheable by (kind, text).

One tokenizer and one recursive-descent parser serve every kind. Precedence is
OR < AND < NOT < comparisons (= <> < <= > >=, BETWEEN, IN) < operands. AND and OR
chains are read in a loop and flattened into n-ary nodes, NOT prefixes are counted in
a loop, so only parentheses and function calls recurse; a nesting guard keeps Python's
stack safe within the 4 KB limit.

A "(" where a condition may start is ambiguous: "(a = :v)" groups a condition,
"(a) = :v" groups an operand. Instead of backtracking, the group's content is read as
"a condition, or a lone operand"; what follows the ")" decides. A call is either: a
function such as begins_with is a condition, size() an operand, and a static check
later refuses the one in the wrong place, with DynamoDB's message.

Syntax errors carry DynamoDB's token and context: `token` is the token where reading
stopped ("<EOF>" at the end) and `near` the source text from the start of the token
before it (or the start of the text) to the end of the token after it (or the end of
the text).
"""

from __future__ import annotations

from typing import NoReturn

from dynastore.engine.expr.lexer import (
    COMPARATORS,
    EOF,
    IDENT,
    INT,
    NAME,
    VALUE,
    Token,
    tokenize,
)
from dynastore.engine.expr.nodes import (
    CONDITION_KINDS,
    AddAction,
    And,
    Arith,
    Between,
    Call,
    Compare,
    Condition,
    ConditionKind,
    DeleteAction,
    Expression,
    ExpressionKind,
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
)
from dynastore.engine.expr.reserved import is_reserved
from dynastore.errors import ValidationException

MAX_EXPRESSION_BYTES = 4096
MAX_OPERATORS = 300
MAX_LIST_INDEX = 2147483647
# Parentheses and calls nested deeper than this are refused before Python's stack is
# at risk; DynamoDB's own limits (operators, redundant parentheses) stop real input first.
MAX_NESTING = 200

CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
OPERAND_FUNCTIONS = {"size": 1}
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
ALL_FUNCTIONS = {**CONDITION_FUNCTIONS, **OPERAND_FUNCTIONS, **UPDATE_FUNCTIONS}

_SIZED_KINDS = frozenset(("ConditionExpression", "FilterExpression"))
_OPERATOR_TOKENS = COMPARATORS | {"AND", "OR", "NOT", "BETWEEN", "IN", "+", "-"}
_CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")


def invalid(kind: str, message: str) -> ValidationException:
    """A ValidationException about one expression: ``Invalid <kind>: <message>``."""
    return ValidationException(f"Invalid {kind}: {message}")


def check_text(kind: str, text: str) -> None:
    """The checks DynamoDB makes before reading: empty, then over 4 KB (UTF-8 bytes).

    Only a condition or a filter that is too long has its size in the message.
    """
    if text == "":
        raise invalid(kind, "The expression can not be empty;")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_EXPRESSION_BYTES:
        message = "Expression size has exceeded the maximum allowed size;"
        if kind in _SIZED_KINDS:
            message += f" expression size: {size}"
        raise invalid(kind, message)


class _Parser:
    """Recursive descent over the token list; one instance per parse."""

    def __init__(self, kind: str, text: str) -> None:
        self.kind = kind
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.operators = 0
        self.depth = 0
        self.closing: dict[int, int] = {}  # "(" token index -> its ")" index

    # --- token plumbing ------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, kind: str) -> Token:
        if self.peek().kind != kind:
            self.fail()
        return self.next()

    def fail(self, at: int | None = None) -> NoReturn:
        index = self.pos if at is None else at
        token = self.tokens[index]
        start = self.tokens[index - 1].start if index > 0 else 0
        end = self.tokens[index + 1].end if index + 1 < len(self.tokens) else token.end
        near = self.text[start:end]
        raise invalid(self.kind, f'Syntax error; token: "{token.text}", near: "{near}"')

    def count_operator(self) -> None:
        self.operators += 1
        if self.operators > MAX_OPERATORS:
            raise invalid(
                self.kind,
                f"The expression contains too many operators; operator count: {self.operators}",
            )

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            self._too_deep()

    def _too_deep(self) -> NoReturn:
        """Refuse nesting past MAX_NESTING with the error DynamoDB would most likely give
        (deep valid nesting, which DynamoDB accepts, ends in a syntax error here)."""
        count = sum(1 for t in self.tokens if t.kind in _OPERATOR_TOKENS)
        if count > MAX_OPERATORS:
            raise invalid(
                self.kind,
                f"The expression contains too many operators; operator count: {MAX_OPERATORS + 1}",
            )
        matches: dict[int, int] = {}
        stack: list[int] = []
        for index, token in enumerate(self.tokens):
            if token.kind == "(":
                stack.append(index)
            elif token.kind == ")" and stack:
                matches[stack.pop()] = index
        for open_index, close_index in matches.items():
            if self.tokens[open_index + 1].kind == "(" and (
                matches.get(open_index + 1) == close_index - 1
            ):
                raise invalid(self.kind, "The expression has redundant parentheses;")
        calls = [
            t.text
            for t, after in zip(self.tokens, self.tokens[1:], strict=False)
            if t.kind == IDENT and after.kind == "("
        ]
        for name in calls:
            if name not in ALL_FUNCTIONS:
                raise invalid(self.kind, f"Invalid function name; function: {name}")
        if calls.count("size") > 1:
            # size(size(x)): the inner size is a number, which size() refuses.
            raise invalid(
                self.kind,
                "Incorrect operand type for operator or function; "
                "operator or function: size, operand type: N",
            )
        self.fail(self.pos - 1)

    def open_group(self) -> int:
        """Read the "(" of a group one level deeper; its index, for `close_group`."""
        open_index = self.pos
        self.next()
        self.enter()
        return open_index

    def close_group(self, open_index: int) -> None:
        """Read the ")" of a group opened at `open_index`; refuse "((x))"."""
        self.expect(")")
        close_index = self.pos - 1
        self.closing[open_index] = close_index
        self.depth -= 1
        inner = open_index + 1
        if self.tokens[inner].kind == "(" and self.closing.get(inner) == close_index - 1:
            raise invalid(self.kind, "The expression has redundant parentheses;")

    # --- operands ------------------------------------------------------------------

    def path(self) -> Path:
        token = self.peek()
        if token.kind not in (IDENT, NAME):
            self.fail()
        self.next()
        elements: list[PathElement] = [_name_element(token)]
        while True:
            kind = self.peek().kind
            if kind == ".":
                self.next()
                token = self.peek()
                if token.kind not in (IDENT, NAME):
                    self.fail()
                self.next()
                elements.append(_name_element(token))
            elif kind == "[":
                self.next()
                index = self.expect(INT)
                self.expect("]")
                elements.append(int(index.text))
            else:
                return Path(tuple(elements))

    def operand(self) -> Operand:
        token = self.peek()
        if token.kind == VALUE:
            self.next()
            return ValueRef(token.text)
        if token.kind == "(":
            open_index = self.open_group()
            inner = self.operand()
            self.close_group(open_index)
            return inner
        if token.kind == IDENT and self.peek(1).kind == "(":
            return self.call()
        if token.kind in (IDENT, NAME):
            return self.path()
        self.fail()

    def call(self) -> Call:
        name = self.next().text
        self.next()  # "("
        self.enter()
        args = [self.operand()]
        while self.peek().kind == ",":
            self.next()
            args.append(self.operand())
        self.expect(")")
        self.depth -= 1
        return Call(name, tuple(args))

    # --- conditions ----------------------------------------------------------------

    def condition(self, allow_operand: bool) -> Condition | Operand:
        """OR of ANDs of (NOT*) primaries; with `allow_operand`, a lone operand too."""
        or_terms: list[Condition] = []
        and_terms: list[Condition] = []
        first = True
        while True:
            nots = 0
            while self.peek().kind == "NOT":
                self.next()
                self.count_operator()
                nots += 1
            term = self.primary(allow_operand and first and nots == 0)
            if isinstance(term, Path | ValueRef | Literal):
                # A bare operand is only valid as the whole content of a group.
                if self.peek().kind in ("AND", "OR"):
                    self.fail()
                return term
            for _ in range(nots):
                term = Not(term)
            first = False
            and_terms.append(term)
            if self.peek().kind == "AND":
                self.next()
                self.count_operator()
                continue
            or_terms.append(and_terms[0] if len(and_terms) == 1 else And(tuple(and_terms)))
            and_terms = []
            if self.peek().kind == "OR":
                self.next()
                self.count_operator()
                continue
            return or_terms[0] if len(or_terms) == 1 else Or(tuple(or_terms))

    def primary(self, allow_operand: bool) -> Condition | Operand:
        if self.peek().kind == "(":
            open_index = self.open_group()
            inner = self.condition(allow_operand=True)
            self.close_group(open_index)
            if isinstance(inner, Path | ValueRef | Call):
                return self.comparison(inner, allow_operand)
            return inner
        return self.comparison(self.operand(), allow_operand)

    def comparison(self, left: Operand, allow_operand: bool) -> Condition | Operand:
        kind = self.peek().kind
        if kind in COMPARATORS:
            self.next()
            self.count_operator()
            return Compare(kind, left, self.operand())
        if kind == "BETWEEN":
            self.next()
            self.count_operator()
            low = self.operand()
            self.expect("AND")
            return Between(left, low, self.operand())
        if kind == "IN":
            self.next()
            self.count_operator()
            self.expect("(")
            choices = [self.operand()]
            while self.peek().kind == ",":
                self.next()
                choices.append(self.operand())
            self.expect(")")
            return In(left, tuple(choices))
        if allow_operand or isinstance(left, Call):
            return left
        self.fail()

    # --- updates and projections ---------------------------------------------------

    def update(self) -> UpdateExpr:
        clauses: list[UpdateClause] = []
        while True:
            keyword = self.peek().kind
            if keyword not in _CLAUSES:
                self.fail()
            self.next()
            actions = [self.update_action(keyword)]
            while self.peek().kind == ",":
                self.next()
                actions.append(self.update_action(keyword))
            clauses.append(UpdateClause(keyword, tuple(actions)))
            if self.peek().kind == EOF:
                return UpdateExpr(tuple(clauses))

    def update_action(self, keyword: str) -> UpdateAction:
        path = self.path()
        if keyword == "SET":
            self.expect("=")
            return SetAction(path, self.set_value())
        if keyword == "REMOVE":
            return RemoveAction(path)
        value = ValueRef(self.expect(VALUE).text)
        return AddAction(path, value) if keyword == "ADD" else DeleteAction(path, value)

    def set_value(self) -> SetValue:
        left = self.set_operand()
        op = self.peek().kind
        if op in ("+", "-"):
            self.next()
            self.count_operator()
            return Arith(op, left, self.set_operand())
        return left

    def set_operand(self) -> SetValue:
        """An operand of SET's right-hand side; a group here may hold arithmetic."""
        if self.peek().kind != "(":
            return self.operand()
        open_index = self.open_group()
        inner = self.set_value()
        self.close_group(open_index)
        return inner

    def projection(self) -> Projection:
        paths = [self.path()]
        while self.peek().kind == ",":
            self.next()
            paths.append(self.path())
        return Projection(tuple(paths))

    def end(self) -> None:
        if self.peek().kind != EOF:
            self.fail()


def _name_element(token: Token) -> PathElement:
    return NameRef(token.text) if token.kind == NAME else token.text


# --- the static pass ---------------------------------------------------------------


class _StaticCheck:
    """Pass one, in written order: names, list indexes, functions and their places."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.update = kind == "UpdateExpression"

    def path(self, path: Path) -> None:
        for element in path.elements:
            if isinstance(element, int):
                if element > MAX_LIST_INDEX:
                    raise invalid(
                        self.kind,
                        f"List index is not within the allowable range; index: [{element}]",
                    )
            elif isinstance(element, str) and is_reserved(element):
                raise invalid(
                    self.kind,
                    f"Attribute name is a reserved keyword; reserved keyword: {element}",
                )

    def node(self, node: object, place: str) -> None:
        """`place` is "condition" where a condition is expected, else "operand"."""
        if isinstance(node, Path):
            self.path(node)
        elif isinstance(node, Call):
            self.call(node, place)
        elif isinstance(node, And | Or):
            for term in node.operands:
                self.node(term, "condition")
        elif isinstance(node, Not):
            self.node(node.operand, "condition")
        elif isinstance(node, Compare | Arith):
            self.node(node.left, "operand")
            self.node(node.right, "operand")
        elif isinstance(node, Between):
            for operand in (node.operand, node.low, node.high):
                self.node(operand, "operand")
        elif isinstance(node, In):
            for operand in (node.operand, *node.choices):
                self.node(operand, "operand")

    def call(self, node: Call, place: str) -> None:
        name = node.name
        if name not in ALL_FUNCTIONS:
            raise invalid(self.kind, f"Invalid function name; function: {name}")
        if self.update:
            if name not in UPDATE_FUNCTIONS:
                raise invalid(
                    self.kind,
                    f"The function is not allowed in an update expression; function: {name}",
                )
        else:
            if name in UPDATE_FUNCTIONS:
                raise invalid(
                    self.kind,
                    f"The function is not allowed in a condition expression; function: {name}",
                )
            if (place == "condition") != (name in CONDITION_FUNCTIONS):
                raise invalid(
                    self.kind,
                    "The function is not allowed to be used this way in an expression; "
                    f"function: {name}",
                )
            # An update's functions are counted later, with its placeholders.
            check_arity(self.kind, node)
        for arg in node.args:
            self.node(arg, "operand")

    def update_expr(self, update: UpdateExpr) -> None:
        # Read a section at a time, in the order sections first appear; each of SET,
        # REMOVE, ADD and DELETE may appear once.
        sections: dict[str, list[UpdateClause]] = {}
        for clause in update.clauses:
            sections.setdefault(clause.keyword, []).append(clause)
        for keyword, clauses in sections.items():
            for clause in clauses:
                for action in clause.actions:
                    self.path(action.path)
                    if not isinstance(action, RemoveAction):
                        self.node(action.value, "operand")
            if len(clauses) > 1:
                raise invalid(
                    self.kind,
                    f'The "{keyword}" section can only be used once in an update expression;',
                )


def check_arity(kind: str, node: Call) -> None:
    """Refuse a call with the wrong number of operands (DynamoDB's message)."""
    expected = ALL_FUNCTIONS[node.name]
    if len(node.args) != expected:
        raise invalid(
            kind,
            "Incorrect number of operands for operator or function; "
            f"operator or function: {node.name}, number of operands: {len(node.args)}",
        )


# --- entry points ------------------------------------------------------------------


def parse(kind: ExpressionKind, text: str) -> Expression:
    """Parse one expression of `kind`, raising DynamoDB's ValidationException."""
    check_text(kind, text)
    parser = _Parser(kind, text)
    checker = _StaticCheck(kind)
    if kind == "UpdateExpression":
        update = parser.update()
        checker.update_expr(update)
        return update
    if kind == "ProjectionExpression":
        projection = parser.projection()
        parser.end()
        for path in projection.paths:
            checker.path(path)
        return projection
    if kind not in CONDITION_KINDS:
        raise ValueError(f"unknown expression kind {kind!r}")
    node = parser.condition(allow_operand=False)
    parser.end()
    if not isinstance(node, Compare | Between | In | And | Or | Not | Call):
        raise AssertionError("a condition was expected")  # condition() refuses operands
    checker.node(node, "condition")
    return node


def parse_condition(text: str, kind: ConditionKind = "ConditionExpression") -> Condition:
    """Parse a ConditionExpression, FilterExpression or KeyConditionExpression."""
    node = parse(kind, text)
    assert not isinstance(node, UpdateExpr | Projection)
    return node


def parse_update(text: str) -> UpdateExpr:
    node = parse("UpdateExpression", text)
    assert isinstance(node, UpdateExpr)
    return node


def parse_projection(text: str) -> Projection:
    node = parse("ProjectionExpression", text)
    assert isinstance(node, Projection)
    return node


__all__ = [
    "ALL_FUNCTIONS",
    "MAX_EXPRESSION_BYTES",
    "MAX_OPERATORS",
    "check_arity",
    "check_text",
    "invalid",
    "parse",
    "parse_condition",
    "parse_projection",
    "parse_update",
]
