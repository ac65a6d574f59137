"""CreateBackup, DescribeBackup, ListBackups, DeleteBackup and RestoreTableFromBackup,
and what every restore shares: the target checks and the new table's definition.

Backups and restores are engine/backups.py and engine/restore.py; this module checks
requests, answers in DynamoDB's shapes and kicks the backups worker. A restored table
is created through CreateTable's own path (ops/create_table.py) from the source's
settings and the request's overrides, then filled in the background while CREATING.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dynastore.engine import backups, restore
from dynastore.engine.backups import Backup
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.errors import (
    AccessDeniedException,
    BackupInUseException,
    BackupNotFoundException,
    TableAlreadyExistsException,
    TableInUseException,
    TableNotFoundException,
    ValidationException,
)
from dynastore.ops import create_table
from dynastore.ops.context import Request, Result, table_ref
from dynastore.ops.describe import table_description
from dynastore.server.protocol import RequestContext
from dynastore.storage.base import WriteTx
from dynastore.workers.backups import kick

INVALID_REQUEST = "Invalid Request: "
DEFAULT_LIST_LIMIT = 100
_KEYS = ("ReadCapacityUnits", "WriteCapacityUnits")
_MAXIMA = ("MaxReadRequestUnits", "MaxWriteRequestUnits")


def _invalid(text: str) -> ValidationException:
    return ValidationException(INVALID_REQUEST + text)


def source_table(
    engine: Engine, ctx: RequestContext, name_or_arn: str, *, to_read: bool = False
) -> TableDef:
    """The table a backup or PITR operation names; a CREATING one does not exist yet.

    `to_read`: the operation reads its items. A DELETING table's data is already detached
    (or about to go), so it is "not found" for those (DynamoDB admits them for ~1 s).
    """
    account, region, name = table_ref(ctx, name_or_arn)
    return _usable(engine.catalog.get(account, region, name), name, to_read)


def latest_source(engine: Engine, tx: WriteTx, table: TableDef, *, to_read: bool) -> TableDef:
    """`source_table`'s table as stored now, to change inside `tx` (Catalog.latest)."""
    return _usable(engine.catalog.latest(tx, table), table.name, to_read)


def _usable(table: TableDef | None, name: str, to_read: bool) -> TableDef:
    if table is None or table.status == "CREATING" or (to_read and table.status == "DELETING"):
        raise TableNotFoundException(f"Table not found: {name}")
    return table


def _backup(engine: Engine, ctx: RequestContext, arn: str) -> Backup:
    """The backup an ARN names (its region is not compared, as DynamoDB does not)."""
    parts = backups.parse_arn(arn)
    if parts is None:
        raise ValidationException("Invalid Backup ARN")
    account, _, table, backup_id = parts
    if account != ctx.account:
        raise AccessDeniedException("Access is denied")
    with engine.backend.read() as tx:
        found = backups.find(tx, ctx.account, ctx.region, table, backup_id)
    if found is None or (found.expiry is not None and found.expiry <= engine.clock()):
        raise BackupNotFoundException(f"Backup not found: {arn}")
    return found


# --- CreateBackup, DescribeBackup, ListBackups, DeleteBackup ------------------------------


def create_backup(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    table = source_table(engine, ctx, req["TableName"], to_read=True)
    now = engine.clock()
    try:
        with engine.backend.write() as tx:
            table = latest_source(engine, tx, table, to_read=True)
            space = engine.catalog.allocate_space(tx)
            backup = backups.new_backup(
                table, req["BackupName"], backups.USER, space, now, backups.CREATING
            )
            job = restore.start_backup(tx, engine.catalog, table, backup)
    except Exception:
        engine.catalog.forget(table)
        raise
    if job is not None:
        kick(engine)
        backup.size = engine.backend.stats(table.space)[1]
    details = backups.details(backup)
    details["BackupStatus"] = backups.CREATING  # DynamoDB's answer, however quick the copy
    return {"BackupDetails": details}


def describe_backup(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    return {"BackupDescription": backups.description(_backup(engine, ctx, req["BackupArn"]))}


def list_backups(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    table: str | None = None
    account, region = ctx.account, ctx.region
    if req.get("TableName"):
        account, region, table = table_ref(ctx, req["TableName"])
    lower, upper = req.get("TimeRangeLowerBound"), req.get("TimeRangeUpperBound")
    if lower is not None and upper is not None and lower > upper:
        raise ValidationException(
            "One or more parameter values were invalid: Time range lower bound must be less "
            "than or equal to upper bound"
        )
    kind = req.get("BackupType") or backups.USER
    limit = req.get("Limit") or DEFAULT_LIST_LIMIT
    after: bytes | None = None
    start = req.get("ExclusiveStartBackupArn")
    if start is not None:
        parts = backups.parse_arn(start)
        if parts is None:
            raise ValidationException("Invalid Backup ARN")
        if parts[1] != region:
            raise _invalid("The supplied ExclusiveStartBackupArn does not match the region")
        after = backups.record_key(account, region, parts[2], parts[3])
    now = engine.clock()
    found: list[Backup] = []
    more = False
    with engine.backend.read() as tx:
        for backup in backups.listing(tx, account, region, table, after):
            if kind != "ALL" and backup.type != kind:
                continue
            if lower is not None and backup.created < lower:
                continue
            if upper is not None and backup.created >= upper:
                continue
            if backup.expiry is not None and backup.expiry <= now:
                continue
            if len(found) == limit:
                more = True
                break
            found.append(backup)
    out: dict[str, Any] = {"BackupSummaries": [backups.summary(b) for b in found]}
    if more:
        out["LastEvaluatedBackupArn"] = found[-1].arn
    return out


def delete_backup(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    arn = req["BackupArn"]
    backup = _backup(engine, ctx, arn)
    if backup.type == backups.SYSTEM:
        raise _invalid(
            f"User is not allowed to delete the system backup with arn {arn}. It will "
            f"automatically expire on {backups.iso(backup.expiry or 0.0)}"
        )
    with engine.backend.write() as tx:
        current = backups.load(tx, backup.key)
        if current is None:
            raise BackupNotFoundException(f"Backup not found: {arn}")
        if current.restoring is not None:
            raise BackupInUseException(f"Backup is being used to restore table: {arn}")
        if current.status == backups.CREATING:
            raise BackupInUseException(f"Backup is being created: {arn}")
        backups.remove(tx, current)
        backups.retire(tx, current.space, b"data")
    kick(engine)
    answer = backups.description(current)
    answer["BackupDetails"]["BackupStatus"] = "DELETED"
    return {"BackupDescription": answer}


# --- restores -------------------------------------------------------------------------------


def check_target(engine: Engine, ctx: RequestContext, name: str) -> None:
    """A restore's new table name must be free (a restore in progress is 'in use')."""
    existing = engine.catalog.get(ctx.account, ctx.region, name)
    if existing is None:
        return
    summary = existing.description.get("RestoreSummary") or {}
    if summary.get("RestoreInProgress"):
        source = summary.get("SourceBackupArn") or summary.get("SourceTableArn")
        raise TableInUseException(f"Table: {name} is already being restored from backup: {source}")
    raise TableAlreadyExistsException(f"Table already exists: {name}")


def _same_index(wanted: dict[str, Any], existing: dict[str, Any]) -> bool:
    """Whether an index override restores `existing` (it may rename it)."""
    if wanted["KeySchema"] != existing["KeySchema"]:
        return False
    mine, theirs = wanted.get("Projection") or {}, existing.get("Projection") or {}
    return bool(
        mine.get("ProjectionType") == theirs.get("ProjectionType")
        and set(mine.get("NonKeyAttributes") or ()) == set(theirs.get("NonKeyAttributes") or ())
    )


def _indexes(req: Request, source: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The indexes to restore: the source's, or the override's (each must match one)."""
    existing: list[dict[str, Any]] = source.get(f"{kind}SecondaryIndexes") or []
    override: list[dict[str, Any]] | None = req.get(f"{kind}SecondaryIndexOverride")
    if override is None:
        return [dict(i) for i in existing]
    for wanted in override:
        if not any(_same_index(wanted, i) for i in existing):
            raise _invalid(
                f"Index {wanted['IndexName']} does not match a secondary index that existed in "
                "the source table and cannot be created during the restore operation"
            )
    return [dict(i) for i in override]


def _check_on_demand(maxima: dict[str, Any]) -> None:
    for unit in _MAXIMA:
        value = maxima.get(unit)
        if value is not None and value != -1 and value < 1:
            raise _invalid(f"Requested {unit} for OnDemandThroughput is outside of valid range")


def restore_request(name: str, source: dict[str, Any], req: Request) -> Request:
    """The CreateTable request of a restore's new table: the source's settings (as a
    backup recorded them, or as the source table has them now) and the overrides."""
    mode_override = req.get("BillingModeOverride")
    mode = mode_override or source["BillingMode"]
    throughput = req.get("ProvisionedThroughputOverride")
    on_demand = req.get("OnDemandThroughputOverride")
    if throughput is not None:
        if mode_override == "PAY_PER_REQUEST":
            raise _invalid(
                "Cannot override ProvisionedThroughput if BillingMode is overridden to "
                "PAY_PER_REQUEST"
            )
        if mode != "PROVISIONED":
            raise _invalid(
                "Cannot override ProvisionedThroughput unless BillingMode is PROVISIONED"
            )
    elif mode_override == "PROVISIONED" and source["BillingMode"] != "PROVISIONED":
        raise _invalid(
            "Must override ProvisionedThroughput if BillingMode is overridden to PROVISIONED"
        )
    if on_demand is not None:
        if mode != "PAY_PER_REQUEST":
            unit = next((u for u in _MAXIMA if u in on_demand), _MAXIMA[0])
            raise _invalid(
                f"Cannot override {unit} for OnDemandThroughput unless BillingModeOverride is "
                "PAY_PER_REQUEST"
            )
        _check_on_demand(on_demand)
    gsis = _indexes(req, source, "Global")
    lsis = _indexes(req, source, "Local")
    out: Request = {"TableName": name, "KeySchema": source["KeySchema"]}
    if source.get("ExplicitBillingMode") or mode_override:
        out["BillingMode"] = mode
    if mode == "PROVISIONED":
        given = throughput or source["ProvisionedThroughput"]
        out["ProvisionedThroughput"] = {k: given[k] for k in _KEYS}
    elif on_demand is not None or "OnDemandThroughput" in source:
        out["OnDemandThroughput"] = (
            on_demand if on_demand is not None else source["OnDemandThroughput"]
        )
    overridden = req.get("GlobalSecondaryIndexOverride") is not None
    for gsi in gsis:
        _gsi_throughput(gsi, source, mode, overridden)
    if gsis or "GlobalSecondaryIndexOverride" in req:
        out["GlobalSecondaryIndexes"] = gsis
    if lsis or "LocalSecondaryIndexOverride" in req:
        out["LocalSecondaryIndexes"] = lsis
    used = {k["AttributeName"] for k in source["KeySchema"]}
    for index in gsis + lsis:
        used |= {k["AttributeName"] for k in index["KeySchema"]}
    out["AttributeDefinitions"] = [
        d for d in source["AttributeDefinitions"] if d["AttributeName"] in used
    ]
    sse = req.get("SSESpecificationOverride")
    if sse is None and "SSEDescription" in source:
        described = source["SSEDescription"]
        sse = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": described["KMSMasterKeyArn"]}
    if sse is not None:
        out["SSESpecification"] = sse
    # An empty index list is CreateTable's error, but a restore's way to drop them all.
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if out.get(kind) == []:
            del out[kind]
    return out


def _gsi_throughput(
    gsi: dict[str, Any], source: dict[str, Any], mode: str, overridden: bool
) -> None:
    """A restored GSI's throughput: the override's, the recorded one, or none for an
    on-demand table (`overridden`: `gsi` comes from GlobalSecondaryIndexOverride)."""
    name = gsi["IndexName"]
    given = gsi.get("ProvisionedThroughput")
    if mode == "PAY_PER_REQUEST":
        if overridden and given and any(given.get(k) for k in _KEYS):
            raise _invalid(
                "Cannot override ProvisionedThroughput if BillingMode is overridden to "
                f"PAY_PER_REQUEST for index {name}"
            )
        gsi.pop("ProvisionedThroughput", None)
        return
    gsi.pop("OnDemandThroughput", None)
    if not given or not all(given.get(k) for k in _KEYS):
        if source["BillingMode"] != "PROVISIONED":
            raise _invalid(f"Must specify provisioned throughput for index {name}")
        recorded = next(
            (
                i.get("ProvisionedThroughput")
                for i in source.get("GlobalSecondaryIndexes") or []
                if i["KeySchema"] == gsi["KeySchema"]
            ),
            None,
        )
        given = recorded or source["ProvisionedThroughput"]
    gsi["ProvisionedThroughput"] = {k: given[k] for k in _KEYS}


def create_restored(
    engine: Engine,
    ctx: RequestContext,
    create_req: Request,
    summary: dict[str, Any],
    start: Callable[[WriteTx, TableDef], None],
) -> Result:
    """Create the restore's table (CREATING, with RestoreSummary) and, in the same
    transaction, `start(tx, table)` its restore job; answer its TableDescription."""
    created: list[TableDef] = []

    def on_create(tx: WriteTx, table: TableDef) -> None:
        created.append(table)
        desc = table.description
        desc["TableStatus"] = "CREATING"
        for gsi in desc.get("GlobalSecondaryIndexes", []):
            gsi["IndexStatus"] = "CREATING"
        desc["RestoreSummary"] = summary
        table.status_until = 0.0  # CREATING until the restore job, not the clock, ends it
        engine.catalog.save(tx, table)
        start(tx, table)

    try:
        table, _ = create_table.create(engine, ctx, create_req, on_create)
    except Exception:
        for table in created:  # saved (so cached) by a transaction that rolled back
            engine.catalog.forget(table)
        raise
    kick(engine)
    answer = table_description(engine, table)
    answer.pop("Tags", None)
    return {"TableDescription": answer}


def key_names(source: dict[str, Any]) -> list[str]:
    return [k["AttributeName"] for k in source["KeySchema"]]


def restore_table_from_backup(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    arn = req["BackupArn"]
    backup = _backup(engine, ctx, arn)
    if backup.status == backups.CREATING:
        raise BackupInUseException(f"Backup is being created: {arn}")
    if backup.restoring is not None:
        raise BackupInUseException(f"Backup is being used to restore another table: {arn}")
    name = req["TargetTableName"]
    check_target(engine, ctx, name)
    create_req = restore_request(name, backup.source, req)
    summary = {
        "SourceBackupArn": backup.arn,
        "SourceTableArn": backup.table_arn,
        "RestoreDateTime": backup.created,
        "RestoreInProgress": True,
    }

    def start(tx: WriteTx, table: TableDef) -> None:
        current = backups.load(tx, backup.key)
        if current is None or current.restoring is not None:
            raise BackupInUseException(f"Backup is being used to restore another table: {arn}")
        restore.start_restore(
            tx, table, current.space, key_names(current.source), from_backup=current
        )

    return create_restored(engine, ctx, create_req, summary, start)
