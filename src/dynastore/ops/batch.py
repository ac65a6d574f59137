"""BatchWriteItem and BatchGetItem.

A batch write applies all its requests in one storage transaction, each through the
ordinary write path (`write_in`: indexes, change log), so each item write is atomic, as
DynamoDB promises; the batch being atomic too is stronger, and cheaper here: one commit
instead of 25. Nothing is left unprocessed unless capacity throttling says so: each
write and each read reserves capacity first (engine/throttle.py), and the throttled ones
come back as UnprocessedItems / UnprocessedKeys.

A batch get reads one snapshot. Without a projection or ConsumedCapacity the stored bytes
of each item are spliced into the answer unparsed. Past 16 MB of items, the remaining keys
come back as UnprocessedKeys, as DynamoDB does.
"""

from __future__ import annotations

from typing import Any

import orjson

from dynastore.engine import attrs, expr, item_collections
from dynastore.engine.capacity import item_write_units, read_units, stored_read_units
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.engine.values import Item, item_size
from dynastore.engine.writes import (
    Compute,
    WriteResult,
    check_index_keys,
    storage_key,
    write_in,
)
from dynastore.errors import AwsError, ValidationException
from dynastore.ops.context import Request, Result, table_ref
from dynastore.ops.expressions import Projector, prepare_read
from dynastore.ops.items import (
    CapacityTotals,
    check_key,
    delete_compute,
    key_marker,
    key_of,
    put_compute,
    table_key_schema,
    write_cost,
)
from dynastore.server.protocol import RequestContext

MAX_WRITES = 25
MAX_READS = 100
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
DUPLICATES = "Provided list of item keys contains duplicates"
TOO_MANY_READS = "Too many items requested for the BatchGetItem call"
TOO_MANY_WRITES = "Too many items requested for the BatchWriteItem call"
# The write-request level of DynamoDB's AttributeValue-style check: an empty WriteRequest.
EMPTY_REQUEST = (
    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of "
    "the supported datatypes"
)
KEY_MISMATCH = "The provided key element does not match the schema"
# validate_item_key's messages that a batch reports as the key schema mismatch
_SCHEMA_MESSAGES = ("Missing the key", "Type mismatch for key")


# --- BatchWriteItem ---------------------------------------------------------------------


def _check_requests(requests: dict[str, list[dict[str, Any]]]) -> None:
    """The checks DynamoDB makes before looking at any table: the number of requests (25
    in all tables together), values and item sizes."""
    if sum(len(entries) for entries in requests.values()) > MAX_WRITES:
        raise ValidationException(TOO_MANY_WRITES)
    for entries in requests.values():
        for entry in entries:
            put, delete = entry.get("PutRequest"), entry.get("DeleteRequest")
            if (put is None) == (delete is None):
                raise ValidationException(EMPTY_REQUEST)
            if put is not None:
                attrs.validate_item(put["Item"])  # values and the 400 KB limit
            elif delete is not None:
                attrs.validate_item(delete["Key"])


def _put_key(table: TableDef, item: Item) -> Item:
    try:
        attrs.validate_item_key(item, table_key_schema(table))
    except ValidationException as error:
        if any(text in (error.message or "") for text in _SCHEMA_MESSAGES):
            raise ValidationException(KEY_MISMATCH) from error
        raise
    check_index_keys(table, item)
    return key_of(table, item)


def _plan_writes(
    engine: Engine, ctx: RequestContext, requests: dict[str, list[dict[str, Any]]]
) -> list[tuple[TableDef, Item, Compute]]:
    planned: list[tuple[TableDef, Item, Compute]] = []
    for name, entries in requests.items():
        table = engine.active_table(*table_ref(ctx, name))
        seen: set[tuple[str, ...]] = set()
        for entry in entries:
            put = entry.get("PutRequest")
            if put is not None:
                key = _put_key(table, put["Item"])
                compute = put_compute(put["Item"])
            else:
                key = entry["DeleteRequest"]["Key"]
                check_key(table, key)
                compute = delete_compute
            encoded = key_marker(table, key)
            if encoded in seen:
                raise ValidationException(DUPLICATES)
            seen.add(encoded)
            planned.append((table, key, compute))
    return planned


def _collection_metrics(
    admitted: list[tuple[TableDef, Item, Compute, float]], results: list[WriteResult]
) -> dict[str, Any]:
    """ItemCollectionMetrics: one entry per write to a table with local secondary indexes."""
    out: dict[str, list[dict[str, Any]]] = {}
    for (table, key, _, _), result in zip(admitted, results, strict=True):
        if result.collection_size is not None:
            entry = item_collections.metrics(table, key, result.collection_size)
            out.setdefault(table.name, []).append(entry)
    return out


def batch_write_item(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    requests: dict[str, list[dict[str, Any]]] = req["RequestItems"]
    _check_requests(requests)
    planned = _plan_writes(engine, ctx, requests)
    admitted, unprocessed = _admit_writes(engine, requests, planned)
    mode = req.get("ReturnConsumedCapacity")
    charge = mode in ("TOTAL", "INDEXES")
    totals = CapacityTotals()
    results = _write_all(engine, admitted)
    for (table, _, _, reserved), result in zip(admitted, results, strict=True):
        units, per_index = write_cost(table, result.old, result.new)
        engine.throttle.settle_write(table, reserved, units, per_index, result.old, result.new)
        if charge:
            totals.add(table, units, per_index)
    out: dict[str, Any] = {"UnprocessedItems": unprocessed}
    if charge:
        out["ConsumedCapacity"] = totals.entries(mode, read=False)
    if req.get("ReturnItemCollectionMetrics") == "SIZE":
        out["ItemCollectionMetrics"] = _collection_metrics(admitted, results)
    return out


def _write_all(
    engine: Engine, admitted: list[tuple[TableDef, Item, Compute, float]]
) -> list[WriteResult]:
    """Every admitted write in one storage transaction; when one fails (an item collection
    past its size limit) the batch fails whole and its reserved capacity is given back."""
    limit = engine.settings.collection_limit
    try:
        with engine.backend.write() as tx:
            return [
                write_in(tx, table, key, compute, collection_limit=limit)
                for table, key, compute, _ in admitted
            ]
    except BaseException:
        for table, _, _, reserved in admitted:
            if reserved:
                engine.throttle.settle_write(table, reserved, 0.0)
        raise


def _admit_writes(
    engine: Engine,
    requests: dict[str, list[dict[str, Any]]],
    planned: list[tuple[TableDef, Item, Compute]],
) -> tuple[list[tuple[TableDef, Item, Compute, float]], dict[str, list[dict[str, Any]]]]:
    """Reserve capacity for each write: throttled ones come back as UnprocessedItems, and
    when every one is throttled the batch fails with the throttle error, as in DynamoDB."""
    entries = [(name, entry) for name, group in requests.items() for entry in group]
    admitted: list[tuple[TableDef, Item, Compute, float]] = []
    unprocessed: dict[str, list[dict[str, Any]]] = {}
    throttled: dict[str, tuple[TableDef, AwsError]] = {}
    for (name, entry), (table, key, compute) in zip(entries, planned, strict=True):
        new, estimate = None, 1.0
        if engine.throttle.enforces(table):  # else only the per-table quota: no estimate
            new = compute(None)  # a put's item (a pure function), None for a delete
            estimate = item_write_units(new)
        outcome = engine.throttle.try_reserve_write(table, estimate, key, new)
        if isinstance(outcome, AwsError):
            unprocessed.setdefault(name, []).append(entry)
            throttled[table.name] = (table, outcome)
            continue
        admitted.append((table, key, compute, outcome))
    for table, error in throttled.values():
        engine.throttle.throttled_request(table)
        if not admitted:
            raise error
    return admitted, unprocessed


# --- BatchGetItem -----------------------------------------------------------------------


def _check_gets(
    engine: Engine, requests: dict[str, dict[str, Any]]
) -> list[tuple[str, dict[str, Any], Projector | None]]:
    """Per table, in request order: expressions, then key values, duplicates and the count."""
    _check_projection_mix(requests)
    total = 0
    plans = []
    for name, spec in requests.items():
        projection = prepare_read(engine, spec)
        seen: set[bytes] = set()
        for key in spec["Keys"]:
            attrs.validate_item(key)
            # Numbers are canonical after validation, so equal keys serialise alike.
            marker = orjson.dumps(key, option=orjson.OPT_SORT_KEYS)
            if marker in seen:
                raise ValidationException(DUPLICATES)
            seen.add(marker)
            total += 1
            if total > MAX_READS:
                raise ValidationException(TOO_MANY_READS)
        plans.append((name, spec, projection))
    return plans


def _check_projection_mix(requests: dict[str, dict[str, Any]]) -> None:
    """DynamoDB refuses ProjectionExpression and AttributesToGet in one request, even on
    two different tables."""
    used = {
        name: True
        for name in ("ProjectionExpression", "AttributesToGet")
        if any(spec.get(name) is not None for spec in requests.values())
    }
    expr.check_expression_mix(used, ("ProjectionExpression",), ("AttributesToGet",))


def batch_get_item(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    plans = _check_gets(engine, req["RequestItems"])
    tables: list[TableDef] = []
    for name, spec, _ in plans:
        table = engine.active_table(*table_ref(ctx, name))
        for key in spec["Keys"]:
            check_key(table, key)
        tables.append(table)
    mode = req.get("ReturnConsumedCapacity")
    charge = mode in ("TOTAL", "INDEXES")
    splice = not charge and all(projection is None for _, _, projection in plans)
    totals = CapacityTotals()
    found: dict[str, list[Any]] = {}
    unprocessed: dict[str, Any] = {}
    throttled: dict[str, tuple[TableDef, AwsError]] = {}
    read = 0
    size = 0
    with engine.backend.read() as tx:
        for (name, spec, projection), table in zip(plans, tables, strict=True):
            consistent = bool(spec.get("ConsistentRead"))
            items = found.setdefault(name, [])
            keys = spec["Keys"]
            left: list[Item] = []  # throttled, then those past the response size limit
            for position, key in enumerate(keys):
                if size > MAX_RESPONSE_BYTES:
                    left += keys[position:]
                    break
                reserved = engine.throttle.try_reserve_read(table, read_units(0, consistent), key)
                if isinstance(reserved, AwsError):
                    left.append(key)
                    throttled[table.name] = (table, reserved)
                    continue
                raw = tx.get(table.space, storage_key(table, key))
                read += 1
                engine.throttle.settle_read(
                    table, reserved, stored_read_units(raw, consistent), key
                )
                if raw is None:
                    if charge:
                        totals.add(table, read_units(0, consistent))
                    continue
                size += len(raw)
                if splice:
                    items.append(raw)
                    continue
                item = orjson.loads(raw)
                if charge:
                    totals.add(table, read_units(item_size(item), consistent))
                items.append(projection(item) if projection is not None else item)
            if left:
                unprocessed[name] = {**spec, "Keys": left}
    for table, error in throttled.values():
        engine.throttle.throttled_request(table)
        if not read:  # every key throttled: the whole batch fails, as in DynamoDB
            raise error
    if splice:
        return _spliced(found, unprocessed)
    out: dict[str, Any] = {"Responses": found, "UnprocessedKeys": unprocessed}
    if charge:
        out["ConsumedCapacity"] = totals.entries(mode, read=True)
    return out


def _spliced(found: dict[str, list[Any]], unprocessed: dict[str, Any]) -> bytes:
    """The answer as bytes, stored items copied in as they are."""
    tables = b",".join(
        orjson.dumps(name) + b":[" + b",".join(raws) + b"]" for name, raws in found.items()
    )
    return b'{"Responses":{' + tables + b'},"UnprocessedKeys":' + orjson.dumps(unprocessed) + b"}"
