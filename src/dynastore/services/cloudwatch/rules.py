"""Composite alarms' AlarmRule language: parse, list the children, evaluate.

    rule     := or
    or       := and ("OR" and)*
    and      := unary ("AND" unary)*
    unary    := "NOT" unary | primary
    primary  := "(" or ")" | "TRUE" | "FALSE" | STATE "(" alarm ")"
              | "AT_LEAST" "(" count "," ["NOT"] STATE "," "(" alarm ("," alarm)* ")" ")"
    STATE    := "ALARM" | "OK" | "INSUFFICIENT_DATA"

NOT binds tighter than AND, AND tighter than OR. An alarm is its name or ARN, bare (no
spaces, parentheses, commas or quotes) or in double quotes; ``count`` is a number or a
percentage of the listed alarms. Keywords are upper case. A rule that does not parse
is CloudWatch's ValidationError "Error in AlarmRule [Unsupported token 'x' at char n,
must be: ...]" (n counts from 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from dynastore.errors import ValidationException

STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")
_OPERAND = "'(', 'NOT', AT_LEAST, TRUE or FALSE, ALARM, OK, or INSUFFICIENT_DATA"
_STATE = "ALARM, OK, INSUFFICIENT_DATA, NOT ALARM, NOT OK, or NOT INSUFFICIENT_DATA"
_SPECIAL = '(),"'


@dataclass(frozen=True, slots=True)
class Const:
    value: bool


@dataclass(frozen=True, slots=True)
class State:
    state: str
    alarm: str  # a name or ARN, as written (without quotes)


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class Op:
    op: str  # "AND" or "OR"
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class AtLeast:
    count: float
    percent: bool
    state: str
    negate: bool
    alarms: tuple[str, ...]


Node = Const | State | Not | Op | AtLeast


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    at: int
    quoted: bool = False


def rule_error(detail: str) -> ValidationException:
    return ValidationException(f"Error in AlarmRule [{detail}]")


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise rule_error(f"Unsupported token '{text[i:]}' at char {i}")
            out.append(_Token(text[i + 1 : end], i, quoted=True))
            i = end + 1
        elif char in _SPECIAL:
            out.append(_Token(char, i))
            i += 1
        else:
            start = i
            while i < len(text) and not text[i].isspace() and text[i] not in _SPECIAL:
                i += 1
            out.append(_Token(text[start:i], start))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self._tokens = _tokens(text)
        self._end = len(text)
        self._at = 0

    def _peek(self) -> _Token | None:
        return self._tokens[self._at] if self._at < len(self._tokens) else None

    def _is(self, word: str) -> bool:
        token = self._peek()
        return token is not None and not token.quoted and token.text == word

    def _fail(self, expected: str) -> ValidationException:
        token = self._peek()
        if token is None:
            return rule_error(f"Unsupported token '<EOF>' at char {self._end}, must be: {expected}")
        shown = f'"{token.text}"' if token.quoted else token.text
        return rule_error(f"Unsupported token '{shown}' at char {token.at}, must be: {expected}")

    def _take(self, word: str) -> None:
        if not self._is(word):
            raise self._fail(f"'{word}'")
        self._at += 1

    def rule(self) -> Node:
        node = self._or(nested=False)
        if self._peek() is not None:
            raise self._fail("AND or OR")
        return node

    def _or(self, nested: bool) -> Node:
        operands = [self._and()]
        while self._is("OR"):
            self._at += 1
            operands.append(self._and())
        if nested and not self._is(")"):
            raise self._fail("AND, OR, or ')'")
        return operands[0] if len(operands) == 1 else Op("OR", tuple(operands))

    def _and(self) -> Node:
        operands = [self._unary()]
        while self._is("AND"):
            self._at += 1
            operands.append(self._unary())
        return operands[0] if len(operands) == 1 else Op("AND", tuple(operands))

    def _unary(self) -> Node:
        if self._is("NOT"):
            self._at += 1
            return Not(self._unary())
        return self._primary()

    def _primary(self) -> Node:
        token = self._peek()
        if token is None or token.quoted:
            raise self._fail(_OPERAND)
        word = token.text
        if word == "(":
            self._at += 1
            node = self._or(nested=True)
            self._take(")")
            return node
        if word in ("TRUE", "FALSE"):
            self._at += 1
            return Const(word == "TRUE")
        if word in STATES:
            self._at += 1
            self._take("(")
            alarm = self._alarm()
            self._take(")")
            return State(word, alarm)
        if word == "AT_LEAST":
            self._at += 1
            return self._at_least()
        raise self._fail(_OPERAND)

    def _alarm(self) -> str:
        token = self._peek()
        if token is None or (not token.quoted and token.text in _SPECIAL) or not token.text:
            raise self._fail("an alarm name or ARN")
        self._at += 1
        return token.text

    def _at_least(self) -> AtLeast:
        self._take("(")
        token = self._peek()
        text = token.text if token is not None and not token.quoted else ""
        percent = text.endswith("%")
        try:
            count = float(text[:-1] if percent else text)
        except ValueError:
            count = math.nan
        if not math.isfinite(count) or count < 0 or (percent and count > 100):
            raise self._fail("a number or a percentage")
        self._at += 1
        self._take(",")
        negate = self._is("NOT")
        if negate:
            self._at += 1
        state = self._peek()
        if state is None or state.quoted or state.text not in STATES:
            raise self._fail(_STATE)
        self._at += 1
        self._take(",")
        self._take("(")
        alarms = [self._alarm()]
        while self._is(","):
            self._at += 1
            alarms.append(self._alarm())
        self._take(")")
        self._take(")")
        return AtLeast(count, percent, state.text, negate, tuple(alarms))


def parse(text: str) -> Node:
    """The rule's tree; CloudWatch's ValidationError when it does not parse."""
    return _Parser(text).rule()


def children(node: Node) -> list[str]:
    """The alarms a rule names (names or ARNs as written), first mention first."""
    found: list[str] = []

    def visit(part: Node) -> None:
        if isinstance(part, State):
            names = [part.alarm]
        elif isinstance(part, AtLeast):
            names = list(part.alarms)
        elif isinstance(part, Not):
            visit(part.operand)
            return
        elif isinstance(part, Op):
            for operand in part.operands:
                visit(operand)
            return
        else:
            return
        found.extend(n for n in names if n not in found)

    visit(node)
    return found


def evaluate(node: Node, state_of: Callable[[str], str]) -> bool:
    """The rule's value, `state_of` giving the state of a named alarm."""
    if isinstance(node, Const):
        return node.value
    if isinstance(node, State):
        return state_of(node.alarm) == node.state
    if isinstance(node, Not):
        return not evaluate(node.operand, state_of)
    if isinstance(node, Op):
        values = (evaluate(operand, state_of) for operand in node.operands)
        return all(values) if node.op == "AND" else any(values)
    hits = sum(1 for a in node.alarms if (state_of(a) == node.state) != node.negate)
    needed = node.count * len(node.alarms) / 100 if node.percent else node.count
    return hits >= needed


def alarm_name(reference: str, account: str, region: str) -> str | None:
    """The name of the alarm a rule refers to in this account and region, or None."""
    if not reference.startswith("arn:"):
        return reference
    parts = reference.split(":", 6)
    if len(parts) != 7 or parts[2] != "cloudwatch" or parts[5] != "alarm":
        return None
    if parts[3] != region or parts[4] != account:
        return None
    return parts[6]
