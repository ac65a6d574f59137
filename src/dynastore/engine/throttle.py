"""Capacity enforcement: token buckets per table and GSI, and per-minute counters.

Design note. A PROVISIONED table or GSI has one bucket per direction (read, write)
that refills at the provisioned rate and holds at most `burst_seconds` of it: DynamoDB
keeps up to 300 s of unused capacity as burst credit. A new bucket starts full. An
on-demand table or GSI with OnDemandThroughput maximums gets buckets of one second at
the maximum rate instead, and its throttles are ThrottlingException, not
ProvisionedThroughputExceededException. Without a maximum, an on-demand table or GSI
still has the per-table quota of its account (DescribeLimits' TableMaxReadCapacityUnits:
40,000 units a second) as a ceiling, whose throttles are RequestLimitExceeded. A ceiling
alone costs no estimate: a request is admitted while the bucket has credit and its real
units are charged when known, so one client cannot take more than the quota from others.

A request reserves an estimate of its cost before it runs (a put: the new item's
units; otherwise one unit, half for an eventually consistent read) and settles the
difference when the real size is known, charged with the same arithmetic that
ReturnConsumedCapacity reports. A bucket may so go below zero after a large item; the
next requests wait until it refills. A request costing more than a whole bucket is
admitted when the bucket is full, so no item is ever unwritable. Writes also need
credit in every provisioned GSI of the table (DynamoDB's GSI back-pressure: a throttled
index throttles all writes to its table); index units are charged when known. Local
secondary index units count against the table, as in DynamoDB.

Consumption and throttle events are summed per table and per GSI per minute (CloudWatch
names: ConsumedReadCapacityUnits, ReadThrottleEvents, ...), for a later CloudWatch
service to read through `metrics()` / `datapoints()`. Accessed and throttled keys feed
Contributor Insights (engine/insights.py) when it is enabled.

The per-table state is derived from the stored description and cached by the identity
of that dict: the catalog hands out a new description object whenever it reloads, and
UpdateTable (which edits a description in place) calls `forget()`. An on-demand table
without maximums and without insights costs a dict lookup and a counter update.

All of this is per process, owned by the Engine. When several processes share a store,
each enforces its `share` of every rate and burst: 1 / the live processes (the lease
keeper counts them, engine/leases.py), so together they admit about the table's rate,
as DynamoDB's partitions each admit their part of it. A change of share rebuilds the
buckets on next use, their balances scaled with it. Counters and insights stay per
process (each process flushes its own metrics).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dynastore.engine.capacity import TABLE_MAX_UNITS
from dynastore.engine.catalog import IndexDef, TableDef
from dynastore.engine.insights import Insights, Tracker, setting
from dynastore.engine.values import AttrValue, Item
from dynastore.errors import (
    AwsError,
    ProvisionedThroughputExceededException,
    RequestLimitExceeded,
    ThrottlingException,
)

DEFAULT_BURST_SECONDS = 300.0
DEFAULT_RETENTION_MINUTES = 24 * 60

TABLE_EXCEEDED = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)
# As DynamoDB words it (no final period), e.g. in BatchWriteItem errors of GSI back-pressure.
INDEX_EXCEEDED = (
    "The level of configured provisioned throughput for one or more global secondary indexes "
    "of the table was exceeded. Consider increasing your provisioning level for the "
    "under-provisioned global secondary indexes with the UpdateTable API"
)
ON_DEMAND_EXCEEDED = (
    "Throughput exceeds the maximum OnDemandThroughput configured on table or index"
)

# CloudWatch metric names
CONSUMED_READ = "ConsumedReadCapacityUnits"
CONSUMED_WRITE = "ConsumedWriteCapacityUnits"
THROTTLED_REQUESTS = "ThrottledRequests"


@dataclass(slots=True)
class Bucket:
    """Capacity units that refill at `rate` per second up to `capacity`."""

    rate: float
    capacity: float
    tokens: float
    stamp: float

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def take(self, units: float, now: float) -> bool:
        """Reserve `units` if there is credit for them (any amount when the bucket is full)."""
        self._refill(now)
        if self.tokens < min(units, self.capacity) - 1e-9:
            return False
        self.tokens -= units
        return True

    def has_credit(self, now: float) -> bool:
        """Whether one more unit (or a full bucket's worth) could be taken now."""
        self._refill(now)
        return self.tokens >= min(1.0, self.capacity) - 1e-9

    def charge(self, units: float, now: float) -> None:
        """Charge (or, negative, refund) units whatever the balance."""
        self._refill(now)
        self.tokens = min(self.capacity, self.tokens - units)

    def resize(self, rate: float, capacity: float, scale: float = 1.0) -> None:
        """New limits; the balance is multiplied by `scale` (a new share: as the rate is
        too, the time since the last refill counts the same at either rate)."""
        self.rate = rate
        self.capacity = capacity
        self.tokens = min(self.tokens * scale, capacity)


class Series:
    """Per-minute sums of one table's or GSI's metrics, for a bounded number of minutes."""

    __slots__ = ("_minutes", "_order", "_retention")

    def __init__(self, retention_minutes: int) -> None:
        self._retention = retention_minutes
        self._minutes: dict[int, dict[str, float]] = {}
        self._order: deque[int] = deque()

    def add(self, minute: int, name: str, amount: float) -> None:
        sums = self._minutes.get(minute)
        if sums is None:
            sums = self._minutes[minute] = {}
            self._order.append(minute)
            oldest = minute - self._retention
            while self._order and self._order[0] <= oldest:
                self._minutes.pop(self._order.popleft(), None)
        sums[name] = sums.get(name, 0.0) + amount

    def minutes(self, start: float, end: float) -> list[tuple[int, dict[str, float]]]:
        """(minute start in epoch seconds, sums) for minutes starting in [start, end)."""
        return [
            (minute * 60, dict(sums))
            for minute, sums in sorted(self._minutes.items())
            if start <= minute * 60 < end
        ]


@dataclass(slots=True)
class _Resource:
    """The table or one GSI: its limits, counters and insights tracker."""

    arn: str
    index: IndexDef | None  # None: the table itself
    pk: str  # key attribute names (Contributor Insights)
    sk: str | None
    provisioned: bool
    read: Bucket | None
    write: Bucket | None
    series: Series
    tracker: Tracker | None = None
    tracking_from: float = 0.0  # insights count from here (the end of ENABLING)
    # (read, write): the bucket is the account's per-table quota, not a setting
    ceilings: tuple[bool, bool] = (False, False)

    def tracker_at(self, now: float) -> Tracker | None:
        tracker = self.tracker
        return tracker if tracker is not None and now >= self.tracking_from else None


@dataclass(slots=True)
class _TableState:
    source: dict[str, Any]  # the description this state was derived from
    table_id: str | None  # the table's incarnation: buckets carry over within one
    table: _Resource
    gsis: dict[str, _Resource] = field(default_factory=dict)
    gsi_writes: tuple[_Resource, ...] = ()  # GSIs with a write bucket (back-pressure)
    lsis: frozenset[str] = frozenset()
    limited: bool = False  # some bucket of a setting (provisioned units, a maximum) exists
    ceiling: bool = False  # some bucket of the per-table quota exists
    tracked: bool = False  # some insights tracker exists
    share: float = 1.0  # the process's share of the rates when this state was built


class Throttle:
    """Admission, consumption and throttle accounting for every table of one Engine."""

    def __init__(
        self,
        clock: Callable[[], float],
        insights: Insights,
        burst_seconds: float = DEFAULT_BURST_SECONDS,
        retention_minutes: int = DEFAULT_RETENTION_MINUTES,
        table_max_units: float = TABLE_MAX_UNITS,
    ) -> None:
        self._clock = clock
        self._insights = insights
        self._burst = max(burst_seconds, 1.0)
        self._table_max = table_max_units
        self._retention = retention_minutes
        self._tables: dict[tuple[str, str, str], _TableState] = {}
        self._series: dict[tuple[str, str, str, str], Series] = {}
        self._share = 1.0  # of every rate and burst: 1 / the processes sharing the store

    # --- state ---------------------------------------------------------------------------

    @property
    def share(self) -> float:
        return self._share

    def set_share(self, share: float) -> None:
        """This process's share of every table's and GSI's capacity (rates, bursts, maximums
        and the per-table quota); the buckets are rebuilt on next use, balances scaled."""
        if share == self._share:
            return
        self._share = share
        for state in self._tables.values():
            state.source = {}  # as forget() does: rebuilt on next use

    def forget(self, table: TableDef) -> None:
        """Re-derive a table's limits on next use (after its description changed in place)."""
        state = self._tables.get((table.account, table.region, table.name))
        if state is not None:
            state.source = {}  # keeps the buckets for the rebuild to carry over

    def _state(self, table: TableDef) -> _TableState:
        key = (table.account, table.region, table.name)
        state = self._tables.get(key)
        if state is None or state.source is not table.description:
            if state is not None and state.table_id != table.description.get("TableId"):
                state = None  # a new table of the same name starts afresh
            state = self._tables[key] = self._build(table, state)
        return state

    def _build(self, table: TableDef, old: _TableState | None) -> _TableState:
        desc = table.description
        provisioned = (
            desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED") == "PROVISIONED"
        )
        now = self._clock()
        scale = self._share / old.share if old else 1.0  # the balances follow the share
        main = self._resource(
            table, None, table.arn, provisioned, desc, old.table if old else None, now, scale
        )
        state = _TableState(desc, desc.get("TableId"), main, share=self._share)
        for entry in desc.get("GlobalSecondaryIndexes", []):
            name = entry["IndexName"]
            index = table.index(name)
            if index is None:
                continue
            arn = entry.get("IndexArn") or f"{table.arn}/index/{name}"
            previous = old.gsis.get(name) if old else None
            state.gsis[name] = self._resource(
                table, index, arn, provisioned, entry, previous, now, scale
            )
        state.gsi_writes = tuple(r for r in state.gsis.values() if r.write is not None)
        state.lsis = frozenset(i.name for i in table.indexes if i.kind == "LSI")
        resources = [main, *state.gsis.values()]
        state.limited = any(
            (r.read is not None and not r.ceilings[0])
            or (r.write is not None and not r.ceilings[1])
            for r in resources
        )
        state.ceiling = any(r.ceilings[0] or r.ceilings[1] for r in resources)
        state.tracked = any(r.tracker is not None for r in resources)
        return state

    def _resource(
        self,
        table: TableDef,
        index: IndexDef | None,
        arn: str,
        provisioned: bool,
        desc: dict[str, Any],
        old: _Resource | None,
        now: float,
        scale: float,  # of the balances carried over (a new share)
    ) -> _Resource:
        if provisioned:
            throughput = desc.get("ProvisionedThroughput") or {}
            read_rate = float(throughput.get("ReadCapacityUnits") or 0)
            write_rate = float(throughput.get("WriteCapacityUnits") or 0)
            burst = self._burst
        else:
            maximums = desc.get("OnDemandThroughput") or {}
            read_rate = float(maximums.get("MaxReadRequestUnits") or 0)
            write_rate = float(maximums.get("MaxWriteRequestUnits") or 0)
            burst = 1.0  # a maximum is a rate, not a budget
        ceilings = (not provisioned and read_rate <= 0, not provisioned and write_rate <= 0)
        if ceilings[0]:
            read_rate = self._table_max
        if ceilings[1]:
            write_rate = self._table_max
        read_rate *= self._share
        write_rate *= self._share
        key = (table.account, table.region, table.name, index.name if index else "")
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = Series(self._retention)
        keys = index or table
        resource = _Resource(
            arn,
            index,
            keys.pk.name,
            keys.sk.name if keys.sk else None,
            provisioned,
            # A bucket carries over, unless it changes between a setting and the quota.
            _bucket(read_rate, burst, _kept(old, 0, ceilings), now, scale),
            _bucket(write_rate, burst, _kept(old, 1, ceilings), now, scale),
            series,
            ceilings=ceilings,
        )
        self._attach_insights(table, resource)
        return resource

    def _attach_insights(self, table: TableDef, resource: _Resource) -> None:
        index = resource.index
        name = index.name if index else None
        found = setting(table.description, name)
        if found is None or not found.enabled:
            self._insights.drop(table.account, table.region, table.name, name)
            return
        has_sort_key = resource.sk is not None
        resource.tracker = self._insights.tracker(
            table.account,
            table.region,
            table.name,
            name,
            found.rule_ms,
            found.mode,
            has_sort_key,
        )
        resource.tracking_from = found.until

    def enforces(self, table: TableDef) -> bool:
        """Whether the table or a GSI of it has limits (worth estimating a request's cost)."""
        return self._state(table).limited

    # --- reads ---------------------------------------------------------------------------

    def reserve_read(
        self, table: TableDef, units: float, key: Item | None = None, index: str | None = None
    ) -> float:
        """Admit a read of about `units` (raise when throttled); returns the units reserved."""
        outcome = self._reserve_read(table, units, key, index, True)
        if isinstance(outcome, AwsError):
            raise outcome
        return outcome

    def try_reserve_read(
        self, table: TableDef, units: float, key: Item | None = None, index: str | None = None
    ) -> float | AwsError:
        """For batches: the error instead of raising it (the request is counted by
        `throttled_request` once, not per item)."""
        return self._reserve_read(table, units, key, index, False)

    def _reserve_read(
        self,
        table: TableDef,
        units: float,
        key: Item | None,
        index: str | None,
        whole_request: bool,
    ) -> float | AwsError:
        state = self._state(table)
        if not state.limited and not state.ceiling:
            return 0.0
        resource = state.gsis.get(index, state.table) if index is not None else state.table
        bucket = resource.read
        if bucket is None:
            return 0.0
        now = self._clock()
        if not state.limited:  # a ceiling alone: charged when the units are known
            if bucket.has_credit(now):
                return 0.0
        elif bucket.take(units, now):
            return units
        return self._throttled(state, resource, False, now, key, None, whole_request)

    def settle_read(
        self,
        table: TableDef,
        reserved: float,
        units: float,
        key: Item | None = None,
        index: str | None = None,
    ) -> None:
        """Charge a finished read's real `units` (less what was reserved) and count it."""
        state = self._state(table)
        resource = state.gsis.get(index, state.table) if index is not None else state.table
        now = self._clock()
        resource.series.add(int(now // 60), CONSUMED_READ, units)
        if resource.read is not None and units != reserved:
            resource.read.charge(units - reserved, now)
        if state.tracked and key is not None:
            tracker = resource.tracker_at(now)
            if tracker is not None:
                self._access(tracker, resource, key, now)

    # --- writes --------------------------------------------------------------------------

    def reserve_write(
        self, table: TableDef, units: float, key: Item | None = None, item: Item | None = None
    ) -> float:
        """Admit a write of about `units` (raise when throttled); returns the units reserved.

        `key` (the item's key) and `item` (the new item, when known) feed Contributor
        Insights' throttled keys.
        """
        outcome = self._reserve_write(table, units, key, item, True)
        if isinstance(outcome, AwsError):
            raise outcome
        return outcome

    def try_reserve_write(
        self, table: TableDef, units: float, key: Item | None = None, item: Item | None = None
    ) -> float | AwsError:
        """For batches: the error instead of raising it."""
        return self._reserve_write(table, units, key, item, False)

    def _reserve_write(
        self,
        table: TableDef,
        units: float,
        key: Item | None,
        item: Item | None,
        whole_request: bool,
    ) -> float | AwsError:
        state = self._state(table)
        if not state.limited:
            return self._within_ceiling(state, key, item, whole_request) if state.ceiling else 0.0
        now = self._clock()
        bucket = state.table.write
        if bucket is not None and not bucket.take(units, now):
            return self._throttled(state, state.table, True, now, key, item, whole_request)
        for gsi in state.gsi_writes:
            assert gsi.write is not None
            if not gsi.write.has_credit(now):
                if bucket is not None:
                    bucket.charge(-units, now)  # give the table's reservation back
                return self._throttled(state, gsi, True, now, key, item, whole_request)
        return units if bucket is not None else 0.0

    def _within_ceiling(
        self, state: _TableState, key: Item | None, item: Item | None, whole_request: bool
    ) -> float | AwsError:
        """Admit a write while the table and its GSIs have credit under their ceilings."""
        now = self._clock()
        for resource in (state.table, *state.gsi_writes):
            if resource.write is not None and not resource.write.has_credit(now):
                return self._throttled(state, resource, True, now, key, item, whole_request)
        return 0.0

    def settle_write(
        self,
        table: TableDef,
        reserved: float,
        units: float,
        index_units: Mapping[str, float] | None = None,
        old: Item | None = None,
        new: Item | None = None,
    ) -> None:
        """Charge a finished write: `units` on the table plus its LSIs' units, each GSI's
        units on that GSI (ReturnConsumedCapacity's arithmetic); count it."""
        state = self._state(table)
        now = self._clock()
        minute = int(now // 60)
        total = units
        if index_units:
            for name, cost in index_units.items():
                gsi = state.gsis.get(name)
                if gsi is None:
                    if name in state.lsis:
                        total += cost
                    continue
                gsi.series.add(minute, CONSUMED_WRITE, cost)
                if gsi.write is not None:
                    gsi.write.charge(cost, now)
        main = state.table
        main.series.add(minute, CONSUMED_WRITE, total)
        if main.write is not None and total != reserved:
            main.write.charge(total - reserved, now)
        if state.tracked:
            item = new if new is not None else old
            if item is not None:
                for resource in (main, *state.gsis.values()):
                    tracker = resource.tracker_at(now)
                    if tracker is not None:
                        self._access(tracker, resource, item, now)

    # --- throttles -----------------------------------------------------------------------

    def throttled_request(self, table: TableDef) -> None:
        """Count one request that had throttled items (batches call it once)."""
        self._state(table).table.series.add(int(self._clock() // 60), THROTTLED_REQUESTS, 1.0)

    def _throttled(
        self,
        state: _TableState,
        resource: _Resource,
        write: bool,
        now: float,
        key: Item | None,
        item: Item | None,
        whole_request: bool,
    ) -> AwsError:
        minute = int(now // 60)
        direction = "Write" if write else "Read"
        ceiling = resource.ceilings[1 if write else 0]
        limit = (
            "ProvisionedThroughput"
            if resource.provisioned
            else "AccountLimit"
            if ceiling
            else "MaxOnDemandThroughput"
        )
        resource.series.add(minute, f"{direction}ThrottleEvents", 1.0)
        resource.series.add(minute, f"{direction}{limit}ThrottleEvents", 1.0)
        if whole_request:
            state.table.series.add(minute, THROTTLED_REQUESTS, 1.0)
        if state.tracked:
            self._count_throttle(state, resource, now, key if key is not None else item, item)
        kind = "Index" if resource.index is not None else "Table"
        reason = {"reason": f"{kind}{direction}{limit}Exceeded", "resource": resource.arn}
        if resource.provisioned:
            message = INDEX_EXCEEDED if resource.index is not None else TABLE_EXCEEDED
            return ProvisionedThroughputExceededException(message, ThrottlingReasons=[reason])
        if ceiling:
            return RequestLimitExceeded(ThrottlingReasons=[reason])
        return ThrottlingException(ON_DEMAND_EXCEEDED, throttlingReasons=[reason])

    def _count_throttle(
        self,
        state: _TableState,
        resource: _Resource,
        now: float,
        key: Item | None,
        item: Item | None,
    ) -> None:
        minute = int(now // 60)
        table_tracker = state.table.tracker_at(now)
        if table_tracker is not None and key is not None:
            pk = key.get(state.table.pk)
            if pk is not None:
                table_tracker.throttled(minute, pk, _sort_value(state.table, key))
        if resource is not state.table and item is not None:
            tracker = resource.tracker_at(now)
            pk = item.get(resource.pk)
            if tracker is not None and pk is not None:
                tracker.throttled(minute, pk, _sort_value(resource, item))

    @staticmethod
    def _access(tracker: Tracker, resource: _Resource, item: Item, now: float) -> None:
        pk = item.get(resource.pk)
        if pk is not None:
            tracker.accessed(int(now // 60), pk, _sort_value(resource, item))

    # --- the read API for CloudWatch -------------------------------------------------------

    def metrics(
        self,
        account: str,
        region: str,
        table: str,
        index: str | None = None,
        start: float = 0.0,
        end: float = float("inf"),
    ) -> list[tuple[int, dict[str, float]]]:
        """Per-minute metric sums of a table (or GSI): [(minute start, {metric: sum})]."""
        series = self._series.get((account, region, table, index or ""))
        return series.minutes(start, end) if series is not None else []

    def datapoints(
        self,
        account: str,
        region: str,
        table: str,
        index: str | None,
        metric: str,
        start: float,
        end: float,
        period: int = 60,
    ) -> list[tuple[int, float]]:
        """Sum of one metric per `period` seconds (a multiple of 60), periods with data only."""
        sums: dict[int, float] = {}
        for minute_start, values in self.metrics(account, region, table, index, start, end):
            if metric in values:
                slot = int(minute_start - (minute_start - start) % period)
                sums[slot] = sums.get(slot, 0.0) + values[metric]
        return sorted(sums.items())

    def resources(self) -> list[tuple[str, str, str, str | None]]:
        """(account, region, table, index or None) of every resource with counters."""
        return [(a, r, t, i or None) for (a, r, t, i) in self._series]


def _bucket(
    rate: float, burst: float, old: Bucket | None, now: float, scale: float
) -> Bucket | None:
    if rate <= 0:
        return None
    capacity = rate * burst
    if old is None:
        return Bucket(rate, capacity, capacity, now)
    old.resize(rate, capacity, scale)
    return old


def _kept(old: _Resource | None, direction: int, ceilings: tuple[bool, bool]) -> Bucket | None:
    if old is None or old.ceilings[direction] != ceilings[direction]:
        return None
    return old.write if direction else old.read


def _sort_value(resource: _Resource, item: Item) -> AttrValue | None:
    return item.get(resource.sk) if resource.sk is not None else None
