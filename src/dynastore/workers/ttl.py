"""The TTL sweeper: deletes expired items through the write path.

Each step walks every table with TTL enabled: it indexes one chunk of items that existed
before TTL was enabled (engine/ttl.py), then reads the expiry index from its oldest
entry and deletes up to `batch` due items in one transaction. An item is due `delay`
seconds after its TTL; values more than five years past are ignored, as DynamoDB ignores
them. Before deleting, the sweeper re-reads the item in the same transaction and skips it
unless its TTL still equals the indexed one, so an item whose TTL changed since is not
deleted (its index entry was stale and is dropped). Deletions go through
``writes.write_in``: secondary indexes follow, and the change log gets a REMOVE record
whose userIdentity names the DynamoDB service.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from dynastore.engine import changelog, metrics, ttl, writes
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.engine.values import Item
from dynastore.storage.base import Backend
from dynastore.workers.base import PeriodicWorker

log = logging.getLogger("dynastore.workers")


@dataclass(frozen=True)
class TtlSettings:
    """How the sweeper paces itself."""

    delay: float = 10.0  # seconds between an item's expiry and its deletion
    interval: float = 1.0  # seconds between two sweeps when nothing is due
    batch: int = 100  # deletions per transaction: bounded, so writers never wait long
    chunk: int = 500  # items indexed per backfill transaction


def _delete(_: Item | None) -> Item | None:
    return None


def sweep(
    backend: Backend,
    table: TableDef,
    now: float,
    delay: float,
    limit: int,
    on_deleted: Callable[[int], None] | None = None,
) -> int:
    """Delete up to `limit` due items of `table` in one transaction; returns entries seen.

    `on_deleted(count)` hears how many items the committed transaction deleted (metrics)."""
    attribute = table.ttl_attribute
    if attribute is None:
        return 0
    start, end = ttl.due_range(now, delay)
    with backend.read() as snapshot:  # the common case, nothing due, takes no write lock
        if not any(True for _ in snapshot.range(table.ttl_space, start, end, limit=1)):
            return 0
    deleted = 0
    with backend.write() as tx:
        entries = [k for k, _ in tx.range(table.ttl_space, start, end, limit=limit)]
        for entry in entries:
            expiry, base_key = ttl.split_entry(entry)
            raw = tx.get(table.space, base_key)
            item = orjson.loads(raw) if raw is not None else None
            if item is None or ttl.expiry_of(item, attribute) != expiry:
                tx.delete(table.ttl_space, entry)  # stale: the write path moved it
                continue
            key = {name: item[name] for name in table.key_names}
            writes.write_in(tx, table, key, _delete, identity=changelog.TTL_IDENTITY)
            deleted += 1
    if on_deleted is not None and deleted:
        on_deleted(deleted)
    return len(entries)


TTL_METRIC = "TimeToLiveDeletedItemCount"


class TtlWorker(PeriodicWorker):
    """Runs `sweep` (and TTL backfills) over every table with TTL enabled."""

    name = "TTL sweeper"
    job = "ttl"

    def __init__(self, engine: Engine, settings: TtlSettings | None = None) -> None:
        self.settings = settings or TtlSettings()
        super().__init__(self.settings.interval, engine.backend)
        self._engine = engine

    def run_once(self) -> bool:
        engine = self._engine
        settings = self.settings
        engine.catalog.refresh()
        more = False
        with engine.backend.read() as snapshot:
            retired = ttl.retired_pending(snapshot)
        if retired:
            with engine.backend.write() as tx:
                more = ttl.drop_retired(tx, settings.chunk)
        now = engine.clock()
        for table in list(engine.catalog.all_tables()):
            if table.ttl_attribute is None or table.status in ("CREATING", "DELETING"):
                continue
            if ttl.backfill_pending(engine.backend, table.ttl_space):
                with engine.backend.write() as tx:
                    more |= ttl.backfill_chunk(tx, table, settings.chunk)
            swept = sweep(
                engine.backend, table, now, settings.delay, settings.batch, self._counter(table)
            )
            more |= swept >= settings.batch
        return more

    def _counter(self, table: TableDef) -> Callable[[int], None]:
        """Counts deletions in the TimeToLiveDeletedItemCount metric (and the debug log)."""
        recorder = self._engine.metrics

        def deleted(count: int) -> None:
            log.debug("TTL sweeper deleted %d expired items of table %s", count, table.name)
            minute = int(self._engine.clock() // 60)
            dims = metrics.table_dims(table.name)
            recorder.add_total(table.account, table.region, TTL_METRIC, dims, float(count), minute)

        return deleted
