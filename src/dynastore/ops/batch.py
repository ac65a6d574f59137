"""BatchWriteItem and BatchGetItem.

A batch write applies all its requests in one storage transaction (each item write is
atomic, as DynamoDB promises; the batch being atomic too is stronger, and cheaper here:
one commit instead of 25). Nothing is ever left unprocessed by this server unless
capacity throttling says so.
"""

from __future__ import annotations

from typing import Any

import orjson

from dynastore.engine import attrs
from dynastore.engine.capacity import read_units
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.engine.values import Item, item_size
from dynastore.engine.writes import check_index_keys, storage_key, write_in
from dynastore.errors import ValidationException
from dynastore.ops.context import Request, Result, table_ref
from dynastore.ops.expressions import prepare_read
from dynastore.ops.items import check_key, check_size, key_of, table_key_schema, write_capacity
from dynastore.server.protocol import RequestContext

MAX_WRITES = 25
MAX_READS = 100
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
DUPLICATES = "Provided list of item keys contains duplicates"


def _gone(old: Item | None) -> None:
    return None


def _add_capacity(totals: dict[str, float], entry: dict[str, Any] | None) -> None:
    if entry is not None:
        totals[entry["TableName"]] = totals.get(entry["TableName"], 0.0) + entry["CapacityUnits"]


def _capacity_list(mode: str | None, totals: dict[str, float], read: bool) -> list[Any]:
    kind = "ReadCapacityUnits" if read else "WriteCapacityUnits"
    out = []
    for name, units in totals.items():
        entry: dict[str, Any] = {"TableName": name, "CapacityUnits": units, kind: units}
        if mode == "INDEXES":
            entry["Table"] = {"CapacityUnits": units, kind: units}
        out.append(entry)
    return out


def batch_write_item(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    requests: dict[str, list[dict[str, Any]]] = req["RequestItems"]
    planned: list[tuple[TableDef, Item, Item | None]] = []  # (table, key, new item or None)
    for name, entries in requests.items():
        for entry in entries:
            put, delete = entry.get("PutRequest"), entry.get("DeleteRequest")
            if (put is None) == (delete is None):
                raise ValidationException(
                    "Supplied AttributeValue has more than one datatypes set, must contain "
                    "exactly one of the supported datatypes"
                )
            if put is not None:
                attrs.validate_item(put["Item"])
            else:
                attrs.validate_item(delete["Key"])
    for name, entries in requests.items():
        table = engine.active_table(*table_ref(ctx, name))
        seen: set[bytes] = set()
        for entry in entries:
            put = entry.get("PutRequest")
            if put is not None:
                item = put["Item"]
                try:
                    attrs.validate_item_key(item, table_key_schema(table))
                except ValidationException as error:
                    raise ValidationException(
                        "The provided key element does not match the schema"
                    ) from error
                check_index_keys(table, item)
                check_size(item)
                key = key_of(table, item)
                new: Item | None = item
            else:
                key = entry["DeleteRequest"]["Key"]
                check_key(table, key)
                new = None
            encoded = storage_key(table, key)
            if encoded in seen:
                raise ValidationException(DUPLICATES)
            seen.add(encoded)
            planned.append((table, key, new))
    mode = req.get("ReturnConsumedCapacity")
    totals: dict[str, float] = {}
    with engine.backend.write() as tx:
        for table, key, new in planned:
            result = write_in(tx, table, key, _gone if new is None else _constant(new))
            _add_capacity(totals, write_capacity(req, table, result.old, result.new))
    out: dict[str, Any] = {"UnprocessedItems": {}}
    if mode in ("TOTAL", "INDEXES"):
        out["ConsumedCapacity"] = _capacity_list(mode, totals, read=False)
    if req.get("ReturnItemCollectionMetrics") == "SIZE":
        out["ItemCollectionMetrics"] = {}
    return out


def _constant(item: Item) -> Any:
    def compute(old: Item | None) -> Item:
        return item

    return compute


def batch_get_item(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    requests: dict[str, dict[str, Any]] = req["RequestItems"]
    total = 0
    plans = []
    for name, spec in requests.items():
        projection = prepare_read(engine, spec)
        seen: set[bytes] = set()
        keys = spec["Keys"]
        for key in keys:
            attrs.validate_item(key)
            marker = orjson.dumps(key, option=orjson.OPT_SORT_KEYS)
            if marker in seen:
                raise ValidationException(DUPLICATES)
            seen.add(marker)
        total += len(keys)
        if total > MAX_READS:
            raise ValidationException("Too many items requested for the BatchGetItem call")
        plans.append((name, spec, projection))
    mode = req.get("ReturnConsumedCapacity")
    responses: dict[str, list[Any]] = {}
    unprocessed: dict[str, Any] = {}
    totals: dict[str, float] = {}
    size = 0
    with engine.backend.read() as tx:
        for name, spec, projection in plans:
            table = engine.active_table(*table_ref(ctx, name))
            consistent = bool(spec.get("ConsistentRead"))
            found = responses.setdefault(name, [])
            for key in spec["Keys"]:
                check_key(table, key)
            for position, key in enumerate(spec["Keys"]):
                if size > MAX_RESPONSE_BYTES:
                    unprocessed[name] = {**spec, "Keys": spec["Keys"][position:]}
                    break
                raw = tx.get(table.space, storage_key(table, key))
                units = read_units(0, consistent)
                if raw is not None:
                    item = orjson.loads(raw)
                    units = read_units(item_size(item), consistent)
                    size += len(raw)
                    found.append(projection(item) if projection is not None else item)
                totals[name] = totals.get(name, 0.0) + units
    out: dict[str, Any] = {"Responses": responses, "UnprocessedKeys": unprocessed}
    if mode in ("TOTAL", "INDEXES"):
        out["ConsumedCapacity"] = _capacity_list(mode, totals, read=True)
    return out
