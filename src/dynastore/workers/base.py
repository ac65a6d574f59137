"""Background workers: the protocol and a periodic base class.

A worker runs on the server's event loop, one bounded step per callback: the storage
backend belongs to that thread, a step is one or a few short write transactions, and
requests that arrived meanwhile are served between two steps. With a group-committing
backend a step's writes join the open commit group, so the step ends by committing it
(no request waits on a worker's writes, and the write lock is not held between turns).
When several processes share one store, a worker with a `job` name takes a step only
while its process holds that job's lease (engine/leases.py), so each job runs in one
process at a time; workers without one (the metrics flush) do per-process work. Every
step still re-reads what it acts on inside its transaction, so should two processes
ever overlap, that is only wasted work.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol, TypeVar

from dynastore.engine.leases import Lease, Leases
from dynastore.storage.base import Backend

log = logging.getLogger("dynastore.workers")


class Worker(Protocol):
    """What app.py starts at start-up and stops at shutdown."""

    def start(self) -> None:
        """Schedule the worker on the running event loop."""
        ...

    def stop(self) -> None:
        """Stop scheduling steps (a step in progress, being synchronous, has finished)."""
        ...

    def run_once(self) -> bool:
        """Do one bounded step of work; True when more work is waiting."""
        ...


class PeriodicWorker:
    """Calls `run_once` every `interval` seconds, back to back while it reports more work.

    With a `lease` (app.py sets it when processes share the store), a step is taken only
    while the lease is held; a short-lived worker without it stops at once.
    """

    name = "worker"
    job: str | None = None  # the name of its lease; stored on disk — do not rename

    def __init__(
        self,
        interval: float,
        backend: Backend | None = None,
        *,
        until_idle: bool = False,
        eager: bool = False,
    ) -> None:
        self.interval = interval
        self._backend = backend
        self._until_idle = until_idle  # short-lived: stop once run_once reports no more work
        self._eager = eager  # first step at once rather than after one interval
        self.lease: Lease | None = None
        self._handle: asyncio.Handle | None = None
        self._stopped = True

    @property
    def running(self) -> bool:
        return not self._stopped

    def run_once(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def start(self) -> None:
        if not self._stopped:
            return
        self._stopped = False
        loop = asyncio.get_running_loop()
        # A short-lived worker takes its first step at once.
        self._handle = (
            loop.call_soon(self._tick)
            if self._until_idle or self._eager
            else loop.call_later(self.interval, self._tick)
        )

    def stop(self) -> None:
        running = not self._stopped
        self._stopped = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if running:
            try:
                self.finish()
            except Exception:
                log.exception("%s: its last step at shutdown failed", self.name)

    def finish(self) -> None:
        """Runs once when a running worker stops (shutdown work; none by default)."""

    def _tick(self) -> None:
        if self._stopped:
            return
        loop = asyncio.get_running_loop()
        more = False
        try:
            if self.lease is None or self.lease.held():
                more = self.run_once()
            if self._backend is not None and self._backend.pending():
                self._backend.flush()
        except Exception:
            log.exception("%s step failed; retrying in %.1fs", self.name, self.interval)
            more = False
        if not more and self._until_idle:
            self.stop()
        if self._stopped:
            return
        if more:
            self._handle = loop.call_soon(self._tick)
        else:
            self._handle = loop.call_later(self.interval, self._tick)


W = TypeVar("W", bound=PeriodicWorker)


def drain(worker: W, leases: Leases | None = None) -> W | None:
    """Drive a short-lived (until_idle) worker from a request: in the background when an
    event loop runs, else to completion now. Returns the worker if it was started.

    With `leases` (a shared store) it works only if this process holds the job's lease;
    otherwise the holder's long-lived worker finds the work at its next step."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        while worker.run_once():
            pass
        return None
    if leases is not None and worker.job is not None:
        worker.lease = leases.lease(worker.job)
    worker.start()
    return worker
