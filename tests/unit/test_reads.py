"""Reads over storage (engine/reads.py) and GSI backfill (engine/indexes.py), no server."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from dynastore.engine import keys
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.engine.expr import KeyCondition, SortCondition
from dynastore.engine.indexes import (
    Backfill,
    backfill_key,
    is_backfilling,
    pending_backfills,
    run_chunk,
    start_backfill,
)
from dynastore.engine.reads import (
    MAX_PAGE_BYTES,
    Plan,
    Source,
    in_segment,
    page_body,
    query_range,
    read_page,
    resume,
    scan_range,
)
from dynastore.engine.values import Item
from dynastore.engine.writes import storage_key, write_item
from dynastore.ops import create_table, update_table
from dynastore.server.protocol import RequestContext
from dynastore.workers.backfill import BackfillWorker, kick

CTX = RequestContext("req", "000000000000", "us-east-1", "key")


def _attr(name: str, kind: str) -> dict[str, str]:
    return {"AttributeName": name, "AttributeType": kind}


def _key(name: str, kind: str) -> dict[str, str]:
    return {"AttributeName": name, "KeyType": kind}


def make_table(engine: Engine, **extra: Any) -> TableDef:
    """pk S / sk N, a GSI on (g S, sk N) with KEYS_ONLY and an LSI on (pk, l S) INCLUDE x."""
    req: dict[str, Any] = {
        "TableName": "things",
        "AttributeDefinitions": [
            _attr("pk", "S"),
            _attr("sk", "N"),
            _attr("g", "S"),
            _attr("l", "S"),
        ],
        "KeySchema": [_key("pk", "HASH"), _key("sk", "RANGE")],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-g",
                "KeySchema": [_key("g", "HASH"), _key("sk", "RANGE")],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        "LocalSecondaryIndexes": [
            {
                "IndexName": "by-l",
                "KeySchema": [_key("pk", "HASH"), _key("l", "RANGE")],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]},
            }
        ],
        **extra,
    }
    create_table.handle(engine, CTX, req)
    table = engine.catalog.get("000000000000", "us-east-1", "things")
    assert table is not None
    return table


def put(engine: Engine, table: TableDef, item: Item) -> None:
    write_item(engine.backend, table, item, lambda old: item)


def item(pk: str, sk: int, **more: str) -> Item:
    out: Item = {"pk": {"S": pk}, "sk": {"N": str(sk)}}
    out.update({k: {"S": v} for k, v in more.items()})
    return out


def loads(raw: bytes) -> Item:
    result: Item = orjson.loads(raw)
    return result


# --- key ranges ---------------------------------------------------------------------------


def test_source_decodes_and_encodes_table_and_index_keys(engine: Engine) -> None:
    table = make_table(engine)
    start = {**item("p", 7), "g": {"S": "G"}}
    base = Source(table)
    assert base.decode(base.encode_start(start)) == {"pk": {"S": "p"}, "sk": {"N": "7"}}
    gsi = Source(table, table.index("by-g"))
    assert gsi.decode(gsi.encode_start(start)) == start
    assert [a.name for a in gsi.start_key_attrs] == ["pk", "sk", "g"]
    lsi = Source(table, table.index("by-l"))
    assert [a.name for a in lsi.start_key_attrs] == ["pk", "sk", "l"]
    assert lsi.projected() == frozenset({"pk", "sk", "l", "x"})
    assert base.projected() is None


def test_query_range_is_one_partition(engine: Engine) -> None:
    table = make_table(engine)
    source = Source(table)
    low, high = query_range(source, KeyCondition("pk", {"S": "p"}))
    prefix = keys.partition_prefix(keys.encode_key_value({"S": "p"}))
    assert low == prefix and high == keys.prefix_end(prefix)
    between = KeyCondition(
        "pk", {"S": "p"}, "sk", SortCondition("BETWEEN", ({"N": "2"}, {"N": "4"}))
    )
    low, high = query_range(source, between)
    assert high is not None
    inside = [storage_key(table, item("p", n)) for n in (2, 3, 4)]
    outside = [storage_key(table, item("p", n)) for n in (1, 5)]
    assert all(low <= k < high for k in inside)
    assert not any(low <= k < high for k in outside)


def test_resume_narrows_in_the_read_direction() -> None:
    assert resume(b"a", b"z", b"m", reverse=False) == (b"m\x00", b"z")
    assert resume(b"a", b"z", b"m", reverse=True) == (b"a", b"m")
    assert resume(b"a", None, b"m", reverse=True) == (b"a", b"m")
    assert resume(b"n", b"z", b"m", reverse=False) == (b"n", b"z")


def test_segments_are_disjoint_and_cover_every_key() -> None:
    hashes = [keys.item_key(keys.encode_key_value({"S": f"k{i}"})) for i in range(500)]
    for total in (1, 2, 3, 7, 1000):
        owners = [[s for s in range(total) if in_segment(h, s, total)] for h in hashes]
        assert all(len(o) == 1 for o in owners)
        for h, (segment,) in zip(hashes, owners, strict=True):
            low, high = scan_range(segment, total)
            assert low <= h and (high is None or h < high)
    assert scan_range(None, None) == (b"", None)


# --- pages --------------------------------------------------------------------------------


def test_page_limit_last_key_and_reverse(engine: Engine) -> None:
    table = make_table(engine)
    for n in range(10):
        put(engine, table, item("p", n))
    put(engine, table, item("q", 1))
    source = Source(table)
    low, high = query_range(source, KeyCondition("pk", {"S": "p"}))
    page = read_page(engine.backend, Plan(source.space, low, high, limit=4))
    assert [loads(r)["sk"]["N"] for r in page.items] == ["0", "1", "2", "3"]
    assert page.last_key is not None and source.decode(page.last_key) == item("p", 3)
    rest = read_page(engine.backend, Plan(source.space, *resume(low, high, page.last_key, False)))
    assert [loads(r)["sk"]["N"] for r in rest.items] == [str(n) for n in range(4, 10)]
    assert rest.last_key is None
    back = read_page(engine.backend, Plan(source.space, low, high, reverse=True, limit=3))
    assert [loads(r)["sk"]["N"] for r in back.items] == ["9", "8", "7"]


def test_filter_counts_after_limit_and_projection(engine: Engine) -> None:
    table = make_table(engine)
    for n in range(6):
        put(engine, table, item("p", n, v="even" if n % 2 == 0 else "odd"))
    source = Source(table)
    low, high = query_range(source, KeyCondition("pk", {"S": "p"}))
    plan = Plan(source.space, low, high, limit=4)
    plan.filter = lambda it: it["v"]["S"] == "even"
    plan.project = lambda it: {"v": it["v"]}
    page = read_page(engine.backend, plan)
    assert (page.count, page.scanned) == (2, 4)
    assert [loads(r) for r in page.items] == [{"v": {"S": "even"}}] * 2
    plan.count_only = True
    assert read_page(engine.backend, plan).items == []


def test_one_megabyte_page(engine: Engine) -> None:
    table = make_table(engine)
    big = "x" * 100_000
    for n in range(15):
        put(engine, table, item("p", n, d=big))
    source = Source(table)
    low, high = query_range(source, KeyCondition("pk", {"S": "p"}))
    plan = Plan(source.space, low, high, measure=True)
    page = read_page(engine.backend, plan)
    assert page.scanned == -(-MAX_PAGE_BYTES // 100_040)  # stops once 1 MB has been read
    assert page.last_key is not None
    assert page.read_size >= 100_000 * page.scanned


def test_page_body_splices_items() -> None:
    from dynastore.engine.reads import Page

    page = Page([b'{"a":{"S":"x"}}'], 1, 3, None)
    body = orjson.loads(page_body(page, {"pk": {"S": "k"}}, {"CapacityUnits": 0.5}, False))
    assert body == {
        "Items": [{"a": {"S": "x"}}],
        "Count": 1,
        "ScannedCount": 3,
        "LastEvaluatedKey": {"pk": {"S": "k"}},
        "ConsumedCapacity": {"CapacityUnits": 0.5},
    }
    assert orjson.loads(page_body(page, None, None, True)) == {"Count": 1, "ScannedCount": 3}


def test_lsi_fetch_reads_the_table_item(engine: Engine) -> None:
    table = make_table(engine)
    put(engine, table, item("p", 1, l="b", x="kept", y="table only"))
    index = table.index("by-l")
    assert index is not None
    source = Source(table, index)
    low, high = query_range(source, KeyCondition("pk", {"S": "p"}))
    page = read_page(engine.backend, Plan(source.space, low, high))
    assert loads(page.items[0]) == item("p", 1, l="b", x="kept")
    plan = Plan(source.space, low, high, measure=True)
    plan.fetch = lambda tx, entry: tx.get(table.space, storage_key(table, entry))
    page = read_page(engine.backend, plan)
    assert loads(page.items[0])["y"] == {"S": "table only"}
    assert page.fetch_size > page.read_size > 0


# --- backfill -----------------------------------------------------------------------------


def add_gsi(engine: Engine, name: str = "by-h", projection: str = "ALL") -> dict[str, Any]:
    answer = update_table.handle(
        engine,
        CTX,
        {
            "TableName": "things",
            "AttributeDefinitions": [_attr("h", "S")],
            "GlobalSecondaryIndexUpdates": [
                {
                    "Create": {
                        "IndexName": name,
                        "KeySchema": [_key("h", "HASH")],
                        "Projection": {"ProjectionType": projection},
                    }
                }
            ],
        },
    )
    assert isinstance(answer, dict)
    return answer


def index_entries(engine: Engine, name: str) -> list[Item]:
    table = engine.catalog.get("000000000000", "us-east-1", "things")
    assert table is not None
    index = table.index(name)
    assert index is not None
    with engine.backend.read() as tx:
        return [loads(v) for _, v in tx.range(index.space, b"", None)]


def test_backfill_key_skips_wrong_types_and_empty_values(engine: Engine) -> None:
    table = make_table(engine)
    index = table.index("by-g")
    assert index is not None
    base = storage_key(table, item("p", 1))
    assert backfill_key(index, item("p", 1, g="G"), base) is not None
    assert backfill_key(index, item("p", 1, g=""), base) is None
    assert backfill_key(index, {**item("p", 1), "g": {"N": "1"}}, base) is None
    assert backfill_key(index, item("p", 1), base) is None


def test_small_table_backfills_within_update_table(engine: Engine) -> None:
    table = make_table(engine)
    for n in range(20):
        put(engine, table, item("p", n, h=f"h{n % 3}"))
    put(engine, table, item("p", 99))  # no h: not in the sparse index
    answer = add_gsi(engine)
    created = answer["TableDescription"]["GlobalSecondaryIndexes"][-1]
    assert (created["IndexStatus"], created["Backfilling"]) == ("CREATING", False)
    assert answer["TableDescription"]["TableStatus"] == "UPDATING"
    table = engine.catalog.get("000000000000", "us-east-1", "things")
    assert table is not None and not is_backfilling(table, "by-h")
    assert len(index_entries(engine, "by-h")) == 20
    assert pending_backfills(engine.backend) == []


def fill(engine: Engine, table: TableDef, count: int) -> None:
    with engine.backend.write() as tx:
        for n in range(count):
            entry = item("p", n, h=f"h{n % 5}")
            tx.put(table.space, storage_key(table, entry), orjson.dumps(entry))


def current(engine: Engine) -> TableDef:
    table = engine.catalog.get("000000000000", "us-east-1", "things")
    assert table is not None
    return table


def test_large_backfill_runs_in_chunks_and_sees_concurrent_writes(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = make_table(engine)
    fill(engine, table, 2000)
    # No background worker: UpdateTable runs the first chunk, the test drives the rest.
    monkeypatch.setattr(update_table, "kick", lambda engine: None)
    add_gsi(engine, projection="KEYS_ONLY")
    table = current(engine)
    assert is_backfilling(table, "by-h")
    description = next(
        g for g in table.description["GlobalSecondaryIndexes"] if g["IndexName"] == "by-h"
    )
    assert description["Backfilling"] is True
    # Writes during the backfill maintain the index themselves.
    put(engine, table, item("p", 1999, h="moved"))
    write_item(engine.backend, table, item("p", 0), lambda old: None)
    [job] = pending_backfills(engine.backend)
    assert isinstance(job, Backfill) and job.cursor is not None
    chunks = 0
    while not run_chunk(engine.backend, engine.catalog, job, max_items=300):
        chunks += 1
    assert chunks >= 4  # 500 items in UpdateTable, then 300 per chunk
    entries = index_entries(engine, "by-h")
    assert len(entries) == 1999
    assert {"pk": {"S": "p"}, "sk": {"N": "1999"}, "h": {"S": "moved"}} in entries
    assert all(set(e) == {"pk", "sk", "h"} for e in entries)
    assert not is_backfilling(current(engine), "by-h")


def test_background_worker_yields_between_chunks(engine: Engine) -> None:
    fill(engine, make_table(engine), 3000)

    async def scenario() -> int:
        add_gsi(engine)
        turns = 0
        while is_backfilling(current(engine), "by-h"):
            await asyncio.sleep(0)  # a request would be served here
            turns += 1
        return turns

    assert asyncio.run(scenario()) >= 2
    assert len(index_entries(engine, "by-h")) == 3000
    assert pending_backfills(engine.backend) == []


def test_worker_run_once_and_kick_without_loop(engine: Engine) -> None:
    table = make_table(engine)
    fill(engine, table, 1200)
    index = table.index("by-g")
    assert index is not None
    with engine.backend.write() as tx:
        start_backfill(tx, table, index)
    worker = BackfillWorker(engine, chunk_items=500)
    assert worker.run_once() is True
    assert kick(engine) is None  # no event loop: finished here and now
    assert worker.run_once() is False


def test_backfill_of_a_deleted_index_is_dropped(engine: Engine) -> None:
    table = make_table(engine)
    index = table.index("by-g")
    assert index is not None
    with engine.backend.write() as tx:
        job = start_backfill(tx, table, index)
    table.indexes = [i for i in table.indexes if i.name != "by-g"]
    assert run_chunk(engine.backend, engine.catalog, job) is True
    assert pending_backfills(engine.backend) == []
