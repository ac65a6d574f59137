"""Secondary-index helpers and the backfill of a global secondary index added later.

Design note: backfilling
------------------------
A GSI created by UpdateTable joins the table definition at once (IndexStatus CREATING,
Backfilling true), so from that commit on the write path maintains it like any index,
in the same transaction as each item write. What is missing is the entries of items
written before: the backfill walks the table in storage-key order and writes them, a
bounded chunk of items per write transaction. Each chunk reads the items inside its own
transaction, so it sees every write committed before it; a write after it maintains
the index itself. Either way an entry reflects the item's latest committed state, and
entries are idempotent (a chunk that runs twice writes the same bytes).

Progress lives in its own storage space (`BACKFILL_SPACE`), one record per index: the
table it belongs to and the last table key done, updated in each chunk's transaction.
A crash loses at most the chunk in flight, and any process sharing the store can resume.
The chunk that finds the end of the table removes the record and marks the index ACTIVE
in the same transaction.

Chunks are driven off the request path by `workers.backfill.BackfillWorker`, on the
server's event loop between requests (the storage backend is used from that one thread):
writes wait for at most one chunk (`CHUNK_ITEMS` items or `CHUNK_SECONDS`), never for a
whole table. UpdateTable runs the first chunk itself, so a small table's index is ready
by the time the client first asks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from dynastore.engine import spaces
from dynastore.engine.catalog import Catalog, IndexDef, TableDef
from dynastore.engine.values import Item
from dynastore.engine.writes import index_key, project_for_index
from dynastore.storage.base import Backend, WriteTx

BACKFILL_SPACE = spaces.BACKFILL
CHUNK_ITEMS = 500
CHUNK_SECONDS = 0.02


@dataclass(frozen=True, slots=True)
class Backfill:
    """One pending backfill: the index (by its storage space) and its table."""

    account: str
    region: str
    table: str
    index: str
    space: int
    cursor: bytes | None  # the last table key done

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "account": self.account,
                "region": self.region,
                "table": self.table,
                "index": self.index,
                "space": self.space,
                "cursor": self.cursor.hex() if self.cursor is not None else None,
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> Backfill:
        raw: dict[str, Any] = orjson.loads(data)
        cursor = raw["cursor"]
        return cls(
            raw["account"],
            raw["region"],
            raw["table"],
            raw["index"],
            raw["space"],
            bytes.fromhex(cursor) if cursor is not None else None,
        )


def _record_key(space: int) -> bytes:
    return space.to_bytes(8, "big")


def gsi_description(table: TableDef, name: str) -> dict[str, Any] | None:
    """The GlobalSecondaryIndexDescription entry of an index, or None."""
    for entry in table.description.get("GlobalSecondaryIndexes", []):
        if entry.get("IndexName") == name:
            result: dict[str, Any] = entry
            return result
    return None


def is_backfilling(table: TableDef, name: str) -> bool:
    """Whether a GSI is still being built (queries and scans of it are refused)."""
    entry = gsi_description(table, name)
    return entry is not None and entry.get("IndexStatus") == "CREATING"


def projected_entry(table: TableDef, index: IndexDef, item: Item, raw: bytes) -> bytes:
    """The stored value of an item's index entry (the stored item itself for ALL)."""
    if index.projection == "ALL":
        return raw
    return orjson.dumps(project_for_index(table, index, item))


def backfill_key(index: IndexDef, item: Item, base_key: bytes) -> bytes | None:
    """An existing item's index entry key, or None when the index leaves it out.

    Items written before the index existed may hold its key attributes with another type
    or empty; DynamoDB's backfill skips them (writes from now on are refused instead).
    """
    for attr in (index.pk, index.sk):
        if attr is None:
            continue
        value = item.get(attr.name)
        if value is None or attr.type not in value or value[attr.type] == "":
            return None
    return index_key(index, item, base_key)


def start_backfill(tx: WriteTx, table: TableDef, index: IndexDef) -> Backfill:
    """Record a new index's backfill (inside the transaction that creates the index)."""
    job = Backfill(table.account, table.region, table.name, index.name, index.space, None)
    tx.put(BACKFILL_SPACE, _record_key(index.space), job.to_json())
    return job


def cancel_backfill(tx: WriteTx, index: IndexDef) -> None:
    """Forget an index's backfill (the index is being deleted)."""
    tx.delete(BACKFILL_SPACE, _record_key(index.space))


def pending_backfills(backend: Backend) -> list[Backfill]:
    """Every recorded backfill, oldest index first."""
    with backend.read() as tx:
        return [Backfill.from_json(v) for _, v in tx.range(BACKFILL_SPACE, b"", None)]


def run_chunk(
    backend: Backend,
    catalog: Catalog,
    job: Backfill,
    max_items: int = CHUNK_ITEMS,
    max_seconds: float = CHUNK_SECONDS,
) -> bool:
    """Index the next chunk of a backfill in one write transaction; True when it is done.

    Finishing marks the index ACTIVE. A record whose table or index is gone is dropped.
    """
    table: TableDef | None = None
    try:
        with backend.write() as tx:
            raw_job = tx.get(BACKFILL_SPACE, _record_key(job.space))
            if raw_job is None:
                return True
            # The stored definition: this process's cached one may predate the index (it
            # was added through another process sharing the store).
            table = catalog.read(tx, job.account, job.region, job.table)
            index = table.index(job.index) if table is not None else None
            if table is None or index is None or index.space != job.space:
                tx.delete(BACKFILL_SPACE, _record_key(job.space))
                return True
            cursor = Backfill.from_json(raw_job).cursor
            start = cursor + b"\x00" if cursor is not None else b""
            deadline = time.monotonic() + max_seconds
            finished = True
            # One row more than the chunk: seeing it means the table goes on.
            rows = tx.range(table.space, start, None, limit=max_items + 1)
            for done, (key, raw) in enumerate(rows):
                if done == max_items or time.monotonic() >= deadline:
                    finished = False
                    break
                item: Item = orjson.loads(raw)
                entry = backfill_key(index, item, key)
                if entry is not None:
                    tx.put(index.space, entry, projected_entry(table, index, item, raw))
                cursor = key
            if finished:
                tx.delete(BACKFILL_SPACE, _record_key(job.space))
                _activate(table, index.name)
                catalog.save(tx, table)
                return True
            progress = Backfill(job.account, job.region, job.table, job.index, job.space, cursor)
            tx.put(BACKFILL_SPACE, _record_key(job.space), progress.to_json())
            return False
    except Exception:
        if table is not None:
            catalog.forget(table)
        raise


def _activate(table: TableDef, name: str) -> None:
    entry = gsi_description(table, name)
    if entry is not None:
        entry["IndexStatus"] = "ACTIVE"
        entry.pop("Backfilling", None)
        warm = entry.get("WarmThroughput")
        if isinstance(warm, dict):
            warm["Status"] = "ACTIVE"
