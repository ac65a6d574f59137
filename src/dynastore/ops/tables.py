"""DescribeTable, ListTables, DeleteTable, DescribeLimits and DescribeEndpoints."""

from __future__ import annotations

from typing import Any, NoReturn

from dynastore.engine import backups, item_collections, quotas
from dynastore.engine.catalog import TableDef, drop_data
from dynastore.engine.engine import Engine
from dynastore.errors import ResourceInUseException, ResourceNotFoundException, ValidationException
from dynastore.ops.context import Request, Result, table_ref
from dynastore.ops.describe import table_description
from dynastore.server.protocol import RequestContext
from dynastore.workers.backups import kick


def existing_table(engine: Engine, ctx: RequestContext, name_or_arn: str) -> TableDef:
    """The named table whatever its status, or DescribeTable's ResourceNotFoundException."""
    account, region, name = table_ref(ctx, name_or_arn)
    return engine.catalog.get(account, region, name) or _not_found(name)


def describe_table(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    table = existing_table(engine, ctx, req["TableName"])
    return {"Table": table_description(engine, table)}


def list_tables(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    limit = req.get("Limit", 100)
    start = req.get("ExclusiveStartTableName")
    names: list[str] = []
    more = False
    for name in engine.catalog.names(ctx.account, ctx.region):
        if start is not None and name <= start:
            continue
        if len(names) == limit:
            more = True
            break
        names.append(name)
    out: dict[str, Any] = {"TableNames": names}
    if more:
        out["LastEvaluatedTableName"] = names[-1]
    return out


def delete_table(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    table = existing_table(engine, ctx, req["TableName"])
    _check_deletable(table)
    answer = table_description(engine, table)
    answer["TableStatus"] = "DELETING"
    answer.pop("Tags", None)
    deadline = engine.catalog.transition_deadline()
    if deadline:
        quotas.check_table_operation(
            engine.catalog, table.account, table.region, engine.settings.table_quotas
        )
    counts = (answer["ItemCount"], answer["TableSizeBytes"])
    try:
        with engine.backend.write() as tx:
            # As stored now: another process may have changed it (engine/catalog.py).
            table = _check_deletable(engine.catalog.latest(tx, table) or _not_found(table.name))
            if item_collections.kept(table):  # a restore of kept data counts them anew
                item_collections.drop(tx, table.space)
            # PITR's system backup, or a running restore or backup, keeps the data.
            backups.detach_on_delete(tx, engine.catalog, table, engine.clock(), counts)
            if deadline:
                table.description["TableStatus"] = "DELETING"
                table.status_until = deadline
                engine.catalog.save(tx, table)
            else:
                drop_data(tx, table)
                engine.catalog.remove(tx, table)
    except Exception:
        engine.catalog.forget(table)
        raise
    kick(engine)  # retired spaces, if any, are dropped in the background
    engine.throttle.forget(table)
    engine.insights.drop(table.account, table.region, table.name, None)
    for index in table.indexes:
        engine.insights.drop(table.account, table.region, table.name, index.name)
    return {"TableDescription": answer}


def _not_found(name: str) -> NoReturn:
    raise ResourceNotFoundException(f"Requested resource not found: Table: {name} not found")


def _check_deletable(table: TableDef) -> TableDef:
    """DeleteTable's checks of the table's state; returns the table."""
    if table.status == "CREATING":
        raise ResourceInUseException(
            f"Attempt to change a resource which is still in use: Table is being created: "
            f"{table.name}"
        )
    if table.status == "DELETING":
        raise ResourceInUseException(
            f"Attempt to change a resource which is still in use: Table is being deleted: "
            f"{table.name}"
        )
    if any(
        gsi.get("IndexStatus") in ("CREATING", "UPDATING", "DELETING")
        for gsi in table.description.get("GlobalSecondaryIndexes", [])
    ):
        raise ResourceInUseException(
            "Attempt to change a resource which is still in use: Cannot delete table while "
            "indexes are being created, updated, or deleted."
        )
    if table.status == "UPDATING":
        raise ResourceInUseException(
            f"Attempt to change a resource which is still in use: Table: {table.name} is in the "
            "process of being updated."
        )
    if table.description.get("DeletionProtectionEnabled"):
        raise ValidationException(
            "Resource cannot be deleted as it is currently protected against deletion. "
            "Disable deletion protection first."
        )
    return table


def describe_limits(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    return quotas.describe_limits()


def describe_endpoints(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    return {
        "Endpoints": [
            {"Address": f"dynamodb.{ctx.region}.amazonaws.com", "CachePeriodInMinutes": 1440}
        ]
    }
