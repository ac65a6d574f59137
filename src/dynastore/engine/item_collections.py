"""Item collections of tables with local secondary indexes: their sizes and size limit.

Design note
-----------
On a table with one or more LSIs, an item collection is every item with one partition key
value together with those items' LSI entries. DynamoDB limits a collection to 10 GB (a
write that would grow one past it fails with ItemCollectionSizeLimitExceededException)
and reports its size as ItemCollectionMetrics. An item counts for its size (the 400 KB
rules); each LSI entry of it for the size of its projection (table keys, index key,
projected attributes) plus 100 bytes of overhead.

Sizes are counted, not measured: the write path adds the change in size that a write
causes to one counter per partition key value, in the write's own transaction, after
checking the limit and before writing anything, so a refused write changes nothing. A
missing counter means the collection is empty, or its items were written before counters
were kept: the size is then measured once from the partition's items, so a counter is
right whichever came first. An emptied collection's counter is deleted.

Layout in COLLECTION_SPACE (stored on disk — do not change):

    table space (8 bytes, big-endian) || encoded partition key  ->  bytes (8, big-endian)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from dynastore.engine import keys, spaces
from dynastore.engine.values import AttrValue, Item
from dynastore.errors import ItemCollectionSizeLimitExceededException
from dynastore.storage.base import WriteTx

if TYPE_CHECKING:
    from dynastore.engine.catalog import TableDef

COLLECTION_SPACE = spaces.ITEM_COLLECTIONS
GIGABYTE = 1024**3
DEFAULT_LIMIT = 10 * GIGABYTE  # DynamoDB's limit per item collection
INDEX_ENTRY_OVERHEAD = 100  # bytes DynamoDB counts for each LSI entry besides its data
# The CancellationReason of a TransactWriteItems / ExecuteTransaction action it refuses.
CANCELLATION_CODE = "ItemCollectionSizeLimitExceeded"
CANCELLATION_MESSAGE = "Collection size exceeded."

Measure = Callable[[Item], int]  # the bytes an item adds to its collection


def kept(table: TableDef) -> bool:
    """Whether the table has item collections (one or more local secondary indexes)."""
    return any(index.kind == "LSI" for index in table.indexes)


def _prefix(space: int) -> bytes:
    return space.to_bytes(8, "big")


def change(
    tx: WriteTx,
    table: TableDef,
    pk: AttrValue,
    delta: int,
    limit: int | None,
    measure: Measure,
) -> int:
    """Add `delta` bytes to the collection of partition key `pk`; its new size.

    Raises ItemCollectionSizeLimitExceededException, writing nothing, when the change
    grows the collection past `limit` (None: no limit, for the server's own writes).
    """
    pk_enc = keys.encode_key_value(pk)
    counter = _prefix(table.space) + pk_enc
    raw = tx.get(COLLECTION_SPACE, counter)
    size = int.from_bytes(raw, "big") if raw is not None else _measure(tx, table, pk_enc, measure)
    if not delta:
        return size
    grown = max(size + delta, 0)
    if delta > 0 and limit is not None and grown > limit:
        raise ItemCollectionSizeLimitExceededException()
    if grown:
        tx.put(COLLECTION_SPACE, counter, grown.to_bytes(8, "big"))
    elif raw is not None:
        tx.delete(COLLECTION_SPACE, counter)
    return grown


def _measure(tx: WriteTx, table: TableDef, pk_enc: bytes, measure: Measure) -> int:
    """The size of a collection that has no counter, from its items."""
    start = keys.partition_prefix(pk_enc)
    rows = tx.range(table.space, start, keys.prefix_end(start))
    return sum(measure(orjson.loads(raw)) for _, raw in rows)


def drop(tx: WriteTx, space: int) -> None:
    """Forget the counters of the table whose items live in `space`."""
    tx.delete_range(COLLECTION_SPACE, _prefix(space), _prefix(space + 1))


def size_estimate(size: int) -> list[float]:
    """SizeEstimateRangeGB: whole gigabytes below and above the size."""
    lower = float(size // GIGABYTE)
    return [lower, lower + 1.0]


def metrics(table: TableDef, key: Item, size: int) -> dict[str, Any]:
    """One ItemCollectionMetrics entry: the collection's partition key and size estimate."""
    return {
        "ItemCollectionKey": {table.pk.name: key[table.pk.name]},
        "SizeEstimateRangeGB": size_estimate(size),
    }
