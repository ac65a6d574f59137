"""UpdateTimeToLive and DescribeTimeToLive.

The table's TTL state is kept in ``TableDef.features["ttl"]``: status (ENABLING,
ENABLED, DISABLING, DISABLED), attribute, the time of the last change (DynamoDB allows
one change per hour; the window is configurable) and when the transition ends (the
catalog's status delay: instant unless configured). ``TableDef.ttl_attribute`` is set
from the moment TTL is enabled, so the write path keeps the expiry index from then on,
and the TTL worker backfills the items that existed before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dynastore.engine import ttl
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.errors import ResourceInUseException, ValidationException
from dynastore.ops.context import OperationFn, Request, Result
from dynastore.ops.tables import existing_table
from dynastore.server.protocol import RequestContext
from dynastore.storage.base import WriteTx

MODIFIED_TOO_OFTEN = "Time to live has been modified multiple times within a fixed interval"


@dataclass(frozen=True)
class TtlOptions:
    """Settings of the TTL operations."""

    change_window: float = 3600.0  # seconds between two changes of one table's TTL


def status(table: TableDef, now: float) -> tuple[str, str | None]:
    """(TimeToLiveStatus, AttributeName) of a table as DescribeTimeToLive shows them."""
    state: dict[str, Any] = table.features.get("ttl") or {}
    current = str(state.get("status", "DISABLED"))
    if current in ("ENABLING", "DISABLING") and state.get("until", 0.0) <= now:
        current = "ENABLED" if current == "ENABLING" else "DISABLED"
    if current == "DISABLED":
        return current, None
    return current, state.get("attribute")


def describe_time_to_live(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    table = existing_table(engine, ctx, req["TableName"])
    if table.status in ("CREATING", "DELETING"):
        raise ValidationException(
            f"Cannot describe time to live while table is in {table.status} state: "
            f"Current table state is {table.status}"
        )
    current, attribute = status(table, engine.clock())
    description: dict[str, Any] = {"TimeToLiveStatus": current}
    if attribute is not None:
        description["AttributeName"] = attribute
    return {"TimeToLiveDescription": description}


def update_time_to_live(
    engine: Engine, ctx: RequestContext, req: Request, options: TtlOptions
) -> Result:
    spec = req["TimeToLiveSpecification"]
    enabled = bool(spec["Enabled"])
    attribute = str(spec["AttributeName"])
    table = existing_table(engine, ctx, req["TableName"])
    now = engine.clock()
    deadline = engine.catalog.transition_deadline()

    def change(tx: WriteTx, table: TableDef) -> None:
        _check_change(table, enabled, attribute, now, options)
        if enabled:
            # A fresh index: entries left from an earlier enable went stale while TTL was
            # off, so that space is retired rather than reused.
            if table.ttl_space:
                ttl.retire(tx, table.ttl_space)
            table.ttl_space = engine.catalog.allocate_space(tx)
            table.ttl_attribute = attribute
            ttl.start_backfill(tx, table.ttl_space)
        else:
            table.ttl_attribute = None
        table.features["ttl"] = {
            "status": ("ENABLING" if enabled else "DISABLING")
            if deadline
            else ("ENABLED" if enabled else "DISABLED"),
            "attribute": attribute,
            "changed": now,
            "until": deadline,
        }

    engine.catalog.update(table, change)
    return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}


def _check_change(
    table: TableDef, enabled: bool, attribute: str, now: float, options: TtlOptions
) -> None:
    """DynamoDB's checks of a TTL change against the table's current definition."""
    if table.status == "CREATING":  # this wording, unlike UpdateTable's, names the table first
        raise ResourceInUseException(
            f"Attempt to change a resource which is still in use: Table {table.name} is being "
            "created"
        )
    if table.status == "DELETING":
        raise ResourceInUseException(
            "Attempt to change a resource which is still in use: "
            f"Table is being deleted: {table.name}"
        )
    current, current_attribute = status(table, now)
    active = current in ("ENABLING", "ENABLED")
    if active and current_attribute != attribute:
        raise ValidationException(
            "TimeToLive is active on a different AttributeName: current AttributeName is "
            f"{current_attribute}"
        )
    if active and enabled:
        raise ValidationException("TimeToLive is already enabled")
    if not active and not enabled:
        raise ValidationException("TimeToLive is already disabled")
    state: dict[str, Any] = table.features.get("ttl") or {}
    changed = state.get("changed")
    if changed is not None and now - float(changed) < options.change_window:
        raise ValidationException(MODIFIED_TOO_OFTEN)


def operations(options: TtlOptions) -> dict[str, OperationFn]:
    """The two TTL operations, bound to their settings."""

    def update(engine: Engine, ctx: RequestContext, req: Request) -> Result:
        return update_time_to_live(engine, ctx, req, options)

    return {"UpdateTimeToLive": update, "DescribeTimeToLive": describe_time_to_live}
