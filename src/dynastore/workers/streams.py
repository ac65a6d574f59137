"""The streams worker: shard rollover, retention and trimming of change logs.

Each step, for every stream descriptor (engine/streams.py):

- a stream whose table was deleted (or re-created) is ended: DISABLED, shards closed;
- the open shard is closed, and a child opened, once it holds `shard_records` records or
  is `shard_seconds` old (DynamoDB rolls shards about every four hours);
- closed shards whose records are all trimmed stop being listed;
- a stream disabled for longer than the retention is forgotten, and its log dropped
  when no table or other stream reads it.

Before that, every change log loses its records older than what its readers need
(`changelog.retention`: a stream's 24 hours, point-in-time recovery's recovery period),
at most `trim_batch` per transaction; a log a restore or backup is reading (pinned) is
left whole until it finishes. Each decision is first made on a read snapshot, so a step
with nothing to do takes no write lock; when there is work it is redone inside a write
transaction on freshly read state.
"""

from __future__ import annotations

from dataclasses import dataclass

from dynastore.engine import changelog, streams
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.engine.streams import Stream
from dynastore.storage.base import ReadTx
from dynastore.workers.base import PeriodicWorker


@dataclass(frozen=True)
class StreamSettings:
    """Retention and shard rollover of DynamoDB Streams."""

    retention: float = 86400.0  # seconds a record (and a disabled stream) stays readable
    interval: float = 10.0  # seconds between two steps when there is nothing to do
    shard_seconds: float = 14400.0  # an open shard is closed after this long (0: never)
    shard_records: int = 0  # ... or once it holds this many records (0: no limit)
    trim_batch: int = 1000  # log records deleted per transaction


class StreamsWorker(PeriodicWorker):
    """Keeps every stream's shards and change log within DynamoDB's rules."""

    name = "streams worker"
    job = "streams"

    def __init__(self, engine: Engine, settings: StreamSettings | None = None) -> None:
        self.settings = settings or StreamSettings()
        super().__init__(self.settings.interval, engine.backend)
        self._engine = engine

    def _maintain(
        self, tx: ReadTx, stream: Stream, table: TableDef | None, now: float
    ) -> tuple[bool, bool]:
        """Apply this step's changes to `stream` in memory: (changed, expired)."""
        settings = self.settings
        changed = streams.close_if_orphaned(tx, stream, table, now)
        if stream.disabled is not None and now - stream.disabled >= settings.retention:
            return changed, True
        changed |= streams.roll(tx, stream, now, settings.shard_seconds, settings.shard_records)
        changed |= streams.drop_trimmed_shards(tx, stream)
        return changed, False

    def run_once(self) -> bool:
        engine = self._engine
        backend = engine.backend
        engine.catalog.refresh()
        now = engine.clock()
        tables = {(t.account, t.region, t.name): t for t in engine.catalog.all_tables()}
        with backend.read() as snapshot:
            described = streams.all_streams(snapshot)
            pinned = changelog.pinned_spaces(snapshot)
        stream_seconds = self.settings.retention
        keep = {s.log: stream_seconds for s in described}
        for t in tables.values():
            if t.log_space:
                need = changelog.retention(t, stream_seconds)
                keep[t.log_space] = max(keep.get(t.log_space, 0.0), stream_seconds, need)
        in_use = {t.log_space for t in tables.values() if t.log_space}
        more = self._trim({log: s for log, s in keep.items() if log not in pinned}, now)
        forgotten: set[int] = set()
        for seen in described:
            table = tables.get((seen.account, seen.region, seen.table))
            with backend.read() as snapshot:
                changed, expired = self._maintain(snapshot, seen, table, now)
            if changed or expired:
                with backend.write() as tx:
                    stream = streams.load(tx, seen.arn)
                    if stream is None:
                        continue
                    # Decide on the stored table, not a cached one: another process
                    # may have just created it.
                    table = engine.catalog.read(tx, seen.account, seen.region, seen.table)
                    changed, expired = self._maintain(tx, stream, table, now)
                    if expired:
                        streams.remove(tx, stream)
                    elif changed:
                        streams.save(tx, stream)
            (forgotten if expired else in_use).add(seen.log)
        for log_space in forgotten - in_use - pinned:
            with backend.write() as tx:
                streams.drop_log(tx, log_space)
        return more

    def _trim(self, logs: dict[int, float], now: float) -> bool:
        """One trimming transaction per log with records past its retention (seconds)."""
        backend = self._engine.backend
        more = False
        for log_space in sorted(logs):
            cutoff_ms = int((now - logs[log_space]) * 1000)
            with backend.read() as snapshot:
                oldest = streams.oldest_ms(snapshot, log_space)
            if oldest is not None and oldest < cutoff_ms:
                with backend.write() as tx:
                    more |= streams.trim(tx, log_space, cutoff_ms, self.settings.trim_batch)
        return more
