"""The lease keeper: acquires, renews and takes over the jobs' leases (engine/leases.py).

Only when several processes share a store (app.py): it gives each job worker its lease,
takes its first step at start-up, then one every third of the lease duration, and
releases what it holds at shutdown so that another process takes over at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from dynastore.engine.leases import Leases
from dynastore.workers.base import PeriodicWorker, Worker


class LeaseKeeper(PeriodicWorker):
    """Runs `Leases.step` every ``seconds / 3``; releases the leases when stopped."""

    name = "lease keeper"

    def __init__(self, leases: Leases) -> None:
        super().__init__(leases.seconds / 3, eager=True)
        self._leases = leases

    def run_once(self) -> bool:
        self._leases.step()
        return False

    def finish(self) -> None:
        """Release the leases at shutdown (if that fails, they expire)."""
        self._leases.release()


def coordinate(workers: Iterable[Worker], leases: Leases) -> LeaseKeeper:
    """Give every job worker its lease; the keeper to start before them."""
    for worker in workers:
        if isinstance(worker, PeriodicWorker) and worker.job is not None:
            worker.lease = leases.lease(worker.job)
    return LeaseKeeper(leases)
