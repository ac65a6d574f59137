"""Statistics over stored buckets: periods, the five statistics and percentiles."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from dynastore.services.cloudwatch.store import Stat

STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d{1,10})?|100(?:\.0{1,10})?)$")


def is_statistic(name: str) -> bool:
    return name in STATISTICS or PERCENTILE.match(name) is not None


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
    if match is None:
        return None
    return percentile(stat, float(match.group(1)))


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
