"""GetItem: without a projection the stored bytes are spliced into the answer unparsed."""

from __future__ import annotations

from typing import Any

import orjson

from dynastore.engine import attrs
from dynastore.engine.capacity import consumed, read_units
from dynastore.engine.engine import Engine
from dynastore.engine.values import item_size
from dynastore.engine.writes import storage_key
from dynastore.ops.context import Request, Result
from dynastore.ops.expressions import prepare_read
from dynastore.ops.items import check_key, item_table
from dynastore.server.protocol import RequestContext


def handle(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    key = attrs.validate_item(req["Key"])
    projection = prepare_read(engine, req)
    table = item_table(engine, ctx, req)
    check_key(table, key)
    raw = engine.backend.get(table.space, storage_key(table, key))
    capacity: dict[str, Any] | None = None
    mode = req.get("ReturnConsumedCapacity")
    if mode in ("TOTAL", "INDEXES"):
        units = read_units(
            item_size(orjson.loads(raw)) if raw else 0, bool(req.get("ConsistentRead"))
        )
        capacity = consumed(mode, table, units, read=True)
    if projection is None and capacity is None:
        return b'{"Item":' + raw + b"}" if raw is not None else b"{}"
    out: dict[str, Any] = {}
    if raw is not None:
        item = orjson.loads(raw)
        out["Item"] = projection(item) if projection is not None else item
    if capacity is not None:
        out["ConsumedCapacity"] = capacity
    return out
