"""Leases: each background job runs in one process of those that share a store.

Design note
-----------
A job (TTL sweeps, stream trimming, alarm evaluation, backfills, ...) must run once
across all the processes sharing a database, not once per process. Each job has one
lease row in `LEASE_SPACE`, keyed by the job's name (stored on disk — do not rename a
job), holding JSON ``{"holder", "term", "seconds", "renewed"}``: the holding process's
id, a counter bumped by every write of the row, the holder's lease duration, and the
wall-clock time of the write (for people; no decision reads it).

`Leases.step` (the lease keeper worker runs it every ``seconds / 3``) reads every row in
one snapshot and decides, for each job this process runs:

- no row (first start, or released at a clean shutdown): acquire it;
- our row: renew it (term + 1);
- another holder's row: take it over once its term has not moved for that row's
  ``seconds`` as this process watched it (the holder stopped renewing: it died, hung or
  lost the database), or at once when the holder is a process of this host, in this PID
  namespace, that no longer exists (a crash: no need to wait).

The writes happen in one write transaction that re-reads the rows (one round trip) and
writes each only if it is still the row the decision was made on (a conditional write;
both backends serialise write transactions, and PostgreSQL's serialization failures are
retried by the backend). A lease counts as held only once that transaction committed.

Expiry is judged by each process's own monotonic clock, never by comparing the wall
clocks of different hosts (as Kubernetes' leader election does): an observer takes over
after seeing one term for ``seconds``, while the holder trusts its lease for
``HOLD_FRACTION * seconds`` from the start of the renewal that wrote that term, so the
holder stops first, with a margin for scheduling delays and clock-rate drift. A job step
already running when its lease lapses finishes; every job re-reads what it acts on in
its own transactions, so a rare overlap only wastes work.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from dynastore.engine import spaces
from dynastore.storage.base import Backend

LEASE_SPACE = spaces.LEASES
DEFAULT_SECONDS = 10.0
HOLD_FRACTION = 0.8  # of a lease's duration that its holder trusts it after a renewal

log = logging.getLogger("dynastore.leases")


@dataclass(frozen=True, slots=True)
class Record:
    """A lease row: who holds the job, the row's write counter, the holder's duration."""

    holder: str
    term: int
    seconds: float

    def to_json(self, renewed: float) -> bytes:
        return orjson.dumps(
            {"holder": self.holder, "term": self.term, "seconds": self.seconds, "renewed": renewed}
        )

    @classmethod
    def from_json(cls, raw: bytes | None) -> Record | None:
        if raw is None:
            return None
        data = orjson.loads(raw)
        return cls(str(data["holder"]), int(data["term"]), float(data["seconds"]))


@dataclass(slots=True)
class _Job:
    """One job as this process sees it."""

    until: float = 0.0  # monotonic time up to which this process holds it
    term: int = 0  # the term this process last wrote (0: none)
    seen: Record | None = None  # another holder's row, as first observed at seen_at
    seen_at: float = 0.0


class Lease:
    """One job's lease, as `PeriodicWorker` checks it before each step."""

    __slots__ = ("_clock", "_job", "name")

    def __init__(self, name: str, job: _Job, clock: Callable[[], float]) -> None:
        self.name = name
        self._job = job
        self._clock = clock

    def held(self) -> bool:
        """True while this process may run the job."""
        return self._job.until > self._clock()


def holder_id() -> str:
    """This process's id: host / PID namespace / pid / random (unique per start)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return "/".join((socket.gethostname(), namespace, str(os.getpid()), uuid.uuid4().hex[:8]))


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Leases:
    """The leases of the jobs this process runs (see the module docstring)."""

    def __init__(
        self,
        backend: Backend,
        *,
        seconds: float = DEFAULT_SECONDS,
        holder: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        alive: Callable[[int], bool] = process_alive,
    ) -> None:
        self._backend = backend
        self.seconds = seconds
        self.holder = holder or holder_id()
        self._clock = clock
        self._wall = wall
        self._alive = alive
        self._jobs: dict[str, _Job] = {}

    def lease(self, name: str) -> Lease:
        """The lease of job `name` (registered on first use; held after a `step`)."""
        job = self._jobs.setdefault(name, _Job())
        return Lease(name, job, self._clock)

    def step(self) -> list[str]:
        """Acquire, renew or take over what is due; returns the jobs written."""
        return self.apply(self.plan())

    def plan(self) -> dict[str, Record | None]:
        """The jobs to write, each with the row (None: no row) the decision rests on."""
        now = self._clock()
        with self._backend.read() as tx:
            rows = {
                key.decode(): Record.from_json(raw) for key, raw in tx.range(LEASE_SPACE, b"", None)
            }
        wanted: dict[str, Record | None] = {}
        for name, job in self._jobs.items():
            row = rows.get(name)
            if row is None or row.holder == self.holder:
                wanted[name] = row
                continue
            if job.term:
                log.warning("lease %s: taken over by %s", name, row.holder)
            job.until, job.term = 0.0, 0
            if job.seen != row:
                job.seen, job.seen_at = row, now
            if now - job.seen_at >= row.seconds or self._gone(row.holder):
                wanted[name] = row
        return wanted

    def apply(self, wanted: dict[str, Record | None]) -> list[str]:
        """Write each wanted row if it is still the one planned on (conditional write)."""
        if not wanted:
            return []
        started = self._clock()
        terms: dict[str, int] = {}
        names = list(wanted)
        with self._backend.write() as tx:
            stored = tx.get_many([(LEASE_SPACE, name.encode()) for name in names])
            for name, raw in zip(names, stored, strict=True):
                planned = wanted[name]
                if Record.from_json(raw) != planned:
                    continue  # changed since the plan: decide again at the next step
                term = (planned.term if planned is not None else 0) + 1
                row = Record(self.holder, term, self.seconds)
                tx.put(LEASE_SPACE, name.encode(), row.to_json(self._wall()))
                terms[name] = term
        if self._backend.pending():
            self._backend.flush()  # held only once committed
        until = started + HOLD_FRACTION * self.seconds
        for name, term in terms.items():
            job = self._jobs[name]
            if not job.term:
                log.info("lease %s: held by this process (%s)", name, self.holder)
            job.until, job.term, job.seen = until, term, None
        return list(terms)

    def release(self) -> None:
        """Delete the rows this process holds (clean shutdown: others take over at once)."""
        held = [name for name, job in self._jobs.items() if job.term]
        for job in self._jobs.values():
            job.until, job.term = 0.0, 0
        if not held:
            return
        with self._backend.write() as tx:
            stored = tx.get_many([(LEASE_SPACE, name.encode()) for name in held])
            for name, raw in zip(held, stored, strict=True):
                row = Record.from_json(raw)
                if row is not None and row.holder == self.holder:
                    tx.delete(LEASE_SPACE, name.encode())
        if self._backend.pending():
            self._backend.flush()

    def _gone(self, holder: str) -> bool:
        """True when `holder` is a process of this host and PID namespace that has exited."""
        host, namespace, pid, _ = [*holder.split("/"), "", "", "", ""][:4]
        mine = self.holder.split("/")
        if not namespace or not pid.isdigit() or [host, namespace] != mine[:2]:
            return False
        return not self._alive(int(pid))
