"""Helpers shared by the single-item operations: table lookup, keys, sizes, answers."""

from __future__ import annotations

from typing import Any

from dynastore.engine import attrs
from dynastore.engine.capacity import consumed, write_units
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.engine.values import MAX_ITEM_SIZE, Item, item_size
from dynastore.engine.writes import index_key, project_for_index, storage_key
from dynastore.errors import ValidationException
from dynastore.ops.context import Request, table_ref
from dynastore.server.protocol import RequestContext

RETURN_VALUES_PUT_DELETE = ("NONE", "ALL_OLD")


def item_table(engine: Engine, ctx: RequestContext, req: Request) -> TableDef:
    """The ACTIVE table an item operation names."""
    return engine.active_table(*table_ref(ctx, req["TableName"]))


def check_key(table: TableDef, key: Item) -> None:
    """A Key parameter must hold exactly the table's key attributes with their types."""
    attrs.validate_key(key, table_key_schema(table))


def table_key_schema(table: TableDef) -> list[tuple[str, str]]:
    schema = [(table.pk.name, table.pk.type)]
    if table.sk is not None:
        schema.append((table.sk.name, table.sk.type))
    return schema


def key_of(table: TableDef, item: Item) -> Item:
    return {name: item[name] for name in table.key_names}


def check_size(item: Item) -> int:
    size = item_size(item)
    if size > MAX_ITEM_SIZE:
        raise ValidationException("Item size has exceeded the maximum allowed size")
    return size


def check_return_values(value: str | None, allowed: tuple[str, ...]) -> str:
    rv = value or "NONE"
    if rv not in allowed:
        raise ValidationException("Return values set to invalid value")
    return rv


def write_capacity(
    req: Request, table: TableDef, old: Item | None, new: Item | None
) -> dict[str, Any] | None:
    """ConsumedCapacity of one item write, with the index writes it caused."""
    mode = req.get("ReturnConsumedCapacity")
    if mode not in ("TOTAL", "INDEXES"):
        return None
    sizes = [item_size(i) for i in (old, new) if i is not None]
    units = write_units(max(sizes) if sizes else 0)
    per_index: dict[str, float] = {}
    if table.indexes:
        base = storage_key(table, key_of(table, (new or old) or {}))
        for index in table.indexes:
            cost = 0.0
            old_key = index_key(index, old, base) if old is not None else None
            new_key = index_key(index, new, base) if new is not None else None
            if old_key is not None and old_key != new_key and old is not None:
                cost += write_units(item_size(project_for_index(table, index, old)))
            if new_key is not None and new is not None:
                cost += write_units(item_size(project_for_index(table, index, new)))
            if cost:
                per_index[index.name] = cost
    return consumed(mode, table, units, read=False, index_units=per_index)


def collection_metrics(req: Request, table: TableDef, key: Item) -> dict[str, Any] | None:
    """ItemCollectionMetrics: only for tables with local secondary indexes."""
    if req.get("ReturnItemCollectionMetrics") != "SIZE":
        return None
    if not any(i.kind == "LSI" for i in table.indexes):
        return None
    return {
        "ItemCollectionKey": {table.pk.name: key[table.pk.name]},
        "SizeEstimateRangeGB": [0.0, 1.0],
    }


def finish(
    out: dict[str, Any],
    capacity: dict[str, Any] | None,
    metrics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if capacity is not None:
        out["ConsumedCapacity"] = capacity
    if metrics is not None:
        out["ItemCollectionMetrics"] = metrics
    return out
