"""PutItem."""

from __future__ import annotations

from typing import Any

from dynastore.engine import attrs
from dynastore.engine.capacity import item_write_units
from dynastore.engine.engine import Engine
from dynastore.engine.values import Item
from dynastore.engine.writes import check_index_keys
from dynastore.ops.context import Request, Result
from dynastore.ops.expressions import prepare_write
from dynastore.ops.items import (
    RETURN_VALUES_PUT_DELETE,
    check_return_values,
    collection_metrics,
    finish,
    item_table,
    metered_write,
    table_key_schema,
    write_capacity,
)
from dynastore.server.protocol import RequestContext


def handle(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    rv = check_return_values(req.get("ReturnValues"), RETURN_VALUES_PUT_DELETE)
    item = attrs.validate_item(req["Item"])
    prepared = prepare_write(engine, req, update=False)
    table = item_table(engine, ctx, req)
    attrs.validate_item_key(item, table_key_schema(table))
    check_index_keys(table, item)  # attrs.validate_item checked the size
    on_failure = req.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"

    def compute(old: Item | None) -> Item:
        return item

    estimate = item_write_units(item) if engine.throttle.enforces(table) else 1.0
    result, cost = metered_write(
        engine, table, item, compute, prepared.condition, on_failure, estimate, item
    )
    out: dict[str, Any] = {}
    if rv == "ALL_OLD" and result.old is not None:
        out["Attributes"] = result.old
    return finish(
        out,
        write_capacity(req, table, result.old, item, cost),
        collection_metrics(req, table, item, result),
    )
