"""CloudWatch's storage: datapoints, the metric list, alarms and alarm history.

Layout of CLOUDWATCH_SPACE (stored on disk — do not reorder or change). ``s(x)`` is the
prefix-free, order-preserving string encoding of engine/keys.py; ``scope`` is
``s(account) s(region)``; ``series`` a 16-byte blake2b of (namespace, metric name,
sorted dimensions); timestamps are 8-byte big-endian integers.

- ``D scope series ts``: one datapoint bucket (``ts`` is the bucket start in seconds:
  one second for high-resolution data, one minute otherwise) as
  ``{unit: [sample count, sum, minimum, maximum, histogram or null]}``; the histogram
  maps a value's text to its count and serves percentiles, until it holds more than
  HISTOGRAM_LIMIT distinct values (then null: no percentiles for that bucket).
- ``M scope s(namespace) s(metric) series``: the metric as ListMetrics shows it,
  ``{"n", "m", "d": [[name, value], ...], "t": newest datapoint}``.
- ``A scope s(name)``: one alarm, metric or composite (with ``AlarmRule``), in
  DescribeAlarms' JSON form plus ``Tags``.
- ``H scope ms seq``: one alarm history item (``ms``: its time in milliseconds).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from dynastore.engine import spaces
from dynastore.engine.keys import encode_key_value, prefix_end
from dynastore.storage.base import ReadTx, WriteTx

CLOUDWATCH_SPACE = spaces.CLOUDWATCH
HISTOGRAM_LIMIT = 1000

Dims = tuple[tuple[str, str], ...]


def _s(text: str) -> bytes:
    return encode_key_value({"S": text})


def _ts(seconds: int) -> bytes:
    return max(seconds, 0).to_bytes(8, "big")


def scope(account: str, region: str) -> bytes:
    return _s(account) + _s(region)


def series_id(namespace: str, metric: str, dims: Dims) -> bytes:
    text = orjson.dumps([namespace, metric, [list(d) for d in dims]])
    return hashlib.blake2b(text, digest_size=16).digest()


def canonical_dims(dims: Any) -> Dims:
    """[{"Name", "Value"}, ...] as sorted (name, value) pairs."""
    return tuple(sorted((str(d["Name"]), str(d["Value"])) for d in dims or ()))


# --- statistic sets -------------------------------------------------------------------


@dataclass(slots=True)
class Stat:
    """A statistic set, with the values themselves while they are few (percentiles)."""

    count: float
    total: float
    low: float
    high: float
    hist: dict[str, float] | None

    @classmethod
    def of_values(cls, values: list[float], counts: list[float]) -> Stat:
        hist: dict[str, float] = {}
        for value, count in zip(values, counts, strict=True):
            key = repr(float(value))
            hist[key] = hist.get(key, 0.0) + count
        total = sum(v * c for v, c in zip(values, counts, strict=True))
        return cls(sum(counts), total, min(values), max(values), _capped(hist))

    def merge(self, other: Stat) -> None:
        self.count += other.count
        self.total += other.total
        self.low = min(self.low, other.low)
        self.high = max(self.high, other.high)
        if self.hist is None or other.hist is None:
            self.hist = None
            return
        for key, count in other.hist.items():
            self.hist[key] = self.hist.get(key, 0.0) + count
        self.hist = _capped(self.hist)

    def copy(self) -> Stat:
        return Stat(
            self.count,
            self.total,
            self.low,
            self.high,
            dict(self.hist) if self.hist is not None else None,
        )

    def dump(self) -> list[Any]:
        return [self.count, self.total, self.low, self.high, self.hist]

    @classmethod
    def load(cls, raw: list[Any]) -> Stat:
        return cls(float(raw[0]), float(raw[1]), float(raw[2]), float(raw[3]), raw[4])


def _capped(hist: dict[str, float]) -> dict[str, float] | None:
    return hist if len(hist) <= HISTOGRAM_LIMIT else None


@dataclass(frozen=True, slots=True)
class Sample:
    """A statistic set to add to one metric's bucket."""

    namespace: str
    metric: str
    dims: Dims
    timestamp: int  # bucket start, seconds
    unit: str
    stat: Stat
    replace: bool = False  # gauges: the newest value wins instead of adding up


# --- datapoints -------------------------------------------------------------------------


def put_samples(tx: WriteTx, account: str, region: str, samples: list[Sample]) -> None:
    """Merge `samples` into their buckets and keep the metric list current."""
    where = scope(account, region)
    newest: dict[bytes, tuple[Sample, int]] = {}
    for sample in samples:
        sid = series_id(sample.namespace, sample.metric, sample.dims)
        key = b"D" + where + sid + _ts(sample.timestamp)
        raw = tx.get(CLOUDWATCH_SPACE, key)
        units: dict[str, Any] = orjson.loads(raw) if raw is not None else {}
        old = units.get(sample.unit)
        if old is None or sample.replace:
            units[sample.unit] = sample.stat.dump()
        else:
            merged = Stat.load(old)
            merged.merge(sample.stat)
            units[sample.unit] = merged.dump()
        tx.put(CLOUDWATCH_SPACE, key, orjson.dumps(units))
        seen = newest.get(sid)
        if seen is None or seen[1] < sample.timestamp:
            newest[sid] = (sample, sample.timestamp)
    for sid, (sample, stamp) in newest.items():
        key = b"M" + where + _s(sample.namespace) + _s(sample.metric) + sid
        raw = tx.get(CLOUDWATCH_SPACE, key)
        if raw is not None and int(orjson.loads(raw)["t"]) >= stamp:
            continue
        entry = {"n": sample.namespace, "m": sample.metric, "d": sample.dims, "t": stamp}
        tx.put(CLOUDWATCH_SPACE, key, orjson.dumps(entry))


def read_buckets(
    tx: ReadTx,
    account: str,
    region: str,
    namespace: str,
    metric: str,
    dims: Dims,
    start: int,
    end: int,
) -> Iterator[tuple[int, str, Stat]]:
    """(bucket start, unit, statistic set) of one metric for buckets in [start, end)."""
    prefix = b"D" + scope(account, region) + series_id(namespace, metric, dims)
    for key, value in tx.range(CLOUDWATCH_SPACE, prefix + _ts(start), prefix + _ts(end)):
        stamp = int.from_bytes(key[-8:], "big")
        for unit, raw in orjson.loads(value).items():
            yield stamp, unit, Stat.load(raw)


def metric_entries(
    tx: ReadTx,
    account: str,
    region: str,
    namespace: str | None = None,
    metric: str | None = None,
    after: bytes | None = None,
) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """(key, {"n", "m", "d", "t"}) of the listed metrics, in key order, after `after`."""
    prefix = b"M" + scope(account, region)
    if namespace is not None:
        prefix += _s(namespace)
        if metric is not None:
            prefix += _s(metric)
    start = prefix if after is None or after < prefix else after + b"\x00"
    for key, value in tx.range(CLOUDWATCH_SPACE, start, prefix_end(prefix)):
        yield key, orjson.loads(value)


def trim_datapoints(tx: WriteTx, before: int, limit: int) -> int:
    """Delete buckets older than `before` (and metrics with none left), for up to `limit`
    metrics; returns how many metrics were visited."""
    visited = 0
    for key, value in list(tx.range(CLOUDWATCH_SPACE, b"M", b"N")):
        if visited >= limit:
            break
        visited += 1
        entry = orjson.loads(value)
        sid = key[-16:]
        where = _scope_of_metric_key(key)
        prefix = b"D" + where + sid
        tx.delete_range(CLOUDWATCH_SPACE, prefix, prefix + _ts(before))
        if int(entry["t"]) < before:
            tx.delete(CLOUDWATCH_SPACE, key)
    return visited


def _scope_of_metric_key(key: bytes) -> bytes:
    """The ``scope`` part of an ``M`` key (two encoded strings after the tag)."""
    at = 1
    for _ in range(2):
        at = _string_end(key, at)
    return key[1:at]


def _string_end(key: bytes, at: int) -> int:
    while True:
        nul = key.index(b"\x00", at)
        if key[nul + 1] == 0:
            return nul + 2
        at = nul + 2


# --- alarms and history ---------------------------------------------------------------


def _alarm_key(account: str, region: str, name: str) -> bytes:
    return b"A" + scope(account, region) + _s(name)


def get_alarm(tx: ReadTx, account: str, region: str, name: str) -> dict[str, Any] | None:
    raw = tx.get(CLOUDWATCH_SPACE, _alarm_key(account, region, name))
    return orjson.loads(raw) if raw is not None else None


def put_alarm(tx: WriteTx, account: str, region: str, alarm: Mapping[str, Any]) -> None:
    key = _alarm_key(account, region, str(alarm["AlarmName"]))
    tx.put(CLOUDWATCH_SPACE, key, orjson.dumps(alarm))


def delete_alarm(tx: WriteTx, account: str, region: str, name: str) -> None:
    tx.delete(CLOUDWATCH_SPACE, _alarm_key(account, region, name))


def alarms(tx: ReadTx, account: str, region: str, prefix: str = "") -> Iterator[dict[str, Any]]:
    """The alarms of one account and region in name order, those starting with `prefix`."""
    base = b"A" + scope(account, region)
    start = base + _s(prefix)[:-2]  # the escaped prefix without its terminator
    for _, value in tx.range(CLOUDWATCH_SPACE, start, prefix_end(start)):
        yield orjson.loads(value)


def all_alarms(tx: ReadTx) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(account, region, alarm) of every alarm (the alarm worker)."""
    for _, value in tx.range(CLOUDWATCH_SPACE, b"A", b"B"):
        alarm = orjson.loads(value)
        arn = str(alarm["AlarmArn"]).split(":")
        yield arn[4], arn[3], alarm


def add_history(tx: WriteTx, account: str, region: str, item: Mapping[str, Any]) -> None:
    millis = int(float(item["Timestamp"]) * 1000)
    seq = tx.next_sequence("cloudwatch-history")
    key = b"H" + scope(account, region) + _ts(millis) + _ts(seq)
    tx.put(CLOUDWATCH_SPACE, key, orjson.dumps(item))


def history(
    tx: ReadTx, account: str, region: str, start: float, end: float, newest_first: bool
) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """(key, item) of history items with start <= time < end."""
    base = b"H" + scope(account, region)
    low = base + _ts(int(start * 1000))
    high = base + _ts(int(end * 1000)) if end < 2**62 else prefix_end(base)
    for key, value in tx.range(CLOUDWATCH_SPACE, low, high, reverse=newest_first):
        yield key, orjson.loads(value)


def trim_history(tx: WriteTx, before: float) -> int:
    """Delete history items older than `before` (epoch seconds), every account."""
    removed = 0
    for key, _ in list(tx.range(CLOUDWATCH_SPACE, b"H", b"I")):
        millis = int.from_bytes(key[-16:-8], "big")
        if millis < before * 1000:
            tx.delete(CLOUDWATCH_SPACE, key)
            removed += 1
    return removed
