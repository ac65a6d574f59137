"""GetItem: without a projection the stored bytes are spliced into the answer unparsed."""

from __future__ import annotations

from typing import Any

import orjson

from dynastore.engine import attrs
from dynastore.engine.capacity import consumed, read_units, stored_read_units
from dynastore.engine.engine import Engine
from dynastore.engine.writes import storage_key
from dynastore.ops.context import Request, Result
from dynastore.ops.expressions import prepare_read
from dynastore.ops.items import check_key, item_table
from dynastore.server.protocol import RequestContext


def handle(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    key = attrs.validate_item(req["Key"])
    projection = prepare_read(engine, req)
    table = item_table(engine, ctx, req)
    check_key(table, key, values_checked=True)
    consistent = bool(req.get("ConsistentRead"))
    reserved = engine.throttle.reserve_read(table, read_units(0, consistent), key)
    raw = engine.backend.get(table.space, storage_key(table, key))
    units = stored_read_units(raw, consistent)
    engine.throttle.settle_read(table, reserved, units, key)
    capacity = consumed(req.get("ReturnConsumedCapacity"), table, units, read=True)
    if projection is None and capacity is None:
        return b'{"Item":' + raw + b"}" if raw is not None else b"{}"
    out: dict[str, Any] = {}
    if raw is not None:
        item = orjson.loads(raw)
        out["Item"] = projection(item) if projection is not None else item
    if capacity is not None:
        out["ConsumedCapacity"] = capacity
    return out
