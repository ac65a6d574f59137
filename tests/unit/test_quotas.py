"""Account quotas (engine/quotas.py) through the table operations, on a real SQLite store
with a controllable clock: tables stay CREATING / UPDATING / DELETING for a second."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dynastore.engine.engine import Engine, EngineSettings
from dynastore.engine.quotas import TableQuotas, describe_limits, provisioned_units
from dynastore.errors import LimitExceededException
from dynastore.ops import create_table, tables, update_table
from dynastore.server.protocol import RequestContext
from dynastore.storage.sqlite import SqliteBackend
from tests.unit.clock import Clock

CTX = RequestContext("req", "123456789012", "us-east-1", "key")
ELSEWHERE = RequestContext("req", "123456789012", "eu-west-1", "key")
T0 = 1_700_000_000.0
SUBSCRIBER = "Subscriber limit exceeded: "


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def engine(tmp_path: Path, clock: Clock) -> Iterator[Engine]:
    backend = SqliteBackend(str(tmp_path / "db.sqlite"), checkpoint_interval=None)
    settings = EngineSettings(status_delay=1.0, table_quotas=TableQuotas(tables=4, operations=2))
    eng = Engine(backend, settings, clock=clock)
    yield eng
    eng.close()


def request(name: str, *, gsi: bool = False, rcu: int | None = None) -> dict[str, Any]:
    req: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if rcu is not None:
        req["BillingMode"] = "PROVISIONED"
        req["ProvisionedThroughput"] = {"ReadCapacityUnits": rcu, "WriteCapacityUnits": 1}
    if gsi:
        req["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "by_pk",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ]
    return req


def create(engine: Engine, name: str, ctx: RequestContext = CTX, **kwargs: Any) -> None:
    create_table.handle(engine, ctx, request(name, **kwargs))


def refused(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(LimitExceededException) as caught:
        call(*args, **kwargs)
    assert caught.value.message is not None
    return caught.value.message


def test_tables_in_flight_are_limited(engine: Engine, clock: Clock) -> None:
    create(engine, "one")
    create(engine, "two")
    assert refused(create, engine, "three") == (
        f"{SUBSCRIBER}Only 2 tables can be created, updated, or deleted simultaneously"
    )
    create(engine, "three", ELSEWHERE)  # another region has its own quota
    clock.now += 1.0  # both ACTIVE
    create(engine, "three")
    tables.delete_table(engine, CTX, {"TableName": "one"})  # DELETING, "three" CREATING
    change = {"TableName": "two", "TableClass": "STANDARD_INFREQUENT_ACCESS"}
    assert "simultaneously" in refused(update_table.handle, engine, CTX, change)
    two = engine.catalog.get(CTX.account, CTX.region, "two")
    assert two is not None and two.status == "ACTIVE"
    assert "TableClassSummary" not in two.description  # nothing changed
    assert "simultaneously" in refused(tables.delete_table, engine, CTX, {"TableName": "two"})
    clock.now += 1.0
    update_table.handle(engine, CTX, change)


def test_indexed_creations_are_half_of_them(engine: Engine) -> None:
    create(engine, "one", gsi=True)
    assert refused(create, engine, "two", gsi=True) == (
        f"{SUBSCRIBER}You have exceeded the maximum number of indexed tables that can be "
        "created simultaneously"
    )
    create(engine, "two")


def test_tables_per_account_and_region(engine: Engine, clock: Clock) -> None:
    for name in ("one", "two", "three", "four"):
        create(engine, name)
        clock.now += 1.0
    assert refused(create, engine, "five") == (
        f"{SUBSCRIBER}There is a limit of 4 tables per subscriber"
    )
    tables.delete_table(engine, CTX, {"TableName": "one"})
    assert "tables per subscriber" in refused(create, engine, "five")  # still DELETING
    clock.now += 1.0
    create(engine, "five")


def test_provisioned_units_of_the_account(engine: Engine, clock: Clock) -> None:
    create(engine, "one", rcu=40000)
    create(engine, "two", rcu=30000)
    clock.now += 1.0
    assert refused(create, engine, "three", rcu=10001) == (
        "This request would have caused the ReadCapacityUnits limit to be exceeded for the "
        "account in us-east-1. Current ReadCapacityUnits reserved by the account: 70000. "
        "Limit: 80000. Requested: 10001"
    )
    create(engine, "three", rcu=10000)
    raise_two = {
        "TableName": "two",
        "ProvisionedThroughput": {"ReadCapacityUnits": 30001, "WriteCapacityUnits": 1},
    }
    assert refused(update_table.handle, engine, CTX, raise_two) == (
        "This request would have caused the ReadCapacityUnits limit to be exceeded for the "
        "account in us-east-1. Current ReadCapacityUnits reserved by the account: 80000. "
        "Limit: 80000. Requested: 30001"
    )
    two = engine.catalog.get(CTX.account, CTX.region, "two")
    assert two is not None and provisioned_units(two.description) == (30000, 1)
    lower = {
        **raise_two,
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 1},
    }
    update_table.handle(engine, CTX, lower)  # a decrease always passes


def test_describe_limits() -> None:
    assert describe_limits() == {
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000,
    }
