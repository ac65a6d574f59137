"""The autoscaling worker: target tracking for DynamoDB tables and GSIs.

Design note
-----------
Application Auto Scaling tracks a DynamoDB target with two CloudWatch alarms: AlarmHigh
(consumed capacity above the target utilization for 2 consecutive one-minute periods)
scales out, AlarmLow (below the target minus 20 points for 15 consecutive periods)
scales in. This worker evaluates the same rule every `interval` seconds (one period):
utilization = consumed units per second since the previous evaluation / provisioned
units. When a policy's alarm condition has held for its number of periods, the new
capacity is the one that would put utilization at the target, ``ceil(rate * 100 /
target)``, kept within the target's [MinCapacity, MaxCapacity]; with several policies the
largest wins, and scale-in needs every policy to agree. Scale-out and scale-in cooldowns
(seconds since the last activity in that direction), DisableScaleIn and the target's
SuspendedState are honoured. A target whose current capacity is outside its range is
brought into it first (AWS does so right after RegisterScalableTarget).

The change goes through UpdateTable's own code (ops/update_table.py), so DynamoDB's rules
apply (decreases per day, maxima); each change, successful or not, is a scaling activity.

Where consumption comes from. AWS's alarms watch the ConsumedRead/WriteCapacityUnits
metrics, which count all the traffic. A lone process reads its own per-minute capacity
counters (engine/throttle.py): all the traffic, current to the request. Processes
sharing a store each count only their own, and only the holder of this job's lease
evaluates, so there the worker reads those metrics from the CloudWatch store instead:
every process's metrics worker adds its counters' increments to the same one-minute
datapoints (engine/metrics.py), which so sum up every process's traffic. Either way the
worker keeps the per-minute sums of the last WINDOW_MINUTES minutes as it last read them,
and a period's consumption is how much they grew (a flush may still add to a minute a
few minutes old). In a shared store a period therefore sees what the processes flushed
during it: the measure trails the traffic by up to one flush interval
(`--metrics-interval`), as CloudWatch's own datapoints do, and an evaluation interval
shorter than the flush interval would find periods without a flush idle, so it should be
no shorter (both default to AWS's 60 s period). After a pause longer than MAX_GAP (the
lease was with another process), the next evaluation only takes a new baseline.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

from dynastore.engine import metrics
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.engine.throttle import CONSUMED_READ, CONSUMED_WRITE
from dynastore.errors import AwsError
from dynastore.ops import update_table
from dynastore.server.service import RequestContext
from dynastore.services.autoscaling import store
from dynastore.services.autoscaling.handlers import parse_resource, policies_for
from dynastore.services.autoscaling.store import Record, TargetKey
from dynastore.services.cloudwatch import store as datapoints
from dynastore.workers.base import PeriodicWorker

SCALE_OUT_PERIODS = 2  # AlarmHigh: 2 datapoints of 2
SCALE_IN_PERIODS = 15  # AlarmLow: 15 datapoints of 15
SCALE_IN_MARGIN = 20.0  # AlarmLow's threshold: the target minus 20 points
MAX_GAP = 120.0  # seconds between two evaluations beyond which the older one is no baseline
# The minutes read: those a flush since the previous evaluation (at most MAX_GAP ago) may
# have added to, plus one for another host's clock being a little off.
WINDOW_MINUTES = metrics.COLLECTED_MINUTES + int(MAX_GAP // 60) + 1


@dataclass(frozen=True)
class AutoscalingSettings:
    """How often targets are evaluated (one alarm period; AWS: 60 s)."""

    interval: float = 60.0
    out_periods: int = SCALE_OUT_PERIODS
    in_periods: int = SCALE_IN_PERIODS


@dataclass(slots=True)
class _Watch:
    """A target's consumption as last read (minute -> units) and when, and how many
    periods each alarm condition has held."""

    seen: dict[int, float]
    at: float
    high: int = 0
    low: int = 0


@dataclass(frozen=True, slots=True)
class _Resource:
    """The table or index a target scales, as it is now."""

    table: TableDef
    index: str | None
    units: str  # ReadCapacityUnits or WriteCapacityUnits
    throughput: dict[str, Any]

    @property
    def current(self) -> int:
        return int(self.throughput[self.units])

    @property
    def noun(self) -> str:
        return "read" if self.units == "ReadCapacityUnits" else "write"


class AutoscalingWorker(PeriodicWorker):
    """Evaluates every DynamoDB scalable target's policies once per interval."""

    name = "autoscaling worker"
    job = "autoscaling"

    def __init__(self, engine: Engine, settings: AutoscalingSettings | None = None) -> None:
        self.settings = settings or AutoscalingSettings()
        super().__init__(self.settings.interval, engine.backend)
        self._engine = engine
        self._watch: dict[TargetKey, _Watch] = {}

    def run_once(self) -> bool:
        engine = self._engine
        engine.catalog.refresh()
        with engine.backend.read() as tx:
            found = [
                (TargetKey.of(account, region, record), record)
                for account, region, record in store.all_targets(tx)
                if record.get("ServiceNamespace") == "dynamodb"
            ]
            policies = {key: policies_for(store.policies_of(tx, key)) for key, _ in found}
        seen = set()
        for key, record in found:
            seen.add(key)
            self._evaluate(key, record, policies[key])
        for gone in set(self._watch) - seen:
            del self._watch[gone]
        return False

    def _resource(self, key: TargetKey) -> _Resource | None:
        try:
            name, index = parse_resource(key.namespace, key.resource_id, key.dimension)
        except AwsError:
            return None
        table = self._engine.catalog.get(key.account, key.region, name)
        if table is None or table.status != "ACTIVE":
            return None
        desc = table.description
        if desc.get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST":
            return None
        holder: dict[str, Any] = desc
        if index is not None:
            entry = next(
                (g for g in desc.get("GlobalSecondaryIndexes", []) if g["IndexName"] == index),
                None,
            )
            if entry is None or entry.get("IndexStatus") != "ACTIVE":
                return None
            holder = entry
        units = key.dimension.rsplit(":", 1)[1]  # ReadCapacityUnits or WriteCapacityUnits
        return _Resource(table, index, units, holder["ProvisionedThroughput"])

    def _consumed(self, key: TargetKey, resource: _Resource, now: float) -> dict[int, float]:
        """Units consumed per minute (minute -> units) of the last WINDOW_MINUTES: this
        process's counters, or in a shared store every process's flushed datapoints."""
        metric = CONSUMED_READ if resource.units == "ReadCapacityUnits" else CONSUMED_WRITE
        engine, table, index = self._engine, resource.table.name, resource.index
        first = int(now // 60) - WINDOW_MINUTES + 1
        if not engine.settings.shared_store:
            minutes = engine.throttle.metrics(key.account, key.region, table, index, first * 60)
            return {start // 60: sums.get(metric, 0.0) for start, sums in minutes}
        dims = metrics.table_dims(table, index)
        end = (int(now // 60) + 2) * 60  # another host's clock may be a little ahead
        found: dict[int, float] = {}
        with engine.backend.read() as tx:
            for start, _, stat in datapoints.read_buckets(
                tx, key.account, key.region, metrics.NAMESPACE, metric, dims, first * 60, end
            ):
                found[start // 60] = found.get(start // 60, 0.0) + stat.total
        return found

    def _evaluate(self, key: TargetKey, record: Record, policies: list[Record]) -> None:
        resource = self._resource(key)
        if resource is None:
            self._watch.pop(key, None)
            return
        low, high = int(record["MinCapacity"]), int(record["MaxCapacity"])
        current = resource.current
        if current < low:
            self._scale(key, resource, low, f"minimum capacity was set to {low}", "")
            return
        if current > high:
            self._scale(key, resource, high, f"maximum capacity was set to {high}", "")
            return
        now = self._engine.clock()
        seen = self._consumed(key, resource, now)
        watch = self._watch.get(key)
        if watch is None or not watch.at < now <= watch.at + MAX_GAP:
            # First sight, or after a pause: this period is the baseline.
            self._watch[key] = _Watch(seen, now)
            return
        used = sum(max(0.0, units - watch.seen.get(m, 0.0)) for m, units in seen.items())
        rate = used / (now - watch.at)
        watch.seen, watch.at = seen, now
        if not policies or current <= 0:
            watch.high = watch.low = 0
            return
        utilization = rate * 100.0 / current
        outs: list[tuple[int, Record]] = []
        ins: list[tuple[int, Record]] = []
        all_low = True
        for policy in policies:
            config = policy["TargetTrackingScalingPolicyConfiguration"]
            target = float(config["TargetValue"])
            wanted = max(1, math.ceil(rate * 100.0 / target - 1e-9))
            if utilization > target:
                outs.append((max(wanted, current + 1), policy))
            if utilization < target - SCALE_IN_MARGIN and not config.get("DisableScaleIn"):
                ins.append((wanted, policy))
            else:
                all_low = False
        watch.high = watch.high + 1 if outs else 0
        watch.low = watch.low + 1 if all_low and ins else 0
        suspended = record.get("SuspendedState") or {}
        state = record.get("state") or {}
        if watch.high >= self.settings.out_periods and not suspended.get(
            "DynamicScalingOutSuspended"
        ):
            capacity, policy = max(outs, key=lambda o: o[0])
            capacity = min(capacity, high)
            cooldown = float(
                policy["TargetTrackingScalingPolicyConfiguration"].get("ScaleOutCooldown") or 0
            )
            if capacity > current and now - float(state.get("out", 0.0)) >= cooldown:
                watch.high = 0
                self._scale(key, resource, capacity, _cause(policy, 0), "out")
        elif watch.low >= self.settings.in_periods and not suspended.get(
            "DynamicScalingInSuspended"
        ):
            capacity, policy = max(ins, key=lambda o: o[0])
            capacity = max(capacity, low)
            cooldown = float(
                policy["TargetTrackingScalingPolicyConfiguration"].get("ScaleInCooldown") or 0
            )
            if capacity < current and now - float(state.get("in", 0.0)) >= cooldown:
                watch.low = 0
                self._scale(key, resource, capacity, _cause(policy, 1), "in")

    def _scale(
        self, key: TargetKey, resource: _Resource, capacity: int, cause: str, direction: str
    ) -> None:
        """Set the capacity through UpdateTable and record the activity."""
        engine = self._engine
        start = engine.clock()
        table = resource.table
        throughput = {
            "ReadCapacityUnits": int(resource.throughput["ReadCapacityUnits"]),
            "WriteCapacityUnits": int(resource.throughput["WriteCapacityUnits"]),
            resource.units: capacity,
        }
        request: dict[str, Any] = {"TableName": table.name}
        if resource.index is None:
            request["ProvisionedThroughput"] = throughput
        else:
            request["GlobalSecondaryIndexUpdates"] = [
                {"Update": {"IndexName": resource.index, "ProvisionedThroughput": throughput}}
            ]
        ctx = RequestContext(
            f"autoscaling-{uuid.uuid4()}", key.account, key.region, "application-autoscaling"
        )
        noun = resource.noun
        try:
            update_table.handle(engine, ctx, request)
            status = "Successful"
            message = (
                f"Successfully set {noun} capacity units to {capacity}. Change successfully "
                "fulfilled by dynamodb."
            )
        except AwsError as error:
            status = "Failed"
            message = f"Failed to set {noun} capacity units to {capacity}. Reason: {error.message}"
        end = engine.clock()
        activity: Record = {
            "ActivityId": str(uuid.uuid4()),
            "ServiceNamespace": key.namespace,
            "ResourceId": key.resource_id,
            "ScalableDimension": key.dimension,
            "Description": f"Setting {noun} capacity units to {capacity}.",
            "Cause": cause,
            "StartTime": round(start, 3),
            "EndTime": round(end, 3),
            "StatusCode": status,
            "StatusMessage": message,
        }
        with engine.backend.write() as tx:
            record = store.get_target(tx, key)
            if record is None:
                return
            store.add_activity(tx, key, activity, int(start * 1000))
            if direction:
                record.setdefault("state", {})[direction] = end
                store.put_target(tx, key, record)


def _cause(policy: Record, alarm: int) -> str:
    alarms = policy.get("Alarms") or []
    name = alarms[alarm]["AlarmName"] if len(alarms) > alarm else "TargetTracking"
    return f"monitor alarm {name} in state ALARM triggered policy {policy['PolicyName']}"
