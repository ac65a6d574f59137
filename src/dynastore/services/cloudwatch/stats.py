"""Statistics over stored buckets: periods, the five statistics and the extended ones.

Extended statistics, as CloudWatch names them: percentiles (``p99``); trimmed mean,
count and sum and winsorized mean over a range of the values (``TM(10%:90%)``,
``TC(:500)``, ``TS(5%:)``, ``WM(1%:99%)``; ``tm99`` is ``TM(:99%)``, ``IQM`` is
``TM(25%:75%)``); and percentile rank (``PR(:300)``, the percentage of values in the
range). A range's bounds are percentages (by rank) or values; the lower bound is
exclusive, the upper inclusive. All but the extremes need the set's values (its
histogram): without them the statistic has no value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from dynastore.services.cloudwatch.store import Stat

STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_NUMBER = r"\d{1,2}(?:\.\d{1,10})?|100(?:\.0{1,10})?"
PERCENTILE = re.compile(rf"^p({_NUMBER})$")
_SHORT = re.compile(rf"^(tm|tc|ts|wm)({_NUMBER})$")
_RANGE = re.compile(r"^(TM|TC|TS|WM|PR)\(([^:()]*):([^:()]*)\)$")
_BOUND = re.compile(r"^(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(%?)$")


@dataclass(frozen=True, slots=True)
class Bound:
    value: float
    percent: bool


@dataclass(frozen=True, slots=True)
class Ranged:
    """A range statistic: its kind (TM, TC, TS, WM or PR) and bounds (None: open)."""

    kind: str
    low: Bound | None
    high: Bound | None


def _bound(text: str) -> Bound | None:
    """A range bound (None: open); ValueError when it is not one."""
    if not text:
        return None
    match = _BOUND.match(text.strip())
    if match is None:
        raise ValueError(text)
    value, percent = float(match.group(1)), bool(match.group(2))
    if percent and not 0 <= value <= 100:
        raise ValueError(text)
    return Bound(value, percent)


def ranged(name: str) -> Ranged | None:
    """The range statistic `name` spells, or None."""
    if name == "IQM":
        return Ranged("TM", Bound(25.0, True), Bound(75.0, True))
    short = _SHORT.match(name)
    if short is not None:
        return Ranged(short.group(1).upper(), None, Bound(float(short.group(2)), True))
    match = _RANGE.match(name)
    if match is None:
        return None
    try:
        low, high = _bound(match.group(2)), _bound(match.group(3))
    except ValueError:
        return None
    bounds = [b for b in (low, high) if b is not None]
    if not bounds or len({b.percent for b in bounds}) > 1:
        return None  # no bound, or a percentage with a value
    if match.group(1) == "PR" and bounds[0].percent:
        return None  # a percentile rank's bounds are values
    if low is not None and high is not None and low.value >= high.value:
        return None
    return Ranged(match.group(1), low, high)


def is_extended(name: str) -> bool:
    """An extended statistic: a percentile or a range statistic."""
    return PERCENTILE.match(name) is not None or ranged(name) is not None


def is_statistic(name: str) -> bool:
    return name in STATISTICS or is_extended(name)


def aggregate(
    buckets: Iterable[tuple[int, str, Stat]], origin: int, period: int, unit: str | None
) -> dict[tuple[int, str], Stat]:
    """Sum buckets into periods starting at ``origin + k * period``, per unit."""
    out: dict[tuple[int, str], Stat] = {}
    for stamp, bucket_unit, stat in buckets:
        if unit is not None and bucket_unit != unit:
            continue
        slot = origin + ((stamp - origin) // period) * period
        key = (slot, bucket_unit)
        found = out.get(key)
        if found is None:
            out[key] = stat.copy()
        else:
            found.merge(stat)
    return out


def value(stat: Stat, name: str) -> float | None:
    """One statistic of a set (None: a percentile the set cannot answer)."""
    if name == "SampleCount":
        return stat.count
    if name == "Sum":
        return stat.total
    if name == "Average":
        return stat.total / stat.count if stat.count else 0.0
    if name == "Minimum":
        return stat.low
    if name == "Maximum":
        return stat.high
    match = PERCENTILE.match(name)
    if match is not None:
        return percentile(stat, float(match.group(1)))
    spec = ranged(name)
    return range_value(stat, spec) if spec is not None else None


def percentile(stat: Stat, p: float) -> float | None:
    """The nearest-rank percentile of the set's values; extremes always answer."""
    if p <= 0:
        return stat.low
    if p >= 100:
        return stat.high
    if stat.hist is None or not stat.hist:
        return None
    values = sorted((float(k), c) for k, c in stat.hist.items())
    total = sum(c for _, c in values)
    rank = max(1.0, math.ceil(p / 100.0 * total))
    seen = 0.0
    for number, count in values:
        seen += count
        if seen >= rank:
            return number
    return values[-1][0]


def range_value(stat: Stat, spec: Ranged) -> float | None:
    """A range statistic of the set's values (None: the set has no histogram, or, for
    a mean, no values in the range)."""
    if stat.hist is None or not stat.hist:
        return None
    values = sorted((float(k), c) for k, c in stat.hist.items())
    total = sum(c for _, c in values)
    if spec.kind == "PR":
        inside = sum(c for v, c in values if _above(v, spec.low) and _within(v, spec.high))
        return 100.0 * inside / total
    low_rank, high_rank = (
        _rank(values, total, spec.low, 0.0),
        _rank(values, total, spec.high, total),
    )
    count = total_sum = 0.0
    seen = 0.0
    below = above = None  # the values just inside the range's ends (winsorizing)
    for number, weight in values:
        share = max(0.0, min(seen + weight, high_rank) - max(seen, low_rank))
        if share > 0:
            count += share
            total_sum += number * share
            below = number if below is None else below
            above = number
        seen += weight
    if spec.kind == "TC":
        return count
    if spec.kind == "TS":
        return total_sum
    if count == 0:
        return None
    if spec.kind == "TM":
        return total_sum / count
    assert below is not None and above is not None
    return (total_sum + below * low_rank + above * (total - high_rank)) / total


def _rank(
    values: list[tuple[float, float]], total: float, bound: Bound | None, open_end: float
) -> float:
    """A bound as a rank: how many of the (sorted) values lie at or below it."""
    if bound is None:
        return open_end
    if bound.percent:
        return bound.value / 100.0 * total
    return sum(c for v, c in values if v <= bound.value)


def _above(number: float, bound: Bound | None) -> bool:
    return bound is None or number > bound.value


def _within(number: float, bound: Bound | None) -> bool:
    return bound is None or number <= bound.value
