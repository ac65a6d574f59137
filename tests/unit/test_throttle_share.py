"""A process's share of every table's capacity (engine/throttle.py `set_share`): the
processes sharing a store each enforce 1 / N of the rates, bursts, on-demand maximums
and per-table quota, and a new share keeps each bucket's balance in proportion."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dynastore.engine.catalog import TableDef
from dynastore.engine.throttle import Throttle
from dynastore.errors import (
    AwsError,
    ProvisionedThroughputExceededException,
    RequestLimitExceeded,
    ThrottlingException,
)
from tests.unit.clock import Clock
from tests.unit.test_throttle import T0, make_table, make_throttle


def _admitted(reserve: Callable[[], float | AwsError], limit: int = 1000) -> int:
    """How many requests `reserve` admits now, until the first throttle."""
    for count in range(limit):
        if isinstance(reserve(), AwsError):
            return count
    return limit


def _writes(throttle: Throttle, table: TableDef, limit: int = 1000) -> int:
    """How many one-unit writes are admitted now."""
    return _admitted(lambda: throttle.try_reserve_write(table, 1.0), limit)


def test_the_default_share_is_the_whole_rate() -> None:
    throttle = make_throttle(Clock(T0), burst=1.0)
    assert throttle.share == 1.0
    assert _writes(throttle, make_table(wcu=10)) == 10


def test_a_half_share_halves_rate_and_burst() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, burst=2.0)
    throttle.set_share(0.5)
    table = make_table(wcu=10)
    assert _writes(throttle, table) == 10  # half of 2 s x 10 units
    clock.now += 1.0
    assert _writes(throttle, table) == 5  # refills at 5 units a second
    clock.now += 100.0
    assert _writes(throttle, table) == 10  # never more than half the burst


def test_a_new_share_keeps_the_balance_in_proportion() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, burst=2.0)
    table = make_table(wcu=10)
    assert _writes(throttle, table, 8) == 8  # 12 of 20 units left
    throttle.set_share(0.5)
    assert _writes(throttle, table) == 6  # 6 of 10
    clock.now += 0.4  # 2 units back at the halved rate
    throttle.set_share(1.0)
    assert _writes(throttle, table) == 4  # 4 of 20: scaled back up
    clock.now += 1.0
    assert _writes(throttle, table) == 10


def test_setting_the_same_share_changes_nothing() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, burst=1.0)
    table = make_table(wcu=4)
    throttle.set_share(0.5)
    assert _writes(throttle, table, 1) == 1
    throttle.set_share(0.5)
    assert _writes(throttle, table) == 1


def test_reads_and_gsis_get_the_share() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, burst=1.0)
    table = make_table(rcu=8, wcu=100, gsi=(4, 2))
    throttle.set_share(0.25)
    assert _admitted(lambda: throttle.try_reserve_read(table, 1.0)) == 2
    assert _admitted(lambda: throttle.try_reserve_read(table, 1.0, index="g")) == 1
    reserved = throttle.reserve_write(table, 1.0)
    throttle.settle_write(table, reserved, 1.0, {"g": 0.5})  # the GSI's half unit spent
    throttled = throttle.try_reserve_write(table, 1.0)
    assert isinstance(throttled, ProvisionedThroughputExceededException)
    assert throttled.extras["ThrottlingReasons"][0]["reason"] == (
        "IndexWriteProvisionedThroughputExceeded"
    )


def test_on_demand_maximums_get_the_share() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock)
    table = make_table(on_demand={"MaxReadRequestUnits": 6, "MaxWriteRequestUnits": -1})
    throttle.set_share(0.5)
    assert _admitted(lambda: throttle.try_reserve_read(table, 1.0)) == 3
    assert isinstance(throttle.try_reserve_read(table, 1.0), ThrottlingException)


def test_the_per_table_quota_gets_the_share() -> None:
    clock = Clock(T0)
    throttle = make_throttle(clock, table_max=10)
    table = make_table(on_demand={})
    throttle.set_share(0.5)
    throttle.reserve_write(table, 1.0)
    throttle.settle_write(table, 0.0, 5.0)  # half the quota: this process's whole share
    with pytest.raises(RequestLimitExceeded):
        throttle.reserve_write(table, 1.0)
    clock.now += 1.0
    throttle.reserve_write(table, 1.0)
