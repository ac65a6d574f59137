"""On-demand and system backups: records, ARNs, their descriptions, retired spaces.

Design note
-----------
A backup is a record in the catalog space plus a storage space of its own holding the
table's items as they were when the backup was taken (keyed by their storage keys, so
a restore writes them back in order). Settings are kept as a `source_settings` snapshot:
key schema, billing, throughput, indexes (by definition: a restore rebuilds them from
the items), stream, TTL and SSE, as DynamoDB's SourceTableDetails and
SourceTableFeatureDetails show them.

Taking a backup copies the table, but never while holding writers back: a table of up to
`INLINE_ITEMS` items is copied inside CreateBackup's own transaction (a consistent
snapshot for free); a larger one is copied by a background job in bounded chunks while
writes continue, and made consistent as of CreateBackup's commit by undoing the change
log (engine/restore.py). The cost is one full copy of the table per backup, made in the
background, plus the change log of the writes made during the copy; after that a
backup costs nothing on the write path and does not depend on its table at all (it
outlives it, as in DynamoDB).

Deleting a table with point-in-time recovery enabled makes a SYSTEM backup,
``<table>$DeletedTableBackup``, that expires after 35 days and cannot be deleted, as
DynamoDB does: it adopts the table's own data space, so it costs no copy either.

Spaces nothing needs any more (a deleted backup's data, a change log PITR no longer
needs) are *retired*: recorded here and dropped in chunks by the backups worker, once no
running job reads them (`changelog.pinned`) and, for a log, once no stream descriptor
reads it (the streams worker drops those after their 24 hours).

Layout in CATALOG_SPACE (stored on disk — do not rename keys or fields):
  b"backup/" account "/" region "/" table "/" id -> JSON record (`Backup`)
  b"retired/" space (8 bytes) -> b"log" or b"data"
Backup ids are "<epoch ms, 14 digits>-<8 hex>", DynamoDB's form, so a table's backups
list in creation order.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from dynastore.engine import changelog, keys, streams
from dynastore.engine.catalog import CATALOG_SPACE, WORKER_SPACE, Catalog, TableDef
from dynastore.storage.base import ReadTx, WriteTx

INLINE_ITEMS = 1000  # tables up to this size are backed up inside CreateBackup's transaction
SYSTEM_BACKUP_DAYS = 35
SYSTEM_SUFFIX = "$DeletedTableBackup"
USER = "USER"
SYSTEM = "SYSTEM"
CREATING = "CREATING"
AVAILABLE = "AVAILABLE"

_BACKUP_PREFIX = b"backup/"
_RETIRED_PREFIX = b"retired/"
_ARN = re.compile(
    r"arn:aws[a-z-]*:dynamodb:([a-z0-9-]*):([0-9]{12}):table/([a-zA-Z0-9_.-]{3,255})"
    r"/backup/([0-9]{14}-[0-9a-f]{8})"
)


def backup_arn(region: str, account: str, table: str, backup_id: str) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{table}/backup/{backup_id}"


def parse_arn(arn: str) -> tuple[str, str, str, str] | None:
    """(account, region, table, backup id) of a backup ARN, or None when it is not one."""
    match = _ARN.fullmatch(arn)
    if match is None:
        return None
    region, account, table, backup_id = match.groups()
    return account, region, table, backup_id


def new_id(now: float) -> str:
    return f"{int(now * 1000):014d}-{os.urandom(4).hex()}"


def _prefix(account: str, region: str, table: str | None = None) -> bytes:
    head = f"{account}/{region}/" + ("" if table is None else f"{table}/")
    return _BACKUP_PREFIX + head.encode()


def record_key(account: str, region: str, table: str, backup_id: str) -> bytes:
    return _prefix(account, region, table) + backup_id.encode()


def iso(epoch: float) -> str:
    """DynamoDB's timestamps in messages: ISO 8601, seconds, UTC."""
    moment = datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class Backup:
    """One backup (see the module docstring)."""

    account: str
    region: str
    table: str
    id: str
    name: str
    created: float
    type: str
    status: str
    space: int
    table_arn: str
    table_id: str
    source: dict[str, Any]  # `source_settings` of the table when the backup was taken
    size: int = 0
    items: int = 0
    expiry: float | None = None
    restoring: str | None = None  # the table a restore from this backup is building
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> bytes:
        return record_key(self.account, self.region, self.table, self.id)

    @property
    def arn(self) -> str:
        return backup_arn(self.region, self.account, self.table, self.id)

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: bytes) -> Backup:
        return cls(**orjson.loads(raw))


def save(tx: WriteTx, backup: Backup) -> None:
    tx.put(CATALOG_SPACE, backup.key, backup.to_json())


def remove(tx: WriteTx, backup: Backup) -> None:
    tx.delete(CATALOG_SPACE, backup.key)


def load(tx: ReadTx, key: bytes) -> Backup | None:
    raw = tx.get(CATALOG_SPACE, key)
    return Backup.from_json(raw) if raw is not None else None


def find(tx: ReadTx, account: str, region: str, table: str, backup_id: str) -> Backup | None:
    return load(tx, record_key(account, region, table, backup_id))


def listing(
    tx: ReadTx, account: str, region: str, table: str | None = None, after: bytes | None = None
) -> Iterator[Backup]:
    """Backups of one namespace (or one table), in key order, past the key `after`."""
    prefix = _prefix(account, region, table)
    start = prefix if after is None or after < prefix else after + b"\x00"
    for _, raw in tx.range(CATALOG_SPACE, start, keys.prefix_end(prefix)):
        yield Backup.from_json(raw)


def all_backups(tx: ReadTx) -> Iterator[Backup]:
    """Every backup of every account and region (the worker's expiry check)."""
    for _, raw in tx.range(CATALOG_SPACE, _BACKUP_PREFIX, keys.prefix_end(_BACKUP_PREFIX)):
        yield Backup.from_json(raw)


# --- what a backup records of its table ---------------------------------------------------


def _throughput(raw: dict[str, Any] | None) -> dict[str, Any]:
    raw = raw or {}
    return {
        "ReadCapacityUnits": raw.get("ReadCapacityUnits", 0),
        "WriteCapacityUnits": raw.get("WriteCapacityUnits", 0),
    }


def billing_mode(desc: dict[str, Any]) -> str:
    return str(desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"))


def source_settings(table: TableDef) -> dict[str, Any]:
    """The settings a backup keeps and a restore starts from (DynamoDB's *Info shapes)."""
    desc = table.description
    out: dict[str, Any] = {
        "KeySchema": desc["KeySchema"],
        "AttributeDefinitions": desc["AttributeDefinitions"],
        "TableCreationDateTime": desc["CreationDateTime"],
        "BillingMode": billing_mode(desc),
        "ExplicitBillingMode": "BillingModeSummary" in desc,
        "ProvisionedThroughput": _throughput(desc.get("ProvisionedThroughput")),
    }
    if "OnDemandThroughput" in desc:
        out["OnDemandThroughput"] = desc["OnDemandThroughput"]
    gsis = []
    for entry in desc.get("GlobalSecondaryIndexes", []):
        if entry.get("IndexStatus") == "DELETING":
            continue
        gsi = {
            "IndexName": entry["IndexName"],
            "KeySchema": entry["KeySchema"],
            "Projection": entry["Projection"],
            "ProvisionedThroughput": _throughput(entry.get("ProvisionedThroughput")),
        }
        if "OnDemandThroughput" in entry:
            gsi["OnDemandThroughput"] = entry["OnDemandThroughput"]
        gsis.append(gsi)
    if gsis:
        out["GlobalSecondaryIndexes"] = gsis
    lsis = [
        {k: entry[k] for k in ("IndexName", "KeySchema", "Projection")}
        for entry in desc.get("LocalSecondaryIndexes", [])
    ]
    if lsis:
        out["LocalSecondaryIndexes"] = lsis
    if streams.stream_enabled(table):
        out["StreamDescription"] = dict(desc["StreamSpecification"])
    if table.ttl_attribute is not None:
        out["TimeToLiveDescription"] = {
            "TimeToLiveStatus": "ENABLED",
            "AttributeName": table.ttl_attribute,
        }
    if "SSEDescription" in desc:
        out["SSEDescription"] = desc["SSEDescription"]
    return out


_FEATURES = (
    "LocalSecondaryIndexes",
    "GlobalSecondaryIndexes",
    "StreamDescription",
    "TimeToLiveDescription",
    "SSEDescription",
)


def details(backup: Backup) -> dict[str, Any]:
    """BackupDetails."""
    out: dict[str, Any] = {
        "BackupArn": backup.arn,
        "BackupName": backup.name,
        "BackupSizeBytes": backup.size,
        "BackupStatus": backup.status,
        "BackupType": backup.type,
        "BackupCreationDateTime": backup.created,
    }
    if backup.expiry is not None:
        out["BackupExpiryDateTime"] = backup.expiry
    return out


def description(backup: Backup) -> dict[str, Any]:
    """BackupDescription: details, SourceTableDetails and SourceTableFeatureDetails."""
    source = backup.source
    table: dict[str, Any] = {
        "TableName": backup.table,
        "TableId": backup.table_id,
        "TableArn": backup.table_arn,
        "TableSizeBytes": backup.size,
        "KeySchema": source["KeySchema"],
        "TableCreationDateTime": source["TableCreationDateTime"],
        "ProvisionedThroughput": source["ProvisionedThroughput"],
        "ItemCount": backup.items,
        "BillingMode": source["BillingMode"],
    }
    if "OnDemandThroughput" in source:
        table["OnDemandThroughput"] = source["OnDemandThroughput"]
    # A SYSTEM backup shows no features, as DynamoDB's do (a restore still rebuilds them).
    features = {} if backup.type == SYSTEM else {k: source[k] for k in _FEATURES if k in source}
    return {
        "BackupDetails": details(backup),
        "SourceTableDetails": table,
        "SourceTableFeatureDetails": features,
    }


def summary(backup: Backup) -> dict[str, Any]:
    """BackupSummary (ListBackups)."""
    out = details(backup)
    out.update(TableName=backup.table, TableId=backup.table_id, TableArn=backup.table_arn)
    return out


def new_backup(
    table: TableDef, name: str, kind: str, space: int, now: float, status: str
) -> Backup:
    backup = Backup(
        account=table.account,
        region=table.region,
        table=table.name,
        id=new_id(now),
        name=name,
        created=round(now, 3),
        type=kind,
        status=status,
        space=space,
        table_arn=table.arn,
        table_id=str(table.description.get("TableId", "")),
        source=source_settings(table),
    )
    data_key = (table.features.get("sse") or {}).get("data_key")
    if data_key is not None:
        # engine/crypto.py keeps the copy encrypted with the table's data key.
        backup.extra["data_key"] = data_key
    if kind == SYSTEM:
        # DynamoDB's system backups end in -00000000.
        backup.id = backup.id.split("-")[0] + "-00000000"
        backup.expiry = round(now + SYSTEM_BACKUP_DAYS * changelog.DAY_SECONDS, 3)
    return backup


def copy_all(tx: WriteTx, source: int, target: int, limit: int) -> tuple[int, int] | None:
    """Copy a whole space of at most `limit` items in the caller's transaction; returns
    (items, bytes), or None (copying nothing) when it holds more."""
    rows = list(tx.range(source, b"", None, limit=limit + 1))
    if len(rows) > limit:
        return None
    size = 0
    for key, raw in rows:
        tx.put(target, key, raw)
        size += len(raw)  # bytes as DescribeTable's TableSizeBytes counts them
    return len(rows), size


# --- DeleteTable ---------------------------------------------------------------------------


def detach_on_delete(
    tx: WriteTx, catalog: Catalog, table: TableDef, now: float, counts: tuple[int, int]
) -> None:
    """DeleteTable's part, in its transaction: keep what backups and jobs still need.

    With point-in-time recovery on, the table's data becomes its SYSTEM backup; data a
    running job reads is retired (dropped once the job ends). Either way the definition
    being deleted is pointed at a fresh, empty space, so the deletion (now, or when
    DELETING ends) removes nothing that is kept. Its change log is retired unless a
    stream still reads it (the streams worker drops a stream's log after 24 hours).
    `counts` is the table's (ItemCount, TableSizeBytes).
    """
    keep = False
    if table.features.get(changelog.PITR_FEATURE):
        name = table.name + SYSTEM_SUFFIX
        backup = new_backup(table, name, SYSTEM, table.space, now, AVAILABLE)
        backup.items, backup.size = counts
        save(tx, backup)
        keep = True
    elif changelog.pinned(tx, table.space):
        retire(tx, table.space, b"data")
        keep = True
    if keep:
        table.space = catalog.allocate_space(tx)
    if table.log_space and not streams.stream_enabled(table):
        retire(tx, table.log_space, b"log")


# --- retired spaces -------------------------------------------------------------------------


def _retired_key(space: int) -> bytes:
    return _RETIRED_PREFIX + space.to_bytes(8, "big")


def retire(tx: WriteTx, space: int, kind: bytes) -> None:
    """Record a space nothing will read once its pins are gone (see the module docstring)."""
    tx.put(CATALOG_SPACE, _retired_key(space), kind)


def retired(tx: ReadTx) -> list[tuple[int, bytes]]:
    end = keys.prefix_end(_RETIRED_PREFIX)
    return [
        (int.from_bytes(key[len(_RETIRED_PREFIX) :], "big"), kind)
        for key, kind in tx.range(CATALOG_SPACE, _RETIRED_PREFIX, end)
    ]


def drop_retired(tx: WriteTx, space: int, kind: bytes, limit: int) -> bool:
    """Drop up to `limit` keys of a retired space; True once it is gone (or not ours)."""
    if changelog.pinned(tx, space):
        return False
    if kind == b"log" and any(s.log == space for s in streams.all_streams(tx)):
        tx.delete(CATALOG_SPACE, _retired_key(space))  # the streams worker drops it later
        return True
    found = [k for k, _ in tx.range(space, b"", None, limit=limit)]
    if found:
        tx.delete_range(space, found[0], found[-1] + b"\x00")
    if len(found) < limit:
        tx.delete(CATALOG_SPACE, _retired_key(space))
        if kind == b"log":
            tx.delete(WORKER_SPACE, changelog.trim_key(space))
        return True
    return False
