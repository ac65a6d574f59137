"""SNS subscription filter policies: which messages a subscription receives.

A policy is a JSON object. Each key names a message attribute (FilterPolicyScope
MessageAttributes, the default) or a field of the JSON message body (MessageBody, where
objects nest); its value is a list of conditions, any of which must match: a string or
number (exact), ``{"prefix"}``, ``{"suffix"}``, ``{"equals-ignore-case"}``,
``{"anything-but": value | [values] | {"prefix": ...}}``, ``{"numeric": [op, n, ...]}``
and ``{"exists": bool}``. All keys must match. A String.Array attribute matches when
one of its elements does.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

import orjson

_NUMERIC: Mapping[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_MISSING = object()


def parse_policy(text: str) -> dict[str, Any] | None:
    """The policy object, or None when `text` is not a JSON object."""
    try:
        policy = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return policy if isinstance(policy, dict) else None


def attribute_values(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Publish's MessageAttributes as plain values (numbers as floats, arrays as lists)."""
    out: dict[str, Any] = {}
    for name, attr in attributes.items():
        kind = str(attr.get("DataType", "String"))
        text = attr.get("StringValue")
        if kind.startswith("Number") and text is not None:
            try:
                out[name] = float(text)
            except ValueError:
                out[name] = text
        elif kind == "String.Array" and text is not None:
            try:
                out[name] = orjson.loads(text)
            except orjson.JSONDecodeError:
                out[name] = text
        elif text is not None:
            out[name] = text
        else:
            out[name] = attr.get("BinaryValue")
    return out


def matches(policy: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    for key, conditions in policy.items():
        found = values.get(key, _MISSING) if isinstance(values, Mapping) else _MISSING
        if isinstance(conditions, dict):
            if not isinstance(found, Mapping) or not matches(conditions, found):
                return False
            continue
        if not isinstance(conditions, list):
            conditions = [conditions]
        if not any(_condition(c, found) for c in conditions):
            return False
    return True


def _condition(condition: Any, found: Any) -> bool:
    if isinstance(condition, dict):
        if "exists" in condition:
            return (found is not _MISSING) == bool(condition["exists"])
        if found is _MISSING:
            return False
        candidates = found if isinstance(found, list) else [found]
        return any(_operator(condition, value) for value in candidates)
    if found is _MISSING:
        return False
    candidates = found if isinstance(found, list) else [found]
    return any(_equal(condition, value) for value in candidates)


def _equal(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return expected is value
    if isinstance(expected, int | float) and isinstance(value, int | float):
        return float(expected) == float(value)
    return bool(expected == value)


def _operator(condition: Mapping[str, Any], value: Any) -> bool:
    if "prefix" in condition:
        return isinstance(value, str) and value.startswith(str(condition["prefix"]))
    if "suffix" in condition:
        return isinstance(value, str) and value.endswith(str(condition["suffix"]))
    if "equals-ignore-case" in condition:
        return (
            isinstance(value, str) and value.lower() == str(condition["equals-ignore-case"]).lower()
        )
    if "anything-but" in condition:
        excluded = condition["anything-but"]
        if isinstance(excluded, dict):
            return not _operator(excluded, value)
        if not isinstance(excluded, list):
            excluded = [excluded]
        return not any(_equal(e, value) for e in excluded)
    if "numeric" in condition:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        terms = list(condition["numeric"])
        for i in range(0, len(terms) - 1, 2):
            compare = _NUMERIC.get(str(terms[i]))
            if compare is None or not compare(float(value), float(terms[i + 1])):
                return False
        return True
    return False
