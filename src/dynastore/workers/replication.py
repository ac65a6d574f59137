"""The replication worker: keeps every global table's replicas in sync.

Each step (engine/replication.py does the work):

- a group member whose table was deleted (or replaced by a new table of the same name)
  leaves its group;
- every member with unshipped changes in its change log ships one batch to the other
  members, in one write transaction (checked on a read snapshot first, so an idle step
  takes no write lock);
- every new replica's initial copy advances by one chunk.

With several processes sharing a store, the holder of the job's lease runs it; every
step also re-reads cursors and definitions inside its write transaction, so a batch is
never shipped twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from dynastore.engine import replication
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.storage.base import ReadTx
from dynastore.workers.base import PeriodicWorker


@dataclass(frozen=True)
class ReplicationSettings:
    """How often replication looks for work, and its batch sizes."""

    interval: float = 0.5
    ship_batch: int = replication.SHIP_BATCH
    copy_batch: int = replication.COPY_BATCH


class ReplicationWorker(PeriodicWorker):
    """Ships global tables' changes between their replicas."""

    name = "replication worker"
    job = "replication"

    def __init__(self, engine: Engine, settings: ReplicationSettings | None = None) -> None:
        self.settings = settings or ReplicationSettings()
        super().__init__(self.settings.interval, engine.backend)
        self._engine = engine

    def _members(self, tx: ReadTx, table: TableDef) -> list[TableDef]:
        """The stored definitions of `table`'s other members."""
        found = []
        for region, member in replication.members(table).items():
            if region == table.region:
                continue
            other = self._engine.catalog.read(tx, table.account, region, table.name)
            if other is not None and other.description.get("TableId") == member["id"]:
                found.append(other)
        return found

    def run_once(self) -> bool:
        engine = self._engine
        catalog = engine.catalog
        backend = engine.backend
        with backend.read() as snapshot:
            if not replication.any_groups(snapshot):
                return False  # no global table: no catalog scan
        catalog.refresh()
        tables = [t for t in catalog.all_tables() if replication.members(t)]
        more = False
        for table in tables:
            self._reconcile(table)
        for seen in tables:
            with backend.read() as snapshot:
                if not replication.pending(snapshot, seen):
                    continue
            with backend.write() as tx:
                source = catalog.read(tx, seen.account, seen.region, seen.name)
                if source is None or not replication.members(source):
                    continue
                more |= replication.ship(
                    tx, source, self._members(tx, source), self.settings.ship_batch
                )
        with backend.read() as snapshot:
            jobs = [space for space, _ in replication.copy_jobs(snapshot)]
        for space in jobs:
            with backend.write() as tx:
                more |= not replication.copy_chunk(tx, catalog, space, self.settings.copy_batch)
        return more

    def _reconcile(self, table: TableDef) -> None:
        """Take members whose table is gone out of the group."""
        catalog = self._engine.catalog
        for region, member in replication.members(table).items():
            if region == table.region:
                continue
            other = catalog.get(table.account, region, table.name)
            if other is not None and other.description.get("TableId") == member["id"]:
                continue
            with self._engine.backend.write() as tx:
                fresh = catalog.read(tx, table.account, table.region, table.name)
                if fresh is not None and fresh.description.get("TableId") == (
                    table.description.get("TableId")
                ):
                    replication.leave(tx, catalog, fresh, region)
