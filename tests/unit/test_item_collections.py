"""Item collection sizes (engine/item_collections.py) kept by the write path, no server
(the `engine` fixture is conftest's)."""

from __future__ import annotations

from typing import Any

import pytest

from dynastore.engine import item_collections, keys
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.engine.item_collections import COLLECTION_SPACE, GIGABYTE, INDEX_ENTRY_OVERHEAD
from dynastore.engine.values import Item, item_size
from dynastore.engine.writes import WriteResult, collection_bytes, write_item
from dynastore.errors import ItemCollectionSizeLimitExceededException
from dynastore.ops import create_table, tables
from dynastore.server.protocol import RequestContext

CTX = RequestContext("req", "000000000000", "us-east-1", "key")


def _attr(name: str) -> dict[str, str]:
    return {"AttributeName": name, "AttributeType": "S"}


def _schema(hash_key: str, range_key: str) -> list[dict[str, str]]:
    return [
        {"AttributeName": hash_key, "KeyType": "HASH"},
        {"AttributeName": range_key, "KeyType": "RANGE"},
    ]


def make_table(engine: Engine, name: str = "things", lsi: bool = True) -> TableDef:
    """pk/sk; LSIs on a (ALL) and b (KEYS_ONLY) when `lsi`, a GSI on g always."""
    req: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": [_attr(n) for n in ("pk", "sk", "g", *("ab" if lsi else ""))],
        "KeySchema": _schema("pk", "sk"),
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-g",
                "KeySchema": _schema("g", "sk"),
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }
    if lsi:
        req["LocalSecondaryIndexes"] = [
            {
                "IndexName": "by-a",
                "KeySchema": _schema("pk", "a"),
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "by-b",
                "KeySchema": _schema("pk", "b"),
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ]
    create_table.handle(engine, CTX, req)
    table = engine.catalog.get("000000000000", "us-east-1", name)
    assert table is not None
    return table


def item(pk: str, sk: str, **more: str) -> Item:
    out: Item = {"pk": {"S": pk}, "sk": {"S": sk}}
    out.update({k: {"S": v} for k, v in more.items()})
    return out


def put(engine: Engine, table: TableDef, new: Item, limit: int | None = None) -> WriteResult:
    return write_item(engine.backend, table, new, lambda old: new, collection_limit=limit)


def delete(engine: Engine, table: TableDef, key: Item) -> WriteResult:
    return write_item(engine.backend, table, key, lambda old: None)


def counter(engine: Engine, table: TableDef, pk: str) -> int | None:
    raw = engine.backend.get(
        COLLECTION_SPACE, table.space.to_bytes(8, "big") + keys.encode_key_value({"S": pk})
    )
    return None if raw is None else int.from_bytes(raw, "big")


def test_size_estimate_is_whole_gigabytes_around_the_size() -> None:
    assert item_collections.size_estimate(0) == [0.0, 1.0]
    assert item_collections.size_estimate(GIGABYTE - 1) == [0.0, 1.0]
    assert item_collections.size_estimate(GIGABYTE) == [1.0, 2.0]
    assert item_collections.size_estimate(10 * GIGABYTE + GIGABYTE // 2) == [10.0, 11.0]


def test_collection_bytes_counts_the_item_and_each_local_index_holding_it(
    engine: Engine,
) -> None:
    table = make_table(engine)
    plain = item("p", "1", x="some data")
    assert collection_bytes(table, plain) == item_size(plain)  # in no LSI (sparse)
    in_all = {**plain, "a": {"S": "A"}, "g": {"S": "G"}}  # the GSI does not count
    assert collection_bytes(table, in_all) == 2 * item_size(in_all) + INDEX_ENTRY_OVERHEAD
    both = {**in_all, "b": {"S": "B"}}
    keys_only = item_size({"pk": {"S": "p"}, "sk": {"S": "1"}, "b": {"S": "B"}})
    assert collection_bytes(table, both) == (
        2 * item_size(both) + keys_only + 2 * INDEX_ENTRY_OVERHEAD
    )


def test_writes_keep_one_counter_per_partition(engine: Engine) -> None:
    table = make_table(engine)
    first, second = item("p", "1", a="A", x="xx"), item("p", "2", b="B")
    other = item("q", "1")
    assert put(engine, table, first).collection_size == collection_bytes(table, first)
    expected = collection_bytes(table, first) + collection_bytes(table, second)
    assert put(engine, table, second).collection_size == expected
    assert put(engine, table, other).collection_size == collection_bytes(table, other)
    assert counter(engine, table, "p") == expected
    grown = {**first, "x": {"S": "x" * 100}}
    result = put(engine, table, grown)
    expected += collection_bytes(table, grown) - collection_bytes(table, first)
    assert result.collection_size == expected == counter(engine, table, "p")
    result = delete(engine, table, item("p", "1"))
    assert result.collection_size == collection_bytes(table, second)
    assert delete(engine, table, item("p", "9")).collection_size == collection_bytes(table, second)
    assert delete(engine, table, item("p", "2")).collection_size == 0
    assert counter(engine, table, "p") is None  # an emptied collection keeps no counter
    assert counter(engine, table, "q") == collection_bytes(table, other)


def test_tables_without_local_indexes_keep_no_counters(engine: Engine) -> None:
    table = make_table(engine, lsi=False)
    result = put(engine, table, item("p", "1", g="G"), limit=1)
    assert result.collection_size is None
    with engine.backend.read() as tx:
        assert list(tx.range(COLLECTION_SPACE, b"", None)) == []


def test_a_write_past_the_limit_changes_nothing(engine: Engine) -> None:
    table = make_table(engine)
    first = item("p", "1", a="A")
    limit = collection_bytes(table, first) + 50
    put(engine, table, first, limit)
    with pytest.raises(ItemCollectionSizeLimitExceededException):
        put(engine, table, item("p", "2", x="x" * 60), limit)
    with engine.backend.read() as tx:
        assert tx.get(table.space, keys.encode_item_key({"S": "p"}, {"S": "2"})) is None
    assert counter(engine, table, "p") == collection_bytes(table, first)
    # Up to the limit exactly is allowed, and so is any write that does not grow it.
    exact = item("p", "2", x="x" * (50 - item_size(item("p", "2", x=""))))
    assert put(engine, table, exact, limit).collection_size == limit
    shrunk = item("p", "1")
    assert put(engine, table, shrunk, 1).collection_size == limit - (
        collection_bytes(table, first) - collection_bytes(table, shrunk)
    )
    assert put(engine, table, item("q", "1", x="x" * 100), limit).collection_size is not None


def test_a_missing_counter_is_measured_from_the_items(engine: Engine) -> None:
    table = make_table(engine)
    first, second = item("p", "1", a="A"), item("p", "2", b="B")
    put(engine, table, first)
    put(engine, table, second)
    with engine.backend.write() as tx:
        item_collections.drop(tx, table.space)  # as for items written before counters
    assert counter(engine, table, "p") is None
    third = item("p", "3")
    total = sum(collection_bytes(table, i) for i in (first, second, third))
    assert put(engine, table, third).collection_size == total == counter(engine, table, "p")


def test_drop_forgets_one_table_only(engine: Engine) -> None:
    one, two = make_table(engine, "one"), make_table(engine, "two")
    put(engine, one, item("p", "1"))
    put(engine, two, item("p", "1"))
    with engine.backend.write() as tx:
        item_collections.drop(tx, one.space)
    assert counter(engine, one, "p") is None
    assert counter(engine, two, "p") == collection_bytes(two, item("p", "1"))


def test_delete_table_drops_its_counters(engine: Engine) -> None:
    table = make_table(engine)
    put(engine, table, item("p", "1"))
    tables.delete_table(engine, CTX, {"TableName": "things"})
    assert counter(engine, table, "p") is None
