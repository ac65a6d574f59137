"""The backups worker: runs backup and restore jobs, expires system backups, and drops
retired spaces, each in bounded chunks (engine/restore.py, engine/backups.py).

Like every worker (workers/base.py) it runs on the server's event loop, one bounded
chunk per job per step, committing its group after each step, so requests are served
between two chunks. A long-lived worker (app.py) resumes jobs left by a restart or by
another process; the operations that create work kick a short-lived one that stops
once nothing is pending. Several workers on one job are harmless: each chunk re-reads
the job inside its transaction and continues where the last one stopped.
"""

from __future__ import annotations

from dynastore.engine import backups, restore
from dynastore.engine.engine import Engine
from dynastore.storage.base import ReadTx
from dynastore.workers.base import PeriodicWorker, drain

IDLE_SECONDS = 1.0
DROP_KEYS = 2000  # keys of a retired space dropped per transaction
EXPIRY_CHECK_SECONDS = 60.0  # system backups expire after 35 days: no hurry


class BackupsWorker(PeriodicWorker):
    """Drives backup jobs, restores, system-backup expiry and retired-space drops."""

    name = "backups worker"
    job = "backups"

    def __init__(
        self,
        engine: Engine,
        *,
        until_idle: bool = False,
        chunk_items: int = restore.CHUNK_ITEMS,
        interval: float = IDLE_SECONDS,
    ) -> None:
        super().__init__(interval, engine.backend, until_idle=until_idle)
        self._engine = engine
        self._chunk_items = chunk_items
        self._next_expiry_check = 0.0

    def run_once(self) -> bool:
        """One chunk of every pending job, then housekeeping; True while work remains."""
        engine = self._engine
        backend = engine.backend
        engine.catalog.refresh()
        with backend.read() as snapshot:
            jobs = restore.pending(snapshot)
            dropping = backups.retired(snapshot)
            expired = self._expired(snapshot)
        more = False
        for job in jobs:
            more |= not restore.run_chunk(backend, engine.catalog, job.id, self._chunk_items)
        for key in expired:
            with backend.write() as tx:
                backup = backups.load(tx, key)
                if backup is not None and backup.restoring is None:
                    backups.remove(tx, backup)
                    backups.retire(tx, backup.space, b"data")
                    more = True
        for space, kind in dropping:
            with backend.write() as tx:
                more |= not backups.drop_retired(tx, space, kind, DROP_KEYS)
        return more

    def _expired(self, snapshot: ReadTx) -> list[bytes]:
        """System backups past their expiry (35 days after their table was deleted)."""
        now = self._engine.clock()
        if now < self._next_expiry_check:
            return []
        self._next_expiry_check = now + EXPIRY_CHECK_SECONDS
        return [
            b.key
            for b in backups.all_backups(snapshot)
            if b.expiry is not None and b.expiry <= now and b.restoring is None
        ]


def kick(engine: Engine) -> BackupsWorker | None:
    """Drive pending backup work from a request (see workers.base.drain)."""
    return drain(BackupsWorker(engine, until_idle=True), engine.leases)
