"""UpdateContinuousBackups, DescribeContinuousBackups and RestoreTableToPointInTime.

Point-in-time recovery keeps the table's change log (engine/changelog.py) for the
recovery period: `changelog.retention` makes the write path keep a log and the streams
worker trim it to the period. A restore to time T copies the table as it is and undoes,
from the log, every change committed after T (engine/restore.py), in the background.

The restorable window runs from when PITR was (last) enabled, or the recovery period
ago, to `LATEST_LAG` seconds ago. DynamoDB's LatestRestorableDateTime trails by about
five minutes; ours trails by one second, the time a write stamped in the log may take to
commit in another process sharing the store. State is kept in
``TableDef.features["pitr"]`` = {"days": RecoveryPeriodInDays, "since": enable time}.
"""

from __future__ import annotations

from typing import Any

from dynastore.engine import backups, changelog, restore
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.errors import (
    InvalidRestoreTimeException,
    PointInTimeRecoveryUnavailableException,
    TableNotFoundException,
    ValidationException,
)
from dynastore.ops.backups import (
    INVALID_REQUEST,
    check_target,
    create_restored,
    key_names,
    restore_request,
    source_table,
)
from dynastore.ops.context import Request, Result
from dynastore.server.protocol import RequestContext
from dynastore.storage.base import WriteTx
from dynastore.workers.backups import kick

DEFAULT_DAYS = 35
LATEST_LAG = 1.0
OTHER_ACCOUNT = (
    "This action is only supported by accounts that match the resource owner\u2019s account."
)


def window(table: TableDef, now: float) -> tuple[float, float] | None:
    """(EarliestRestorableDateTime, LatestRestorableDateTime), or None when PITR is off."""
    settings = table.features.get(changelog.PITR_FEATURE)
    if not settings:
        return None
    earliest = max(float(settings["since"]), now - settings["days"] * changelog.DAY_SECONDS)
    return round(earliest, 3), round(max(earliest, now - LATEST_LAG), 3)


def _description(table: TableDef, now: float) -> dict[str, Any]:
    """ContinuousBackupsDescription (on-demand backups are always available here)."""
    pitr: dict[str, Any] = {"PointInTimeRecoveryStatus": "DISABLED"}
    bounds = window(table, now)
    if bounds is not None:
        pitr = {
            "PointInTimeRecoveryStatus": "ENABLED",
            "RecoveryPeriodInDays": table.features[changelog.PITR_FEATURE]["days"],
            "EarliestRestorableDateTime": bounds[0],
            "LatestRestorableDateTime": bounds[1],
        }
    return {
        "ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": pitr,
        }
    }


def describe_continuous_backups(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    table = source_table(engine, ctx, req["TableName"])
    return _description(table, engine.clock())


def update_continuous_backups(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    spec = req["PointInTimeRecoverySpecification"]
    enabled = bool(spec["PointInTimeRecoveryEnabled"])
    days = spec.get("RecoveryPeriodInDays")
    if not enabled and days is not None:
        raise ValidationException(
            INVALID_REQUEST
            + "Cannot specify RecoveryPeriodInDays when disabling point-in-time recovery."
        )
    table = source_table(engine, ctx, req["TableName"])
    now = engine.clock()
    retired = [False]

    def change(tx: WriteTx, table: TableDef) -> None:
        retired[0] = _apply(engine, tx, table, enabled, days, now)

    table = engine.catalog.update(
        table, change, TableNotFoundException(f"Table not found: {table.name}")
    )
    if retired[0]:
        kick(engine)
    return _description(table, now)


def _apply(
    engine: Engine, tx: WriteTx, table: TableDef, enabled: bool, days: int | None, now: float
) -> bool:
    """Turn PITR on or off in `table`; True when a change log was retired."""
    current = table.features.get(changelog.PITR_FEATURE)
    if enabled:
        if current:
            if days is not None:
                current["days"] = days
        else:
            table.features[changelog.PITR_FEATURE] = {
                "days": days or DEFAULT_DAYS,
                "since": round(now, 3),
            }
            if not table.log_space:
                table.log_space = engine.catalog.allocate_space(tx)
        return False
    if not current:
        return False
    del table.features[changelog.PITR_FEATURE]
    log = table.log_space
    if log and changelog.retention(table) == 0 and not changelog.pinned(tx, log):
        table.log_space = 0
        backups.retire(tx, log, b"log")
        return True
    return False


def _source(engine: Engine, ctx: RequestContext, req: Request) -> TableDef:
    """The table SourceTableName or SourceTableArn names."""
    by_name, by_arn = req.get("SourceTableName"), req.get("SourceTableArn")
    if by_name is not None and by_arn is not None:
        raise ValidationException(
            INVALID_REQUEST + "Must provide exactly one of: sourceTableArn, sourceTableName"
        )
    if by_name is None and by_arn is None:
        raise ValidationException(
            "The parameter 'TableName' is required but was not present in the request"
        )
    if by_arn is not None:
        parts = by_arn.split(":", 5)
        if len(parts) != 6 or not by_arn.startswith("arn:") or not parts[5].startswith("table/"):
            raise ValidationException("sourceTableArn is not a valid ARN")
        if parts[4] != ctx.account:
            raise ValidationException(OTHER_ACCOUNT)
    return source_table(engine, ctx, str(by_arn or by_name), to_read=True)


def restore_table_to_point_in_time(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    use_latest = bool(req.get("UseLatestRestorableTime"))
    when: float | None = req.get("RestoreDateTime")
    if use_latest and when is not None:
        raise ValidationException(
            INVALID_REQUEST + "Both RestoreDateTime and UseLatestRestorableTime cannot be set "
            "for point-in-time restore request. Please specify only one."
        )
    if not use_latest and when is None:
        raise ValidationException(
            INVALID_REQUEST + "Either one of RestoreDateTime or UseLatestRestorableTime must be "
            "specified, but not both"
        )
    source = _source(engine, ctx, req)
    bounds = window(source, engine.clock())
    if bounds is None:
        raise PointInTimeRecoveryUnavailableException(
            f"Point in time recovery is not enabled for table '{source.name}'"
        )
    earliest, latest = bounds
    point = latest if when is None else float(when)
    if not earliest <= point <= latest:
        raise InvalidRestoreTimeException(
            f"RestoreDateTime '{backups.iso(point)}' must be within EarliestRestorableDateTime "
            f"'{backups.iso(earliest)}' and LatestRestorableDateTime '{backups.iso(latest)}'"
        )
    name = req["TargetTableName"]
    check_target(engine, ctx, name)
    settings = backups.source_settings(source)
    create_req = restore_request(name, settings, req)
    summary = {
        "SourceTableArn": source.arn,
        "RestoreDateTime": point,
        "RestoreInProgress": True,
    }
    where = (source.account, source.region, source.name)

    def start(tx: WriteTx, table: TableDef) -> None:
        current = engine.catalog.read(tx, *where)
        if current is None or current.space != source.space or not current.log_space:
            raise PointInTimeRecoveryUnavailableException(
                f"Point in time recovery is not enabled for table '{source.name}'"
            )
        restore.start_restore(
            tx,
            table,
            current.space,
            key_names(settings),
            source_table=current,
            undo_ms=int(point * 1000),
        )

    return create_restored(engine, ctx, create_req, summary, start)
