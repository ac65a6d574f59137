"""Metric math: arithmetic and the common functions over time series.

An expression is parsed to a small AST and evaluated against the other queries'
results (id -> series, a series being {timestamp: value}). Supported: numbers, query
ids, ``+ - * / ^``, parentheses, unary minus, arrays ``[a, b]``, ``METRICS()`` and the
functions SUM, AVG, MIN, MAX (of an array: per timestamp; of one series: a scalar),
ABS, CEIL, FLOOR, FILL(series, number), DIFF and RATE. Two series combine at the
timestamps they share, as CloudWatch does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dynastore.errors import ValidationException

Series = dict[int, float]
Value = float | Series | list[Series]

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|(.))")


@dataclass(frozen=True, slots=True)
class _Num:
    value: float


@dataclass(frozen=True, slots=True)
class _Ref:
    name: str


@dataclass(frozen=True, slots=True)
class _Neg:
    operand: _Node


@dataclass(frozen=True, slots=True)
class _Bin:
    op: str
    left: _Node
    right: _Node


@dataclass(frozen=True, slots=True)
class _Call:
    name: str
    args: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Array:
    items: tuple[_Node, ...]


_Node = _Num | _Ref | _Neg | _Bin | _Call | _Array


class ExpressionError(Exception):
    """A syntax or evaluation error; the caller names the query."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    at = 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            break
        at = match.end()
        number, name, other = match.groups()
        if number is not None:
            out.append(("num", number))
        elif name is not None:
            out.append(("name", name))
        elif other is not None and not other.isspace():
            out.append(("op", other))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, text: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] == text:
            self.at += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.take(text):
            raise ExpressionError(f"Syntax error: expected '{text}'")

    def parse(self) -> _Node:
        node = self.sum()
        if self.peek() is not None:
            raise ExpressionError(f"Syntax error: unexpected '{self.peek()[1]}'")  # type: ignore[index]
        return node

    def sum(self) -> _Node:
        return self.chain(("+", "-"), self.product)

    def product(self) -> _Node:
        return self.chain(("*", "/"), self.power)

    def chain(self, ops: tuple[str, ...], operand: Callable[[], _Node]) -> _Node:
        """Operands joined by left-associative `ops`."""
        node = operand()
        while (token := self.peek()) is not None and token[0] == "op" and token[1] in ops:
            self.at += 1
            node = _Bin(token[1], node, operand())
        return node

    def power(self) -> _Node:
        node = self.unary()
        if self.take("^"):
            return _Bin("^", node, self.power())
        return node

    def unary(self) -> _Node:
        if self.take("-"):
            return _Neg(self.unary())
        if self.take("+"):
            return self.unary()
        return self.primary()

    def primary(self) -> _Node:
        token = self.peek()
        if token is None:
            raise ExpressionError("Syntax error: unexpected end of expression")
        kind, text = token
        if kind == "num":
            self.at += 1
            return _Num(float(text))
        if kind == "name":
            self.at += 1
            if self.take("("):
                args: list[_Node] = []
                if not self.take(")"):
                    args.append(self.sum())
                    while self.take(","):
                        args.append(self.sum())
                    self.expect(")")
                return _Call(text.upper(), tuple(args))
            return _Ref(text)
        if self.take("("):
            node = self.sum()
            self.expect(")")
            return node
        if self.take("["):
            items = [self.sum()]
            while self.take(","):
                items.append(self.sum())
            self.expect("]")
            return _Array(tuple(items))
        raise ExpressionError(f"Syntax error: unexpected '{text}'")


def parse(text: str) -> _Node:
    return _Parser(text).parse()


def references(node: _Node) -> set[str]:
    """Query ids an expression reads (METRICS() reads all metric queries: '*')."""
    if isinstance(node, _Ref):
        return {node.name}
    if isinstance(node, _Neg):
        return references(node.operand)
    if isinstance(node, _Bin):
        return references(node.left) | references(node.right)
    if isinstance(node, _Call):
        found = {"*"} if node.name == "METRICS" else set()
        for arg in node.args:
            found |= references(arg)
        return found
    if isinstance(node, _Array):
        out: set[str] = set()
        for item in node.items:
            out |= references(item)
        return out
    return set()


_OPS: Mapping[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "^": lambda a, b: float(a**b),
}


def _apply(op: str, a: float, b: float) -> float | None:
    try:
        out = _OPS[op](a, b)
    except (ZeroDivisionError, OverflowError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _binary(op: str, left: Value, right: Value) -> Value:
    if isinstance(left, list) or isinstance(right, list):
        if isinstance(left, list) and isinstance(right, list):
            raise ExpressionError("Cannot combine two arrays of time series")
        if isinstance(left, list):
            assert not isinstance(right, list)
            return [_as_series(_series_op(op, s, right)) for s in left]
        assert isinstance(right, list)
        return [_as_series(_series_op(op, left, s)) for s in right]
    return _series_op(op, left, right)


def _as_series(value: float | Series) -> Series:
    return value if isinstance(value, dict) else {}


def _series_op(op: str, left: float | Series, right: float | Series) -> float | Series:
    if isinstance(left, dict) and isinstance(right, dict):
        pairs = ((t, left[t], right[t]) for t in left if t in right)
    elif isinstance(left, dict):
        pairs = ((t, v, float(right)) for t, v in left.items())  # type: ignore[arg-type]
    elif isinstance(right, dict):
        pairs = ((t, float(left), v) for t, v in right.items())
    else:
        result = _apply(op, left, right)
        if result is None:
            raise ExpressionError("Division by zero")
        return result
    out: Series = {}
    for stamp, a, b in pairs:
        result = _apply(op, a, b)
        if result is not None:
            out[stamp] = result
    return out


_ROUNDING: Mapping[str, Callable[[float], float]] = {
    "ABS": abs,
    "CEIL": lambda v: float(math.ceil(v)),
    "FLOOR": lambda v: float(math.floor(v)),
}


def _reduce(name: str, values: list[float]) -> float | None:
    if not values:
        return None
    if name == "SUM":
        return sum(values)
    if name == "AVG":
        return sum(values) / len(values)
    if name == "MIN":
        return min(values)
    return max(values)


class Evaluator:
    """Evaluates parsed expressions against other queries' series."""

    def __init__(
        self, lookup: Callable[[str], Series], metric_ids: list[str], slots: list[int]
    ) -> None:
        self._lookup = lookup
        self._metric_ids = metric_ids
        self._slots = slots  # every period start of the request (FILL)

    def evaluate(self, node: _Node) -> Value:
        if isinstance(node, _Num):
            return node.value
        if isinstance(node, _Ref):
            return self._lookup(node.name)
        if isinstance(node, _Neg):
            return _binary("*", self.evaluate(node.operand), -1.0)
        if isinstance(node, _Bin):
            return _binary(node.op, self.evaluate(node.left), self.evaluate(node.right))
        if isinstance(node, _Array):
            items: list[Series] = []
            for item in node.items:
                found = self.evaluate(item)
                if isinstance(found, list):
                    items.extend(found)
                elif isinstance(found, dict):
                    items.append(found)
                else:
                    raise ExpressionError("An array may only hold time series")
            return items
        return self._call(node)

    def _call(self, node: _Call) -> Value:
        name = node.name
        if name == "METRICS":
            return [self._lookup(i) for i in self._metric_ids]
        args = [self.evaluate(a) for a in node.args]
        if name in ("SUM", "AVG", "MIN", "MAX"):
            if len(args) != 1:
                raise ExpressionError(f"{name} takes one argument")
            (arg,) = args
            if isinstance(arg, list):
                stamps = sorted({t for s in arg for t in s})
                out: Series = {}
                for stamp in stamps:
                    got = _reduce(name, [s[stamp] for s in arg if stamp in s])
                    if got is not None:
                        out[stamp] = got
                return out
            if isinstance(arg, dict):
                scalar = _reduce(name, list(arg.values()))
                return scalar if scalar is not None else {}
            return arg
        if name in ("ABS", "CEIL", "FLOOR"):
            fn = _ROUNDING[name]
            return self._map(args, name, lambda s: {t: float(fn(v)) for t, v in s.items()}, fn)
        if name in ("DIFF", "RATE"):
            return self._map(args, name, lambda s: _diff(s, name == "RATE"), None)
        if name == "FILL":
            return self._fill(args)
        raise ExpressionError(f"Unknown function {name}")

    def _map(
        self,
        args: list[Value],
        name: str,
        per_series: Callable[[Series], Series],
        scalar: Callable[[float], float] | None,
    ) -> Value:
        if len(args) != 1:
            raise ExpressionError(f"{name} takes one argument")
        (arg,) = args
        if isinstance(arg, list):
            return [per_series(s) for s in arg]
        if isinstance(arg, dict):
            return per_series(arg)
        if scalar is None:
            raise ExpressionError(f"{name} needs a time series")
        return float(scalar(arg))

    def _fill(self, args: list[Value]) -> Value:
        if len(args) != 2 or not isinstance(args[1], float):
            raise ExpressionError("FILL takes a time series and a number")
        source, filler = args[0], args[1]
        slots = self._slots

        def fill(series: Series) -> Series:
            return {t: series.get(t, filler) for t in slots} | series

        if isinstance(source, list):
            return [fill(s) for s in source]
        if isinstance(source, dict):
            return fill(source)
        raise ExpressionError("FILL needs a time series")


def _diff(series: Series, rate: bool) -> Series:
    out: Series = {}
    previous: tuple[int, float] | None = None
    for stamp in sorted(series):
        value = series[stamp]
        if previous is not None:
            delta = value - previous[1]
            elapsed = stamp - previous[0]
            out[stamp] = delta / elapsed if rate and elapsed else delta
        previous = (stamp, value)
    return out


def validation(query_id: str, error: ExpressionError) -> ValidationException:
    return ValidationException(f"Error in expression {query_id}: {error}")
