"""The change log: one record per item change, written in the item's own transaction.

It feeds DynamoDB Streams, point-in-time recovery and replication. A table keeps one
while any of those needs it (`TableDef.log_space` != 0). Records are keyed by a per-table
sequence number (8 bytes, big-endian, so byte order is commit order) and hold both
images in full; each consumer applies its own view (a stream's StreamViewType) when it
reads. A write that leaves the item as it was appends nothing.

The next sequence number is the last record's plus one, read inside the writing
transaction (writers are serialised, so two appends never get one number). Trimming
removes records from the front only and remembers the highest number it removed (the
trim point, in WORKER_SPACE), so an emptied log continues after it: numbers are never
reused. Deriving the number from the log rather than keeping a counter row saves one
dirtied page per write, which measured about a third of the log's cost per commit.

Record layout (JSON, stored on disk — do not rename keys):
  e: event name (INSERT, MODIFY, REMOVE)   t: commit time, epoch milliseconds
  k: the item's key                        o: old image or null
  n: new image or null                     u: userIdentity or null (TTL deletes)
  r: origin region, only on a change a global table's replication applied (it is not
     shipped again; engine/replication.py)
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from dynastore.engine.catalog import CATALOG_SPACE, WORKER_SPACE, TableDef
from dynastore.engine.values import Item
from dynastore.storage.base import ReadTx, WriteTx

SEQUENCE_BYTES = 8
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
_TRIM_PREFIX = b"log-trim/"  # + 8-byte log space -> highest trimmed number (ASCII)


def encode_sequence(seq: int) -> bytes:
    return seq.to_bytes(SEQUENCE_BYTES, "big")


def decode_sequence(key: bytes) -> int:
    return int.from_bytes(key[:SEQUENCE_BYTES], "big")


def trim_key(log_space: int) -> bytes:
    return _TRIM_PREFIX + log_space.to_bytes(8, "big")


def trim_point(tx: ReadTx, log_space: int) -> int:
    """The highest trimmed sequence number of a log (0: nothing trimmed)."""
    raw = tx.get(WORKER_SPACE, trim_key(log_space))
    return int(raw) if raw else 0


def last_sequence(tx: ReadTx, log_space: int) -> int:
    """The highest sequence number the log has used (0: none)."""
    for key, _ in tx.range(log_space, b"", None, reverse=True, limit=1):
        return decode_sequence(key)
    return trim_point(tx, log_space)


def event_name(old: Item | None, new: Item | None) -> str:
    if old is None:
        return "INSERT"
    return "REMOVE" if new is None else "MODIFY"


def append(
    tx: WriteTx,
    log_space: int,
    key: Item,
    old: Item | None,
    new: Item | None,
    identity: dict[str, Any] | None = None,
) -> int | None:
    """Append the record of one change; returns its sequence number (None: no change)."""
    if old == new:
        return None
    seq = last_sequence(tx, log_space) + 1
    record = {
        "e": event_name(old, new),
        "t": int(time.time() * 1000),
        "k": key,
        "o": old,
        "n": new,
        "u": identity,
    }
    tx.put(log_space, encode_sequence(seq), orjson.dumps(record))
    return seq


# --- who needs the log, and for how long -------------------------------------------------

STREAM_SECONDS = 86400.0  # a stream's records stay readable 24 hours, as in DynamoDB
DAY_SECONDS = 86400.0
# TableDef.features key while point-in-time recovery is enabled:
# {"days": RecoveryPeriodInDays, "since": enable time, epoch seconds}
PITR_FEATURE = "pitr"
# TableDef.features key of a global table's replicas (engine/replication.py)
REPLICAS_FEATURE = "replicas"
_PIN_PREFIX = b"pin/"  # in CATALOG_SPACE: + 8-byte space + holder -> b"" (an in-flight reader)


def retention(table: TableDef, stream_seconds: float = STREAM_SECONDS) -> float:
    """Seconds of change log `table` must keep (0: it needs no log at all).

    The one rule for both the write path's `log_space` and the trimming worker: the
    longest need of the log's readers, an enabled stream (`stream_seconds`) and
    point-in-time recovery (its recovery period).
    """
    keep = 0.0
    if table.description.get("StreamSpecification", {}).get("StreamEnabled"):
        keep = stream_seconds
    pitr = table.features.get(PITR_FEATURE)
    if pitr:
        keep = max(keep, float(pitr["days"]) * DAY_SECONDS)
    if table.features.get(REPLICAS_FEATURE):
        keep = max(keep, stream_seconds)  # replication ships it within a stream's retention
    return keep


def _pin_key(space: int, holder: str) -> bytes:
    return _PIN_PREFIX + space.to_bytes(8, "big") + holder.encode()


def pin(tx: WriteTx, space: int, holder: str) -> None:
    """Mark `space` (a log or a table's data) as read by a running job: it is neither
    trimmed nor dropped until `unpin`. Restores and backup copies hold pins for minutes."""
    tx.put(CATALOG_SPACE, _pin_key(space, holder), b"")


def unpin(tx: WriteTx, space: int, holder: str) -> None:
    tx.delete(CATALOG_SPACE, _pin_key(space, holder))


def pinned(tx: ReadTx, space: int) -> bool:
    prefix = _PIN_PREFIX + space.to_bytes(8, "big")
    end = _PIN_PREFIX + (space + 1).to_bytes(8, "big")
    return any(True for _ in tx.range(CATALOG_SPACE, prefix, end, limit=1))


def pinned_spaces(tx: ReadTx) -> set[int]:
    """Every space some job is reading (the trimming worker leaves their logs alone)."""
    end = _PIN_PREFIX[:-1] + bytes([_PIN_PREFIX[-1] + 1])
    return {
        int.from_bytes(key[len(_PIN_PREFIX) : len(_PIN_PREFIX) + 8], "big")
        for key, _ in tx.range(CATALOG_SPACE, _PIN_PREFIX, end)
    }
