"""The tokenizer shared by every expression kind.

Never fails: a character DynamoDB does not accept becomes a one-character BAD token,
so the parser reports it as a syntax error at the right place (and an earlier syntax
error wins, as in DynamoDB's parser).
"""

from __future__ import annotations

from dataclasses import dataclass

from dynastore.engine.expr.reserved import KEYWORDS

# Token kinds besides the punctuation and keywords, which are their own kind.
IDENT = "IDENT"  # attribute or function name: a letter, then letters, digits, _
NAME = "NAME"  # #placeholder
VALUE = "VALUE"  # :placeholder
INT = "INT"  # unsigned integer (only valid as a list index)
BAD = "BAD"  # a character no token starts with
EOF = "EOF"

COMPARATORS = frozenset(("=", "<>", "<", "<=", ">", ">="))
_SINGLE = frozenset("=<>()[],.+-")
_DOUBLE = frozenset(("<>", "<=", ">="))
_WHITESPACE = frozenset(" \t\r\n")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    start: int
    end: int


def _is_letter(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z")


def _is_word(c: str) -> bool:
    return _is_letter(c) or ("0" <= c <= "9") or c == "_"


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens, ending with an EOF token."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _WHITESPACE:
            i += 1
            continue
        start = i
        if _is_letter(c):
            while i < n and _is_word(text[i]):
                i += 1
            word = text[start:i]
            upper = word.upper()
            kind = upper if upper in KEYWORDS else IDENT
        elif c in "#:":
            i += 1
            while i < n and _is_word(text[i]):
                i += 1
            kind = BAD if i == start + 1 else (NAME if c == "#" else VALUE)
        elif "0" <= c <= "9":
            i += 1
            # A leading zero stands alone: "01" is two tokens, as in DynamoDB.
            if c != "0":
                while i < n and "0" <= text[i] <= "9":
                    i += 1
            kind = INT
        elif text[i : i + 2] in _DOUBLE:
            i += 2
            kind = text[start:i]
        elif c in _SINGLE:
            i += 1
            kind = c
        else:
            i += 1
            kind = BAD
        tokens.append(Token(kind, text[start:i], start, i))
    tokens.append(Token(EOF, "<EOF>", n, n))
    return tokens
