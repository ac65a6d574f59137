"""The catalog on a shared store (engine/catalog.py): item operations read it without a
round trip of their own, their writes never use a stale definition, and two processes'
changes of one table both land.

Two engines on one store stand for two server processes. The PostgreSQL test counts
round trips of GetItem and PutItem as the server runs them (group commit).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest

from dynastore.engine import indexes, quotas
from dynastore.engine.engine import Engine, EngineSettings
from dynastore.engine.indexes import pending_backfills
from dynastore.errors import (
    ResourceInUseException,
    ResourceNotFoundException,
    ValidationException,
)
from dynastore.ops import update_table
from dynastore.ops.registry import dynamodb_service
from dynastore.server.service import Handler, RequestContext
from dynastore.storage.sqlite import SqliteBackend
from dynastore.workers.backfill import BackfillWorker
from tests.postgres_cluster import PostgresCluster

CTX = RequestContext("req", "000000000000", "us-east-1", "key")
TABLE = "shared"
CHECK = 0.2  # seconds between two catalog version reads of item operations
NEVER = 600.0  # ... when a test needs a stale cache


class Process:
    """One engine with its DynamoDB handlers, as a server process has."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.ops: dict[str, Handler] = dict(dynamodb_service(engine).operations)

    def __call__(self, operation: str, **req: Any) -> Any:
        try:
            result = self.ops[operation](CTX, req)
            return orjson.loads(result) if isinstance(result, bytes) else result
        finally:
            if self.engine.backend.pending():
                self.engine.backend.flush()


def _settings(check: float = CHECK, delay: float = 0.0) -> EngineSettings:
    return EngineSettings(shared_store=True, catalog_check=check, status_delay=delay)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    opened: list[Engine] = []

    def open_one(check: float = NEVER, delay: float = 0.0) -> Process:
        backend = SqliteBackend(str(tmp_path / "store.db"), group_commit=True)
        engine = Engine(backend, _settings(check, delay))
        opened.append(engine)
        return Process(engine)

    yield open_one
    for engine in opened:
        engine.close()


def _create(process: Process, key: str = "pk", kind: str = "S", **extra: Any) -> None:
    process(
        "CreateTable",
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": kind}],
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


def _item(n: int) -> dict[str, Any]:
    return {"pk": {"S": f"k{n}"}, "g": {"S": "same"}}


def _add_index(process: Process) -> None:
    process(
        "UpdateTable",
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by-g",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )


def _by_g(process: Process) -> list[str]:
    found = process(
        "Query",
        TableName=TABLE,
        IndexName="by-g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "same"}},
    )
    return sorted(i["pk"]["S"] for i in found["Items"])


def test_writes_follow_another_processes_new_index(processes: Callable[..., Process]) -> None:
    one, two = processes(), processes()
    _create(one)
    one("PutItem", TableName=TABLE, Item=_item(1))  # one caches the definition
    _add_index(two)
    index = two("DescribeTable", TableName=TABLE)["Table"]["GlobalSecondaryIndexes"][0]
    assert index["IndexStatus"] == "ACTIVE"  # backfilled (without an event loop: at once)
    # one's cache is still the old definition, but its write maintains the new index.
    one("PutItem", TableName=TABLE, Item=_item(2))
    assert _by_g(two) == ["k1", "k2"]


def test_a_backfill_runs_in_a_process_that_cached_the_table_before_its_index(
    processes: Callable[..., Process], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = processes(), processes()
    _create(one)
    for n in range(3):
        one("PutItem", TableName=TABLE, Item=_item(n))
    with monkeypatch.context() as patch:  # two leaves the backfill to the lease holder
        patch.setattr(update_table.indexes, "run_chunk", lambda *args: False)
        patch.setattr(update_table, "kick", lambda engine: None)
        _add_index(two)
    assert pending_backfills(two.engine.backend)
    worker = BackfillWorker(one.engine)  # as the lease holder's long-lived worker
    while worker.run_once():
        pass
    one.engine.backend.flush()
    assert not pending_backfills(one.engine.backend)
    index = two("DescribeTable", TableName=TABLE)["Table"]["GlobalSecondaryIndexes"][0]
    assert index["IndexStatus"] == "ACTIVE"
    assert _by_g(two) == ["k0", "k1", "k2"]


def test_writes_to_a_deleted_or_recreated_table(processes: Callable[..., Process]) -> None:
    one, two = processes(), processes()
    _create(one)
    one("PutItem", TableName=TABLE, Item=_item(1))
    two("DeleteTable", TableName=TABLE)
    with pytest.raises(ResourceNotFoundException):
        one("PutItem", TableName=TABLE, Item=_item(2))
    # Recreated with another key schema: the key checked against the cache is refused.
    _create(two, key="id", kind="N")
    with pytest.raises(ValidationException, match="key element does not match the schema"):
        one("PutItem", TableName=TABLE, Item=_item(3))
    # Recreated with the same key schema: the write goes to the new table.
    two("DeleteTable", TableName=TABLE)
    _create(two)
    one("PutItem", TableName=TABLE, Item=_item(4))
    found = two("Scan", TableName=TABLE)["Items"]
    assert [i["pk"]["S"] for i in found] == ["k4"]


def test_item_reads_see_changes_within_the_check_interval(
    processes: Callable[..., Process],
) -> None:
    one, two = processes(CHECK), processes()
    _create(one)
    one("PutItem", TableName=TABLE, Item=_item(1))
    assert one("GetItem", TableName=TABLE, Key={"pk": {"S": "k1"}})["Item"]
    two("DeleteTable", TableName=TABLE)
    # DescribeTable (not an item operation) sees the change at once...
    with pytest.raises(ResourceNotFoundException):
        one("DescribeTable", TableName=TABLE)
    _create(two)
    one("GetItem", TableName=TABLE, Key={"pk": {"S": "k1"}})
    two("DeleteTable", TableName=TABLE)
    time.sleep(CHECK)
    # ...an item operation within CHECK seconds (documented), here after them.
    with pytest.raises(ResourceNotFoundException):
        one("GetItem", TableName=TABLE, Key={"pk": {"S": "k1"}})


def test_own_catalog_changes_keep_the_cache_current(processes: Callable[..., Process]) -> None:
    one = processes()
    _create(one)
    one("PutItem", TableName=TABLE, Item=_item(1))
    table = one.engine.catalog.get(CTX.account, CTX.region, TABLE)
    assert table is not None and table.generation is not None
    one(
        "UpdateTable",
        TableName=TABLE,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    updated = one.engine.catalog.get(CTX.account, CTX.region, TABLE)
    assert updated is not None and updated.generation is not None
    stored = one.engine.backend.get(0, b"catalog-version")
    assert updated.generation.version == stored  # current: writes take no extra read


def test_get_and_put_round_trips_on_postgres(
    postgres_cluster: PostgresCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GetItem is one round trip and PutItem two (the old item with the catalog version;
    COMMIT), where reading the catalog version per request cost one more each."""
    pgpipe = pytest.importorskip("dynastore.storage.pgpipe")
    from dynastore.storage.postgres import PostgresBackend

    url = postgres_cluster.fresh_schema()
    engines = [Engine(PostgresBackend(url, group_commit=True), _settings()) for _ in range(2)]
    one, two = (Process(e) for e in engines)
    count = [0]
    original = pgpipe.Pipeline._sync

    def counting(self: Any) -> None:
        count[0] += 1
        original(self)

    try:
        _create(one)
        monkeypatch.setattr(pgpipe.Pipeline, "_sync", counting)
        for n in range(5):
            count[0] = 0
            one("PutItem", TableName=TABLE, Item=_item(n))
            assert count[0] == 2
            count[0] = 0
            one("GetItem", TableName=TABLE, Key={"pk": {"S": f"k{n}"}})
            assert count[0] == 1
        time.sleep(CHECK)
        count[0] = 0
        one("GetItem", TableName=TABLE, Key={"pk": {"S": "k1"}})
        assert count[0] == 2  # once per CHECK seconds: the catalog version
        two("UpdateTable", TableName=TABLE, BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})  # fmt: skip
        count[0] = 0
        one("PutItem", TableName=TABLE, Item=_item(9))
        assert count[0] == 3  # the cached definition is stale: the stored one is read
    finally:
        for engine in engines:
            engine.close()


# --- concurrent catalog changes ------------------------------------------------------------

ARN = f"arn:aws:dynamodb:{CTX.region}:{CTX.account}:table/{TABLE}"


@contextmanager
def _stale(process: Process) -> Iterator[None]:
    """`process` works from its cache as it was: as if its request had read the catalog
    version just before the other process's change committed."""
    catalog = process.engine.catalog
    refresh = catalog.refresh
    catalog.refresh = lambda within=0.0: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        catalog.refresh = refresh  # type: ignore[method-assign]


def _cached_by_both(
    processes: Callable[..., Process], delay: float = 0.0
) -> tuple[Process, Process]:
    """Two processes (`delay`: their status delay) with the new ACTIVE table cached."""
    _create(processes())
    one, two = processes(delay=delay), processes(delay=delay)
    for process in (one, two):
        process("DescribeTable", TableName=TABLE)
    return one, two


def _tag(process: Process, key: str) -> None:
    process("TagResource", ResourceArn=ARN, Tags=[{"Key": key, "Value": "v"}])


def _tags(process: Process) -> list[str]:
    return [t["Key"] for t in process("ListTagsOfResource", ResourceArn=ARN)["Tags"]]


def _enable_ttl(process: Process) -> None:
    process(
        "UpdateTimeToLive",
        TableName=TABLE,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"},
    )


def _ttl(process: Process) -> str:
    found = process("DescribeTimeToLive", TableName=TABLE)["TimeToLiveDescription"]
    return str(found["TimeToLiveStatus"])


def _enable_pitr(process: Process) -> None:
    process(
        "UpdateContinuousBackups",
        TableName=TABLE,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )


def _pitr(process: Process) -> str:
    found = process("DescribeContinuousBackups", TableName=TABLE)["ContinuousBackupsDescription"]
    return str(found["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"])


def _provision(process: Process, units: int) -> None:
    throughput = {"ReadCapacityUnits": units, "WriteCapacityUnits": units}
    process(
        "UpdateTable", TableName=TABLE, BillingMode="PROVISIONED", ProvisionedThroughput=throughput
    )


def _throughput(process: Process) -> int:
    table = process("DescribeTable", TableName=TABLE)["Table"]
    return int(table["ProvisionedThroughput"]["ReadCapacityUnits"])


def test_a_tag_and_ttl_from_two_processes_both_land(processes: Callable[..., Process]) -> None:
    one, two = _cached_by_both(processes)
    _tag(one, "first")
    with _stale(two):
        _enable_ttl(two)
    _tag(one, "second")  # and the other way round: one's cache is now the stale one
    for process in (one, two):
        assert _tags(process) == ["first", "second"]
        assert _ttl(process) == "ENABLED"
    two("PutItem", TableName=TABLE, Item={"pk": {"S": "k"}, "expires": {"N": "1"}})


def test_pitr_and_a_tag_from_two_processes_both_land(processes: Callable[..., Process]) -> None:
    one, two = _cached_by_both(processes)
    _enable_pitr(one)
    with _stale(two):
        _tag(two, "kept")
    for process in (one, two):
        assert _pitr(process) == "ENABLED"
        assert _tags(process) == ["kept"]


def test_update_table_and_a_tag_from_two_processes_both_land(
    processes: Callable[..., Process],
) -> None:
    one, two = _cached_by_both(processes)
    _provision(one, 5)
    with _stale(two):
        _tag(two, "kept")
    with _stale(one):
        _provision(one, 7)  # on the stored definition: the tag stays, the mode is known
    for process in (one, two):
        assert _throughput(process) == 7
        assert _tags(process) == ["kept"]


def test_a_second_update_table_meets_the_first_ones_status(
    processes: Callable[..., Process],
) -> None:
    one, two = _cached_by_both(processes, delay=30.0)
    _provision(one, 5)
    in_use = f"still in use: Table is being updated: {TABLE}$"
    with _stale(two), pytest.raises(ResourceInUseException, match=in_use):
        _provision(two, 6)
    assert _throughput(two) == 5


def test_create_table_racing_another_process_for_the_name(
    processes: Callable[..., Process], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = processes(), processes()
    check = quotas.check_new_table  # CreateTable's next step once it found no such table

    def two_creates_it_first(*args: Any, **kwargs: Any) -> None:
        monkeypatch.setattr(quotas, "check_new_table", check)
        _create(two, key="id")
        check(*args, **kwargs)

    monkeypatch.setattr(quotas, "check_new_table", two_creates_it_first)
    with pytest.raises(ResourceInUseException, match=f"^Table already exists: {TABLE}$"):
        _create(one)
    for process in (one, two):
        key = process("DescribeTable", TableName=TABLE)["Table"]["KeySchema"]
        assert key == [{"AttributeName": "id", "KeyType": "HASH"}]
    one("PutItem", TableName=TABLE, Item={"id": {"S": "x"}})
    assert two("Scan", TableName=TABLE)["Count"] == 1


def test_update_table_after_another_process_deleted_the_table(
    processes: Callable[..., Process],
) -> None:
    one, two = _cached_by_both(processes)
    one("DeleteTable", TableName=TABLE)
    with _stale(two), pytest.raises(ResourceNotFoundException, match=f"Table: {TABLE} not found"):
        _provision(two, 5)
    with _stale(two), pytest.raises(ResourceNotFoundException):
        _tag(two, "gone")
    with pytest.raises(ResourceNotFoundException):
        one("DescribeTable", TableName=TABLE)


def test_delete_table_drops_an_index_another_process_added(
    processes: Callable[..., Process],
) -> None:
    one, two = _cached_by_both(processes)
    one("PutItem", TableName=TABLE, Item=_item(1))
    _add_index(one)
    table = one.engine.catalog.get(CTX.account, CTX.region, TABLE)
    index = table.index("by-g") if table is not None else None
    assert index is not None and one.engine.backend.stats(index.space)[0] == 1
    with _stale(two):
        two("DeleteTable", TableName=TABLE)
    assert one.engine.backend.stats(index.space)[0] == 0


def test_delete_table_meets_an_index_another_process_is_creating(
    processes: Callable[..., Process], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = _cached_by_both(processes)
    monkeypatch.setattr(indexes, "run_chunk", lambda *args: False)
    monkeypatch.setattr(update_table, "kick", lambda engine: None)
    _add_index(one)  # CREATING until its backfill ends
    with _stale(two), pytest.raises(ResourceInUseException, match="indexes are being created"):
        two("DeleteTable", TableName=TABLE)
    assert one("DescribeTable", TableName=TABLE)["Table"]["TableStatus"] == "ACTIVE"


def test_one_process_changes_the_catalog_without_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a store of one process the cached definition is the truth: no read to change it."""
    engine = Engine(SqliteBackend(str(tmp_path / "one.db")), EngineSettings())
    process = Process(engine)
    try:
        _create(process)
        reads: list[object] = []
        tx_class = type(engine.backend.write())
        monkeypatch.setattr(tx_class, "get", lambda self, *a: reads.append(a))
        monkeypatch.setattr(tx_class, "get_many", lambda self, *a: reads.append(a))
        _tag(process, "t")
        _enable_ttl(process)
        _provision(process, 5)
        assert reads == []
    finally:
        engine.close()
