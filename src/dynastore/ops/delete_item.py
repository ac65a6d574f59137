"""DeleteItem."""

from __future__ import annotations

from typing import Any

from dynastore.engine import attrs
from dynastore.engine.engine import Engine
from dynastore.engine.values import Item
from dynastore.ops.context import Request, Result
from dynastore.ops.expressions import prepare_write
from dynastore.ops.items import (
    RETURN_VALUES_PUT_DELETE,
    check_key,
    check_return_values,
    collection_metrics,
    finish,
    item_table,
    metered_write,
    write_capacity,
)
from dynastore.server.protocol import RequestContext


def _gone(old: Item | None) -> None:
    return None


def handle(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    rv = check_return_values(req.get("ReturnValues"), RETURN_VALUES_PUT_DELETE)
    key = attrs.validate_item(req["Key"])
    prepared = prepare_write(engine, req, update=False)
    table = item_table(engine, ctx, req)
    check_key(table, key, values_checked=True)
    on_failure = req.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    result, cost = metered_write(engine, table, key, _gone, prepared.condition, on_failure)
    out: dict[str, Any] = {}
    if rv == "ALL_OLD" and result.old is not None:
        out["Attributes"] = result.old
    return finish(
        out,
        write_capacity(req, table, result.old, None, cost),
        collection_metrics(req, table, key, result),
    )
