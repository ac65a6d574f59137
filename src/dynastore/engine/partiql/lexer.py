"""Tokens of DynamoDB's PartiQL statements.

Names are unquoted (letters, digits, `_`, `$`; case-insensitive keywords) or double
quoted (`"a b"`, `""` for a quote). Strings are single quoted (`''` for a quote). Numbers
are decimal with an optional exponent. `--` comments run to the end of the line, `/* */`
comments may span lines. Every token carries its line and column (1-based), which some of
DynamoDB's messages quote as `at line:column:length`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dynastore.errors import ValidationException

NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "

# Kinds
NAME = "name"  # unquoted identifier or keyword
QUOTED = "quoted"  # "identifier"
STRING = "string"  # 'text'
NUMBER = "number"
PARAM = "param"  # ?
SYMBOL = "symbol"
END = "end"

_SYMBOLS = ("<<", ">>", "<=", ">=", "<>", "!=", "||", *"()[]{},.:;*?+-/%=<>")
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPACE = re.compile(r"[ \t\r\n\f]+")


def malformed(detail: str = "") -> ValidationException:
    """DynamoDB's parse error: the fixed sentence, then the parser's detail (maybe empty)."""
    return ValidationException(NOT_WELL_FORMED + detail)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str  # the value: a name as written, a string's content, a symbol
    line: int
    column: int
    length: int

    def keyword(self, *words: str) -> bool:
        """Whether this is an unquoted name equal (ignoring case) to one of `words`."""
        return self.kind == NAME and self.text.upper() in words

    def symbol(self, *symbols: str) -> bool:
        return self.kind == SYMBOL and self.text in symbols

    @property
    def where(self) -> str:
        """`line:column:length`, as DynamoDB appends to some messages."""
        return f"{self.line}:{self.column}:{self.length}"


class _Cursor:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.line_start = 0

    def advance_to(self, end: int) -> None:
        chunk = self.text[self.pos : end]
        newlines = chunk.count("\n")
        if newlines:
            self.line += newlines
            self.line_start = self.pos + chunk.rindex("\n") + 1
        self.pos = end

    @property
    def column(self) -> int:
        return self.pos - self.line_start + 1


def tokenize(text: str) -> list[Token]:
    """The statement's tokens, ending with an END token."""
    cur = _Cursor(text)
    tokens: list[Token] = []
    size = len(text)
    while True:
        _skip_blanks(cur)
        if cur.pos >= size:
            tokens.append(Token(END, "", cur.line, cur.column, 0))
            return tokens
        tokens.append(_token(cur))


def _skip_blanks(cur: _Cursor) -> None:
    text = cur.text
    while True:
        space = _SPACE.match(text, cur.pos)
        if space:
            cur.advance_to(space.end())
        if text.startswith("--", cur.pos):
            end = text.find("\n", cur.pos)
            cur.advance_to(len(text) if end < 0 else end)
        elif text.startswith("/*", cur.pos):
            end = text.find("*/", cur.pos + 2)
            if end < 0:
                raise malformed()
            cur.advance_to(end + 2)
        else:
            return


def _token(cur: _Cursor) -> Token:
    text = cur.text
    start, line, column = cur.pos, cur.line, cur.column
    char = text[start]
    if char in "'\"":
        value, end = _quoted(text, start, char)
        cur.advance_to(end)
        return Token(STRING if char == "'" else QUOTED, value, line, column, end - start)
    match = _NUMBER.match(text, start)
    if match:
        cur.advance_to(match.end())
        return Token(NUMBER, match.group(), line, column, match.end() - start)
    match = _NAME.match(text, start)
    if match:
        cur.advance_to(match.end())
        return Token(NAME, match.group(), line, column, match.end() - start)
    for symbol in _SYMBOLS:
        if text.startswith(symbol, start):
            cur.advance_to(start + len(symbol))
            kind = PARAM if symbol == "?" else SYMBOL
            return Token(kind, symbol, line, column, len(symbol))
    raise malformed()


def _quoted(text: str, start: int, quote: str) -> tuple[str, int]:
    """The content of a quoted token starting at `start`, and the index after it."""
    parts: list[str] = []
    pos = start + 1
    while True:
        end = text.find(quote, pos)
        if end < 0:
            raise malformed()
        parts.append(text[pos:end])
        if text.startswith(quote * 2, end):
            parts.append(quote)
            pos = end + 2
            continue
        return "".join(parts), end + 1
