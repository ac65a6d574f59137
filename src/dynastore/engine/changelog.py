"""The change log: one record per item change, written in the item's own transaction.

It feeds DynamoDB Streams, point-in-time recovery and replication. A table keeps one
while any of those needs it (`TableDef.log_space` != 0). Records are keyed by a per-table
sequence number (8 bytes, big-endian, so byte order is commit order) and hold both
images in full; each consumer applies its own view (a stream's StreamViewType) when it
reads. A write that leaves the item as it was appends nothing.

Record layout (JSON, stored on disk — do not rename keys):
  e: event name (INSERT, MODIFY, REMOVE)   t: commit time, epoch milliseconds
  k: the item's key                        o: old image or null
  n: new image or null                     u: userIdentity or null (TTL deletes)
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from dynastore.engine.values import Item
from dynastore.storage.base import WriteTx

SEQUENCE_BYTES = 8
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def sequence_name(log_space: int) -> str:
    return f"log/{log_space}"


def encode_sequence(seq: int) -> bytes:
    return seq.to_bytes(SEQUENCE_BYTES, "big")


def decode_sequence(key: bytes) -> int:
    return int.from_bytes(key[:SEQUENCE_BYTES], "big")


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
    seq = tx.next_sequence(sequence_name(log_space))
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
