"""Alarm evaluation: the state a metric alarm's recent datapoints call for.

`evaluate` is pure: it takes the alarm (DescribeAlarms' JSON form) and its datapoints for
the last EvaluationPeriods periods, oldest first (None for a period without data), and
returns the new state with CloudWatch's reason text and reason data. The alarm worker
(workers/alarms.py) reads the datapoints and applies the result.

Rules, as CloudWatch documents them: M out of N (DatapointsToAlarm out of
EvaluationPeriods) breaching datapoints put the alarm in ALARM; missing datapoints are
treated per TreatMissingData (``missing``: not evaluated, and all missing means
INSUFFICIENT_DATA; ``ignore``: not evaluated, and all missing keeps the state;
``breaching`` / ``notBreaching``: counted as such). When the known datapoints can
neither reach M breaching nor rule it out, the state is kept.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

OK = "OK"
ALARM = "ALARM"
INSUFFICIENT = "INSUFFICIENT_DATA"

_COMPARE: Mapping[str, tuple[str, Callable[[float, float], bool]]] = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}


@dataclass(frozen=True, slots=True)
class Point:
    """One period's value (None: no data) and sample count."""

    timestamp: int
    value: float | None
    samples: float = 0.0


@dataclass(frozen=True, slots=True)
class Outcome:
    state: str
    reason: str
    data: dict[str, Any]


def java_double(number: float) -> str:
    """A double as Java prints it in CloudWatch's reasons (5.0, 0.25)."""
    text = repr(float(number))
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        return f"{mantissa}E{int(exponent)}"
    return text


def iso_millis(moment: float) -> str:
    """2025-11-23T14:33:10.123+0000, the form of CloudWatch's reason data."""
    at = datetime.datetime.fromtimestamp(moment, datetime.UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"


def _short(moment: int) -> str:
    return datetime.datetime.fromtimestamp(moment, datetime.UTC).strftime("%d/%m/%y %H:%M:%S")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def evaluate(alarm: Mapping[str, Any], points: list[Point], now: float) -> Outcome | None:
    """The state `points` call for (None: keep the current state)."""
    operator = str(alarm.get("ComparisonOperator"))
    if operator not in _COMPARE:
        return None  # anomaly-detection bands are not evaluated here
    words, breaches = _COMPARE[operator]
    threshold = float(alarm.get("Threshold") or 0.0)
    periods = len(points)
    needed = int(alarm.get("DatapointsToAlarm") or periods)
    treat = str(alarm.get("TreatMissingData") or "missing")
    present = [p for p in points if p.value is not None]
    data = _reason_data(alarm, points, present, threshold, now)
    if not present:
        return _all_missing(treat, periods, data)
    flags: list[bool] = []
    for point in points:
        if point.value is not None:
            flags.append(breaches(point.value, threshold))
        elif treat == "breaching":
            flags.append(True)
        elif treat == "notBreaching":
            flags.append(False)
    breaching = sum(flags)
    clear = len(flags) - breaching
    if breaching >= needed:
        state = ALARM
    elif clear > periods - needed:
        state = OK
    else:
        return None
    return Outcome(state, _crossed(state, present, periods, needed, words, threshold), data)


def _all_missing(treat: str, periods: int, data: dict[str, Any]) -> Outcome | None:
    received = (
        f"no datapoints were received for {_plural(periods, 'period')} and "
        f"{periods} missing datapoint{'s were' if periods > 1 else ' was'} treated as"
    )
    if treat == "missing":
        return Outcome(INSUFFICIENT, f"Insufficient Data: {received} [Missing].", data)
    if treat == "breaching":
        return Outcome(ALARM, f"Threshold Crossed: {received} [Breaching].", data)
    if treat == "notBreaching":
        return Outcome(OK, f"Threshold Crossed: {received} [NonBreaching].", data)
    return None


def _crossed(
    state: str, present: list[Point], periods: int, needed: int, words: str, threshold: float
) -> str:
    shown = ", ".join(
        f"{java_double(p.value)} ({_short(p.timestamp)})"
        for p in reversed(present)
        if p.value is not None
    )
    negation = "" if state == ALARM else "not "
    limit = java_double(threshold)
    if periods == 1:
        return (
            f"Threshold Crossed: 1 datapoint [{shown}] was {negation}{words} the threshold "
            f"({limit})."
        )
    transition = (
        f"minimum {_plural(needed, 'datapoint')} for OK -> ALARM transition"
        if state == ALARM
        else f"minimum {_plural(periods - needed + 1, 'datapoint')} for ALARM -> OK transition"
    )
    return (
        f"Threshold Crossed: {len(present)} out of the last {periods} datapoints [{shown}] "
        f"were {negation}{words} the threshold ({limit}) ({transition})."
    )


def _reason_data(
    alarm: Mapping[str, Any],
    points: list[Point],
    present: list[Point],
    threshold: float,
    now: float,
) -> dict[str, Any]:
    data: dict[str, Any] = {"version": "1.0", "queryDate": iso_millis(now)}
    if points:
        data["startDate"] = iso_millis(points[0].timestamp)
    if alarm.get("Statistic"):
        data["statistic"] = alarm["Statistic"]
    if alarm.get("Unit"):
        data["unit"] = alarm["Unit"]
    data["period"] = int(alarm.get("Period") or 0) or None
    data["recentDatapoints"] = [p.value for p in present]
    data["threshold"] = threshold
    data["evaluatedDatapoints"] = [
        {"timestamp": iso_millis(p.timestamp), "sampleCount": p.samples, "value": p.value}
        for p in reversed(present)
    ]
    return {k: v for k, v in data.items() if v is not None}
