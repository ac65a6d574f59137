"""PartiQL statements: the trees the parser builds and DynamoDB's parse error messages."""

from __future__ import annotations

import pytest

from dynastore.engine.partiql import ast, parse
from dynastore.engine.partiql.lexer import NOT_WELL_FORMED
from dynastore.errors import ValidationException


def error_of(text: str) -> str:
    with pytest.raises(ValidationException) as info:
        parse(text)
    return info.value.message or ""


def test_select_star_with_index_and_where() -> None:
    parsed = parse('SELECT * FROM "Music"."ByYear" WHERE Artist = ? AND n > 3')
    select = parsed.statement
    assert isinstance(select, ast.Select)
    assert (select.source.table, select.source.index) == ("Music", "ByYear")
    assert select.projection is None
    assert parsed.parameters == 1
    assert isinstance(select.where, ast.Binary) and select.where.op == "AND"


def test_projection_paths_and_their_labels() -> None:
    select = parse("SELECT a, m.sub, l[1], m.deep[0][2] FROM t").statement
    assert isinstance(select, ast.Select) and select.projection is not None
    assert [ref.label for ref in select.projection] == ["a", "sub", "l[1]", "deep[0][2]"]
    assert select.projection[3].steps == ("m", "deep", 0, 2)


def test_literals_fold_into_attribute_values() -> None:
    insert = parse(
        "INSERT INTO t VALUE {'pk': 'a', 'n': -1.50, 'b': true, 'z': null, "
        "'l': [1, 'x'], 'm': {'k': 2}, 'ss': <<'a', 'b'>>, 'ns': <<1, 2>>}"
    ).statement
    assert isinstance(insert, ast.Insert) and isinstance(insert.value, ast.ItemLit)
    values = {name: member.value for name, member in insert.value.members}
    assert isinstance(insert.value.members[0][1], ast.Lit)
    assert values == {
        "pk": {"S": "a"},
        "n": {"N": "-1.5"},
        "b": {"BOOL": True},
        "z": {"NULL": True},
        "l": {"L": [{"N": "1"}, {"S": "x"}]},
        "m": {"M": {"k": {"N": "2"}}},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
    }


def test_insert_members_may_be_parameters() -> None:
    parsed = parse("INSERT INTO t VALUE {'pk': ?, 'n': ?}")
    insert = parsed.statement
    assert isinstance(insert, ast.Insert) and isinstance(insert.value, ast.ItemLit)
    assert [type(member).__name__ for _, member in insert.value.members] == ["Param", "Param"]
    assert parsed.parameters == 2


def test_update_with_several_clauses_and_returning() -> None:
    update = parse(
        "UPDATE t SET a = a + 1, b = list_append(b, [1]) SET c = set_add(c, <<'x'>>) "
        "REMOVE d.e WHERE pk = 'k' RETURNING MODIFIED NEW *"
    ).statement
    assert isinstance(update, ast.Update)
    assert [a.target.steps for a in update.actions] == [("a",), ("b",), ("c",), ("d", "e")]
    assert update.actions[3].value is None
    assert update.returning == "MODIFIED NEW"


def test_delete_and_exists() -> None:
    delete = parse("DELETE FROM t WHERE pk = 'a' RETURNING ALL OLD *").statement
    assert isinstance(delete, ast.Delete) and delete.returning == "ALL OLD"
    exists = parse("EXISTS(SELECT * FROM t WHERE pk = 'a' AND x IS MISSING)").statement
    assert isinstance(exists, ast.Exists) and exists.select.source.table == "t"


def test_precedence_of_between_and_not() -> None:
    select = parse("SELECT * FROM t WHERE NOT a = 1 AND n BETWEEN -2 AND +5 OR b IN [1, 2]")
    where = select.statement.where  # type: ignore[union-attr]
    assert isinstance(where, ast.Binary) and where.op == "OR"
    left = where.left
    assert isinstance(left, ast.Binary) and left.op == "AND"
    assert isinstance(left.left, ast.Unary) and left.left.op == "NOT"
    between = left.right
    assert isinstance(between, ast.Between)
    assert isinstance(between.low, ast.Lit) and between.low.value == {"N": "-2"}
    assert isinstance(where.right, ast.InList)


def test_is_forms() -> None:
    where = parse("SELECT * FROM t WHERE a IS NOT MISSING AND b IS NULL").statement.where  # type: ignore[union-attr]
    assert isinstance(where, ast.Binary)
    assert isinstance(where.left, ast.Is) and where.left.negated
    assert isinstance(where.right, ast.Is) and where.right.type_name == "NULL"


def test_comments_semicolon_and_lower_case() -> None:
    parsed = parse("select/**/* from t -- all\nwhere pk='a';")
    assert isinstance(parsed.statement, ast.Select)


MISSING_RIGHT = "Missing right-hand side expression of infix operator"
LEFTOVER = "Unexpected token after expression"
NO_PATH = "Expected identifier for simple path"


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("SELECT * FROM t WHERE", "Unexpected term"),
        ("SELECT * FROM t WHERE;", "Unexpected term"),
        ("SELECT * FROM", "Unexpected term"),
        ("SELECT * FROM t WHERE pk = 'p' AND", MISSING_RIGHT),
        ("SELECT * FROM t WHERE pk = 'p' OR", MISSING_RIGHT),
        ("SELECT * FROM t WHERE pk = 1 foo", LEFTOVER),
        ("SELECT * FROM t WHERE pk = 1)", LEFTOVER),
        ("DELETE FROM t WHERE pk = 1 ORDER BY pk", LEFTOVER),
        ("SLECT * FROM t", "Expected data manipulation"),
        ("DELETE FROM", NO_PATH),
        ("DELETE FROM WHERE pk = 'a'", NO_PATH),
        ("SELECT * FROM t WHERE IS NULL", "Unexpected operator"),
        ("SELECT * FROM t WHERE pk = LIKE", "Unexpected operator"),
        ("SELECT * FROM t WHERE ORDER BY pk", "Unexpected keyword"),
        ("SELECT * FROM t WHERE pad = 'x'", "Unexpected keyword"),
        ("SELECT * FROM t WHERE x IS FOO", "Expected type name"),
        ("SELECT * FROM t WHERE pk = 1 /* note", ""),
    ],
)
def test_not_well_formed(text: str, detail: str) -> None:
    assert error_of(text) == NOT_WELL_FORMED + detail


INVALID = "One or more parameter values were invalid: "
RANGE = "Attempting to store a number with magnitude"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT * FROM t x WHERE pk = 'x'", "Aliasing is not supported"),
        ("SELECT * FROM t AS x WHERE pk = 'x'", "Aliasing is not supported"),
        (
            'SELECT * FROM "t"."i"."j"',
            "A path may contain at most 2 components in the FROM clause",
        ),
        ('SELECT * FROM ""', "Path component cannot be an empty string"),
        (
            "SELECT *, a FROM t",
            "Other attributes should not be present in the projection when '*' is used.",
        ),
        ("SELECT * FROM t LIMIT 1", "Unsupported clause: LIMIT"),
        (
            "INSERT INTO t VALUE {'pk': 'a'} RETURNING ALL OLD *",
            "RETURNING is not supported in INSERT",
        ),
        (
            "INSERT INTO t VALUE {'pk': 'a', 'pk': 'b'}",
            "Duplicate keys in tuple. Key: pk under root",
        ),
        (
            "UPDATE t SET x = [?] WHERE pk = 'a'",
            "Unsupported data type: Parameter under key root[0] at 1:19:1",
        ),
        (
            "INSERT INTO t VALUE {'pk': 'a', 'm': {'k': ?}}",
            "Unsupported data type: Parameter under key root.k at 1:44:1",
        ),
        (
            "SELECT l[-1] FROM t",
            "List index is not within the allowable range; index: [-1] at 1:11:1",
        ),
        ("SELECT * FROM t WHERE s = <<>>", "Empty bags are not supported"),
        (
            "SELECT * FROM t WHERE s = <<'a', 1>>",
            "Unsupported data type in Bag. DynamoDB only supports either numbers or strings "
            "in bags",
        ),
        (
            "SELECT * FROM t WHERE s = <<'a', 'a'>>",
            INVALID + "Input collection [a, a] contains duplicates.",
        ),
        (
            "SELECT * FROM t WHERE pk = 1e126",
            f"Number overflow. {RANGE} larger than supported range under root",
        ),
        (
            "INSERT INTO t VALUE {'pk': 1, 'l': [1, 1e-131]}",
            f"Number underflow. {RANGE} smaller than supported range under root[1]",
        ),
    ],
)
def test_semantic_parse_errors(text: str, message: str) -> None:
    assert error_of(text) == message


def test_a_number_literal_keeps_its_sign() -> None:
    where = parse("SELECT * FROM t WHERE n = - - 1").statement.where  # type: ignore[union-attr]
    assert isinstance(where, ast.Binary)
    assert isinstance(where.right, ast.Lit) and where.right.value == {"N": "1"}


def test_deep_nesting_is_refused_not_a_crash() -> None:
    nested = "SELECT * FROM t WHERE " + "(" * 60 + "a = 1" + ")" * 60
    assert error_of(nested) == NOT_WELL_FORMED + "Expression nesting exceeds the supported depth"
    calls = "SELECT * FROM t WHERE " + "size(" * 300 + "a" + ")" * 300 + " > 1"
    assert error_of(calls) == NOT_WELL_FORMED + "Expression nesting exceeds the supported depth"
    assert isinstance(parse("SELECT * FROM t WHERE " + "(" * 40 + "a = 1" + ")" * 40), ast.Parsed)
