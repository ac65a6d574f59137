"""Background jobs' leases (engine/leases.py) on SQLite and PostgreSQL: acquire, renew,
expire, take over, release, and the conditional write that settles a race.

Two `Leases` on one store stand for two server processes; a fake monotonic clock
stands for time passing.
"""

from __future__ import annotations

import asyncio

import pytest

from dynastore.engine.leases import HOLD_FRACTION, LEASE_SPACE, Leases, Record
from dynastore.workers.base import PeriodicWorker
from dynastore.workers.leases import coordinate
from tests.unit.clock import Clock
from tests.unit.test_storage_contract import BackendFactory, open_backend

__all__ = ["open_backend"]  # the fixture: a fresh store on each backend, opened per process

SECONDS = 10.0


@pytest.fixture
def clock() -> Clock:
    return Clock(1000.0)


def _process(open_backend: BackendFactory, clock: Clock, name: str, alive: bool = True) -> Leases:
    return Leases(
        open_backend(),
        seconds=SECONDS,
        holder=f"host/ns/{name}/x",
        clock=clock,
        alive=lambda pid: alive,
    )


def test_first_step_acquires_and_others_wait(open_backend: BackendFactory, clock: Clock) -> None:
    first, second = _process(open_backend, clock, "1"), _process(open_backend, clock, "2")
    ttl, alarms = first.lease("ttl"), first.lease("alarms")
    other = second.lease("ttl")
    assert not ttl.held()  # nothing is held before a step
    assert sorted(first.step()) == ["alarms", "ttl"]
    assert ttl.held() and alarms.held()
    assert second.step() == []
    assert not other.held()


def test_renewal_keeps_the_lease(open_backend: BackendFactory, clock: Clock) -> None:
    first, second = _process(open_backend, clock, "1"), _process(open_backend, clock, "2")
    mine, theirs = first.lease("ttl"), second.lease("ttl")
    first.step()
    second.step()
    for _ in range(10):  # renewed every third of the duration: never taken over
        clock.now += SECONDS / 3
        assert first.step() == ["ttl"]
        assert second.step() == []
        assert mine.held() and not theirs.held()
    row = Record.from_json(open_backend().get(LEASE_SPACE, b"ttl"))
    assert row == Record("host/ns/1/x", 11, SECONDS)


def test_holder_that_stops_renewing_is_taken_over(
    open_backend: BackendFactory, clock: Clock
) -> None:
    first, second = _process(open_backend, clock, "1"), _process(open_backend, clock, "2")
    mine, theirs = first.lease("ttl"), second.lease("ttl")
    first.step()
    second.step()  # observes the holder's term
    clock.now += HOLD_FRACTION * SECONDS
    assert not mine.held()  # the holder stops trusting its lease first...
    assert second.step() == []  # ...before anyone may take it over
    clock.now += (1 - HOLD_FRACTION) * SECONDS - 0.01
    assert second.step() == []
    clock.now += 0.01
    assert second.step() == ["ttl"]
    assert theirs.held()
    # The old holder comes back: it has lost the job, and now waits in turn.
    assert first.step() == []
    assert not mine.held()
    clock.now += SECONDS / 3
    assert second.step() == ["ttl"]
    assert first.step() == []


def test_a_renewed_term_restarts_the_observers_wait(
    open_backend: BackendFactory, clock: Clock
) -> None:
    first, second = _process(open_backend, clock, "1"), _process(open_backend, clock, "2")
    first.lease("ttl")
    theirs = second.lease("ttl")
    first.step()
    second.step()
    clock.now += SECONDS * 0.7
    first.step()  # a late renewal, still in time
    assert second.step() == []  # the observer sees a new term: it waits from now on
    clock.now += SECONDS * 0.7
    assert second.step() == []  # 1.4 durations since the first term was seen
    clock.now += SECONDS * 0.3
    assert second.step() == ["ttl"]
    assert theirs.held()


def test_release_hands_over_at_once(open_backend: BackendFactory, clock: Clock) -> None:
    first, second = _process(open_backend, clock, "1"), _process(open_backend, clock, "2")
    mine, theirs = first.lease("ttl"), second.lease("ttl")
    first.step()
    second.step()
    first.release()
    assert not mine.held()
    assert open_backend().get(LEASE_SPACE, b"ttl") is None
    assert second.step() == ["ttl"]
    assert theirs.held()


def test_a_crashed_holder_of_this_host_is_taken_over_at_once(
    open_backend: BackendFactory, clock: Clock
) -> None:
    dead = _process(open_backend, clock, "1")
    dead.lease("ttl")
    dead.step()
    survivor = _process(open_backend, clock, "2", alive=False)  # sees pid 1 as gone
    assert survivor.step() == []  # "1" is not a pid: never judged gone
    survivor.holder = "host/ns/2/x"
    crashed = _process(open_backend, clock, "3")
    crashed.holder = "host/ns/4242/y"
    crashed.lease("alarms")
    crashed.step()
    survivor.lease("alarms")
    assert survivor.step() == ["alarms"]
    elsewhere = _process(open_backend, clock, "5")
    elsewhere.holder = "otherhost/ns/4343/z"
    elsewhere.lease("streams")
    elsewhere.step()
    survivor.lease("streams")
    assert survivor.step() == ["alarms"]  # another host's process: wait for expiry


def test_the_conditional_write_settles_a_race(open_backend: BackendFactory, clock: Clock) -> None:
    first, second = _process(open_backend, clock, "1"), _process(open_backend, clock, "2")
    mine, theirs = first.lease("ttl"), second.lease("ttl")
    plan = first.plan()
    assert plan == {"ttl": None}  # both saw no row...
    assert second.step() == ["ttl"]  # ...the second wrote first
    assert first.apply(plan) == []  # the row is no longer what the first planned on
    assert theirs.held() and not mine.held()


def test_workers_step_only_while_their_process_holds_the_lease(
    open_backend: BackendFactory, clock: Clock
) -> None:
    class Counting(PeriodicWorker):
        job = "counting"

        def __init__(self) -> None:
            super().__init__(0.01)
            self.steps = 0

        def run_once(self) -> bool:
            self.steps += 1
            return False

    first, second = _process(open_backend, clock, "1"), _process(open_backend, clock, "2")
    workers = [Counting(), Counting()]
    keepers = [coordinate([workers[0]], first), coordinate([workers[1]], second)]

    async def run() -> None:
        for worker in [*keepers, *workers]:
            worker.start()
        await asyncio.sleep(0.3)
        for worker in [*keepers, *workers]:
            worker.stop()

    asyncio.run(run())
    assert workers[0].steps > 5
    assert workers[1].steps == 0
    assert open_backend().get(LEASE_SPACE, b"counting") is None  # released at stop
