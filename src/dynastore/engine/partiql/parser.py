"""A recursive-descent parser for the PartiQL statements DynamoDB runs.

SELECT, INSERT, UPDATE (also written FROM-first: `FROM t WHERE ... SET ...`), DELETE and
EXISTS(SELECT ...); expressions with DynamoDB's precedence (OR < AND < NOT < comparisons,
IS, IN, BETWEEN < `||` < `+ -` < `* / %` < signs). Errors use the wording of DynamoDB's
parser ("Statement wasn't well formed, can't be processed: Unexpected term", ...); semantic
checks (keys, tables) are the planner's.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from dynastore.engine.partiql.ast import (
    Assign,
    Between,
    Binary,
    Call,
    Delete,
    Exists,
    Expr,
    InList,
    Insert,
    Is,
    ItemLit,
    Lit,
    OrderBy,
    Param,
    Parsed,
    PathStep,
    Ref,
    Select,
    Source,
    Statement,
    Unary,
    Update,
)
from dynastore.engine.partiql.lexer import (
    END,
    NAME,
    NUMBER,
    PARAM,
    QUOTED,
    STRING,
    SYMBOL,
    Token,
    malformed,
    tokenize,
)
from dynastore.engine.values import AttrValue, format_number, parse_number
from dynastore.errors import ValidationException

MAX_NESTING = 32
# Parentheses, NOT and signs nest by recursion (about ten frames a level): refuse a
# statement nested deeper than this rather than exhaust the interpreter's stack.
MAX_EXPRESSION_DEPTH = 50
TOO_DEEP = "Expression nesting exceeds the supported depth"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_COMPARISONS = ("=", "<>", "!=", "<", "<=", ">", ">=")
# Words that may not name an attribute unless double quoted (the SQL-92 words PartiQL
# reserves, and PartiQL's own). Function names are allowed before "(".
RESERVED = _words(
    """
    ABSOLUTE ACTION ADD ALL ALLOCATE ALTER AND ANY ARE AS ASC ASSERTION AT AUTHORIZATION AVG
    BAG BEGIN BETWEEN BIT BIT_LENGTH BLOB BOOL BOOLEAN BOTH BY CASCADE CASCADED CASE CAST
    CATALOG CHAR CHARACTER CHARACTER_LENGTH CHAR_LENGTH CHECK CLOB CLOSE COALESCE COLLATE
    COLLATION COLUMN COMMIT CONNECT CONNECTION CONSTRAINT CONSTRAINTS CONTINUE CONVERT
    CORRESPONDING COUNT CREATE CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP
    CURRENT_USER CURSOR DATE DAY DEALLOCATE DEC DECIMAL DECLARE DEFAULT DEFERRABLE DEFERRED
    DELETE DESC DESCRIBE DESCRIPTOR DIAGNOSTICS DISCONNECT DISTINCT DOMAIN DOUBLE DROP ELSE
    END ESCAPE EXCEPT EXCEPTION EXEC EXECUTE EXISTS EXTERNAL EXTRACT FALSE FETCH FIRST FLOAT
    FOR FOREIGN FOUND FROM FULL GET GLOBAL GO GOTO GRANT GROUP HAVING HOUR IDENTITY IMMEDIATE
    IN INDICATOR INITIALLY INNER INPUT INSENSITIVE INSERT INT INTEGER INTERSECT INTERVAL INTO
    IS ISOLATION JOIN KEY LANGUAGE LAST LEADING LEFT LET LEVEL LIKE LIMIT LIST LOCAL LOWER
    MATCH MAX MIN MINUTE MISSING MODULE MONTH NAMES NATIONAL NATURAL NCHAR NEXT NO NOT NULL
    NULLIF NUMERIC OCTET_LENGTH OF OFFSET ON ONLY OPEN OPTION OR ORDER OUTER OUTPUT OVERLAPS
    PAD PARTIAL PIVOT POSITION PRECISION PREPARE PRESERVE PRIMARY PRIOR PRIVILEGES PROCEDURE
    PUBLIC READ REAL REFERENCES RELATIVE REMOVE RESTRICT REVOKE RIGHT ROLLBACK ROWS SCHEMA
    SCROLL SECOND SECTION SELECT SESSION SESSION_USER SET SEXP SIZE SMALLINT SOME SPACE SQL
    SQLCODE SQLERROR SQLSTATE STRING STRUCT SUBSTRING SUM SYMBOL SYSTEM_USER TABLE TEMPORARY
    THEN TIME TIMESTAMP TIMEZONE_HOUR TIMEZONE_MINUTE TO TRAILING TRANSACTION TRANSLATE
    TRANSLATION TRIM TRUE TUPLE UNION UNIQUE UNKNOWN UNPIVOT UPDATE UPPER USAGE USER USING
    VALUE VALUES VARCHAR VARYING VIEW WHEN WHENEVER WHERE WITH WORK WRITE YEAR ZONE
    """
)
_INFIX_WORDS = ("AND", "OR", "IS", "LIKE", "IN", "BETWEEN")
_TYPE_NAMES = _words(
    """
    MISSING NULL BOOL BOOLEAN STRING SYMBOL INT INT4 INT8 INTEGER SMALLINT BIGINT FLOAT REAL
    DECIMAL NUMERIC DOUBLE BLOB CLOB STRUCT TUPLE LIST SEXP BAG CHAR VARCHAR CHARACTER DATE
    TIME TIMESTAMP
    """
)
_RETURNING = ("ALL OLD", "ALL NEW", "MODIFIED OLD", "MODIFIED NEW")


def parse(text: str) -> Parsed:
    """Parse one statement; raises DynamoDB's ValidationException."""
    parser = _Parser(tokenize(text))
    statement = parser.statement()
    parser.finish()
    return Parsed(statement, parser.parameters)


def number_value(text: str, where: str = "root") -> AttrValue:
    """A number literal as an N value, with DynamoDB's range checks."""
    try:
        exponent_ok = abs(Decimal(text).as_tuple().exponent) < 2**31  # type: ignore[arg-type]
    except ArithmeticError:
        exponent_ok = False
    if not exponent_ok:
        raise malformed()
    try:
        return {"N": format_number(parse_number(text))}
    except ValidationException as error:
        raise ValidationException(f"{error.message} under {where}") from None


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.parameters = 0
        self.depth = 0

    def deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_EXPRESSION_DEPTH:
            raise malformed(TOO_DEEP)

    # --- tokens ---------------------------------------------------------------------

    @property
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != END:
            self.pos += 1
        return token

    def accept_keyword(self, *words: str) -> Token | None:
        if self.peek.keyword(*words):
            return self.next()
        return None

    def accept_symbol(self, *symbols: str) -> Token | None:
        if self.peek.symbol(*symbols):
            return self.next()
        return None

    def expect_keyword(self, word: str) -> Token:
        token = self.accept_keyword(word)
        if token is None:
            raise self.unexpected(f"Expected {word}")
        return token

    def expect_symbol(self, symbol: str, detail: str) -> Token:
        token = self.accept_symbol(symbol)
        if token is None:
            raise self.unexpected(detail)
        return token

    def unexpected(self, detail: str) -> ValidationException:
        token = self.peek
        if token.kind == END or token.symbol(";"):
            return malformed("Unexpected term" if detail.startswith("Expected") else detail)
        return malformed(detail)

    def finish(self) -> None:
        self.accept_symbol(";")
        if self.peek.kind != END:
            raise malformed("Unexpected token after expression")

    # --- statements -----------------------------------------------------------------

    def statement(self) -> Statement:
        token = self.peek
        if token.keyword("SELECT"):
            return self.select()
        if token.keyword("INSERT"):
            return self.insert()
        if token.keyword("UPDATE"):
            return self.update()
        if token.keyword("DELETE"):
            return self.delete()
        if token.keyword("FROM"):
            return self.from_update()
        if token.keyword("EXISTS"):
            self.next()
            self.expect_symbol("(", "Expected (")
            if not self.peek.keyword("SELECT"):
                raise malformed("Unsupported operation in transaction.")
            select = self.select()
            self.expect_symbol(")", "Expected )")
            return Exists(select)
        raise malformed("Expected data manipulation")

    def source(self, insert: bool = False) -> Source:
        token = self.peek
        parts = [self.source_part()]
        while self.accept_symbol("."):
            parts.append(self.source_part())
        if len(parts) > 2:
            raise ValidationException("A path may contain at most 2 components in the FROM clause")
        if insert and self.at_identifier():
            # `INSERT INTO "t" x VALUE ...` reads `x` as the value: the rest is left over
            raise malformed("Unexpected token after expression")
        if self.accept_keyword("AS") or self.at_identifier():
            raise ValidationException("Aliasing is not supported")
        return Source(parts[0], parts[1] if len(parts) == 2 else None, token)

    def at_identifier(self) -> bool:
        """Whether the next token is a name that is not a keyword (an alias, say)."""
        token = self.peek
        return token.kind == QUOTED or (token.kind == NAME and token.text.upper() not in RESERVED)

    def source_part(self) -> str:
        token = self.peek
        if token.kind == QUOTED or (token.kind == NAME and token.text.upper() not in RESERVED):
            self.next()
            if token.text == "":
                raise ValidationException("Path component cannot be an empty string")
            return token.text
        if token.kind == STRING:
            raise ValidationException("Unexpected from source")
        raise malformed("Expected identifier for simple path")

    def select(self) -> Select:
        self.expect_keyword("SELECT")
        projection: tuple[Ref, ...] | None
        if self.accept_symbol("*"):
            projection = None
            if self.peek.symbol(","):
                raise ValidationException(
                    "Other attributes should not be present in the projection when '*' is used."
                )
        else:
            refs = [self.projected()]
            while self.accept_symbol(","):
                refs.append(self.projected())
            projection = tuple(refs)
        if not self.accept_keyword("FROM"):
            raise self.unexpected("Expected FROM")
        if self.peek.kind == END:
            raise malformed("Unexpected term")
        source = self.source()
        where = self.where()
        order: list[OrderBy] = []
        if self.accept_keyword("ORDER"):
            self.expect_keyword("BY")
            while True:
                name = self.name_token()
                descending = bool(self.accept_keyword("DESC"))
                if not descending:
                    self.accept_keyword("ASC")
                order.append(OrderBy(name.text, descending))
                if not self.accept_symbol(","):
                    break
        if self.peek.keyword("LIMIT", "OFFSET", "GROUP", "HAVING"):
            raise ValidationException(f"Unsupported clause: {self.peek.text.upper()}")
        return Select(source, projection, where, tuple(order))

    def projected(self) -> Ref:
        if self.peek.symbol("*"):
            raise ValidationException(
                "Other attributes should not be present in the projection when '*' is used."
            )
        expr = self.additive()
        if isinstance(expr, Call):
            raise ValidationException(f"Unexpected path component at {expr.token.where}")
        if not isinstance(expr, Ref):
            raise ValidationException("Unsupported operation: only paths can be projected")
        if self.peek.keyword("AS"):
            raise ValidationException("Aliasing is not supported")
        return expr

    def where(self) -> Expr | None:
        if not self.accept_keyword("WHERE"):
            return None
        return self.expression()

    def returning(self) -> str | None:
        if not self.accept_keyword("RETURNING"):
            return None
        first = self.accept_keyword("ALL", "MODIFIED")
        second = self.accept_keyword("OLD", "NEW")
        if first is None or second is None:
            raise malformed("Expected ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause")
        if self.accept_symbol("*") is None:
            raise ValidationException(
                "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause"
            )
        if self.peek.symbol(","):
            raise ValidationException(
                "Invalid syntax with multiple returning elements in RETURNING clause"
            )
        return f"{first.text.upper()} {second.text.upper()}"

    def insert(self) -> Insert:
        self.expect_keyword("INSERT")
        if not self.accept_keyword("INTO"):
            raise self.unexpected("Expected INTO")
        source = self.source(insert=True)
        if self.peek.keyword("VALUES"):
            raise ValidationException(
                "Unsupported operation: Inserting multiple items in a single statement is not "
                'supported, use "INSERT INTO tableName VALUE item" instead'
            )
        if not self.accept_keyword("VALUE"):
            raise self.unexpected("Expected VALUE")
        value = self.item() if self.peek.symbol("{") else self.expression()
        if self.peek.keyword("RETURNING"):
            raise ValidationException("RETURNING is not supported in INSERT")
        return Insert(source, value)

    def update(self) -> Update:
        self.expect_keyword("UPDATE")
        source = self.source()
        actions = self.assignments()
        where = self.where()
        return Update(source, actions, where, self.returning())

    def from_update(self) -> Update:
        """PartiQL's FROM-first UPDATE: `FROM t WHERE ... SET ... REMOVE ...`."""
        self.expect_keyword("FROM")
        source = self.source()
        where = self.where()
        return Update(source, self.assignments(), where, self.returning())

    def assignments(self) -> tuple[Assign, ...]:
        """One or more `SET path = value, ...` and `REMOVE path, ...` clauses."""
        actions: list[Assign] = []
        while True:
            keyword = self.accept_keyword("SET", "REMOVE")
            if keyword is None:
                break
            while True:
                target = self.path()
                if keyword.text.upper() == "SET":
                    self.expect_symbol("=", "Expected =")
                    actions.append(Assign(target, self.expression()))
                else:
                    actions.append(Assign(target, None))
                if not self.accept_symbol(","):
                    break
        if not actions:
            raise self.unexpected("Expected SET or REMOVE")
        return tuple(actions)

    def delete(self) -> Delete:
        self.expect_keyword("DELETE")
        if not self.accept_keyword("FROM"):
            raise self.unexpected("Expected FROM")
        source = self.source()
        where = self.where()
        return Delete(source, where, self.returning())

    # --- expressions ----------------------------------------------------------------

    def expression(self) -> Expr:
        return self.disjunction()

    def right_operand(self, parse: str) -> Expr:
        """The right side of an infix operator (`parse` names the method to use)."""
        token = self.peek
        if token.kind == END or token.symbol(";"):
            raise malformed("Missing right-hand side expression of infix operator")
        result: Expr = getattr(self, parse)()
        return result

    def infix(self, operand: str, accept: Callable[..., Token | None], *ops: str) -> Expr:
        """`operand` expressions (a method name) joined by the left-associative `ops`, which
        `accept` reads (keywords or symbols)."""
        left: Expr = getattr(self, operand)()
        while (token := accept(*ops)) is not None:
            left = Binary(token.text.upper(), left, self.right_operand(operand), token)
        return left

    def disjunction(self) -> Expr:
        return self.infix("conjunction", self.accept_keyword, "OR")

    def conjunction(self) -> Expr:
        return self.infix("negation", self.accept_keyword, "AND")

    def negation(self) -> Expr:
        token = self.accept_keyword("NOT")
        if token is not None:
            self.deeper()
            operand = self.negation()
            self.depth -= 1
            return Unary("NOT", operand, token)
        return self.predicate()

    def predicate(self) -> Expr:
        left = self.concatenation()
        token = self.peek
        if token.kind == SYMBOL and token.text in _COMPARISONS:
            self.next()
            op = "<>" if token.text == "!=" else token.text
            return Binary(op, left, self.right_operand("concatenation"), token)
        if token.keyword("IS"):
            self.next()
            negated = bool(self.accept_keyword("NOT"))
            name = self.peek
            if name.kind != NAME or name.text.upper() not in _TYPE_NAMES:
                raise malformed("Expected type name")
            self.next()
            type_name = name.text.upper()
            if type_name == "DOUBLE":
                self.accept_keyword("PRECISION")
            if type_name == "CHARACTER":
                self.accept_keyword("VARYING")
            return Is(left, type_name, negated, token)
        negated_token = self.accept_keyword("NOT")
        if negated_token is not None and not self.peek.keyword("IN", "BETWEEN", "LIKE"):
            raise malformed("Unexpected keyword")
        negated = negated_token is not None
        if (between := self.accept_keyword("BETWEEN")) is not None:
            low = self.right_operand("concatenation")
            self.expect_keyword("AND")
            high = self.right_operand("concatenation")
            return Between(left, low, high, negated, between)
        if (within := self.accept_keyword("IN")) is not None:
            return InList(left, self.in_choices(), negated, within)
        if self.peek.keyword("LIKE"):
            raise ValidationException("Unsupported operation: Like")
        return left

    def in_choices(self) -> tuple[Expr, ...]:
        opener = self.accept_symbol("[", "(")
        if opener is None:
            raise ValidationException(
                "IN operator must have a left hand argument of type Variable Reference and "
                "right hand argument of type Seq with at least one member"
            )
        closer = "]" if opener.text == "[" else ")"
        self.deeper()
        choices = [self.expression()]
        while self.accept_symbol(","):
            choices.append(self.expression())
        self.depth -= 1
        self.expect_symbol(closer, f"Expected {closer}")
        return tuple(choices)

    def concatenation(self) -> Expr:
        return self.infix("additive", self.accept_symbol, "||")

    def additive(self) -> Expr:
        return self.infix("multiplicative", self.accept_symbol, "+", "-")

    def multiplicative(self) -> Expr:
        return self.infix("unary", self.accept_symbol, "*", "/", "%")

    def unary(self) -> Expr:
        token = self.accept_symbol("-", "+")
        if token is None:
            return self.primary()
        self.deeper()
        operand = self.unary()
        self.depth -= 1
        if isinstance(operand, Lit) and operand.value is not None and "N" in operand.value:
            if token.text == "+":
                return operand
            number = operand.value["N"]
            flipped = number[1:] if number.startswith("-") else f"-{number}"
            return Lit({"N": format_number(Decimal(flipped))}, token)
        return Unary(token.text, operand, token)

    def primary(self) -> Expr:
        token = self.peek
        if token.kind == PARAM:
            self.next()
            self.parameters += 1
            return Param(self.parameters - 1, token)
        if token.kind in (STRING, NUMBER) or token.symbol("[", "{", "<<"):
            return Lit(self.constant("root", 1), token)
        if token.symbol("("):
            self.next()
            self.deeper()
            inner = self.expression()
            self.depth -= 1
            self.expect_symbol(")", "Expected )")
            return inner
        if token.kind == NAME:
            word = token.text.upper()
            if word in ("TRUE", "FALSE"):
                self.next()
                return Lit({"BOOL": word == "TRUE"}, token)
            if word == "NULL":
                self.next()
                return Lit({"NULL": True}, token)
            if word == "MISSING":
                self.next()
                return Lit(None, token)
            if self.tokens[self.pos + 1].symbol("("):
                return self.call()
            if word in _INFIX_WORDS:
                raise malformed("Unexpected operator")
            if word in RESERVED:
                raise malformed("Unexpected keyword")
            return self.path()
        if token.kind == QUOTED:
            return self.path()
        if token.kind == SYMBOL and token.text in (*_COMPARISONS, "*", "/", "%", "||"):
            raise malformed("Unexpected operator")
        raise malformed("Unexpected term")

    def call(self) -> Call:
        name = self.next()
        self.expect_symbol("(", "Expected (")
        args: list[Expr] = []
        if not self.accept_symbol(")"):
            self.deeper()
            args.append(self.expression())
            while self.accept_symbol(","):
                args.append(self.expression())
            self.depth -= 1
            self.expect_symbol(")", "Expected )")
        return Call(name.text.lower(), tuple(args), name)

    def name_token(self) -> Token:
        token = self.peek
        if token.kind == QUOTED or (token.kind == NAME and token.text.upper() not in RESERVED):
            return self.next()
        if token.kind == END:
            raise malformed("Unexpected term")
        if token.kind == NAME:
            raise malformed("Unexpected keyword")
        raise malformed("Expected identifier for simple path")

    def path(self) -> Ref:
        head = self.name_token()
        steps: list[PathStep] = [head.text]
        while True:
            if self.accept_symbol("."):
                if self.peek.kind == NAME and self.peek.text.upper() in RESERVED:
                    raise malformed("Invalid path dot component")
                steps.append(self.name_token().text)
            elif self.peek.symbol("["):
                self.next()
                steps.append(self.index())
                self.expect_symbol("]", "Expected ]")
            else:
                return Ref(tuple(steps), head)

    def index(self) -> PathStep:
        token = self.next()
        if token.kind == STRING:
            return token.text
        negative = False
        if token.symbol("-"):
            negative = True
            token = self.next()
        if token.kind != NUMBER or not token.text.isdigit():
            raise malformed("Expected a list index or a string")
        value = -int(token.text) if negative else int(token.text)
        if value < 0 or value > 2**31 - 1:
            raise ValidationException(
                f"List index is not within the allowable range; index: [{value}] at {token.where}"
            )
        return value

    # --- constants ------------------------------------------------------------------

    def constant(self, where: str, depth: int) -> AttrValue:
        """A literal value (collections folded), `where` naming it in messages."""
        token = self.next()
        if token.kind == STRING:
            return {"S": token.text}
        if token.kind == NUMBER:
            return number_value(token.text, where)
        if token.kind == PARAM:
            raise ValidationException(
                f"Unsupported data type: Parameter under key {where} at {token.where}"
            )
        if token.symbol("-", "+"):
            value = self.constant(where, depth)
            if "N" not in value:
                raise malformed("Unexpected term")
            if token.text == "-":
                return {"N": format_number(-Decimal(value["N"]))}
            return value
        if token.kind == NAME and token.text.upper() in ("TRUE", "FALSE"):
            return {"BOOL": token.text.upper() == "TRUE"}
        if token.kind == NAME and token.text.upper() == "NULL":
            return {"NULL": True}
        if token.kind == NAME and self.peek.symbol("("):
            raise ValidationException(
                f"Unsupported data type: {token.text.lower()} under key {where} at {token.where}"
            )
        if depth > MAX_NESTING and token.symbol("[", "{", "<<"):
            raise ValidationException(
                f"Nesting Levels have exceeded supported limits under {where}"
            )
        if token.symbol("["):
            items: list[AttrValue] = []
            if not self.accept_symbol("]"):
                while True:
                    items.append(self.constant(f"{where}[{len(items)}]", depth + 1))
                    if not self.accept_symbol(","):
                        break
                self.expect_symbol("]", "Expected ]")
            return {"L": items}
        if token.symbol("{"):
            return self.struct(where, depth)
        if token.symbol("<<"):
            return self.bag(where)
        self.pos -= 1
        raise malformed("Unexpected term")

    def item(self) -> Expr:
        """An INSERT's item: a struct whose members may be parameters."""
        token = self.next()
        members: list[tuple[str, Lit | Param]] = []
        names: set[str] = set()
        while not self.peek.symbol("}"):
            key = self.next()
            if key.kind != STRING:
                raise ValidationException(
                    f"Tuple keys must be of type String. Actual type: {key.kind.upper()} under root"
                )
            if key.text in names:
                raise ValidationException(f"Duplicate keys in tuple. Key: {key.text} under root")
            names.add(key.text)
            self.expect_symbol(":", "Expected :")
            value = self.peek
            if value.kind == PARAM:
                self.next()
                self.parameters += 1
                members.append((key.text, Param(self.parameters - 1, value)))
            else:
                members.append((key.text, Lit(self.constant("root", 2), value)))
            if not self.accept_symbol(","):
                break
        self.expect_symbol("}", "Expected }")
        return ItemLit(tuple(members), token)

    def struct(self, where: str, depth: int) -> AttrValue:
        members: dict[str, AttrValue] = {}
        if self.accept_symbol("}"):
            return {"M": members}
        while True:
            key = self.next()
            if key.kind != STRING:
                raise ValidationException(
                    f"Tuple keys must be of type String. Actual type: {key.kind.upper()} "
                    f"under {where}"
                )
            if key.text in members:
                raise ValidationException(f"Duplicate keys in tuple. Key: {key.text} under {where}")
            self.expect_symbol(":", "Expected :")
            members[key.text] = self.constant(f"{where}.{key.text}", depth + 1)
            if not self.accept_symbol(","):
                break
        self.expect_symbol("}", "Expected }")
        return {"M": members}

    def bag(self, where: str) -> AttrValue:
        if self.accept_symbol(">>"):
            raise ValidationException("Empty bags are not supported")
        members: list[AttrValue] = []
        while True:
            token = self.peek
            if token.kind == PARAM:
                raise ValidationException(
                    "Unsupported data type in Bag. DynamoDB only supports either numbers or "
                    "strings in bags"
                )
            members.append(self.constant(where, 1))
            if not self.accept_symbol(","):
                break
        self.expect_symbol(">>", "Expected >>")
        kinds = {next(iter(member)) for member in members}
        if len(kinds) != 1 or not kinds <= {"S", "N"}:
            raise ValidationException(
                "Unsupported data type in Bag. DynamoDB only supports either numbers or strings "
                "in bags"
            )
        tag = kinds.pop()
        texts = [member[tag] for member in members]
        shown = ", ".join(texts)
        if tag == "S":
            if len(set(texts)) != len(texts):
                raise ValidationException(
                    f"One or more parameter values were invalid: Input collection [{shown}] "
                    "contains duplicates."
                )
            return {"SS": texts}
        if len({Decimal(text) for text in texts}) != len(texts):
            raise ValidationException(
                f"One or more parameter values were invalid: Input collection [{shown}] "
                f"contains duplicates! under {where}"
            )
        return {"NS": texts}
