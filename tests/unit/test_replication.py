"""Global tables without a server: replica groups, shipping, last writer wins, the
initial copy (engine/replication.py, ops/replicas.py, workers/replication.py).

Commit times come from a fake clock in the change log, and the worker's steps are run
by hand, so every interleaving of writes and shipping is chosen by the test.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson
import pytest

from dynastore.engine import changelog, replication
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.engine.values import Item
from dynastore.engine.writes import storage_key, write_item
from dynastore.errors import ValidationException
from dynastore.ops import create_table, update_table
from dynastore.ops.describe import table_description
from dynastore.server.protocol import RequestContext
from dynastore.workers.replication import ReplicationSettings, ReplicationWorker

EAST = RequestContext("req", "000000000000", "us-east-1", "key")
WEST = RequestContext("req", "000000000000", "us-west-2", "key")


class FakeTime:
    """Stands in for the time module of engine/changelog.py (commit times)."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(changelog, "time", fake)
    return fake


def _create(engine: Engine, **extra: Any) -> TableDef:
    req: dict[str, Any] = {
        "TableName": "users",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        **extra,
    }
    table, _ = create_table.create(engine, EAST, req)
    return table


def _table(engine: Engine, ctx: RequestContext) -> TableDef:
    table = engine.catalog.get(ctx.account, ctx.region, "users")
    assert table is not None
    return table


def _add_replica(engine: Engine, region: str = "us-west-2") -> None:
    update_table.handle(
        engine, EAST, {"TableName": "users", "ReplicaUpdates": [{"Create": {"RegionName": region}}]}
    )


def _put(engine: Engine, ctx: RequestContext, pk: str, value: str) -> None:
    table = _table(engine, ctx)
    item: Item = {"pk": {"S": pk}, "v": {"S": value}}
    write_item(engine.backend, table, {"pk": {"S": pk}}, lambda _old: item)


def _delete(engine: Engine, ctx: RequestContext, pk: str) -> None:
    write_item(engine.backend, _table(engine, ctx), {"pk": {"S": pk}}, lambda _old: None)


def _get(engine: Engine, ctx: RequestContext, pk: str) -> str | None:
    table = _table(engine, ctx)
    raw = engine.backend.get(table.space, storage_key(table, {"pk": {"S": pk}}))
    return None if raw is None else str(orjson.loads(raw)["v"]["S"])


def _ship(engine: Engine, ctx: RequestContext) -> None:
    """Ship one region's pending changes (the worker's step, for one table)."""
    with engine.backend.write() as tx:
        source = engine.catalog.read(tx, ctx.account, ctx.region, "users")
        assert source is not None
        targets = [
            t
            for region in replication.members(source)
            if region != ctx.region
            and (t := engine.catalog.read(tx, ctx.account, region, "users")) is not None
        ]
        replication.ship(tx, source, targets)


# --- groups -------------------------------------------------------------------------------


def test_replica_joins_the_group(engine: Engine, clock: FakeTime) -> None:
    _create(engine)
    _add_replica(engine)
    east, west = _table(engine, EAST), _table(engine, WEST)
    assert east.status == west.status == "ACTIVE"
    assert replication.members(east) == replication.members(west)
    desc = table_description(engine, east)
    assert desc["GlobalTableVersion"] == "2019.11.21"
    assert desc["Replicas"] == [{"RegionName": "us-west-2", "ReplicaStatus": "ACTIVE"}]
    assert desc["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert changelog.retention(east) > 0


def test_local_region_and_unknown_replica_are_refused(engine: Engine, clock: FakeTime) -> None:
    _create(engine)
    with pytest.raises(ValidationException, match="local region"):
        update_table.handle(
            engine,
            EAST,
            {"TableName": "users", "ReplicaUpdates": [{"Create": {"RegionName": "us-east-1"}}]},
        )
    with pytest.raises(ValidationException, match="was not found"):
        update_table.handle(
            engine,
            EAST,
            {"TableName": "users", "ReplicaUpdates": [{"Delete": {"RegionName": "eu-west-1"}}]},
        )


def test_removing_the_replica_dissolves_the_group(engine: Engine, clock: FakeTime) -> None:
    _create(engine)
    _add_replica(engine)
    update_table.handle(
        engine,
        EAST,
        {"TableName": "users", "ReplicaUpdates": [{"Delete": {"RegionName": "us-west-2"}}]},
    )
    assert engine.catalog.get(WEST.account, WEST.region, "users") is None
    east = _table(engine, EAST)
    assert replication.members(east) == {}
    with engine.backend.read() as tx:
        assert not replication.any_groups(tx)


# --- shipping and last writer wins --------------------------------------------------------


def test_a_change_is_shipped_once_and_marked(engine: Engine, clock: FakeTime) -> None:
    _create(engine)
    _add_replica(engine)
    _put(engine, EAST, "a", "east")
    _ship(engine, EAST)
    assert _get(engine, WEST, "a") == "east"
    west = _table(engine, WEST)
    with engine.backend.read() as tx:
        records = [orjson.loads(raw) for _, raw in tx.range(west.log_space, b"", None)]
        assert records[-1]["r"] == "us-east-1"
        assert not replication.pending(tx, _table(engine, EAST))
    _ship(engine, WEST)  # the replicated record is not sent back
    with engine.backend.read() as tx:
        east = _table(engine, EAST)
        assert sum(1 for _ in tx.range(east.log_space, b"", None)) == 1


@pytest.mark.parametrize("order", ["east-first", "west-first"])
def test_later_write_wins_whatever_the_shipping_order(
    engine: Engine, clock: FakeTime, order: str
) -> None:
    _create(engine)
    _add_replica(engine)
    _put(engine, EAST, "k", "east")  # t = 1000
    clock.now += 1
    _put(engine, WEST, "k", "west")  # t = 1001: the last writer
    first, second = (EAST, WEST) if order == "east-first" else (WEST, EAST)
    _ship(engine, first)
    _ship(engine, second)
    assert _get(engine, EAST, "k") == _get(engine, WEST, "k") == "west"


@pytest.mark.parametrize("order", ["east-first", "west-first"])
def test_earlier_write_in_the_other_region_loses(
    engine: Engine, clock: FakeTime, order: str
) -> None:
    _create(engine)
    _add_replica(engine)
    _put(engine, WEST, "k", "west")  # t = 1000
    clock.now += 1
    _put(engine, EAST, "k", "east")  # t = 1001: the last writer
    first, second = (EAST, WEST) if order == "east-first" else (WEST, EAST)
    _ship(engine, first)
    _ship(engine, second)
    assert _get(engine, EAST, "k") == _get(engine, WEST, "k") == "east"


def test_a_later_delete_wins(engine: Engine, clock: FakeTime) -> None:
    _create(engine)
    _add_replica(engine)
    _put(engine, EAST, "k", "east")
    _ship(engine, EAST)
    clock.now += 1
    _put(engine, WEST, "k", "west")
    clock.now += 1
    _delete(engine, EAST, "k")
    _ship(engine, WEST)
    _ship(engine, EAST)
    assert _get(engine, EAST, "k") is None
    assert _get(engine, WEST, "k") is None


def test_replicas_converge_on_ties(engine: Engine, clock: FakeTime) -> None:
    """Writes in one millisecond in both regions, shipped in either order: both replicas
    end with the same item (ties go to the greater region name)."""
    _create(engine)
    _add_replica(engine)
    for n, order in enumerate(["east-first", "west-first"]):
        key = f"tie{n}"
        _put(engine, EAST, key, "east")
        _put(engine, WEST, key, "west")
        first, second = (EAST, WEST) if order == "east-first" else (WEST, EAST)
        _ship(engine, first)
        _ship(engine, second)
        assert _get(engine, EAST, key) == _get(engine, WEST, key) == "west"


def test_a_local_write_after_a_replicated_one_wins_within_one_millisecond(
    engine: Engine, clock: FakeTime
) -> None:
    """Same commit time in both regions: the local write that follows the replicated one
    in the same replica still wins everywhere (its time is bumped past the version)."""
    _create(engine)
    _add_replica(engine)
    _put(engine, WEST, "k", "west")
    _ship(engine, WEST)
    _put(engine, EAST, "k", "east-after")  # the same millisecond, after the replicated one
    _ship(engine, EAST)
    assert _get(engine, EAST, "k") == _get(engine, WEST, "k") == "east-after"


# --- the initial copy ---------------------------------------------------------------------


def test_the_copy_runs_in_chunks_alongside_replication(engine: Engine, clock: FakeTime) -> None:
    _create(engine)
    for n in range(10):
        _put(engine, EAST, f"k{n}", "old")
    original = replication.copy_chunk
    chunked = functools.partial(original, limit=2)
    replication.copy_chunk = chunked  # type: ignore[assignment]
    try:
        _add_replica(engine)
    finally:
        replication.copy_chunk = original  # type: ignore[assignment]
    assert _table(engine, WEST).status == "CREATING"
    assert replication.members(_table(engine, EAST))["us-west-2"]["status"] == "CREATING"
    clock.now += 1
    for n in range(0, 10, 3):
        _put(engine, EAST, f"k{n}", "new")
    _delete(engine, EAST, "k9")
    worker = ReplicationWorker(engine, ReplicationSettings(copy_batch=2))
    while worker.run_once():
        pass
    for n in range(9):
        assert _get(engine, WEST, f"k{n}") == ("new" if n % 3 == 0 else "old")
    assert _get(engine, WEST, "k9") is None
    assert _table(engine, WEST).status == "ACTIVE"
    assert replication.members(_table(engine, EAST))["us-west-2"]["status"] == "ACTIVE"


def test_worker_drops_a_deleted_replica_from_the_group(engine: Engine, clock: FakeTime) -> None:
    from dynastore.ops.tables import delete_table

    _create(engine)
    _add_replica(engine)
    delete_table(engine, WEST, {"TableName": "users"})
    ReplicationWorker(engine).run_once()
    assert replication.members(_table(engine, EAST)) == {}
