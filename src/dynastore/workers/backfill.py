"""The GSI backfill loop: pending backfills, one chunk per event-loop turn.

See engine/indexes.py for the algorithm. Like every worker (workers/base.py) it runs on
the server's event loop, one chunk per callback, committing its group after each chunk,
so requests that arrived meanwhile are served between two chunks. A long-lived worker
(app.py) also resumes backfills left by a restart or by another process; UpdateTable
kicks a short-lived one that stops once nothing is pending.
"""

from __future__ import annotations

from dynastore.engine.engine import Engine
from dynastore.engine.indexes import CHUNK_ITEMS, pending_backfills, run_chunk
from dynastore.workers.base import PeriodicWorker, drain

IDLE_SECONDS = 1.0


class BackfillWorker(PeriodicWorker):
    """Drives pending GSI backfills in bounded chunks (`chunk_items` per transaction)."""

    name = "index backfill"
    job = "backfill"

    def __init__(
        self,
        engine: Engine,
        *,
        until_idle: bool = False,
        chunk_items: int = CHUNK_ITEMS,
        interval: float = IDLE_SECONDS,
    ) -> None:
        super().__init__(interval, engine.backend, until_idle=until_idle)
        self._engine = engine
        self._chunk_items = chunk_items

    def run_once(self) -> bool:
        """Index one chunk of the oldest pending backfill; True while work remains."""
        engine = self._engine
        jobs = pending_backfills(engine.backend)
        more = bool(jobs) and (
            not run_chunk(engine.backend, engine.catalog, jobs[0], self._chunk_items)
            or len(jobs) > 1
        )
        return more


def kick(engine: Engine) -> BackfillWorker | None:
    """Drive pending backfills from a request (see workers.base.drain)."""
    return drain(BackfillWorker(engine, until_idle=True), engine.leases)
