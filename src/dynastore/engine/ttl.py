"""The expiry index of TTL: (expiry second, table key) entries kept by the write path.

An item is in the index while TTL is enabled on its table and its TTL attribute is a
Number; the sweeper reads the index from the oldest expiry and never scans the table.
Key: 8-byte big-endian expiry (epoch seconds, clamped to 0..2^63-1) || base-table key.
Stored on disk — do not change the layout.

Enabling TTL gives the table a fresh index space (a previous one, stale since TTL was
disabled, is retired and dropped in chunks by the TTL worker) and records a backfill
cursor in WORKER_SPACE: the worker indexes the items that existed before, a bounded
chunk per transaction, while the write path already keeps the index for every write.
Either order is safe: both read the item inside their own transaction and write the
entry of its current value, and putting an entry twice is a no-op.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import orjson

from dynastore.engine.spaces import WORKERS as WORKER_SPACE
from dynastore.engine.values import Item
from dynastore.storage.base import Backend, ReadTx, WriteTx

if TYPE_CHECKING:
    from dynastore.engine.catalog import TableDef

_MAX = (1 << 63) - 1
MAX_AGE = 5 * 365 * 24 * 3600  # DynamoDB ignores TTL values more than five years past
_BACKFILL = b"ttl-backfill/"
_RETIRED = b"ttl-retired/"
_RETIRED_END = _RETIRED + b"\xff" * 9


def expiry_of(item: Item | None, attribute: str) -> int | None:
    """The expiry second of an item, or None when it has no numeric TTL value."""
    if item is None:
        return None
    value = item.get(attribute)
    if value is None or "N" not in value:
        return None
    try:
        seconds = int(Decimal(value["N"]))
    except (InvalidOperation, ValueError, OverflowError):
        return None
    return min(max(seconds, 0), _MAX)


def entry_key(expiry: int, base_key: bytes) -> bytes:
    return expiry.to_bytes(8, "big") + base_key


def split_entry(key: bytes) -> tuple[int, bytes]:
    return int.from_bytes(key[:8], "big"), key[8:]


def update_index(
    tx: WriteTx, ttl_space: int, attribute: str, base_key: bytes, old: Item | None, new: Item | None
) -> None:
    """Move an item's expiry entry from its old to its new TTL value."""
    before = expiry_of(old, attribute)
    after = expiry_of(new, attribute)
    if before == after:
        return
    if before is not None:
        tx.delete(ttl_space, entry_key(before, base_key))
    if after is not None:
        tx.put(ttl_space, entry_key(after, base_key), b"")


def due_range(now: float, delay: float) -> tuple[bytes, bytes]:
    """Index keys of items due for deletion: expired `delay` seconds ago, at most 5 years."""
    oldest = max(int(now) - MAX_AGE, 0)
    newest = max(int(now - delay), -1)
    return entry_key(oldest, b""), entry_key(min(newest + 1, _MAX), b"")


# --- backfill ---------------------------------------------------------------------------


def _space_key(prefix: bytes, space: int) -> bytes:
    return prefix + space.to_bytes(8, "big")


def start_backfill(tx: WriteTx, ttl_space: int) -> None:
    """Ask the TTL worker to index the items already in the table (value: resume key)."""
    tx.put(WORKER_SPACE, _space_key(_BACKFILL, ttl_space), b"")


def backfill_pending(reader: ReadTx | Backend, ttl_space: int) -> bool:
    return reader.get(WORKER_SPACE, _space_key(_BACKFILL, ttl_space)) is not None


def backfill_chunk(tx: WriteTx, table: TableDef, limit: int) -> bool:
    """Index up to `limit` existing items; True if more remain."""
    attribute = table.ttl_attribute
    cursor_key = _space_key(_BACKFILL, table.ttl_space)
    cursor = tx.get(WORKER_SPACE, cursor_key)
    if cursor is None or attribute is None:
        return False
    rows = list(tx.range(table.space, cursor, None, limit=limit))
    for key, raw in rows:
        expiry = expiry_of(orjson.loads(raw), attribute)
        if expiry is not None:
            tx.put(table.ttl_space, entry_key(expiry, key), b"")
    if len(rows) < limit:
        tx.delete(WORKER_SPACE, cursor_key)
        return False
    tx.put(WORKER_SPACE, cursor_key, rows[-1][0] + b"\x00")
    return True


# --- retired index spaces ---------------------------------------------------------------


def retire(tx: WriteTx, ttl_space: int) -> None:
    """Schedule an index space that nothing maintains any more for deletion."""
    tx.delete(WORKER_SPACE, _space_key(_BACKFILL, ttl_space))
    tx.put(WORKER_SPACE, _space_key(_RETIRED, ttl_space), b"")


def retired_pending(tx: ReadTx) -> bool:
    return any(True for _ in tx.range(WORKER_SPACE, _RETIRED, _RETIRED_END, limit=1))


def drop_retired(tx: WriteTx, limit: int) -> bool:
    """Delete up to `limit` entries of retired spaces; True if more remain."""
    for key, _ in tx.range(WORKER_SPACE, _RETIRED, _RETIRED_END, limit=1):
        space = int.from_bytes(key[len(_RETIRED) :], "big")
        found = [k for k, _ in tx.range(space, b"", None, limit=limit)]
        if found:
            tx.delete_range(space, found[0], found[-1] + b"\x00")
        if len(found) < limit:
            tx.delete(WORKER_SPACE, key)
        return True
    return False
