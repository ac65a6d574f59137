"""Process membership (engine/leases.py) on SQLite and PostgreSQL: each process's member
row, renewed by the lease keeper's step, and `Leases.members` counting the live ones.

Several `Leases` on one store stand for server processes; a fake monotonic clock stands
for time passing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from dynastore.engine.insights import Insights
from dynastore.engine.leases import LEASE_SPACE, MEMBER_PREFIX, STALE_FACTOR, Leases, Record
from dynastore.engine.throttle import Throttle
from dynastore.workers.leases import coordinate
from tests.unit.clock import Clock
from tests.unit.test_leases import SECONDS, _process, clock
from tests.unit.test_storage_contract import BackendFactory, open_backend

__all__ = ["clock", "open_backend"]  # the fixtures


def _member_rows(open_backend: BackendFactory) -> dict[str, Record | None]:
    with open_backend().read() as tx:
        rows = tx.range(LEASE_SPACE, b"", None)
        return {
            key.decode(): Record.from_json(raw)
            for key, raw in rows
            if key.startswith(MEMBER_PREFIX.encode())
        }


def test_each_step_renews_the_member_row(open_backend: BackendFactory, clock: Clock) -> None:
    first = _process(open_backend, clock, "1")
    assert first.members() == 1  # itself, before any step
    first.step()
    first.step()
    assert _member_rows(open_backend) == {
        "member/host/ns/1/x": Record("host/ns/1/x", 2, SECONDS),
    }
    assert first.members() == 1


def test_live_processes_count_each_other(open_backend: BackendFactory, clock: Clock) -> None:
    first, second, third = (_process(open_backend, clock, n) for n in "123")
    for process in (first, second, third):
        process.step()
    assert third.members() == 3  # the others' rows, first seen now
    assert first.members() == 1  # no step since the others started
    first.step()
    assert first.members() == 3
    for _ in range(10):  # all renewing every third of the duration
        clock.now += SECONDS / 3
        for process in (first, second, third):
            process.step()
        assert [p.members() for p in (first, second, third)] == [3, 3, 3]


def test_a_first_seen_row_is_live_until_still_for_its_duration(
    open_backend: BackendFactory, clock: Clock
) -> None:
    first, second = _process(open_backend, clock, "1"), _process(open_backend, clock, "2")
    first.step()  # then stops renewing (hung, or lost the database)
    clock.now += 5 * SECONDS  # an old row: its age before this process saw it is unknown
    second.step()
    assert second.members() == 2
    clock.now += SECONDS - 0.01
    second.step()
    assert second.members() == 2
    clock.now += 0.01
    assert second.members() == 1  # still for `seconds` as this process watched it
    second.step()
    assert second.members() == 1
    first.step()  # it comes back: its term moves again
    second.step()
    assert second.members() == 2


def test_a_moving_term_keeps_a_member_live(open_backend: BackendFactory, clock: Clock) -> None:
    first, second = _process(open_backend, clock, "1"), _process(open_backend, clock, "2")
    first.step()
    second.step()
    clock.now += SECONDS * 0.7
    first.step()  # a late renewal, in time
    second.step()
    clock.now += SECONDS * 0.7
    assert second.members() == 2  # 1.4 durations since the first term, 0.7 since this one
    clock.now += SECONDS * 0.3
    assert second.members() == 1


def test_a_clean_release_deletes_the_member_row(open_backend: BackendFactory, clock: Clock) -> None:
    first, second = _process(open_backend, clock, "1"), _process(open_backend, clock, "2")
    first.lease("ttl")
    first.step()
    second.step()
    assert second.members() == 2
    first.release()
    assert list(_member_rows(open_backend)) == ["member/host/ns/2/x"]
    second.step()
    assert second.members() == 1  # at once, not after `seconds`
    first.release()  # twice: nothing left to delete


def test_stale_member_rows_are_deleted(open_backend: BackendFactory, clock: Clock) -> None:
    crashed, survivor = _process(open_backend, clock, "1"), _process(open_backend, clock, "2")
    crashed.step()
    survivor.step()
    clock.now += STALE_FACTOR * SECONDS - 0.01
    survivor.step()
    assert len(_member_rows(open_backend)) == 2  # not live, not yet garbage
    assert survivor.members() == 1
    clock.now += 0.01
    survivor.step()
    assert list(_member_rows(open_backend)) == ["member/host/ns/2/x"]
    crashed.step()  # a process judged gone writes its row again on its next step
    assert len(_member_rows(open_backend)) == 2
    survivor.step()
    assert survivor.members() == 2


def test_a_stale_row_renewed_meanwhile_is_kept(open_backend: BackendFactory, clock: Clock) -> None:
    slow, survivor = _process(open_backend, clock, "1"), _process(open_backend, clock, "2")
    slow.step()
    survivor.step()
    clock.now += STALE_FACTOR * SECONDS
    plan = survivor.plan()  # the row looks stale...
    slow.step()  # ...but is renewed before the deletion
    survivor.apply(plan)
    assert len(_member_rows(open_backend)) == 2


def test_an_exited_process_of_this_host_is_dropped_at_once(
    open_backend: BackendFactory, clock: Clock
) -> None:
    crashed = _process(open_backend, clock, "1")
    crashed.holder = "host/ns/4242/y"  # as holder_id() makes them: a real pid
    crashed.step()
    elsewhere = _process(open_backend, clock, "3")
    elsewhere.holder = "otherhost/ns/4343/z"
    elsewhere.step()
    survivor = Leases(
        open_backend(), seconds=SECONDS, holder="host/ns/2/x", clock=clock, alive=lambda _: False
    )
    survivor.step()
    assert survivor.members() == 2  # itself and the other host's process
    assert sorted(_member_rows(open_backend)) == [
        "member/host/ns/2/x",
        "member/otherhost/ns/4343/z",
    ]


def test_the_keeper_sets_the_throttles_share(open_backend: BackendFactory, clock: Clock) -> None:
    first, second = _process(open_backend, clock, "1"), _process(open_backend, clock, "2")
    throttles = [Throttle(clock, Insights(clock)), Throttle(clock, Insights(clock))]
    keepers = [
        coordinate([], leases, _sharing(throttle))
        for leases, throttle in zip((first, second), throttles, strict=True)
    ]
    for keeper in keepers:
        keeper.run_once()
    assert [t.share for t in throttles] == [1.0, 0.5]
    keepers[0].run_once()
    assert [t.share for t in throttles] == [0.5, 0.5]

    async def stop() -> None:  # a running keeper releases at stop
        keepers[1].start()
        await asyncio.sleep(0)
        keepers[1].stop()

    asyncio.run(stop())
    keepers[0].run_once()
    assert throttles[0].share == 1.0


def _sharing(throttle: Throttle) -> Callable[[int], None]:
    """The app's callback: a 1 / processes share of the capacity."""
    return lambda processes: throttle.set_share(1 / processes)
