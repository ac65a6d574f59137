"""The lease keeper: acquires, renews and takes over the jobs' leases (engine/leases.py).

Only when several processes share a store (app.py): it gives each job worker its lease,
takes its first step at start-up, then one every third of the lease duration, and
releases what it holds at shutdown so that another process takes over at once. After
each step it reports the number of live processes (`Leases.members`), which the app
turns into this process's share of every table's capacity.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from dynastore.engine.leases import Leases
from dynastore.workers.base import PeriodicWorker, Worker

log = logging.getLogger("dynastore.leases")


class LeaseKeeper(PeriodicWorker):
    """Runs `Leases.step` every ``seconds / 3``, then calls `on_members` with the number
    of live processes; releases the leases when stopped."""

    name = "lease keeper"

    def __init__(self, leases: Leases, on_members: Callable[[int], None] | None = None) -> None:
        super().__init__(leases.seconds / 3, eager=True)
        self._leases = leases
        self._on_members = on_members
        self._members = 1

    def run_once(self) -> bool:
        self._leases.step()
        members = self._leases.members()
        if members != self._members:
            log.info("server processes sharing the store: %d", members)
            self._members = members
        if self._on_members is not None:
            self._on_members(members)
        return False

    def finish(self) -> None:
        """Release the leases at shutdown (if that fails, they expire)."""
        self._leases.release()


def coordinate(
    workers: Iterable[Worker], leases: Leases, on_members: Callable[[int], None] | None = None
) -> LeaseKeeper:
    """Give every job worker its lease; the keeper to start before them."""
    for worker in workers:
        if isinstance(worker, PeriodicWorker) and worker.job is not None:
            worker.lease = leases.lease(worker.job)
    return LeaseKeeper(leases, on_members)
