"""Background copies with a consistent result: backups of large tables, and restores.

Design note
-----------
A job copies a *source* space into a *target* (a backup's space, or a new table with its
indexes) in bounded chunks, each its own write transaction, while the source may still
change; then it undoes, from the change log, every change made after the moment M the
result must reflect. Why that is exact: the copy of a key K holds K's state at some
point between M and the end of the copy (E, the log's last sequence number in the last
copy chunk). If K changed after M, its state at M is the old image ("o") of its first
change after M, whatever the copy saw; if it did not change, the copy saw its state at
M. The undo walks the log backwards from E writing each record's old image, so the last
image written for K is that of its first change after M. It needs no memory of the keys
it has seen, so it also runs in chunks (its position is the next sequence number to
undo), and a chunk that runs twice writes the same thing. Records after E are not
needed: every copy predates them.

M is a sequence number for a backup (the log's last number in CreateBackup's
transaction) and a time for a point-in-time restore: records committed after it are
undone, and the walk stops at the first record committed at or before it. A restore
from a backup copies a space nothing writes, and undoes nothing.

While a job runs, its source space and log are pinned (`changelog.pin`): DeleteTable
keeps them (retired, dropped when the job ends), the streams worker neither trims nor
drops the log, and disabling a stream or PITR leaves the table logging. A restore writes
the new table with the write path's index helpers (every GSI and LSI entry); the table
stays CREATING, with RestoreSummary, until the last chunk makes it ACTIVE; the item
collection sizes of a table with LSIs are counted as its items are copied.

Jobs are records in CATALOG_SPACE under b"job/" (JSON, stored on disk — do not rename
fields), driven by workers/backups.py; any process sharing the store can resume one.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from dynastore.engine import backups, changelog, indexes, item_collections, keys, writes
from dynastore.engine.catalog import CATALOG_SPACE, Catalog, TableDef
from dynastore.engine.values import Item
from dynastore.storage.base import Backend, ReadTx, WriteTx

CHUNK_ITEMS = 2000
CHUNK_SECONDS = 0.05
_JOB_PREFIX = b"job/"
COPY = "copy"
UNDO = "undo"


@dataclass(slots=True)
class Job:
    """One background copy (see the module docstring)."""

    id: str
    source: int  # the data space read: a table's, or a backup's
    target: int  # the data space written: a backup's, or the restored table's
    key_names: list[str]  # the source's key attributes: [hash] or [hash, range]
    backup: str | None = None  # backup jobs: the hex key of the backup being taken
    table: list[str] | None = None  # restores: [account, region, name] of the new table
    from_backup: str | None = None  # restores from a backup: its hex key (in use until done)
    source_table: list[str] | None = None  # the live table read, whose log is pinned
    log: int = 0  # the change log to undo from (0: nothing to undo)
    undo_seq: int | None = None  # undo the records numbered after this ...
    undo_ms: int | None = None  # ... or committed after this time (epoch ms)
    phase: str = COPY
    cursor: str | None = None  # hex of the last key copied
    position: int = 0  # undo: the next sequence number to undo
    items: int = 0  # backup jobs: items and bytes of the target so far
    size: int = 0
    pins: list[int] = field(default_factory=list)

    @property
    def key(self) -> bytes:
        return _JOB_PREFIX + self.id.encode()

    @property
    def holder(self) -> str:
        return "job/" + self.id

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: bytes) -> Job:
        return cls(**orjson.loads(raw))


def _save(tx: WriteTx, job: Job) -> None:
    tx.put(CATALOG_SPACE, job.key, job.to_json())


def pending(tx: ReadTx) -> list[Job]:
    """Every job still running, oldest first."""
    end = keys.prefix_end(_JOB_PREFIX)
    return [Job.from_json(raw) for _, raw in tx.range(CATALOG_SPACE, _JOB_PREFIX, end)]


def _new_id() -> str:
    return f"{int(time.time() * 1000):014d}-{os.urandom(4).hex()}"


def _start(tx: WriteTx, job: Job) -> Job:
    for space in job.pins:
        changelog.pin(tx, space, job.holder)
    _save(tx, job)
    return job


def _key_names(table: TableDef) -> list[str]:
    return list(table.key_names)


# --- starting jobs ---------------------------------------------------------------------


def start_backup(
    tx: WriteTx, catalog: Catalog, table: TableDef, backup: backups.Backup
) -> Job | None:
    """Take `backup` of `table` (its current definition: `Catalog.latest` in `tx`) in
    CreateBackup's transaction: copied at once when the table is small (the backup is then
    AVAILABLE and None is returned), else by a job."""
    backups.save(tx, backup)  # first: it names the space's data key (engine/crypto.py)
    copied = backups.copy_all(tx, table.space, backup.space, backups.INLINE_ITEMS)
    if copied is not None:
        backup.items, backup.size = copied
        backup.status = backups.AVAILABLE
        backups.save(tx, backup)
        return None
    if not table.log_space:
        # Writes from now on must be logged until the copy is made consistent.
        table.log_space = catalog.allocate_space(tx)
        catalog.save(tx, table)
    job = Job(
        id=_new_id(),
        source=table.space,
        target=backup.space,
        key_names=_key_names(table),
        backup=backup.key.hex(),
        source_table=[table.account, table.region, table.name],
        log=table.log_space,
        undo_seq=changelog.last_sequence(tx, table.log_space),
        pins=[table.space, table.log_space],
    )
    return _start(tx, job)


def start_restore(
    tx: WriteTx,
    target: TableDef,
    source_space: int,
    key_names: list[str],
    from_backup: backups.Backup | None = None,
    source_table: TableDef | None = None,
    undo_ms: int | None = None,
) -> Job:
    """Fill the new table `target` from a backup, or from a live table as it was at
    `undo_ms` (point-in-time recovery)."""
    job = Job(
        id=_new_id(),
        source=source_space,
        target=target.space,
        key_names=key_names,
        table=[target.account, target.region, target.name],
        pins=[source_space],
    )
    if from_backup is not None:
        job.from_backup = from_backup.key.hex()
        from_backup.restoring = target.name
        backups.save(tx, from_backup)
    if source_table is not None:
        job.source_table = [source_table.account, source_table.region, source_table.name]
        job.log = source_table.log_space
        job.undo_ms = undo_ms
        job.pins.append(source_table.log_space)
    return _start(tx, job)


# --- running them ------------------------------------------------------------------------


class _Target:
    """Where a job writes: a backup's space, or a table with its indexes."""

    def __init__(self, tx: WriteTx, job: Job, table: TableDef | None) -> None:
        self.tx = tx
        self.job = job
        self.table = table

    def insert(self, key: bytes, raw: bytes) -> None:
        """A copied item, into a target that does not hold it yet."""
        tx, table = self.tx, self.table
        if table is not None and table.indexes:
            self._index(table, key, raw)  # first: its item collection is measured without it
        tx.put(self.job.target, key, raw)
        if table is None:
            self.job.items += 1
            self.job.size += len(raw)

    def _index(self, table: TableDef, key: bytes, raw: bytes) -> None:
        """A copied item's index entries, and its item collection's size."""
        tx = self.tx
        item: Item = orjson.loads(raw)
        if item_collections.kept(table):
            writes.resize_collection(tx, table, item, None, item, None)
        for index in table.indexes:
            entry = indexes.backfill_key(index, item, key)
            if entry is not None:
                tx.put(index.space, entry, indexes.projected_entry(table, index, item, raw))

    def undo(self, key: Item, old: Item | None) -> None:
        """Set one item back to its image before a change (None: it did not exist)."""
        tx, table, job = self.tx, self.table, self.job
        if table is not None:
            writes.write_in(tx, table, key, lambda _: old)
            return
        names = job.key_names
        storage_key = keys.encode_item_key(key[names[0]], key[names[1]] if len(names) > 1 else None)
        current = tx.get(job.target, storage_key)
        if current is not None:
            job.items -= 1
            job.size -= len(current)
        if old is None:
            tx.delete(job.target, storage_key)
        else:
            raw = orjson.dumps(old)
            tx.put(job.target, storage_key, raw)
            job.items += 1
            job.size += len(raw)


def run_chunk(
    backend: Backend,
    catalog: Catalog,
    job_id: str,
    max_items: int = CHUNK_ITEMS,
    max_seconds: float = CHUNK_SECONDS,
) -> bool:
    """Advance one job by one bounded chunk in one write transaction; True when it is
    finished (or gone)."""
    touched: list[TableDef] = []  # definitions saved (cached) by a transaction that may fail
    try:
        with backend.write() as tx:
            raw = tx.get(CATALOG_SPACE, _JOB_PREFIX + job_id.encode())
            if raw is None:
                return True
            job = Job.from_json(raw)
            table: TableDef | None = None
            if job.table is not None:
                table = catalog.read(tx, *job.table)
                if table is None or table.space != job.target:
                    _release(tx, catalog, job, touched)  # the new table is gone
                    return True
                touched.append(table)
            target = _Target(tx, job, table)
            deadline = time.monotonic() + max_seconds
            done = _copy(tx, job, target, max_items, deadline)
            if done and job.phase == COPY:
                if not job.log:
                    return _finish(tx, catalog, job, table, touched)
                job.phase = UNDO
                job.position = changelog.last_sequence(tx, job.log)
            if done:
                done = _undo(tx, job, target, max_items, deadline)
            if done:
                return _finish(tx, catalog, job, table, touched)
            _save(tx, job)
            return False
    except Exception:
        for table in touched:
            catalog.forget(table)
        raise


def _copy(tx: WriteTx, job: Job, target: _Target, max_items: int, deadline: float) -> bool:
    """Copy the next chunk; True once the copy phase is over."""
    if job.phase != COPY:
        return True
    start = bytes.fromhex(job.cursor) + b"\x00" if job.cursor is not None else b""
    # One row more than the chunk: seeing it means the space goes on.
    for done, (key, raw) in enumerate(tx.range(job.source, start, None, limit=max_items + 1)):
        if done == max_items or (done and time.monotonic() >= deadline):
            return False
        target.insert(key, raw)
        job.cursor = key.hex()
    return True


def _undo(tx: WriteTx, job: Job, target: _Target, max_items: int, deadline: float) -> bool:
    """Undo the next chunk of changes, newest first; True once none is left."""
    low = job.undo_seq + 1 if job.undo_seq is not None else 0
    if job.position < low:
        return True
    start, end = changelog.encode_sequence(low), changelog.encode_sequence(job.position + 1)
    rows = tx.range(job.log, start, end, reverse=True, limit=max_items + 1)
    for done, (key, raw) in enumerate(rows):
        if done == max_items or (done and time.monotonic() >= deadline):
            return False
        record: dict[str, Any] = orjson.loads(raw)
        if job.undo_ms is not None and record["t"] <= job.undo_ms:
            return True
        target.undo(record["k"], record["o"])
        job.position = changelog.decode_sequence(key) - 1
    return True


def _finish(
    tx: WriteTx, catalog: Catalog, job: Job, table: TableDef | None, touched: list[TableDef]
) -> bool:
    if job.backup is not None:
        backup = backups.load(tx, bytes.fromhex(job.backup))
        if backup is not None:
            backup.status = backups.AVAILABLE
            backup.items, backup.size = job.items, job.size
            backups.save(tx, backup)
        else:
            backups.retire(tx, job.target, b"data")
    if table is not None:
        desc = table.description
        desc["TableStatus"] = "ACTIVE"
        desc.pop("RestoreSummary", None)
        for gsi in desc.get("GlobalSecondaryIndexes", []):
            gsi["IndexStatus"] = "ACTIVE"
        table.status_until = 0.0
        catalog.save(tx, table)
    _release(tx, catalog, job, touched)
    return True


def _release(tx: WriteTx, catalog: Catalog, job: Job, touched: list[TableDef]) -> None:
    """Unpin what the job read and forget it; a log the source table kept only for this
    job is retired."""
    for space in job.pins:
        changelog.unpin(tx, space, job.holder)
    if job.from_backup is not None:
        backup = backups.load(tx, bytes.fromhex(job.from_backup))
        if backup is not None and backup.restoring is not None:
            backup.restoring = None
            backups.save(tx, backup)
    if job.source_table is not None and job.log:
        source = catalog.read(tx, *job.source_table)
        if (
            source is not None
            and source.log_space == job.log
            and changelog.retention(source) == 0
            and not changelog.pinned(tx, job.log)
        ):
            source.log_space = 0
            touched.append(source)
            catalog.save(tx, source)
            backups.retire(tx, job.log, b"log")
    tx.delete(CATALOG_SPACE, job.key)
