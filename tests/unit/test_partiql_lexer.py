"""PartiQL tokens: names, quoting, numbers, comments, positions and lexical errors."""

from __future__ import annotations

import pytest

from dynastore.engine.partiql.lexer import (
    END,
    NAME,
    NOT_WELL_FORMED,
    NUMBER,
    PARAM,
    QUOTED,
    STRING,
    SYMBOL,
    tokenize,
)
from dynastore.errors import ValidationException


def kinds(text: str) -> list[tuple[str, str]]:
    return [(token.kind, token.text) for token in tokenize(text)]


def test_statement_tokens() -> None:
    assert kinds("SELECT a FROM \"t\" WHERE n >= 1.5e3 AND s = 'x'") == [
        (NAME, "SELECT"),
        (NAME, "a"),
        (NAME, "FROM"),
        (QUOTED, "t"),
        (NAME, "WHERE"),
        (NAME, "n"),
        (SYMBOL, ">="),
        (NUMBER, "1.5e3"),
        (NAME, "AND"),
        (NAME, "s"),
        (SYMBOL, "="),
        (STRING, "x"),
        (END, ""),
    ]


def test_doubled_quotes_escape_themselves() -> None:
    assert kinds("'it''s' \"a\"\"b\"")[:2] == [(STRING, "it's"), (QUOTED, 'a"b')]


def test_multi_character_symbols() -> None:
    assert [text for _, text in kinds("<< >> <> != <= >= || ?")][:-1] == [
        "<<", ">>", "<>", "!=", "<=", ">=", "||", "?",
    ]  # fmt: skip
    assert tokenize("?")[0].kind == PARAM


def test_comments_are_skipped() -> None:
    text = "SELECT /* all */ * -- everything\nFROM t"
    assert [t for _, t in kinds(text)][:-1] == ["SELECT", "*", "FROM", "t"]


def test_a_comment_marker_inside_a_string_is_text() -> None:
    assert kinds("'a--b /*c*/'")[0] == (STRING, "a--b /*c*/")


def test_positions_are_line_column_length() -> None:
    tokens = tokenize("SELECT *\n  FROM tab")
    tab = tokens[3]
    assert (tab.line, tab.column, tab.length) == (2, 8, 3)
    assert tab.where == "2:8:3"


@pytest.mark.parametrize("text", ["SELECT 'open", 'SELECT "open', "SELECT 1 /* open", "a # b"])
def test_unreadable_text_is_not_well_formed(text: str) -> None:
    with pytest.raises(ValidationException) as info:
        tokenize(text)
    assert info.value.message == NOT_WELL_FORMED


def test_keywords_match_ignoring_case() -> None:
    token = tokenize("select")[0]
    assert token.keyword("SELECT")
    assert not tokenize('"select"')[0].keyword("SELECT")
