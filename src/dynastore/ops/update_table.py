"""UpdateTable: billing mode, provisioned throughput, deletion protection and table class.

Index, stream, encryption and replica updates arrive with their features; until then they
are refused with a ValidationException rather than silently stored.
"""

from __future__ import annotations

from typing import Any

from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.errors import ResourceInUseException, ValidationException
from dynastore.ops.context import Request, Result
from dynastore.ops.create_table import INVALID, check_capacity, check_table_class
from dynastore.ops.describe import table_description
from dynastore.ops.tables import existing_table
from dynastore.server.protocol import RequestContext

_LATER = (
    "GlobalSecondaryIndexUpdates",
    "StreamSpecification",
    "SSESpecification",
    "ReplicaUpdates",
    "MultiRegionConsistency",
    "GlobalTableWitnessUpdates",
)
_ANY = (
    "ProvisionedThroughput",
    "BillingMode",
    "DeletionProtectionEnabled",
    "TableClass",
    "OnDemandThroughput",
    "WarmThroughput",
    "AttributeDefinitions",
    *_LATER,
)


def _apply_billing(table: TableDef, req: Request, now: float) -> bool:
    """Update billing mode / throughput in the description; True when the table changes."""
    desc = table.description
    current = desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    mode = req.get("BillingMode") or current
    throughput = req.get("ProvisionedThroughput")
    if mode == "PAY_PER_REQUEST" and throughput:
        raise ValidationException(
            INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
            "BillingMode is PAY_PER_REQUEST"
        )
    if mode == "PROVISIONED" and current == "PAY_PER_REQUEST" and not throughput:
        raise ValidationException(
            INVALID + "ProvisionedThroughput must be specified when BillingMode is PROVISIONED"
        )
    changed: bool = mode != current
    if changed:
        summary: dict[str, Any] = {"BillingMode": mode}
        if mode == "PAY_PER_REQUEST":
            summary["LastUpdateToPayPerRequestDateTime"] = now
            desc["ProvisionedThroughput"] = {
                **desc["ProvisionedThroughput"],
                "ReadCapacityUnits": 0,
                "WriteCapacityUnits": 0,
            }
            for gsi in desc.get("GlobalSecondaryIndexes", []):
                gsi["ProvisionedThroughput"] = {
                    **gsi["ProvisionedThroughput"],
                    "ReadCapacityUnits": 0,
                    "WriteCapacityUnits": 0,
                }
        desc["BillingModeSummary"] = summary
    if throughput:
        check_capacity(throughput)
        changed |= _set_throughput(desc["ProvisionedThroughput"], throughput, now, not changed)
    return changed


def _set_throughput(
    current: dict[str, Any], wanted: dict[str, Any], now: float, must_change: bool
) -> bool:
    old_r, old_w = current["ReadCapacityUnits"], current["WriteCapacityUnits"]
    new_r, new_w = wanted["ReadCapacityUnits"], wanted["WriteCapacityUnits"]
    if (old_r, old_w) == (new_r, new_w):
        if must_change:
            raise ValidationException(
                "The provisioned throughput for the table will not change. The requested value "
                "equals the current value. Current ReadCapacityUnits provisioned for the table: "
                f"{old_r}. Requested ReadCapacityUnits: {new_r}. Current WriteCapacityUnits "
                f"provisioned for the table: {old_w}. Requested WriteCapacityUnits: {new_w}. "
                "Refer to the Amazon DynamoDB Developer Guide for current limits and how to "
                "request higher limits."
            )
        return False
    if new_r > old_r or new_w > old_w:
        current["LastIncreaseDateTime"] = now
    if new_r < old_r or new_w < old_w:
        current["LastDecreaseDateTime"] = now
        current["NumberOfDecreasesToday"] = current.get("NumberOfDecreasesToday", 0) + 1
    current["ReadCapacityUnits"] = new_r
    current["WriteCapacityUnits"] = new_w
    return True


def handle(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    if not any(k in req for k in _ANY):
        raise ValidationException(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
            "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
        )
    later = [k for k in _LATER if req.get(k)]
    if later:
        raise ValidationException(f"{later[0]} is not supported by this server yet")
    table = existing_table(engine, ctx, req["TableName"])
    if table.status != "ACTIVE":
        raise ResourceInUseException(
            f"Attempt to change a resource which is still in use: Table is being "
            f"{'created' if table.status == 'CREATING' else table.status.lower()}: {table.name}"
        )
    check_table_class(req.get("TableClass"))
    now = engine.clock()
    try:
        changed = _apply_billing(table, req, now)
        desc = table.description
        if "DeletionProtectionEnabled" in req:
            desc["DeletionProtectionEnabled"] = bool(req["DeletionProtectionEnabled"])
        if req.get("TableClass"):
            old_class = desc.get("TableClassSummary", {}).get("TableClass", "STANDARD")
            if req["TableClass"] != old_class:
                desc["TableClassSummary"] = {
                    "TableClass": req["TableClass"],
                    "LastUpdateDateTime": now,
                }
                changed = True
        if "OnDemandThroughput" in req:
            desc["OnDemandThroughput"] = req["OnDemandThroughput"]
        deadline = engine.catalog.transition_deadline() if changed else 0.0
        if deadline:
            desc["TableStatus"] = "UPDATING"
            table.status_until = deadline
        with engine.backend.write() as tx:
            engine.catalog.save(tx, table)
    except Exception:
        engine.catalog.forget(table)
        raise
    answer = table_description(engine, table)
    answer.pop("Tags", None)
    if changed:
        answer["TableStatus"] = "UPDATING"
    return {"TableDescription": answer}
