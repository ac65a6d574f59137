"""The GSI backfill loop: pending backfills, one chunk per event-loop turn.

See engine/indexes.py for the algorithm. The loop runs on the server's event loop
(the storage backend belongs to that thread), one chunk per callback, so requests
that arrived meanwhile are served between two chunks. `start()` needs a running loop;
`run_once()` is the synchronous step tests and other drivers can call directly.
"""

from __future__ import annotations

import asyncio
import logging

from dynastore.engine.engine import Engine
from dynastore.engine.indexes import CHUNK_ITEMS, pending_backfills, run_chunk

log = logging.getLogger("dynastore.workers.backfill")

IDLE_SECONDS = 1.0
RETRY_SECONDS = 1.0


class BackfillWorker:
    """Drives pending GSI backfills in bounded chunks.

    A long-lived worker (`until_idle=False`) checks for work every `idle_seconds`, which
    resumes backfills left by a restart or by another process; UpdateTable starts one
    with `until_idle=True` that stops when nothing is left.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        until_idle: bool = False,
        chunk_items: int = CHUNK_ITEMS,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self._engine = engine
        self._until_idle = until_idle
        self._chunk_items = chunk_items
        self._idle_seconds = idle_seconds
        self._handle: asyncio.Handle | None = None
        self._stopped = True

    @property
    def running(self) -> bool:
        return not self._stopped

    def run_once(self) -> bool:
        """Index one chunk of the oldest pending backfill; True while work remains."""
        jobs = pending_backfills(self._engine.backend)
        if not jobs:
            return False
        done = run_chunk(self._engine.backend, self._engine.catalog, jobs[0], self._chunk_items)
        return not done or len(jobs) > 1

    def start(self) -> None:
        """Schedule the loop on the running event loop."""
        if not self._stopped:
            return
        self._stopped = False
        self._handle = asyncio.get_running_loop().call_soon(self._tick)

    def stop(self) -> None:
        self._stopped = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        if self._stopped:
            return
        loop = asyncio.get_running_loop()
        try:
            more = self.run_once()
        except Exception:
            log.exception("index backfill chunk failed; retrying")
            self._handle = loop.call_later(RETRY_SECONDS, self._tick)
            return
        if more:
            self._handle = loop.call_soon(self._tick)
        elif self._until_idle:
            self._stopped = True
            self._handle = None
        else:
            self._handle = loop.call_later(self._idle_seconds, self._tick)


def kick(engine: Engine) -> BackfillWorker | None:
    """Drive pending backfills from a request: in the background when an event loop runs,
    else to completion now. Returns the background worker, if one was started."""
    worker = BackfillWorker(engine, until_idle=True)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        while worker.run_once():
            pass
        return None
    worker.start()
    return worker
