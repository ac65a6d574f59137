"""The metrics worker: writes the AWS/DynamoDB metrics of this process to the store.

Each step drains the engine's in-memory recorder (engine/metrics.py), adds the
throttle's consumption and throttle-event increments, samples the provisioned-capacity
gauges (each flush overwrites the minute's value), and merges all of it into
CloudWatch's one-minute datapoints in one write transaction. A failed write puts the
drained sets back for the next step. Once an hour it trims datapoints and alarm history
past their retention. At shutdown `stop` flushes one last time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from dynastore.engine import metrics
from dynastore.engine.engine import Engine
from dynastore.engine.metrics import Histograms, Pending
from dynastore.services.cloudwatch import store
from dynastore.services.cloudwatch.store import Sample, Stat
from dynastore.workers.base import PeriodicWorker


@dataclass(frozen=True)
class MetricsSettings:
    interval: float = 60.0  # seconds between two flushes
    retention: float = 15 * 86400.0  # datapoints older than this are deleted
    history_retention: float = 14 * 86400.0  # alarm history older than this is deleted
    trim_interval: float = 3600.0  # seconds between two trims
    trim_batch: int = 1000  # metrics visited per trim transaction


class MetricsWorker(PeriodicWorker):
    """Flushes the engine's metrics to the CloudWatch store."""

    name = "metrics worker"

    def __init__(self, engine: Engine, settings: MetricsSettings | None = None) -> None:
        self.settings = settings or MetricsSettings()
        super().__init__(self.settings.interval, engine.backend)
        self._engine = engine
        self._deltas = metrics.ThrottleDeltas()
        self._trimmed = 0.0

    def run_once(self) -> bool:
        engine = self._engine
        now = engine.clock()
        self._deltas.collect(engine.throttle, engine.metrics, now)
        pending, hists = engine.metrics.drain()
        samples = _samples(pending, hists)
        self._gauges(samples, int(now // 60))
        try:
            if samples:
                with engine.backend.write() as tx:
                    for (account, region), group in samples.items():
                        store.put_samples(tx, account, region, group)
        except Exception:
            engine.metrics.restore(pending, hists)
            raise
        if now - self._trimmed >= self.settings.trim_interval:
            self._trimmed = now
            self._trim(now)
        return False

    def finish(self) -> None:
        """The last flush, at shutdown."""
        self.run_once()
        if self._engine.backend.pending():
            self._engine.backend.flush()

    def _gauges(self, samples: dict[tuple[str, str], list[Sample]], minute: int) -> None:
        engine = self._engine
        tables = [
            (t.account, t.region, t.name, t.description)
            for t in engine.catalog.all_tables()
            if t.status not in ("CREATING", "DELETING")
        ]
        for account, region, metric, dims, value in metrics.provisioned_gauges(tables):
            stat = Stat(1.0, value, value, value, {repr(value): 1.0})
            sample = Sample(
                metrics.NAMESPACE, metric, dims, minute * 60, metrics.unit_of(metric), stat, True
            )
            samples[(account, region)].append(sample)

    def _trim(self, now: float) -> None:
        settings = self.settings
        with self._engine.backend.write() as tx:
            store.trim_datapoints(tx, int(now - settings.retention), settings.trim_batch)
            store.trim_history(tx, now - settings.history_retention)


def _samples(pending: Pending, hists: Histograms) -> defaultdict[tuple[str, str], list[Sample]]:
    out: defaultdict[tuple[str, str], list[Sample]] = defaultdict(list)
    for key, (count, total, low, high) in pending.items():
        account, region, metric, dims, minute = key
        values = hists.get(key)
        hist = None
        if values is not None and len(values) <= metrics.HISTOGRAM_LIMIT:
            hist = {repr(value): number for value, number in values.items()}
        stat = Stat(count, total, low, high, hist)
        sample = Sample(metrics.NAMESPACE, metric, dims, minute * 60, metrics.unit_of(metric), stat)
        out[(account, region)].append(sample)
    return out
