"""The alarm worker: evaluates every metric alarm and acts on state changes.

Each step reads the alarms in one snapshot and, for each, the datapoints of its last
EvaluationPeriods periods. Periods are aligned to multiples of the alarm's period; the
period in progress counts once it has data (so a burst of throttles alarms within the
period, not a period later), otherwise the window ends with the last complete period.
`services.cloudwatch.evaluate` decides the state. A change is written in a transaction
that re-reads the alarm and gives up if another process (or SetAlarmState, or an
update) changed it meanwhile; the composite alarms that depend on the alarm are
re-evaluated in the same transaction (`composite.settle`). After the commit the alarms'
actions run (SNS notifications are queued for the delivery thread).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dynastore.services.cloudwatch import alarms, composite, evaluate, metrics, states, stats, store
from dynastore.services.cloudwatch.alarms import AlarmsApi
from dynastore.services.cloudwatch.evaluate import Point
from dynastore.services.cloudwatch.store import Stat
from dynastore.storage.base import Backend, ReadTx
from dynastore.workers.base import PeriodicWorker

log = logging.getLogger("dynastore.workers")


@dataclass(frozen=True)
class AlarmSettings:
    interval: float = 10.0  # seconds between two evaluations of every alarm


def alarm_points(
    tx: ReadTx, account: str, region: str, alarm: Mapping[str, Any], now: float
) -> list[Point]:
    """The alarm's datapoints for its evaluation window, oldest first."""
    period = alarms.alarm_period(alarm)
    count = int(alarm["EvaluationPeriods"])
    latest = int(now // period) * period
    origin = latest - count * period
    values, samples = _series(tx, account, region, alarm, origin, now, period)
    last = latest if latest in values else latest - period
    slots = [last - i * period for i in range(count - 1, -1, -1)]
    return [Point(s, values.get(s), samples.get(s, 0.0)) for s in slots]


def _series(
    tx: ReadTx,
    account: str,
    region: str,
    alarm: Mapping[str, Any],
    origin: int,
    now: float,
    period: int,
) -> tuple[dict[int, float], dict[int, float]]:
    """(value, sample count) per period start of what the alarm watches."""
    queries = alarm.get("Metrics")
    if queries:
        results = metrics.evaluate_queries(
            tx, account, region, list(queries), origin, now + 1, origin, returned_only=False
        )
        returned = next(q["Id"] for q in queries if q.get("ReturnData", True))
        series = next(r.series for r in results if r.id == returned)
        return series, {t: 1.0 for t in series}
    ref = metrics.MetricRef(
        str(alarm["Namespace"]),
        str(alarm["MetricName"]),
        store.canonical_dims(alarm.get("Dimensions")),
    )
    unit = alarm.get("Unit")
    found = metrics.read_periods(
        tx, account, region, ref, origin, now + 1, period, str(unit) if unit else None, origin
    )
    merged: dict[int, Stat] = {}
    for (slot, _), stat in found.items():
        if slot in merged:
            merged[slot].merge(stat)
        else:
            merged[slot] = stat
    name = str(alarm.get("Statistic") or alarm.get("ExtendedStatistic"))
    values: dict[int, float] = {}
    for slot, stat in merged.items():
        value = stats.value(stat, name)
        if value is not None:
            values[slot] = value
    return values, {slot: stat.count for slot, stat in merged.items()}


class AlarmWorker(PeriodicWorker):
    """Evaluates every alarm of every account each `interval` seconds."""

    name = "alarm worker"
    job = "alarms"

    def __init__(
        self,
        backend: Backend,
        clock: Callable[[], float],
        api: AlarmsApi,
        settings: AlarmSettings | None = None,
    ) -> None:
        self.settings = settings or AlarmSettings()
        super().__init__(self.settings.interval, backend)
        self._store = backend
        self._clock = clock
        self._api = api

    def run_once(self) -> bool:
        now = self._clock()
        changes: list[tuple[str, str, dict[str, Any], evaluate.Outcome]] = []
        with self._store.read() as tx:
            for account, region, alarm in store.all_alarms(tx):
                if composite.is_composite(alarm):
                    continue  # evaluated when its children change (composite.settle)
                try:
                    points = alarm_points(tx, account, region, alarm, now)
                    outcome = evaluate.evaluate(alarm, points, now)
                except Exception:
                    log.exception("cannot evaluate alarm %s", alarm.get("AlarmArn"))
                    continue
                if outcome is not None and outcome.state != alarm["StateValue"]:
                    changes.append((account, region, alarm, outcome))
        for account, region, seen, outcome in changes:
            with self._store.write() as wtx:
                current = store.get_alarm(wtx, account, region, str(seen["AlarmName"]))
                if current is None or not _unchanged(current, seen):
                    continue
                transition = states.change_state(
                    wtx, account, region, current, outcome.state, outcome.reason, outcome.data, now
                )
                if transition is None:
                    continue
                name = str(current["AlarmName"])
                transitions = [transition, *composite.settle(wtx, account, region, [name], now)]
            self._api.act(transitions)
        return False


def _unchanged(alarm: Mapping[str, Any], seen: Mapping[str, Any]) -> bool:
    return all(
        alarm.get(k) == seen.get(k)
        for k in ("StateValue", "StateUpdatedTimestamp", "AlarmConfigurationUpdatedTimestamp")
    )
