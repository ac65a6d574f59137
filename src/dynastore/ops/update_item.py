"""UpdateItem: the update is a pure function of the old item, applied in one transaction."""

from __future__ import annotations

from typing import Any

from dynastore.engine import attrs
from dynastore.engine.engine import Engine
from dynastore.engine.values import Item
from dynastore.errors import ValidationException
from dynastore.ops.context import Request, Result
from dynastore.ops.expressions import UpdatedPaths, prepare_write
from dynastore.ops.items import (
    check_key,
    check_return_values,
    collection_metrics,
    finish,
    item_table,
    metered_write,
    update_compute,
    write_capacity,
)
from dynastore.server.protocol import RequestContext

RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")


def handle(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    rv = check_return_values(req.get("ReturnValues"), RETURN_VALUES)
    key = attrs.validate_item(req["Key"])
    prepared = prepare_write(engine, req, update=True)
    table = item_table(engine, ctx, req)
    check_key(table, key, values_checked=True)
    for name in table.key_names:
        if name in prepared.update_names:
            raise ValidationException(
                "One or more parameter values were invalid: Cannot update attribute "
                f"{name}. This attribute is part of the key"
            )
    on_failure = req.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    changed: list[UpdatedPaths] = []
    compute = update_compute(table, key, prepared.update, changed)
    result, cost = metered_write(engine, table, key, compute, prepared.condition, on_failure)
    out: dict[str, Any] = {}
    attributes = _returned(rv, result.old, result.new, changed[0] if changed else None)
    if attributes:
        out["Attributes"] = attributes
    return finish(
        out,
        write_capacity(req, table, result.old, result.new, cost),
        collection_metrics(req, table, key, result),
    )


def _returned(
    rv: str, old: Item | None, new: Item | None, paths: UpdatedPaths | None
) -> Item | None:
    if rv == "ALL_OLD":
        return old
    if rv == "ALL_NEW":
        return new
    if rv in ("UPDATED_OLD", "UPDATED_NEW") and paths is not None:
        source = old if rv == "UPDATED_OLD" else new
        return paths.project(source) if source is not None else None
    return None
