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

Membership. Each process also keeps a member row, ``member/<holder id>`` (a prefix no
job name uses), written by every step with the same JSON. `Leases.members` counts the
live processes sharing the store: this one, plus each other member row whose term moved
within that row's ``seconds`` as this process watched it (a row first seen counts as
live until it has been still that long; a process of this host that no longer exists, at
once). The throttle divides every table's capacity by that count (workers/leases.py). A
clean shutdown deletes the row; a step deletes rows still for ``STALE_FACTOR`` durations
(or of exited processes of this host): the rows of crashed processes.
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
from dynastore.storage.base import Backend, WriteTx

LEASE_SPACE = spaces.LEASES
DEFAULT_SECONDS = 10.0
HOLD_FRACTION = 0.8  # of a lease's duration that its holder trusts it after a renewal
MEMBER_PREFIX = "member/"  # member rows' names: stored on disk — do not rename
STALE_FACTOR = 10.0  # a member row still for this many of its durations is deleted

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


@dataclass(slots=True)
class _Member:
    """Another process's member row, as first observed at `seen_at`."""

    row: Record
    seen_at: float
    gone: bool = False  # a process of this host that has exited


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
        self._member_term = 0  # the term this process last wrote to it (0: none)
        self._others: dict[str, _Member] = {}  # other processes' member rows

    @property
    def _member(self) -> str:
        """The name of this process's member row."""
        return MEMBER_PREFIX + self.holder

    def lease(self, name: str) -> Lease:
        """The lease of job `name` (registered on first use; held after a `step`)."""
        job = self._jobs.setdefault(name, _Job())
        return Lease(name, job, self._clock)

    def step(self) -> list[str]:
        """Acquire, renew or take over what is due; renew this process's member row and
        delete crashed processes' ones; returns the jobs written."""
        return self.apply(self.plan())

    def members(self) -> int:
        """The live processes sharing the store (this one included), as of the last step."""
        now = self._clock()
        return 1 + sum(
            1
            for member in self._others.values()
            if not member.gone and now - member.seen_at < member.row.seconds
        )

    def plan(self) -> dict[str, Record | None]:
        """The jobs to write, each with the row (None: no row) the decision rests on."""
        now = self._clock()
        with self._backend.read() as tx:
            rows = {
                key.decode(): Record.from_json(raw) for key, raw in tx.range(LEASE_SPACE, b"", None)
            }
        self._observe(rows, now)
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

    def _observe(self, rows: dict[str, Record | None], now: float) -> None:
        """Note when each other process's member row was first seen with its term."""
        others: dict[str, _Member] = {}
        for name, row in rows.items():
            if row is None or not name.startswith(MEMBER_PREFIX) or name == self._member:
                continue
            member = self._others.get(name)
            if member is None or member.row != row:
                member = _Member(row, now)
            member.gone = self._gone(row.holder)
            others[name] = member
        self._others = others

    def _stale(self) -> dict[str, Record]:
        """Member rows to delete: of exited processes, or still for STALE_FACTOR durations."""
        now = self._clock()
        return {
            name: member.row
            for name, member in self._others.items()
            if member.gone or now - member.seen_at >= STALE_FACTOR * member.row.seconds
        }

    def _keep_membership(
        self, tx: WriteTx, mine: bytes | None, stale: dict[str, Record], stored: list[bytes | None]
    ) -> None:
        """Renew this process's member row; delete the `stale` ones still as observed."""
        row = Record.from_json(mine)
        self._member_term = max(row.term if row else 0, self._member_term) + 1
        member = Record(self.holder, self._member_term, self.seconds)
        tx.put(LEASE_SPACE, self._member.encode(), member.to_json(self._wall()))
        for name, raw in zip(stale, stored, strict=True):
            if Record.from_json(raw) == stale[name]:
                log.info("member %s: removed (the process stopped)", stale[name].holder)
                tx.delete(LEASE_SPACE, name.encode())

    def apply(self, wanted: dict[str, Record | None]) -> list[str]:
        """Write each wanted row if it is still the one planned on (conditional write);
        renew this process's member row and delete stale ones in the same transaction."""
        started = self._clock()
        terms: dict[str, int] = {}
        names = list(wanted)
        stale = self._stale()
        with self._backend.write() as tx:
            keys = [*names, self._member, *stale]
            stored = tx.get_many([(LEASE_SPACE, name.encode()) for name in keys])
            self._keep_membership(tx, stored[len(names)], stale, stored[len(names) + 1 :])
            for name, raw in zip(names, stored[: len(names)], strict=True):
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
        """Delete the rows this process holds and its member row (clean shutdown: others
        take over at once, and count one process fewer)."""
        held = [name for name, job in self._jobs.items() if job.term]
        if self._member_term:
            held.append(self._member)
        for job in self._jobs.values():
            job.until, job.term = 0.0, 0
        self._member_term = 0
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
