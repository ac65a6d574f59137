"""DynamoDB's CloudWatch metrics (namespace AWS/DynamoDB), recorded from the request path.

Design note. The request path pays a few dict updates and no I/O: `MetricsRecorder`
keeps, per (account, region, metric, dimensions, minute), a statistic set
[sample count, sum, minimum, maximum] in memory. The metrics worker (workers/metrics.py)
calls `drain()` every flush interval and merges the sets into the stored one-minute
datapoints in one write transaction. Several processes sharing a store each add their
own share (the merge is a read-modify-write under the store's write lock), so the sums
add up. What was drained but not yet written when a process dies is lost: at most one
flush interval of metrics, never data.

Capacity consumption and throttle events are already summed per table and GSI per
minute by engine/throttle.py; `ThrottleDeltas` turns those running per-minute sums into
the increments since the previous flush, which travel the same way.

Which request outcome feeds which metric, as DynamoDB documents them:

- success: SuccessfulRequestLatency (milliseconds) {TableName, Operation} for the data
  plane operations; ReturnedItemCount {TableName, Operation} for Query and Scan;
- ConditionalCheckFailedException: ConditionalCheckFailedRequests {TableName}, not a
  user error;
- a throttled request (ProvisionedThroughputExceeded, Throttling, or a batch that left
  items unprocessed): ThrottledRequests {TableName, Operation}, not a user error;
- any other 4xx: UserErrors, per account and region, with no dimension;
- a 5xx or an unexpected exception: SystemErrors {TableName, Operation}.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from dynastore.engine.quotas import ACCOUNT_MAX_UNITS

NAMESPACE = "AWS/DynamoDB"
TABLE = "TableName"
INDEX = "GlobalSecondaryIndexName"
OPERATION = "Operation"

Dimensions = tuple[tuple[str, str], ...]  # (name, value) pairs sorted by name
# (account, region, metric, dimensions, minute) -> [sample count, sum, minimum, maximum]
MetricKey = tuple[str, str, str, Dimensions, int]
Pending = dict[MetricKey, list[float]]
Histograms = dict[MetricKey, dict[float, float]]  # value -> count (percentiles)

UNITS: Mapping[str, str] = {
    "SuccessfulRequestLatency": "Milliseconds",
    "AccountProvisionedReadCapacityUtilization": "Percent",
    "AccountProvisionedWriteCapacityUtilization": "Percent",
}
DEFAULT_UNIT = "Count"

# Operations whose latency DynamoDB publishes (the Operation dimension's values).
DATA_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
        "ExecuteStatement",
        "BatchExecuteStatement",
        "ExecuteTransaction",
    }
)
_COUNTED = frozenset({"Query", "Scan"})
# Latency keeps its values (to 0.01 ms, coarser above 10 ms) so that pNN statistics work.
_HISTOGRAM = frozenset({"SuccessfulRequestLatency"})
HISTOGRAM_LIMIT = 1000
_THROTTLES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException"})
_CONDITION_FAILED = "ConditionalCheckFailedException"
# Not errors of the caller's request as such: DynamoDB keeps them out of UserErrors.
_NOT_USER_ERRORS = _THROTTLES | {_CONDITION_FAILED, "TransactionCanceledException"}
# A flush collects the throttle's sums of the last this many minutes (so it may still add
# to a minute this long after it began, by its host's clock; workers/autoscaling.py).
COLLECTED_MINUTES = 3
# Counted per table and GSI by the throttle; ThrottledRequests is recorded here instead,
# with the Operation dimension the throttle does not know.
_THROTTLE_SKIPPED = frozenset({"ThrottledRequests"})


def unit_of(metric: str) -> str:
    return UNITS.get(metric, DEFAULT_UNIT)


def table_dims(table: str, index: str | None = None) -> Dimensions:
    if index:
        return ((INDEX, index), (TABLE, table))
    return ((TABLE, table),)


def _op_dims(table: str, operation: str) -> Dimensions:
    return ((OPERATION, operation), (TABLE, table))


def _table_name(value: Any) -> str | None:
    """A TableName parameter's table name (it may be an ARN)."""
    if not isinstance(value, str) or not value:
        return None
    if value.startswith("arn:") and ":table/" in value:
        return value.split(":table/", 1)[1].split("/", 1)[0]
    return value


def tables_of(req: Mapping[str, Any]) -> list[str]:
    """The tables a DynamoDB request names (one, or several for batches and transactions)."""
    name = _table_name(req.get("TableName"))
    if name is not None:
        return [name]
    found: list[str] = []
    items = req.get("RequestItems")
    if isinstance(items, dict):
        found.extend(n for n in map(_table_name, items) if n is not None)
    actions = req.get("TransactItems")
    if isinstance(actions, list):
        for action in actions:
            if isinstance(action, dict):
                for body in action.values():
                    if isinstance(body, dict):
                        n = _table_name(body.get("TableName"))
                        if n is not None and n not in found:
                            found.append(n)
    return found


def returned_count(result: Mapping[str, Any] | bytes) -> int | None:
    """The Count of a Query or Scan answer, also when it is pre-encoded JSON bytes.

    The encoder writes ``"Count":N`` right after the Items array (or first, for
    Select=COUNT); an item's own text cannot hold ``],"Count":`` because every list
    value closes with ``]}``.
    """
    if not isinstance(result, bytes):
        count = result.get("Count")
        return count if isinstance(count, int) else None
    if result.startswith(b'{"Count":'):
        start = len(b'{"Count":')
    else:
        at = result.find(b'],"Count":')
        if at < 0:
            return None
        start = at + len(b'],"Count":')
    end = start
    while end < len(result) and 48 <= result[end] <= 57:
        end += 1
    return int(result[start:end]) if end > start else None


class MetricsRecorder:
    """Per-minute statistic sets of the AWS/DynamoDB metrics of one process."""

    __slots__ = ("_clock", "_hist", "_pending")

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._pending: Pending = {}
        self._hist: Histograms = {}

    def add(
        self,
        account: str,
        region: str,
        metric: str,
        dims: Dimensions,
        value: float,
        minute: int | None = None,
    ) -> None:
        """Record one sample of `metric` (in the current minute unless told)."""
        if minute is None:
            minute = int(self._clock() // 60)
        key = (account, region, metric, dims, minute)
        if metric in _HISTOGRAM:
            self._sample(key, value)
        stat = self._pending.get(key)
        if stat is None:
            self._pending[key] = [1.0, value, value, value]
            return
        stat[0] += 1.0
        stat[1] += value
        if value < stat[2]:
            stat[2] = value
        if value > stat[3]:
            stat[3] = value

    def add_total(
        self,
        account: str,
        region: str,
        metric: str,
        dims: Dimensions,
        amount: float,
        minute: int,
    ) -> None:
        """Add `amount` events of one unit each (throttle counters: sum = sample count)."""
        key = (account, region, metric, dims, minute)
        stat = self._pending.get(key)
        if stat is None:
            self._pending[key] = [amount, amount, 1.0, 1.0]
        else:
            stat[0] += amount
            stat[1] += amount

    def _sample(self, key: MetricKey, value: float) -> None:
        hist = self._hist.get(key)
        if hist is None:
            hist = self._hist[key] = {}
        elif len(hist) > HISTOGRAM_LIMIT:
            return  # too many distinct values: that minute has no percentiles
        # Numeric rounding: much cheaper than formatting, and few distinct values per minute.
        if value < 10.0:
            value = round(value, 2)
        elif value < 100.0:
            value = round(value, 1)
        else:
            value = float(round(value))
        hist[value] = hist.get(value, 0.0) + 1.0

    def drain(self) -> tuple[Pending, Histograms]:
        """Everything recorded since the last drain; the recorder starts afresh."""
        pending, self._pending = self._pending, {}
        hists, self._hist = self._hist, {}
        return pending, hists

    def restore(self, pending: Pending, hists: Histograms) -> None:
        """Put back what a failed flush drained, so the next flush writes it."""
        for key, hist in hists.items():
            kept = self._hist.setdefault(key, {})
            for value, count in hist.items():
                kept[value] = kept.get(value, 0.0) + count
        for (account, region, metric, dims, minute), stat in pending.items():
            key = (account, region, metric, dims, minute)
            mine = self._pending.get(key)
            if mine is None:
                self._pending[key] = stat
            else:
                mine[0] += stat[0]
                mine[1] += stat[1]
                mine[2] = min(mine[2], stat[2])
                mine[3] = max(mine[3], stat[3])

    # --- request outcomes (ops/registry.py) ---------------------------------------------

    def succeeded(
        self,
        account: str,
        region: str,
        operation: str,
        req: Mapping[str, Any],
        result: Mapping[str, Any] | bytes,
        seconds: float,
    ) -> None:
        if operation not in DATA_OPERATIONS:
            return
        tables = tables_of(req)
        latency = seconds * 1000.0
        for table in tables:
            self.add(
                account, region, "SuccessfulRequestLatency", _op_dims(table, operation), latency
            )
        if operation in _COUNTED and tables:
            count = returned_count(result)
            if count is not None:
                dims = _op_dims(tables[0], operation)
                self.add(account, region, "ReturnedItemCount", dims, float(count))
        if not isinstance(result, bytes):
            for field in ("UnprocessedItems", "UnprocessedKeys"):
                left = result.get(field)
                if isinstance(left, dict):
                    for table in filter(None, map(_table_name, left)):
                        dims = _op_dims(table, operation)
                        self.add(account, region, "ThrottledRequests", dims, 1.0)

    def failed(
        self,
        account: str,
        region: str,
        operation: str,
        req: Mapping[str, Any] | None,
        error_type: str | None,
        status: int = 500,
    ) -> None:
        """Count a failed request; `error_type` None: an unexpected exception."""
        tables = tables_of(req) if req is not None else []
        if error_type is not None and status < 500:
            if error_type == _CONDITION_FAILED:
                for table in tables:
                    self.add(
                        account, region, "ConditionalCheckFailedRequests", table_dims(table), 1.0
                    )
            elif error_type in _THROTTLES:
                for table in tables:
                    dims = _op_dims(table, operation)
                    self.add(account, region, "ThrottledRequests", dims, 1.0)
            if error_type not in _NOT_USER_ERRORS:
                self.add(account, region, "UserErrors", (), 1.0)
            return
        for table in tables or [""]:
            dims = _op_dims(table, operation) if table else ((OPERATION, operation),)
            self.add(account, region, "SystemErrors", dims, 1.0)


class CounterSource(Protocol):
    """What `ThrottleDeltas` reads of engine/throttle.Throttle."""

    def resources(self) -> list[tuple[str, str, str, str | None]]: ...

    def metrics(
        self,
        account: str,
        region: str,
        table: str,
        index: str | None = None,
        start: float = 0.0,
        end: float = float("inf"),
    ) -> list[tuple[int, dict[str, float]]]: ...


class ThrottleDeltas:
    """Turns the throttle's running per-minute sums into increments since the last call.

    A minute's sums only grow while the clock is in that minute, so remembering the last
    COLLECTED_MINUTES minutes' values is enough.
    """

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, str, str, int], dict[str, float]] = {}

    def collect(self, source: CounterSource, recorder: MetricsRecorder, now: float) -> int:
        """Add every increment to `recorder`; returns how many (metric, minute) moved."""
        minute = int(now // 60)
        first = minute - COLLECTED_MINUTES + 1
        moved = 0
        for account, region, table, index in source.resources():
            for start, sums in source.metrics(account, region, table, index, start=first * 60):
                at = start // 60
                key = (account, region, table, index or "", at)
                seen = self._seen.setdefault(key, {})
                dims = table_dims(table, index)
                for metric, total in sums.items():
                    if metric in _THROTTLE_SKIPPED:
                        continue
                    delta = total - seen.get(metric, 0.0)
                    if delta <= 0:
                        continue
                    seen[metric] = total
                    moved += 1
                    if metric.startswith("Consumed"):
                        recorder.add(account, region, metric, dims, delta, at)
                    else:
                        recorder.add_total(account, region, metric, dims, delta, at)
        for key in [k for k in self._seen if k[4] < first]:
            del self._seen[key]
        return moved


def provisioned_gauges(
    tables: Iterable[tuple[str, str, str, Mapping[str, Any]]],
) -> list[tuple[str, str, str, Dimensions, float]]:
    """ProvisionedRead/WriteCapacityUnits of provisioned tables and GSIs, and each
    account's AccountProvisionedRead/WriteCapacityUtilization (percent of 80,000 units).

    `tables`: (account, region, name, TableDescription).
    """
    out: list[tuple[str, str, str, Dimensions, float]] = []
    totals: dict[tuple[str, str], list[float]] = {}
    for account, region, name, desc in tables:
        mode = desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
        if mode != "PROVISIONED":
            continue
        entries: list[tuple[str | None, Mapping[str, Any]]] = [(None, desc)]
        entries += [(g.get("IndexName"), g) for g in desc.get("GlobalSecondaryIndexes", [])]
        sums = totals.setdefault((account, region), [0.0, 0.0])
        for index, entry in entries:
            throughput = entry.get("ProvisionedThroughput") or {}
            dims = table_dims(name, index)
            for i, kind in enumerate(("Read", "Write")):
                units = float(throughput.get(f"{kind}CapacityUnits") or 0)
                sums[i] += units
                out.append((account, region, f"Provisioned{kind}CapacityUnits", dims, units))
    for (account, region), (read, write) in totals.items():
        for kind, units in (("Read", read), ("Write", write)):
            percent = units * 100.0 / ACCOUNT_MAX_UNITS
            metric = f"AccountProvisioned{kind}CapacityUtilization"
            out.append((account, region, metric, (), percent))
    return out
