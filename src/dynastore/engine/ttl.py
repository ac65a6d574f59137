"""The expiry index of TTL: (expiry second, table key) entries kept by the write path.

An item is in the index while TTL is enabled on its table and its TTL attribute is a
Number; the sweeper reads the index from the oldest expiry and never scans the table.
Key: 8-byte big-endian expiry (epoch seconds, clamped to 0..2^63-1) || base-table key.
Stored on disk — do not change the layout.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from dynastore.engine.values import Item
from dynastore.storage.base import WriteTx

_MAX = (1 << 63) - 1


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
