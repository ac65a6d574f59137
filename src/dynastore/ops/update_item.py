"""UpdateItem: the update is a pure function of the old item, applied in one transaction."""

from __future__ import annotations

from typing import Any

from dynastore.engine import attrs
from dynastore.engine.engine import Engine
from dynastore.engine.values import Item
from dynastore.engine.writes import check_index_keys
from dynastore.errors import ValidationException
from dynastore.ops.context import Request, Result
from dynastore.ops.expressions import UpdatedPaths, prepare_write
from dynastore.ops.items import (
    check_key,
    check_return_values,
    check_size,
    collection_metrics,
    finish,
    item_table,
    metered_write,
    write_capacity,
)
from dynastore.server.protocol import RequestContext

RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")


def handle(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    rv = check_return_values(req.get("ReturnValues"), RETURN_VALUES)
    key = attrs.validate_item(req["Key"])
    prepared = prepare_write(engine, req, update=True)
    table = item_table(engine, ctx, req)
    check_key(table, key)
    for name in table.key_names:
        if name in prepared.update_names:
            raise ValidationException(
                "One or more parameter values were invalid: Cannot update attribute "
                f"{name}. This attribute is part of the key"
            )
    on_failure = req.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    changed: list[UpdatedPaths] = []

    def compute(old: Item | None) -> Item:
        base = old if old is not None else dict(key)
        if prepared.update is None:
            return base
        new, paths = prepared.update(base)
        check_index_keys(table, new)
        check_size(new, "Item size to update has exceeded the maximum allowed size")
        changed[:] = [paths]
        return new

    result, cost = metered_write(engine, table, key, compute, prepared.condition, on_failure)
    out: dict[str, Any] = {}
    attributes = _returned(rv, result.old, result.new, changed[0] if changed else None)
    if attributes:
        out["Attributes"] = attributes
    return finish(
        out,
        write_capacity(req, table, result.old, result.new, cost),
        collection_metrics(req, table, key),
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
