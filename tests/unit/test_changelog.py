"""The change log and what reads it: streams (shards, iterators, trimming) and TTL sweeps.

Engine-level tests on a real SQLite store with a controllable clock, so rollover,
retention, iterator expiry and TTL delays are tested without waiting.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from dynastore.engine import changelog, streams, ttl, writes
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine, EngineSettings
from dynastore.engine.values import Item
from dynastore.errors import (
    ExpiredIteratorException,
    TrimmedDataAccessException,
    ValidationException,
)
from dynastore.ops import create_table, update_table
from dynastore.ops.ttl import TtlOptions, describe_time_to_live, update_time_to_live
from dynastore.server.protocol import RequestContext
from dynastore.storage.sqlite import SqliteBackend
from dynastore.workers.streams import StreamSettings, StreamsWorker
from dynastore.workers.ttl import TtlSettings, TtlWorker, sweep
from tests.unit.clock import Clock

CTX = RequestContext("req", "123456789012", "us-east-1", "key")
T0 = 1_700_000_000.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The engine's clock, also the change log's commit time."""
    fake = Clock(T0)
    monkeypatch.setattr(changelog, "time", SimpleNamespace(time=fake))
    return fake


@pytest.fixture
def engine(tmp_path: Path, clock: Clock) -> Iterator[Engine]:
    backend = SqliteBackend(str(tmp_path / "db.sqlite"), checkpoint_interval=None)
    eng = Engine(backend, EngineSettings(), clock=clock)
    yield eng
    eng.close()


def make_table(engine: Engine, name: str = "tbl", stream: str | None = None) -> TableDef:
    req: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if stream is not None:
        req["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream}
    create_table.handle(engine, CTX, req)
    return table_of(engine, name)


def table_of(engine: Engine, name: str = "tbl") -> TableDef:
    table = engine.catalog.get(CTX.account, CTX.region, name)
    assert table is not None
    return table


def put(engine: Engine, table: TableDef, pk: str, **attrs: Item) -> None:
    item: Item = {"pk": {"S": pk}, **attrs}
    writes.write_item(engine.backend, table, {"pk": {"S": pk}}, lambda old: item)


def delete(engine: Engine, table: TableDef, pk: str) -> None:
    writes.write_item(engine.backend, table, {"pk": {"S": pk}}, lambda old: None)


def latest(engine: Engine, name: str = "tbl") -> streams.Stream:
    arn = table_of(engine, name).description["LatestStreamArn"]
    with engine.backend.read() as tx:
        stream = streams.load(tx, arn)
    assert stream is not None
    return stream


def read_all(engine: Engine, stream: streams.Stream, shard: int, position: int) -> list[Any]:
    with engine.backend.read() as tx:
        records, _ = streams.read_records(tx, stream, shard, position, 1000)
    return records


# --- the log itself -----------------------------------------------------------------------


def test_append_records_each_change_in_commit_order(engine: Engine) -> None:
    table = make_table(engine, stream="NEW_AND_OLD_IMAGES")
    put(engine, table, "a", x={"N": "1"})
    put(engine, table, "a", x={"N": "1"})  # unchanged: no record
    put(engine, table, "a", x={"N": "2"})
    delete(engine, table, "a")
    delete(engine, table, "a")  # absent: no record
    with engine.backend.read() as tx:
        rows = list(tx.range(table.log_space, b"", None))
    seqs = [changelog.decode_sequence(k) for k, _ in rows]
    records = [orjson.loads(v) for _, v in rows]
    assert seqs == [1, 2, 3]
    assert [r["e"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert records[1]["o"] == {"pk": {"S": "a"}, "x": {"N": "1"}}
    assert records[2]["n"] is None and records[2]["k"] == {"pk": {"S": "a"}}
    assert records[0]["u"] is None


def test_no_log_without_a_stream(engine: Engine) -> None:
    table = make_table(engine)
    assert table.log_space == 0
    assert "StreamSpecification" not in table.description


def test_sequence_numbers_are_21_digit_and_ordered() -> None:
    assert streams.format_seq(1) == "100000000000000000001"
    assert streams.parse_seq(streams.format_seq(42)) == 42
    assert streams.parse_seq("12a") is None
    assert streams.format_seq(9) < streams.format_seq(10)


# --- stream lifecycle ------------------------------------------------------------------


def test_stream_sees_only_writes_after_it_was_enabled(engine: Engine, clock: Clock) -> None:
    make_table(engine)
    put(engine, table_of(engine), "before")
    update_table.handle(
        engine,
        CTX,
        {
            "TableName": "tbl",
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        },
    )
    table = table_of(engine)
    put(engine, table, "after", x={"S": "v"})
    stream = latest(engine)
    records = read_all(engine, stream, 0, stream.first)
    assert [r["dynamodb"]["Keys"] for r in records] == [{"pk": {"S": "after"}}]
    assert "NewImage" not in records[0]["dynamodb"]
    assert records[0]["dynamodb"]["StreamViewType"] == "KEYS_ONLY"


@pytest.mark.parametrize(
    ("view", "new", "old"),
    [
        ("KEYS_ONLY", False, False),
        ("NEW_IMAGE", True, False),
        ("OLD_IMAGE", False, True),
        ("NEW_AND_OLD_IMAGES", True, True),
    ],
)
def test_view_types(engine: Engine, view: str, new: bool, old: bool) -> None:
    table = make_table(engine, stream=view)
    put(engine, table, "k", x={"N": "1"})
    put(engine, table, "k", x={"N": "2"})
    stream = latest(engine)
    insert, modify = read_all(engine, stream, 0, stream.first)
    assert ("NewImage" in modify["dynamodb"]) is new
    assert ("OldImage" in modify["dynamodb"]) is old
    assert "OldImage" not in insert["dynamodb"]
    assert insert["eventSource"] == "aws:dynamodb" and insert["eventVersion"] == "1.1"
    assert modify["dynamodb"]["SizeBytes"] > 0
    assert int(insert["dynamodb"]["SequenceNumber"]) < int(modify["dynamodb"]["SequenceNumber"])


def test_disable_then_enable_makes_a_new_stream(engine: Engine, clock: Clock) -> None:
    table = make_table(engine, stream="NEW_IMAGE")
    put(engine, table, "a")
    first = latest(engine)
    clock.now += 1
    update_table.handle(
        engine, CTX, {"TableName": "tbl", "StreamSpecification": {"StreamEnabled": False}}
    )
    table = table_of(engine)
    assert "StreamSpecification" not in table.description
    assert table.description["LatestStreamArn"] == first.arn
    assert table.log_space == 0
    put(engine, table, "unlogged")
    clock.now += 1
    update_table.handle(
        engine,
        CTX,
        {
            "TableName": "tbl",
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"},
        },
    )
    second = latest(engine)
    assert second.arn != first.arn and second.view == "OLD_IMAGE"
    with engine.backend.read() as tx:
        old = streams.load(tx, first.arn)
        listed = streams.listing(tx, CTX.account, CTX.region, "tbl")
    assert old is not None and not old.enabled and old.end == 1
    assert [s.arn for s in listed] == [first.arn, second.arn]
    assert old.shard(0)["SequenceNumberRange"]["EndingSequenceNumber"] == streams.format_seq(1)


def test_stream_spec_errors(engine: Engine) -> None:
    with pytest.raises(ValidationException, match="UpdateViewType is required"):
        streams.create_spec({"StreamEnabled": True})
    with pytest.raises(ValidationException, match="should not be specified"):
        streams.create_spec({"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"})
    assert streams.create_spec({"StreamEnabled": False}) is None
    make_table(engine, stream="KEYS_ONLY")
    enable = {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    with pytest.raises(ValidationException, match=r"^Table already has an enabled stream"):
        update_table.handle(engine, CTX, {"TableName": "tbl", "StreamSpecification": enable})
    update_table.handle(
        engine, CTX, {"TableName": "tbl", "StreamSpecification": {"StreamEnabled": False}}
    )
    with pytest.raises(ValidationException, match=r"^Table has no stream to disable: TableName"):
        update_table.handle(
            engine, CTX, {"TableName": "tbl", "StreamSpecification": {"StreamEnabled": False}}
        )


# --- shards -----------------------------------------------------------------------------


def test_rollover_by_count_and_age(engine: Engine, clock: Clock) -> None:
    table = make_table(engine, stream="KEYS_ONLY")
    stream = latest(engine)
    with engine.backend.read() as tx:
        assert not streams.roll(tx, stream, clock.now + 10**6, 1, 1)  # empty: stays open
    for i in range(3):
        put(engine, table, f"k{i}")
    with engine.backend.read() as tx:
        assert not streams.roll(tx, stream, clock.now, 0, 5)
        assert streams.roll(tx, stream, clock.now, 0, 3)
    assert stream.bounds[1][0] == 4
    put(engine, table, "k3")
    with engine.backend.read() as tx:
        assert not streams.roll(tx, stream, clock.now + 10, 60, 0)
        assert streams.roll(tx, stream, clock.now + 61, 60, 0)
    assert [s["SequenceNumberRange"] for s in map(stream.shard, range(3))] == [
        {
            "StartingSequenceNumber": streams.format_seq(1),
            "EndingSequenceNumber": streams.format_seq(3),
        },
        {
            "StartingSequenceNumber": streams.format_seq(4),
            "EndingSequenceNumber": streams.format_seq(4),
        },
        {"StartingSequenceNumber": streams.format_seq(5)},
    ]
    assert stream.shard(2)["ParentShardId"] == stream.shard_id(1)
    ids = [stream.shard_id(i) for i in range(3)]
    assert ids == sorted(ids)
    assert stream.shard_index(ids[1]) == 1
    assert stream.shard_index("shardId-00000000000000000000-00000001") is None


def test_reading_a_closed_shard_ends(engine: Engine, clock: Clock) -> None:
    table = make_table(engine, stream="KEYS_ONLY")
    put(engine, table, "a")
    put(engine, table, "b")
    stream = latest(engine)
    with engine.backend.read() as tx:
        streams.roll(tx, stream, clock.now, 0, 1)
    put(engine, table, "c")
    with engine.backend.read() as tx:
        records, following = streams.read_records(tx, stream, 0, 1, 1)
        assert len(records) == 1 and following == 2
        records, following = streams.read_records(tx, stream, 0, 2, 10)
        assert len(records) == 1 and following is None  # closed and consumed
        records, following = streams.read_records(tx, stream, 1, 3, 10)
        assert len(records) == 1 and following == 4  # open: keep polling


def test_start_positions(engine: Engine) -> None:
    table = make_table(engine, stream="KEYS_ONLY")
    for pk in "abc":
        put(engine, table, pk)
    stream = latest(engine)
    with engine.backend.read() as tx:
        assert streams.start_position(tx, stream, 0, "TRIM_HORIZON", None) == 1
        assert streams.start_position(tx, stream, 0, "LATEST", None) == 4
        seq = streams.format_seq(2)
        assert streams.start_position(tx, stream, 0, "AT_SEQUENCE_NUMBER", seq) == 2
        assert streams.start_position(tx, stream, 0, "AFTER_SEQUENCE_NUMBER", seq) == 3
        with pytest.raises(ValidationException):
            streams.start_position(tx, stream, 0, "AT_SEQUENCE_NUMBER", "1" * 21 + "x")


# --- iterators --------------------------------------------------------------------------


def test_iterators_are_signed_and_expire() -> None:
    secret = b"s" * 32
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/tbl/stream/2024-01-01T00:00:00.000"
    token = streams.make_iterator(secret, arn, 2, 17, T0)
    assert token.startswith(arn + "|1|") and len(token) <= 2048
    assert streams.read_iterator(secret, token, T0 + 899) == (arn, 2, 17)
    with pytest.raises(ExpiredIteratorException):
        streams.read_iterator(secret, token, T0 + 901)
    with pytest.raises(ValidationException, match="Invalid ShardIterator"):
        streams.read_iterator(b"x" * 32, token, T0)
    with pytest.raises(ValidationException, match="Invalid ShardIterator"):
        streams.read_iterator(secret, token[:-4] + "AAAA", T0)
    with pytest.raises(ValidationException, match="Invalid ShardIterator"):
        streams.read_iterator(secret, "garbage", T0)


# --- trimming and retention -------------------------------------------------------------


def run_streams_worker(engine: Engine, **settings: Any) -> None:
    worker = StreamsWorker(engine, StreamSettings(**settings))
    while worker.run_once():
        pass


def test_trimming_after_retention(engine: Engine, clock: Clock) -> None:
    table = make_table(engine, stream="KEYS_ONLY")
    put(engine, table, "old1")
    put(engine, table, "old2")
    stream = latest(engine)
    with engine.backend.read() as tx:
        streams.roll(tx, stream, clock.now, 0, 1)  # shard 0 closes after seq 2
    with engine.backend.write() as tx:
        streams.save(tx, stream)
    clock.now += 100
    put(engine, table, "new")
    run_streams_worker(engine, retention=50, shard_seconds=0)
    stream = latest(engine)
    with engine.backend.read() as tx:
        assert streams.trim_point(tx, stream.log) == 2
        assert streams.start_position(tx, stream, 1, "TRIM_HORIZON", None) == 3
        with pytest.raises(TrimmedDataAccessException):
            streams.start_position(tx, stream, 0, "AT_SEQUENCE_NUMBER", streams.format_seq(1))
        with pytest.raises(TrimmedDataAccessException):
            streams.read_records(tx, stream, 1, 2, 10)
    assert stream.base == 1  # shard 0 held only trimmed records: no longer listed
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_all(engine, stream, 1, 3)] == ["new"]


def test_disabled_stream_is_forgotten_after_retention(engine: Engine, clock: Clock) -> None:
    table = make_table(engine, stream="KEYS_ONLY")
    put(engine, table, "a")
    stream = latest(engine)
    update_table.handle(
        engine, CTX, {"TableName": "tbl", "StreamSpecification": {"StreamEnabled": False}}
    )
    clock.now += 30
    run_streams_worker(engine, retention=60)
    with engine.backend.read() as tx:
        assert streams.load(tx, stream.arn) is not None
    clock.now += 60
    run_streams_worker(engine, retention=60)
    with engine.backend.read() as tx:
        assert streams.load(tx, stream.arn) is None
        assert list(tx.range(stream.log, b"", None)) == []


def test_stream_of_a_deleted_table_is_disabled(engine: Engine, clock: Clock) -> None:
    table = make_table(engine, stream="KEYS_ONLY")
    put(engine, table, "a")
    with engine.backend.write() as tx:
        engine.catalog.remove(tx, table)
    run_streams_worker(engine)
    with engine.backend.read() as tx:
        found = streams.listing(tx, CTX.account, CTX.region, "tbl")
    assert len(found) == 1 and not found[0].enabled and found[0].end == 1


# --- TTL --------------------------------------------------------------------------------


def enable_ttl(engine: Engine, attribute: str = "exp", window: float = 0.0) -> None:
    update_time_to_live(
        engine,
        CTX,
        {
            "TableName": "tbl",
            "TimeToLiveSpecification": {"Enabled": True, "AttributeName": attribute},
        },
        TtlOptions(change_window=window),
    )


def test_ttl_sweep_deletes_due_items_as_the_service(engine: Engine, clock: Clock) -> None:
    table = make_table(engine, stream="OLD_IMAGE")
    enable_ttl(engine)
    table = table_of(engine)
    now = int(clock.now)
    put(engine, table, "due", exp={"N": str(now - 20)})
    put(engine, table, "recent", exp={"N": str(now - 5)})
    put(engine, table, "future", exp={"N": str(now + 100)})
    put(engine, table, "ancient", exp={"N": str(now - ttl.MAX_AGE - 10)})
    put(engine, table, "text", exp={"S": str(now - 20)})
    assert sweep(engine.backend, table, clock.now, 10, 100) == 1
    with engine.backend.read() as tx:
        left = {orjson.loads(v)["pk"]["S"] for _, v in tx.range(table.space, b"", None)}
    assert left == {"recent", "future", "ancient", "text"}
    stream = latest(engine)
    removal = read_all(engine, stream, 0, stream.first)[-1]
    assert removal["eventName"] == "REMOVE"
    assert removal["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    assert removal["dynamodb"]["OldImage"]["pk"] == {"S": "due"}


def test_ttl_sweep_skips_items_whose_ttl_changed(engine: Engine, clock: Clock) -> None:
    make_table(engine)
    enable_ttl(engine)
    table = table_of(engine)
    now = int(clock.now)
    put(engine, table, "k", exp={"N": str(now - 20)})
    base_key = writes.storage_key(table, {"pk": {"S": "k"}})
    with engine.backend.write() as tx:  # a stale entry, as if left by an older value
        tx.put(table.ttl_space, ttl.entry_key(now - 30, base_key), b"")
    put(engine, table, "k", exp={"N": str(now + 100)})
    assert sweep(engine.backend, table, clock.now, 0, 100) == 1  # only the stale entry
    with engine.backend.read() as tx:
        assert tx.get(table.space, base_key) is not None
        assert len(list(tx.range(table.ttl_space, b"", None))) == 1


def test_ttl_backfill_indexes_existing_items(engine: Engine, clock: Clock) -> None:
    table = make_table(engine)
    now = int(clock.now)
    for i in range(7):
        put(engine, table, f"k{i}", exp={"N": str(now - 100)})
    enable_ttl(engine)
    worker = TtlWorker(engine, TtlSettings(delay=0, batch=3, chunk=2))
    runs = 0
    while worker.run_once():
        runs += 1
    assert runs >= 3  # bounded chunks and batches
    with engine.backend.read() as tx:
        assert list(tx.range(table.space, b"", None)) == []


def test_ttl_status_and_errors(engine: Engine, clock: Clock) -> None:
    make_table(engine)
    describe = describe_time_to_live(engine, CTX, {"TableName": "tbl"})
    assert describe == {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
    enable_ttl(engine, window=60)
    describe = describe_time_to_live(engine, CTX, {"TableName": "tbl"})
    assert describe == {
        "TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    }
    options = TtlOptions(change_window=60)
    spec = {"Enabled": True, "AttributeName": "exp"}
    with pytest.raises(ValidationException, match=r"^TimeToLive is already enabled$"):
        update_time_to_live(
            engine, CTX, {"TableName": "tbl", "TimeToLiveSpecification": spec}, options
        )
    spec = {"Enabled": False, "AttributeName": "other"}
    with pytest.raises(ValidationException, match=r"current AttributeName is exp$"):
        update_time_to_live(
            engine, CTX, {"TableName": "tbl", "TimeToLiveSpecification": spec}, options
        )
    spec = {"Enabled": False, "AttributeName": "exp"}
    with pytest.raises(ValidationException, match="multiple times within a fixed interval"):
        update_time_to_live(
            engine, CTX, {"TableName": "tbl", "TimeToLiveSpecification": spec}, options
        )
    clock.now += 61
    update_time_to_live(engine, CTX, {"TableName": "tbl", "TimeToLiveSpecification": spec}, options)
    assert table_of(engine).ttl_attribute is None
    with pytest.raises(ValidationException, match=r"^TimeToLive is already disabled$"):
        update_time_to_live(
            engine, CTX, {"TableName": "tbl", "TimeToLiveSpecification": spec}, options
        )
