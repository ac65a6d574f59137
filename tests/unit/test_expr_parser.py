"""Expression parsing: grammar, precedence, syntax errors and the static checks."""

from __future__ import annotations

import pytest

from dynastore.engine.expr import (
    RESERVED_WORDS,
    AddAction,
    And,
    Arith,
    Between,
    Call,
    Compare,
    DeleteAction,
    In,
    NameRef,
    Not,
    Or,
    Path,
    Projection,
    RemoveAction,
    SetAction,
    UpdateExpr,
    ValueRef,
    parse,
    parse_condition,
    parse_projection,
    parse_update,
)
from dynastore.engine.expr.lexer import tokenize
from dynastore.errors import ValidationException


def p(*elements: str | int | NameRef) -> Path:
    return Path(tuple(elements))


def v(name: str) -> ValueRef:
    return ValueRef(name)


def error(call: object, *args: object) -> str:
    with pytest.raises(ValidationException) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.message is not None
    return caught.value.message


def cond_error(text: str, kind: str = "ConditionExpression") -> str:
    return error(parse, kind, text)


def update_error(text: str) -> str:
    return error(parse_update, text)


# --- tokens ------------------------------------------------------------------------


def test_tokenize_kinds() -> None:
    tokens = tokenize("a.b[10] <> #n AND :v <= 0 >= x1_y")
    assert [(t.kind, t.text) for t in tokens] == [
        ("IDENT", "a"),
        (".", "."),
        ("IDENT", "b"),
        ("[", "["),
        ("INT", "10"),
        ("]", "]"),
        ("<>", "<>"),
        ("NAME", "#n"),
        ("AND", "AND"),
        ("VALUE", ":v"),
        ("<=", "<="),
        ("INT", "0"),
        (">=", ">="),
        ("IDENT", "x1_y"),
        ("EOF", "<EOF>"),
    ]


def test_tokenize_bad_characters_and_leading_zero() -> None:
    kinds = [(t.kind, t.text) for t in tokenize("_a ! # : 01 é")]
    assert kinds == [
        ("BAD", "_"),
        ("IDENT", "a"),
        ("BAD", "!"),
        ("BAD", "#"),
        ("BAD", ":"),
        ("INT", "0"),
        ("INT", "1"),
        ("BAD", "é"),
        ("EOF", "<EOF>"),
    ]


def test_keywords_are_case_insensitive() -> None:
    assert [t.kind for t in tokenize("and Or nOt between IN set Remove add DELETE")][:-1] == [
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "IN",
        "SET",
        "REMOVE",
        "ADD",
        "DELETE",
    ]


# --- conditions --------------------------------------------------------------------


@pytest.mark.parametrize("op", ["=", "<>", "<", "<=", ">", ">="])
def test_comparators(op: str) -> None:
    assert parse_condition(f"a {op} :v") == Compare(op, p("a"), v(":v"))


def test_comparison_without_spaces_and_with_placeholders() -> None:
    assert parse_condition("#a.b[2]>=:v") == Compare(">=", p(NameRef("#a"), "b", 2), v(":v"))


def test_paths_nested_and_indexed() -> None:
    node = parse_condition("a.#b[0][1].c = :v")
    assert node == Compare("=", p("a", NameRef("#b"), 0, 1, "c"), v(":v"))


def test_between_and_in() -> None:
    assert parse_condition("a BETWEEN :lo AND :hi") == Between(p("a"), v(":lo"), v(":hi"))
    assert parse_condition("a IN (:x, :y, b)") == In(p("a"), (v(":x"), v(":y"), p("b")))


def test_functions() -> None:
    assert parse_condition("attribute_exists(a)") == Call("attribute_exists", (p("a"),))
    assert parse_condition("attribute_not_exists(#a)") == Call(
        "attribute_not_exists", (p(NameRef("#a")),)
    )
    assert parse_condition("attribute_type(a, :t)") == Call("attribute_type", (p("a"), v(":t")))
    assert parse_condition("begins_with(a, :p)") == Call("begins_with", (p("a"), v(":p")))
    assert parse_condition("contains(a, :m)") == Call("contains", (p("a"), v(":m")))
    size = Call("size", (p("a"),))
    assert parse_condition("size(a) > :n") == Compare(">", size, v(":n"))
    assert parse_condition(":n < size(a)") == Compare("<", v(":n"), size)


def test_precedence_and_binds_tighter_than_or() -> None:
    a, b, c = (Compare("=", p(x), v(":v")) for x in "abc")
    assert parse_condition("a = :v OR b = :v AND c = :v") == Or((a, And((b, c))))
    assert parse_condition("a = :v AND b = :v OR c = :v") == Or((And((a, b)), c))


def test_precedence_not_binds_tighter_than_and() -> None:
    a, b = (Compare("=", p(x), v(":v")) for x in "ab")
    assert parse_condition("NOT a = :v AND b = :v") == And((Not(a), b))
    assert parse_condition("NOT NOT a = :v") == Not(Not(a))


def test_parentheses_override_precedence() -> None:
    a, b, c = (Compare("=", p(x), v(":v")) for x in "abc")
    assert parse_condition("(a = :v OR b = :v) AND c = :v") == And((Or((a, b)), c))
    assert parse_condition("NOT (a = :v OR b = :v)") == Not(Or((a, b)))


def test_chains_are_flattened() -> None:
    node = parse_condition("a = :v AND b = :v AND c = :v OR a = :v OR b = :v")
    assert isinstance(node, Or) and len(node.operands) == 3
    assert isinstance(node.operands[0], And) and len(node.operands[0].operands) == 3


def test_parenthesized_operands() -> None:
    assert parse_condition("(a) = :v") == Compare("=", p("a"), v(":v"))
    assert parse_condition("(size(a)) > (:v)") == Compare(">", Call("size", (p("a"),)), v(":v"))
    assert parse_condition("(begins_with(a, :v))") == Call("begins_with", (p("a"), v(":v")))
    assert parse_condition("((a) = :v)") == Compare("=", p("a"), v(":v"))


def test_key_condition_kind_uses_same_parser() -> None:
    node = parse_condition("pk = :p AND sk BETWEEN :a AND :b", "KeyConditionExpression")
    assert node == And((Compare("=", p("pk"), v(":p")), Between(p("sk"), v(":a"), v(":b"))))


# --- updates and projections -------------------------------------------------------


def test_update_all_clauses_in_order() -> None:
    node = parse_update(
        "SET a = :v, b = c + :n, d = e - f, g = if_not_exists(g, :z), "
        "h = list_append(h, :l) REMOVE i, j[2] ADD k :n DELETE s :s"
    )
    assert isinstance(node, UpdateExpr)
    assert [c.keyword for c in node.clauses] == ["SET", "REMOVE", "ADD", "DELETE"]
    assert node.clauses[0].actions == (
        SetAction(p("a"), v(":v")),
        SetAction(p("b"), Arith("+", p("c"), v(":n"))),
        SetAction(p("d"), Arith("-", p("e"), p("f"))),
        SetAction(p("g"), Call("if_not_exists", (p("g"), v(":z")))),
        SetAction(p("h"), Call("list_append", (p("h"), v(":l")))),
    )
    assert node.clauses[1].actions == (RemoveAction(p("i")), RemoveAction(p("j", 2)))
    assert node.clauses[2].actions == (AddAction(p("k"), v(":n")),)
    assert node.clauses[3].actions == (DeleteAction(p("s"), v(":s")),)


def test_update_keywords_any_case_and_order() -> None:
    node = parse_update("remove a set b = :v")
    assert [c.keyword for c in node.clauses] == ["REMOVE", "SET"]


def test_update_parenthesized_value_and_function_args() -> None:
    node = parse_update("SET a = (:v), b = if_not_exists(b, (:z)) + :n, c = (d + :n) - (e)")
    assert node.clauses[0].actions == (
        SetAction(p("a"), v(":v")),
        SetAction(p("b"), Arith("+", Call("if_not_exists", (p("b"), v(":z"))), v(":n"))),
        SetAction(p("c"), Arith("-", Arith("+", p("d"), v(":n")), p("e"))),
    )


def test_projection() -> None:
    node = parse_projection("a, b.c[1], #d")
    assert node == Projection((p("a"), p("b", "c", 1), p(NameRef("#d"))))


# --- syntax errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "token", "near"),
    [
        ("foo", "<EOF>", "foo"),
        ("a = ", "<EOF>", "= "),
        ("s == :v", "=", "== :v"),
        ("pk = !!", "!", "= !!"),
        ("#k = :hashId a", "a", ":hashId a"),
        ("a = :v AND", "<EOF>", "AND"),
        ("(a = :v", "<EOF>", ":v"),
        ("a = :v)", ")", ":v)"),
        ("a IN :v", ":v", "IN :v"),
        ("a BETWEEN :x OR :y", "OR", ":x OR :y"),
        ("(a AND b = :v)", "AND", "a AND b"),
        ("NOT (a)", "<EOF>", ")"),
        ("size(a) size(b)", "size", ") size("),
        ("a.and = :v", "and", ".and ="),
        ("a = and", "and", "= and"),
        ("foo()", ")", "()"),
    ],
)
def test_condition_syntax_errors(text: str, token: str, near: str) -> None:
    assert cond_error(text) == (
        f'Invalid ConditionExpression: Syntax error; token: "{token}", near: "{near}"'
    )


@pytest.mark.parametrize(
    ("text", "token", "near"),
    [
        ("SET attrName = 3", "3", "= 3"),
        ("SET attrName = 34", "34", "= 34"),
        ("SET MyStr[ 3", "<EOF>", "3"),
        ("SET MyStr[ 3 ", "<EOF>", "3 "),
        ("SET MyStr[3 )", ")", "3 )"),
        ("SET MyStr[3)", ")", "3)"),
        ("SET 2", "2", "SET 2"),
        ("2", "2", "2"),
        ("SET )", ")", "SET )"),
        ("SET ) 3", ")", "SET ) 3"),
        ("SET MyStr = (:_val", "<EOF>", ":_val"),
        ("SET MyStr = (:_val ", "<EOF>", ":_val "),
        ("SET MyStr = [:_val", "[", "= [:_val"),
        ("SET MyStr = [:_val  ", "[", "= [:_val"),
        ("SET MyStr = (:_val + (:val2", "<EOF>", ":val2"),
        ("SET MyStr = ):_val", ")", "= ):_val"),
        ("SET MyStr = ]:_val", "]", "= ]:_val"),
        ("RESET NonExistent", "RESET", "RESET NonExistent"),
        ("RESET NonExistent value", "RESET", "RESET NonExistent"),
        ("  RESET NonExistent value", "RESET", "  RESET NonExistent"),
        ("RESET", "RESET", "RESET"),
        ("SET a[0].b = 5", "5", "= 5"),
        ("SET a [  2 ]. b = 5", "5", "= 5"),
        ("SET a [  [2] ]. b = 5", "[", "[  [2"),
        ("SET a [2 1]. b = 5", "1", "2 1]"),
        ("SET #a a = 5", "a", "#a a ="),
        ("SET MyStr = NoExist + + :_val ", "+", "+ + :_val"),
        ("SET MyStr = NoExist + - :_val ", "-", "+ - :_val"),
        ("REMOVE NoExist + ", "+", "NoExist + "),
        ("ADD attr val foobar", "val", "attr val foobar"),
        ("ADD attr :val foobar", "foobar", ":val foobar"),
        ("DELETE attr val", "val", "attr val"),
        ("SET path = VALUE 1", "1", "VALUE 1"),
        ("REMOVE if_not_exists(a,b)", "(", "if_not_exists(a"),
        ("SET attrName = _idid", "_", "= _idid"),
        ("|", "|", "|"),
        ("   |", "|", "   |"),
        ("SET|", "|", "SET|"),
        ("SET a|", "|", "a|"),
        ("SET a = b + c + d", "+", "c + d"),
        ("SET a = (b + c) + d - e", "-", "d - e"),
        ("SET", "<EOF>", "SET"),
    ],
)
def test_update_syntax_errors(text: str, token: str, near: str) -> None:
    assert update_error(text) == (
        f'Invalid UpdateExpression: Syntax error; token: "{token}", near: "{near}"'
    )


def test_projection_syntax_errors() -> None:
    assert error(parse_projection, "(a1)") == (
        'Invalid ProjectionExpression: Syntax error; token: "(", near: "(a1"'
    )
    assert error(parse_projection, "a,") == (
        'Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: ","'
    )
    assert error(parse_projection, "!!!") == (
        'Invalid ProjectionExpression: Syntax error; token: "!", near: "!!"'
    )


def test_filter_and_key_kinds_name_themselves() -> None:
    assert cond_error("a", "FilterExpression").startswith("Invalid FilterExpression: Syntax")
    assert cond_error("a", "KeyConditionExpression").startswith(
        "Invalid KeyConditionExpression: Syntax"
    )


# --- text limits -------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        "ConditionExpression",
        "FilterExpression",
        "KeyConditionExpression",
        "UpdateExpression",
        "ProjectionExpression",
    ],
)
def test_empty_expression(kind: str) -> None:
    assert error(parse, kind, "") == f"Invalid {kind}: The expression can not be empty;"


def test_expression_size_limit_counts_utf8_bytes() -> None:
    ok = "a" + " " * 4085 + " = :v"
    assert len(ok) == 4091
    parse("ConditionExpression", ok)
    exactly = "a = :v" + " " * (4096 - 6)
    parse("ConditionExpression", exactly)
    assert cond_error(exactly + " ") == (
        "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; "
        "expression size: 4097"
    )
    # é is two bytes in UTF-8: 2049 of them are 4098 bytes.
    assert cond_error("é" * 2049).endswith("expression size: 4098")


def test_size_limit_wins_over_syntax() -> None:
    assert "expression size: 15000" in cond_error("(" * 15000)


def test_redundant_parentheses() -> None:
    message = "Invalid ConditionExpression: The expression has redundant parentheses;"
    assert cond_error("((a = :v))") == message
    assert cond_error("((a)) = :v") == message
    assert cond_error("a = ((:v))") == message
    assert cond_error("(a = :v) AND ((b = :v))") == message
    assert cond_error("(" * 2000 + "a<b" + ")" * 2000) == message
    assert update_error("SET a = ((:v))").endswith("The expression has redundant parentheses;")
    # A group around a real combination, or around a grouped operand, is fine.
    parse("ConditionExpression", "((a = :v) AND (b = :v))")
    parse("ConditionExpression", "((a) = :v)")


def test_operator_limit() -> None:
    ok = "a<b " + "or (a<b " * 149 + ")" * 149
    parse("ConditionExpression", ok)
    too_many = "a<b " + "or (a<b " * 454 + ")" * 454
    assert len(too_many) < 4096
    assert cond_error(too_many) == (
        "Invalid ConditionExpression: The expression contains too many operators; "
        "operator count: 301"
    )
    assert cond_error("not " * 1000 + "a<b").endswith("operator count: 301")
    many = "SET " + ",".join("a=b+c" for _ in range(301))
    assert update_error(many).endswith("operator count: 301")


def test_deep_nesting_is_refused_cleanly() -> None:
    assert "Invalid function name; function: f" in cond_error(
        "a < " + "f(" * 1355 + "b" + ")" * 1355
    )
    assert cond_error("a < " + "size(" * 680 + "b" + ")" * 680).endswith(
        "operator or function: size, operand type: N"
    )
    assert cond_error("(" * 4000).startswith("Invalid ConditionExpression: Syntax error;")


# --- static checks -----------------------------------------------------------------


def test_reserved_words() -> None:
    assert len(RESERVED_WORDS) == 573
    assert cond_error("name = :v") == (
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name"
    )
    assert cond_error("a.Status = :v").endswith("reserved keyword: Status")
    assert cond_error("attribute_exists(a.b.comment)").endswith("reserved keyword: comment")
    assert update_error("SET x = :v REMOVE year").endswith("reserved keyword: year")
    assert error(parse_projection, "a, data").endswith("reserved keyword: data")
    # Placeholders and function names are not attribute names.
    parse("ConditionExpression", "#name = :name AND size(a) > :v")


def test_first_static_problem_in_written_order_wins() -> None:
    assert cond_error("foo(a) AND name = :v") == (
        "Invalid ConditionExpression: Invalid function name; function: foo"
    )
    assert cond_error("name = :v AND foo(a)").endswith("reserved keyword: name")


def test_function_placement() -> None:
    misused = "The function is not allowed to be used this way in an expression; function: "
    assert cond_error("size(a)") == f"Invalid ConditionExpression: {misused}size"
    assert cond_error("a = :v AND size(a)").endswith(misused + "size")
    assert cond_error("attribute_exists(a) = :v").endswith(misused + "attribute_exists")
    assert cond_error("a = contains(b, :v)").endswith(misused + "contains")
    assert cond_error("attribute_exists(contains(a, :v))").endswith(misused + "contains")
    assert cond_error("if_not_exists(a, :v) = :v") == (
        "Invalid ConditionExpression: The function is not allowed in a condition expression; "
        "function: if_not_exists"
    )
    assert update_error("SET a = size(b)") == (
        "Invalid UpdateExpression: The function is not allowed in an update expression; "
        "function: size"
    )
    assert update_error("SET a = foo(b)") == (
        "Invalid UpdateExpression: Invalid function name; function: foo"
    )


def test_function_names_are_case_sensitive() -> None:
    assert cond_error("ATTRIBUTE_EXISTS(a)") == (
        "Invalid ConditionExpression: Invalid function name; function: ATTRIBUTE_EXISTS"
    )


@pytest.mark.parametrize(
    ("text", "name", "count"),
    [
        ("begins_with(a)", "begins_with", 1),
        ("attribute_exists(a, b)", "attribute_exists", 2),
        ("contains(a, :v, :w)", "contains", 3),
        ("attribute_type(a)", "attribute_type", 1),
        ("size(a, b) > :v", "size", 2),
    ],
)
def test_condition_function_arity(text: str, name: str, count: int) -> None:
    assert cond_error(text, "FilterExpression") == (
        "Invalid FilterExpression: Incorrect number of operands for operator or function; "
        f"operator or function: {name}, number of operands: {count}"
    )


def test_update_section_only_once() -> None:
    assert update_error("SET a = :a SET b = :b") == (
        'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;'
    )
    assert update_error("REMOVE a SET b = :b REMOVE c").endswith(
        'The "REMOVE" section can only be used once in an update expression;'
    )
    assert update_error("ADD a :a ADD b :b").endswith(
        'The "ADD" section can only be used once in an update expression;'
    )
    # The repeated section is reported before problems in later sections.
    assert update_error("SET a = :a SET b = :b REMOVE name").endswith("an update expression;")


def test_list_index_range() -> None:
    parse("ConditionExpression", "a[2147483647] = :v")
    assert cond_error("a[2147483648] = :v") == (
        "Invalid ConditionExpression: List index is not within the allowable range; "
        "index: [2147483648]"
    )
