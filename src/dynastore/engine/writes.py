"""The write path: one storage transaction per item write.

read old item -> check condition -> compute new item (pure) -> write item and every
secondary-index entry -> commit -> acknowledge. Index entries are keyed by the index key
followed by the table key, so two items with one index key stay distinct; their values
are the projected item, so an index query reads no base row. Tables with local secondary
indexes also keep their item collection sizes here (engine/item_collections.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from dynastore.engine import catalog, changelog, item_collections, keys, ttl
from dynastore.engine.catalog import IndexDef, TableDef
from dynastore.engine.values import AttrValue, Item, item_size
from dynastore.errors import ConditionalCheckFailedException, ValidationException
from dynastore.storage.base import Backend, WriteTx

Compute = Callable[[Item | None], Item | None]
Condition = Callable[[Item | None], bool]


@dataclass(slots=True)
class WriteResult:
    """The item before and after one write (None: absent), and the size in bytes of its
    item collection after it (None: the table has no local secondary index)."""

    old: Item | None
    new: Item | None
    collection_size: int | None = None


def storage_key(table: TableDef, key: Item) -> bytes:
    """Encoded base-table key of an item (or of a Key parameter)."""
    sk = table.sk
    return keys.encode_item_key(key[table.pk.name], key[sk.name] if sk else None)


def index_key(index: IndexDef, item: Item, base_key: bytes) -> bytes | None:
    """The index entry key of an item, or None when the item is not in the (sparse) index."""
    pk = item.get(index.pk.name)
    if pk is None or index.pk.type not in pk:
        return None
    if index.sk is None:
        return keys.encode_item_key(pk) + base_key
    sk = item.get(index.sk.name)
    if sk is None or index.sk.type not in sk:
        return None
    return keys.encode_item_key(pk, sk) + base_key


def project_for_index(table: TableDef, index: IndexDef, item: Item) -> Item:
    """The attributes an index keeps of an item."""
    if index.projection == "ALL":
        return item
    wanted = set(table.key_names) | {index.pk.name}
    if index.sk is not None:
        wanted.add(index.sk.name)
    if index.projection == "INCLUDE":
        wanted.update(index.non_key)
    return {k: v for k, v in item.items() if k in wanted}


def collection_bytes(table: TableDef, item: Item) -> int:
    """What an item adds to its item collection: its size, and for each LSI holding it the
    size of its projection there plus DynamoDB's overhead per index entry."""
    size = total = item_size(item)
    for index in table.indexes:
        if index.kind != "LSI" or index_key(index, item, b"") is None:
            continue
        total += item_collections.INDEX_ENTRY_OVERHEAD
        if index.projection == "ALL":
            total += size
        else:
            total += item_size(project_for_index(table, index, item))
    return total


def resize_collection(
    tx: WriteTx, table: TableDef, key: Item, old: Item | None, new: Item | None, limit: int | None
) -> int:
    """Count a write in its item collection, before anything of it is written (it may be
    refused: see `write_in`); the collection's new size."""

    def measure(item: Item) -> int:
        return collection_bytes(table, item)

    delta = (measure(new) if new is not None else 0) - (measure(old) if old is not None else 0)
    return item_collections.change(tx, table, key[table.pk.name], delta, limit, measure)


def check_index_keys(table: TableDef, item: Item) -> None:
    """DynamoDB's checks of index key attributes present in a new item."""
    for index in table.indexes:
        for attr in (index.pk, index.sk):
            if attr is None:
                continue
            value: AttrValue | None = item.get(attr.name)
            if value is None:
                continue
            actual = next(iter(value))
            if actual != attr.type:
                raise ValidationException(
                    "One or more parameter values were invalid: Type mismatch for Index Key "
                    f"{attr.name} Expected: {attr.type} Actual: {actual} IndexName: {index.name}"
                )
            if actual in ("S", "B") and value[actual] == "":
                raise ValidationException(
                    "One or more parameter values are not valid. A value specified for a "
                    "secondary index key is not supported. The AttributeValue for a key "
                    "attribute cannot contain an empty string value. "
                    f"IndexName: {index.name}, IndexKey: {attr.name}"
                )


def _update_indexes(
    tx: WriteTx,
    table: TableDef,
    base_key: bytes,
    old: Item | None,
    new: Item | None,
    new_raw: bytes | None,
) -> None:
    for index in table.indexes:
        old_key = index_key(index, old, base_key) if old is not None else None
        new_key = index_key(index, new, base_key) if new is not None else None
        if old_key is not None and old_key != new_key:
            tx.delete(index.space, old_key)
        if new_key is not None and new is not None:
            if index.projection == "ALL" and new_raw is not None:
                value = new_raw
            else:
                value = orjson.dumps(project_for_index(table, index, new))
            tx.put(index.space, new_key, value)


def write_item(
    backend: Backend,
    table: TableDef,
    key: Item,
    compute: Compute,
    condition: Condition | None = None,
    return_old_on_failure: bool = False,
    collection_limit: int | None = None,
) -> WriteResult:
    """Apply one item write atomically; raise ConditionalCheckFailedException on a failed check.

    `compute(old)` returns the new item (None deletes it); it must be pure, since the
    transaction may be retried by backends that detect conflicts.
    """
    with backend.write() as tx:
        return write_in(
            tx, table, key, compute, condition, return_old_on_failure,
            collection_limit=collection_limit,
        )  # fmt: skip


def write_in(
    tx: WriteTx,
    table: TableDef,
    key: Item,
    compute: Compute,
    condition: Condition | None = None,
    return_old_on_failure: bool = False,
    identity: dict[str, Any] | None = None,
    collection_limit: int | None = None,
) -> WriteResult:
    """One item write inside the caller's transaction (batches, transactions, TTL).

    `identity` is the stream record's userIdentity (TTL deletions). `collection_limit`:
    the bytes a client's write may grow an item collection to (past them it raises
    ItemCollectionSizeLimitExceededException); None for the server's own writes
    (restores, replication, TTL), which must not fail on it.

    A definition cached on a shared store is checked against the catalog version in the
    same round trip as the old item's read, and replaced by the stored one if another
    process changed the catalog (`catalog.current`).
    """
    base_key = storage_key(table, key)
    cached = table
    if table.generation is None:
        raw = tx.get(table.space, base_key)
    else:
        version, raw = tx.get_many((catalog.VERSION, (table.space, base_key)))
        table = catalog.current(tx, table, version)
        if table.space != cached.space:
            raw = tx.get(table.space, base_key)
    old: Item | None = orjson.loads(raw) if raw is not None else None
    if condition is not None and not condition(old):
        extras = {"Item": old} if return_old_on_failure and old is not None else {}
        raise ConditionalCheckFailedException(None, **extras)
    new = compute(old)
    if table is not cached and new is not None:
        check_index_keys(table, new)  # the request was checked against the cached indexes
    collection: int | None = None
    if table.indexes and item_collections.kept(table):
        collection = resize_collection(tx, table, key, old, new, collection_limit)
    new_raw: bytes | None = None
    if new is None:
        if old is None:
            return WriteResult(None, None, collection)
        tx.delete(table.space, base_key)
    else:
        new_raw = orjson.dumps(new)
        tx.put(table.space, base_key, new_raw)
    if table.indexes:
        _update_indexes(tx, table, base_key, old, new, new_raw)
    if table.ttl_attribute is not None:
        ttl.update_index(tx, table.ttl_space, table.ttl_attribute, base_key, old, new)
    if table.log_space:
        changelog.append(tx, table.log_space, _key_of(table, key), old, new, identity)
    return WriteResult(old, new, collection)


def _key_of(table: TableDef, key: Item) -> Item:
    return {name: key[name] for name in table.key_names}
