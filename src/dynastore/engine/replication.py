"""Global tables (version 2019.11.21): replica groups, the initial copy, and replication
from each replica's change log to the others, last writer wins.

Design note
-----------
A *group* is the set of replica tables of one global table: same account and name, one
per region, all on this store. Every member's definition carries the whole group in
``features["replicas"]`` (`REPLICAS_FEATURE`): ``{"members": {region: {"id": TableId,
"status": ...}}}``, and every change of the group rewrites all members in one
transaction. A member keeps a change log (a stream, NEW_AND_OLD_IMAGES unless one was
there already, which DynamoDB also enables and does not let you disable).

Replication ships each member's *local* changes: the replication worker reads a member's
log after its cursor and applies every record that did not itself come from replication
to each other member, in one write transaction per batch, through the ordinary write
path (`writes.write_in`: indexes, TTL index, the target's own change log and so stream).
The record that write appends to the target's log is marked ``"r": <origin region>``
so that it is never shipped back. Marking rewrites the record inside the same
transaction; nothing outside it can see the unmarked one.

Conflicts are resolved as DynamoDB does, last writer wins by timestamp. Each replica
keeps an item *version* (in REPLICATION_SPACE) for items replication has touched: the
winning write's time (``lww``, epoch ms, ties broken by region name), the log position
in that replica where that state was established, and a digest of the item. A remote
change is applied only if it is newer than the target's version. The target may also
hold a local change the worker has not shipped yet: it shows as an item whose digest
differs from its version's, and then the newest unshipped local record of that key
(read from the target's log after its cursor) is compared instead; a remote change that
loses is dropped, and the local one wins everywhere when it is shipped. A local record
that a later replicated write has already superseded in its own replica (its version's
log position is past it) is not shipped at all. The clock is the server's (one clock
for every replica on one store), and a local write that follows a replicated one in the
same replica always gets a later ``lww`` (at least the previous version's plus 1 ms).

A new replica is filled by a *copy job*: the source's items, in key order, a bounded
chunk per transaction (the first chunk inside UpdateTable's own request), each copied
only if the replica has no newer version of it; replicated writes flow to the new
replica from the start, so the copy and replication commute. The replica is CREATING
until its copy ends.

Layout of REPLICATION_SPACE (stored on disk — do not reorder or change):
  b"c" + log space (8 bytes)                  -> last shipped sequence number (ASCII)
  b"v" + table space (8 bytes) + storage key  -> version: lww (8) | log seq (8) |
                                                 digest (8) | origin region (ASCII)
  b"j" + replica's table space (8 bytes)      -> copy job (JSON: source, target, after)
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from dynastore.engine import changelog, spaces, streams
from dynastore.engine.catalog import Catalog, TableDef
from dynastore.engine.values import Item
from dynastore.engine.writes import storage_key, write_in
from dynastore.storage.base import ReadTx, WriteTx

VERSION = "2019.11.21"
REPLICAS_FEATURE = changelog.REPLICAS_FEATURE
REPLICATION_SPACE = spaces.REPLICATION
DEFAULT_VIEW = "NEW_AND_OLD_IMAGES"
SHIP_BATCH = 500  # log records shipped per transaction
COPY_BATCH = 500  # items copied per transaction
_VERSION = struct.Struct(">QQ8s")
_NULL_DIGEST = hashlib.blake2b(b"null", digest_size=8).digest()


# --- groups ---------------------------------------------------------------------------------


def members(table: TableDef) -> dict[str, dict[str, Any]]:
    """region -> {"id", "status"} of the table's group ({} when it is not global)."""
    group = table.features.get(REPLICAS_FEATURE) or {}
    found: dict[str, dict[str, Any]] = group.get("members") or {}
    return found


def is_global(table: TableDef) -> bool:
    return len(members(table)) > 1


def replica_descriptions(table: TableDef) -> list[dict[str, Any]]:
    """DescribeTable's Replicas: the group's other regions, as DynamoDB lists them."""
    out = []
    for region, member in members(table).items():
        if region == table.region:
            continue
        entry: dict[str, Any] = {"RegionName": region, "ReplicaStatus": member["status"]}
        if member.get("kms"):
            entry["KMSMasterKeyId"] = member["kms"]
        out.append(entry)
    return out


def _load_members(
    tx: ReadTx, catalog: Catalog, table: TableDef, group: dict[str, dict[str, Any]]
) -> list[TableDef]:
    """The stored definitions of a group's members that still exist (the given table's
    own entry is `table` itself)."""
    found = []
    for region, member in group.items():
        if region == table.region:
            found.append(table)
            continue
        other = catalog.read(tx, table.account, region, table.name)
        if other is not None and other.description.get("TableId") == member["id"]:
            found.append(other)
    return found


def _save_group(
    tx: WriteTx, catalog: Catalog, tables: list[TableDef], group: dict[str, dict[str, Any]]
) -> None:
    """Give every member (in `tables`) the group; a group of one dissolves."""
    for member in tables:
        if len(group) > 1:
            member.features[REPLICAS_FEATURE] = {"members": copy.deepcopy(group)}
        else:
            member.features.pop(REPLICAS_FEATURE, None)
        catalog.save(tx, member)


def stream_view(table: TableDef) -> str:
    """The stream a replica gets: the table's own, else NEW_AND_OLD_IMAGES."""
    spec = table.description.get("StreamSpecification") or {}
    if not spec.get("StreamEnabled"):
        return DEFAULT_VIEW
    return str(spec.get("StreamViewType") or DEFAULT_VIEW)


def prepare_source(tx: WriteTx, catalog: Catalog, table: TableDef, now: float) -> None:
    """Before a table's first replica: a stream (and so a change log) and a cursor."""
    if not streams.stream_enabled(table):
        streams.enable(tx, catalog, table, DEFAULT_VIEW, now)
    _init_cursor(tx, table)


def join(
    tx: WriteTx,
    catalog: Catalog,
    source: TableDef,
    replica: TableDef,
    kms: str | None = None,
) -> None:
    """Inside the replica's creating transaction: add it to `source`'s group (every member
    rewritten), make it CREATING, and start its copy job."""
    group = copy.deepcopy(members(source)) or {
        source.region: {"id": source.description["TableId"], "status": "ACTIVE"}
    }
    current = _load_members(tx, catalog, source, group)
    group[replica.region] = {"id": replica.description["TableId"], "status": "CREATING"}
    if kms:
        group[replica.region]["kms"] = kms
    replica.description["TableStatus"] = "CREATING"
    replica.status_until = 0.0
    for gsi in replica.description.get("GlobalSecondaryIndexes", []):
        gsi["IndexStatus"] = "CREATING"
    _init_cursor(tx, replica)
    _save_group(tx, catalog, [*current, replica], group)
    job = {
        "source": [source.account, source.region, source.name, source.description["TableId"]],
        "target": [replica.account, replica.region, replica.name, replica.description["TableId"]],
        "after": None,
    }
    tx.put(REPLICATION_SPACE, _job_key(replica.space), orjson.dumps(job))


def leave(tx: WriteTx, catalog: Catalog, table: TableDef, region: str) -> TableDef | None:
    """Remove `region` from `table`'s group (every remaining member rewritten); returns
    the leaving member's stored definition, if it still exists."""
    group = copy.deepcopy(members(table))
    if region not in group:
        return None
    current = _load_members(tx, catalog, table, group)
    leaving = next((t for t in current if t.region == region), None)
    del group[region]
    remaining = [t for t in current if t.region != region]
    _save_group(tx, catalog, remaining, group)
    if leaving is not None:
        forget(tx, leaving)  # its copy job too: a replica still CREATING is left as it is
        leaving.features.pop(REPLICAS_FEATURE, None)
        if leaving.status == "CREATING":
            leaving.description["TableStatus"] = "ACTIVE"
            for gsi in leaving.description.get("GlobalSecondaryIndexes", []):
                gsi["IndexStatus"] = "ACTIVE"
        catalog.save(tx, leaving)
    if len(group) <= 1:
        for member in remaining:
            forget(tx, member)
    return leaving


def forget(tx: WriteTx, table: TableDef) -> None:
    """Drop a table's replication bookkeeping (it left its group)."""
    if table.log_space:
        tx.delete(REPLICATION_SPACE, _cursor_key(table.log_space))
    start = b"v" + table.space.to_bytes(8, "big")
    tx.delete_range(REPLICATION_SPACE, start, b"v" + (table.space + 1).to_bytes(8, "big"))
    tx.delete(REPLICATION_SPACE, _job_key(table.space))


def set_status(tx: WriteTx, catalog: Catalog, table: TableDef, region: str, status: str) -> None:
    """Change one member's ReplicaStatus in every member's definition."""
    group = copy.deepcopy(members(table))
    if region not in group:
        return
    group[region]["status"] = status
    _save_group(tx, catalog, _load_members(tx, catalog, table, group), group)


# --- versions and cursors --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Version:
    """The replicated state of one item in one replica (see the design note)."""

    lww: int
    seq: int
    digest: bytes
    origin: str

    def beats(self, lww: int, origin: str) -> bool:
        return (self.lww, self.origin) >= (lww, origin)


def digest(item: Item | None) -> bytes:
    if item is None:
        return _NULL_DIGEST
    return hashlib.blake2b(orjson.dumps(item, option=orjson.OPT_SORT_KEYS), digest_size=8).digest()


def _version_key(space: int, base_key: bytes) -> bytes:
    return b"v" + space.to_bytes(8, "big") + base_key


def _cursor_key(log_space: int) -> bytes:
    return b"c" + log_space.to_bytes(8, "big")


def _job_key(space: int) -> bytes:
    return b"j" + space.to_bytes(8, "big")


def get_version(tx: ReadTx, space: int, base_key: bytes) -> Version | None:
    raw = tx.get(REPLICATION_SPACE, _version_key(space, base_key))
    if raw is None:
        return None
    lww, seq, dig = _VERSION.unpack_from(raw)
    return Version(lww, seq, dig, raw[_VERSION.size :].decode())


def _put_version(tx: WriteTx, space: int, base_key: bytes, version: Version) -> None:
    tx.put(
        REPLICATION_SPACE,
        _version_key(space, base_key),
        _VERSION.pack(version.lww, version.seq, version.digest) + version.origin.encode(),
    )


def cursor(tx: ReadTx, log_space: int) -> int:
    raw = tx.get(REPLICATION_SPACE, _cursor_key(log_space))
    return int(raw) if raw else 0


def _init_cursor(tx: WriteTx, table: TableDef) -> None:
    """Ship nothing logged before now: the copy job covers the table as it is."""
    if table.log_space and tx.get(REPLICATION_SPACE, _cursor_key(table.log_space)) is None:
        last = changelog.last_sequence(tx, table.log_space)
        tx.put(REPLICATION_SPACE, _cursor_key(table.log_space), str(last).encode())


def any_groups(tx: ReadTx) -> bool:
    """Whether any table is (or is becoming) a replica: members have cursors."""
    return any(True for _ in tx.range(REPLICATION_SPACE, b"c", b"d", limit=1)) or any(
        True for _ in tx.range(REPLICATION_SPACE, b"j", b"k", limit=1)
    )


def pending(tx: ReadTx, table: TableDef) -> bool:
    """Whether the table's log holds changes not shipped yet."""
    return bool(table.log_space) and changelog.last_sequence(tx, table.log_space) > cursor(
        tx, table.log_space
    )


# --- shipping --------------------------------------------------------------------------------


def _key_of(table: TableDef, item: Item) -> Item:
    return {name: item[name] for name in table.key_names}


def _mark(tx: WriteTx, log_space: int, seq: int, origin: str) -> None:
    key = changelog.encode_sequence(seq)
    raw = tx.get(log_space, key)
    if raw is not None:
        record = orjson.loads(raw)
        record["r"] = origin
        tx.put(log_space, key, orjson.dumps(record))


def _unshipped_time(tx: ReadTx, table: TableDef, key: Item) -> int | None:
    """Commit time of the newest local change of `key` the table has not shipped yet."""
    newest = None
    start = changelog.encode_sequence(cursor(tx, table.log_space) + 1)
    for _, raw in tx.range(table.log_space, start, None):
        record = orjson.loads(raw)
        if not record.get("r") and record["k"] == key:
            newest = int(record["t"])
    return newest


def apply(
    tx: WriteTx, target: TableDef, key: Item, new: Item | None, lww: int, origin: str
) -> bool:
    """Apply one remote change to `target` unless it holds a newer one; True if applied."""
    base_key = storage_key(target, key)
    version = get_version(tx, target.space, base_key)
    if version is not None and version.beats(lww, origin):
        return False
    raw = tx.get(target.space, base_key)
    current: Item | None = orjson.loads(raw) if raw is not None else None
    expected = version.digest if version is not None else _NULL_DIGEST
    if digest(current) != expected:
        # A local change the worker has not shipped yet: last writer wins against it.
        local = _unshipped_time(tx, target, key)
        if local is not None:
            floor = version.lww + 1 if version is not None else 0
            if (max(local, floor), target.region) > (lww, origin):
                return False
    result = write_in(tx, target, key, lambda _old: new)
    seq = changelog.last_sequence(tx, target.log_space) if target.log_space else 0
    if target.log_space and result.old != result.new:
        _mark(tx, target.log_space, seq, origin)
    _put_version(tx, target.space, base_key, Version(lww, seq, digest(new), origin))
    return True


def ship(tx: WriteTx, source: TableDef, targets: list[TableDef], limit: int = SHIP_BATCH) -> bool:
    """Ship one batch of `source`'s unshipped local changes to `targets`; True if more
    remain. Records already trimmed from the log are lost to replication (its retention
    is the stream's 24 hours); the cursor then moves past them."""
    log = source.log_space
    if not log:
        return False
    position = max(cursor(tx, log), changelog.trim_point(tx, log))
    last = position
    rows = list(tx.range(log, changelog.encode_sequence(position + 1), None, limit=limit))
    for raw_key, raw in rows:
        seq = changelog.decode_sequence(raw_key)
        last = seq
        record = orjson.loads(raw)
        if record.get("r"):
            continue  # came from another replica
        key: Item = record["k"]
        base_key = storage_key(source, key)
        version = get_version(tx, source.space, base_key)
        if version is not None and version.seq > seq:
            continue  # a later replicated write already replaced it here
        lww = int(record["t"])
        if version is not None and version.lww >= lww:
            lww = version.lww + 1
        new: Item | None = record["n"]
        _put_version(tx, source.space, base_key, Version(lww, seq, digest(new), source.region))
        for target in targets:
            apply(tx, target, key, new, lww, source.region)
    if last != cursor(tx, log):
        tx.put(REPLICATION_SPACE, _cursor_key(log), str(last).encode())
    return len(rows) == limit


def _constant(item: Item) -> Callable[[Item | None], Item | None]:
    return lambda _old: item


# --- copy jobs -------------------------------------------------------------------------------


@dataclass(slots=True)
class CopyJob:
    """The initial copy of a new replica (see the design note)."""

    source: list[str]  # account, region, name, TableId
    target: list[str]
    after: str | None  # hex of the last source storage key copied

    @classmethod
    def from_json(cls, raw: bytes) -> CopyJob:
        return cls(**orjson.loads(raw))


def copy_jobs(tx: ReadTx) -> Iterator[tuple[int, CopyJob]]:
    """(replica's table space, job) of every pending copy."""
    for key, raw in tx.range(REPLICATION_SPACE, b"j", b"k"):
        yield int.from_bytes(key[1:9], "big"), CopyJob.from_json(raw)


def _resolve(tx: ReadTx, catalog: Catalog, ref: list[str]) -> TableDef | None:
    account, region, name, table_id = ref
    table = catalog.read(tx, account, region, name)
    return table if table is not None and table.description.get("TableId") == table_id else None


def copy_chunk(tx: WriteTx, catalog: Catalog, space: int, limit: int = COPY_BATCH) -> bool:
    """Copy one chunk of a replica's copy job; True when the job is finished (or void)."""
    raw = tx.get(REPLICATION_SPACE, _job_key(space))
    if raw is None:
        return True
    job = CopyJob.from_json(raw)
    source = _resolve(tx, catalog, job.source)
    target = _resolve(tx, catalog, job.target)
    if source is None or target is None:
        tx.delete(REPLICATION_SPACE, _job_key(space))
        return True
    start = bytes.fromhex(job.after) + b"\x00" if job.after else b""
    rows = list(tx.range(source.space, start, None, limit=limit))
    silent = dataclasses.replace(target, log_space=0)  # the copy is not a change to stream
    for base_key, value in rows:
        item: Item = orjson.loads(value)
        known = get_version(tx, source.space, base_key)
        lww, origin = (known.lww, known.origin) if known is not None else (0, source.region)
        version = get_version(tx, target.space, base_key)
        if version is not None and version.beats(lww, origin):
            continue
        write_in(tx, silent, _key_of(source, item), _constant(item))
        seq = changelog.last_sequence(tx, target.log_space) if target.log_space else 0
        _put_version(tx, target.space, base_key, Version(lww, seq, digest(item), origin))
    if len(rows) == limit:
        job.after = rows[-1][0].hex()
        tx.put(REPLICATION_SPACE, _job_key(space), orjson.dumps(dataclasses.asdict(job)))
        return False
    tx.delete(REPLICATION_SPACE, _job_key(space))
    target.description["TableStatus"] = "ACTIVE"
    for gsi in target.description.get("GlobalSecondaryIndexes", []):
        gsi["IndexStatus"] = "ACTIVE"
    catalog.save(tx, target)
    set_status(tx, catalog, target, target.region, "ACTIVE")
    return True
