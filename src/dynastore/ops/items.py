"""Helpers shared by the single-item operations: table lookup, keys, sizes, answers."""

from __future__ import annotations

from typing import Any

from dynastore.engine import attrs, item_collections
from dynastore.engine.capacity import consumed, item_write_units
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.engine.values import MAX_ITEM_SIZE, Item, item_size
from dynastore.engine.writes import (
    Compute,
    Condition,
    WriteResult,
    check_index_keys,
    index_key,
    project_for_index,
    storage_key,
    write_item,
)
from dynastore.errors import (
    ConditionalCheckFailedException,
    ItemCollectionSizeLimitExceededException,
    ValidationException,
)
from dynastore.ops.context import Request, table_ref
from dynastore.ops.expressions import UpdatedPaths, Updater
from dynastore.server.protocol import RequestContext

RETURN_VALUES_PUT_DELETE = ("NONE", "ALL_OLD")


def item_table(engine: Engine, ctx: RequestContext, req: Request) -> TableDef:
    """The ACTIVE table an item operation names."""
    return engine.active_table(*table_ref(ctx, req["TableName"]))


def check_key(table: TableDef, key: Item, *, values_checked: bool = False) -> None:
    """A Key parameter must hold exactly the table's key attributes with their types.

    `values_checked`: `attrs.validate_item` already ran on it (the single-item operations
    validate values before looking the table up, as DynamoDB orders its errors).
    """
    attrs.validate_key(key, table_key_schema(table), values_checked=values_checked)


def table_key_schema(table: TableDef) -> list[tuple[str, str]]:
    schema = [(table.pk.name, table.pk.type)]
    if table.sk is not None:
        schema.append((table.sk.name, table.sk.type))
    return schema


def key_marker(table: TableDef, key: Item) -> tuple[str, ...]:
    """A cheap identity of a validated key (its raw values: the schema fixes their types,
    and validation made numbers canonical), for finding the same item twice in a request."""
    if table.sk is None:
        return (key[table.pk.name][table.pk.type],)
    return (key[table.pk.name][table.pk.type], key[table.sk.name][table.sk.type])


def key_of(table: TableDef, item: Item) -> Item:
    return {name: item[name] for name in table.key_names}


def check_size(item: Item, message: str = "Item size has exceeded the maximum allowed size") -> int:
    size = item_size(item)
    if size > MAX_ITEM_SIZE:
        raise ValidationException(message)
    return size


def check_return_values(value: str | None, allowed: tuple[str, ...]) -> str:
    rv = value or "NONE"
    if rv not in allowed:
        raise ValidationException(
            "ReturnValues can only be " + " or ".join(reversed(allowed))
            if len(allowed) == 2
            else "Return values set to invalid value"
        )
    return rv


def write_cost(
    table: TableDef, old: Item | None, new: Item | None
) -> tuple[float, dict[str, float]]:
    """Write units of one item write: the table's, and each index's that it touched."""
    units = max(item_write_units(old), item_write_units(new))
    per_index: dict[str, float] = {}
    present = new if new is not None else old
    if table.indexes and present is not None:  # nothing to index when there is no item
        base = storage_key(table, key_of(table, present))
        for index in table.indexes:
            cost = 0.0
            old_key = index_key(index, old, base) if old is not None else None
            new_key = index_key(index, new, base) if new is not None else None
            if old_key is not None and old_key != new_key and old is not None:
                cost += item_write_units(project_for_index(table, index, old))
            if new_key is not None and new is not None:
                cost += item_write_units(project_for_index(table, index, new))
            if cost:
                per_index[index.name] = cost
    return units, per_index


def write_capacity(
    req: Request,
    table: TableDef,
    old: Item | None,
    new: Item | None,
    cost: tuple[float, dict[str, float]] | None = None,
) -> dict[str, Any] | None:
    """ConsumedCapacity of one item write, with the index writes it caused."""
    mode = req.get("ReturnConsumedCapacity")
    if mode not in ("TOTAL", "INDEXES"):
        return None
    units, per_index = cost if cost is not None else write_cost(table, old, new)
    return consumed(mode, table, units, read=False, index_units=per_index)


def metered_write(
    engine: Engine,
    table: TableDef,
    key: Item,
    compute: Compute,
    condition: Condition | None,
    on_failure: bool,
    estimate: float = 1.0,
    item: Item | None = None,
) -> tuple[WriteResult, tuple[float, dict[str, float]]]:
    """One item write through capacity: admitted first (ProvisionedThroughputExceeded /
    ThrottlingException when throttled), then charged its `write_cost`. `estimate` is the
    units reserved up front (a put knows its item's); `item` the new item when known."""
    reserved = engine.throttle.reserve_write(table, estimate, key, item)
    try:
        result = write_item(
            engine.backend, table, key, compute, condition, on_failure,
            engine.settings.collection_limit,
        )  # fmt: skip
    except ConditionalCheckFailedException:
        # A failed condition consumes write capacity too, as in DynamoDB.
        engine.throttle.settle_write(table, reserved, estimate)
        raise
    except ItemCollectionSizeLimitExceededException:
        engine.throttle.settle_write(table, reserved, 0.0)  # refused before writing
        raise
    cost = write_cost(table, result.old, result.new)
    engine.throttle.settle_write(table, reserved, cost[0], cost[1], result.old, result.new)
    return result, cost


class CapacityTotals:
    """ConsumedCapacity summed per table, for operations that touch several items."""

    def __init__(self) -> None:
        self._tables: dict[str, tuple[TableDef, float, dict[str, float]]] = {}

    def add(
        self, table: TableDef, units: float, index_units: dict[str, float] | None = None
    ) -> None:
        _, total, per_index = self._tables.get(table.name, (table, 0.0, {}))
        for name, extra in (index_units or {}).items():
            per_index[name] = per_index.get(name, 0.0) + extra
        self._tables[table.name] = (table, total + units, per_index)

    def entries(self, mode: str | None, *, read: bool) -> list[dict[str, Any]]:
        """One ConsumedCapacity entry per table, in the order tables were first seen."""
        out = []
        for table, units, per_index in self._tables.values():
            entry = consumed(mode, table, units, read=read, index_units=per_index)
            if entry is not None:
                out.append(entry)
        return out


# --- the compute functions of the write path (see engine.writes.write_in) ---------------


def put_compute(item: Item) -> Compute:
    """A PutItem's new item, whatever the old one was."""

    def compute(old: Item | None) -> Item:
        return item

    return compute


def delete_compute(old: Item | None) -> None:
    """A DeleteItem's new item: none."""
    return None


def update_compute(
    table: TableDef, key: Item, update: Updater | None, changed: list[UpdatedPaths]
) -> Compute:
    """An UpdateItem's new item (the key alone when there was none); `changed` receives the
    paths the update wrote, for UPDATED_OLD / UPDATED_NEW."""

    def compute(old: Item | None) -> Item:
        base = old if old is not None else dict(key)
        if update is None:
            return base
        new, paths = update(base)
        for name in table.key_names:
            if name in paths.top_level:
                raise ValidationException(
                    "One or more parameter values were invalid: Cannot update attribute "
                    f"{name}. This attribute is part of the key"
                )
        check_index_keys(table, new)
        check_size(new, "Item size to update has exceeded the maximum allowed size")
        changed[:] = [paths]
        return new

    return compute


def collection_metrics(
    req: Request, table: TableDef, key: Item, result: WriteResult
) -> dict[str, Any] | None:
    """ItemCollectionMetrics: only for tables with local secondary indexes."""
    if req.get("ReturnItemCollectionMetrics") != "SIZE" or result.collection_size is None:
        return None
    return item_collections.metrics(table, key, result.collection_size)


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
