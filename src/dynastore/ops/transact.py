"""TransactWriteItems and TransactGetItems.

A write transaction runs every action through the ordinary write path (`write_in`) inside
ONE storage transaction, and raises before commit when any action fails, so nothing of it
is ever visible. It is serializable against every other write, single-item or not: the
storage contract serialises write transactions, and the SQLite backend has one writer by
construction (BEGIN IMMEDIATE takes the one write lock; with group commit a transaction
is a savepoint on that one writer connection, and a process runs one request's write
block at a time), so no other write can interleave with a transaction's reads and
writes — DynamoDB's TransactionConflict cannot happen here. A read transaction reads one
snapshot. A rolled-back savepoint leaves the rest of a commit group untouched.

Requests are checked in DynamoDB's phases: every action's values and expressions, then
every table, then every key. A key that does not match its table's schema is not a
ValidationException but a cancellation: the first such action reports ValidationError, the
others None, and nothing runs. An Update's checks against the schema that UpdateItem makes
before reading the item (an index key given a value of another type, a key or index key
used as a map or list) cancel the same way; a type that only shows once the update is
applied is that action's ValidationError when it runs, as is an update of a key
attribute. An Update that only removes creates no item where there was none (its
condition still applies). Once running, every action is evaluated even after one
fails, so CancellationReasons lists each action's outcome in request order, as DynamoDB
does. Transactional table writes and reads
cost double; index writes cost what they cost outside a transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

import orjson

from dynastore.engine import attrs, item_collections, transactions
from dynastore.engine.capacity import consumed, read_units, write_units
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.engine.values import MAX_ITEM_SIZE, Item, item_size
from dynastore.engine.writes import Compute, WriteResult, check_index_keys, storage_key, write_in
from dynastore.errors import (
    AwsError,
    ConditionalCheckFailedException,
    ItemCollectionSizeLimitExceededException,
    TransactionCanceledException,
    ValidationException,
)
from dynastore.ops.context import Request, Result, table_ref
from dynastore.ops.expressions import (
    Check,
    PreparedWrite,
    Projector,
    UpdatedPaths,
    Updater,
    prepare_read,
    prepare_write,
)
from dynastore.ops.items import (
    CapacityTotals,
    check_key,
    delete_compute,
    key_marker,
    key_of,
    put_compute,
    table_key_schema,
    update_compute,
    write_cost,
)
from dynastore.ops.query import check_key_paths
from dynastore.ops.update_item import check_index_types, unless_missing
from dynastore.server.protocol import RequestContext
from dynastore.storage.base import WriteTx

MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
DUPLICATE_ITEM = "Transaction request cannot include multiple operations on one item"
TOO_LARGE = (
    "Collection size of items exceeded, which can also be caused by the aggregate size of "
    "the items in the transaction exceeding the 4MB limit"
)
ONE_ACTION = "TransactItems can only contain one of Check, Put, Update or Delete"
NO_ACTION = "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request"
_ACTIONS = ("ConditionCheck", "Put", "Delete", "Update")
_RESPONSE_ONLY = ("ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "ClientRequestToken")
_EXPRESSION_MEMBERS = (
    "ConditionExpression",
    "UpdateExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
)
_NOTHING = PreparedWrite(None, None)
# Key-check messages (besides KEY_SCHEMA_MISMATCH) that cancel a transaction
_SCHEMA_PROBLEMS = ("Missing the key", "Type mismatch for", "Key attributes must be scalars")
_Plan = TypeVar("_Plan")
_Checked = TypeVar("_Checked")
_THROTTLE_CODES = {
    "ProvisionedThroughputExceededException": "ProvisionedThroughputExceeded",
    "ThrottlingException": "ThrottlingError",
}


@dataclass(slots=True)
class WriteAction:
    """One planned action of a write transaction (TransactWriteItems or ExecuteTransaction).

    `compute` None is a condition check; `failure`, when set, replaces the
    ConditionalCheckFailed reason (a PartiQL INSERT of an existing key).
    """

    table: TableDef
    key: Item
    compute: Compute | None
    condition: Check | None
    return_old: bool = False
    item: Item | None = None  # a put's item
    failure: Callable[[], dict[str, Any]] | None = None
    changed: list[UpdatedPaths] = field(default_factory=list)


def check_total_size(actions: list[WriteAction]) -> None:
    """The 4 MB limit on a transaction's items (only reachable past ten 400 KB items)."""
    if len(actions) * MAX_ITEM_SIZE <= MAX_TRANSACTION_BYTES:
        return
    total = sum(item_size(a.item if a.item is not None else a.key) for a in actions)
    if total > MAX_TRANSACTION_BYTES:
        raise ValidationException(TOO_LARGE)


def prepared_write(engine: Engine, spec: Request, *, update: bool) -> PreparedWrite:
    """`prepare_write`, skipped for the common action that has no expression at all."""
    if not any(name in spec for name in _EXPRESSION_MEMBERS):
        return _NOTHING
    return prepare_write(engine, spec, update=update)


def cancelled(reasons: list[dict[str, Any]]) -> TransactionCanceledException:
    """DynamoDB's TransactionCanceledException, reasons in request order."""
    codes = ", ".join(str(reason["Code"]) for reason in reasons)
    return TransactionCanceledException(
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        CancellationReasons=reasons,
    )


def schema_problem(check: Callable[[], _Checked]) -> _Checked | str:
    """Run a key check: the message of a key-schema problem (a key attribute missing, extra
    or of the wrong type, a table or index key of the wrong type or used as a map or list),
    or what the check returns when it passes.

    A transaction reports those as its action's ValidationError; other key errors (an
    empty or oversized key value) are refused up front, so they propagate.
    """
    try:
        return check()
    except ValidationException as error:
        message = error.message or ""
        if message == attrs.KEY_SCHEMA_MISMATCH or any(p in message for p in _SCHEMA_PROBLEMS):
            return message
        raise


def validated(planned: list[_Plan | str]) -> list[_Plan]:
    """The planned actions, or the transaction cancelled at the first key-schema problem
    (a message in `planned`): DynamoDB reports that action's ValidationError and every
    other action as None, without running any of them."""
    for position, plan in enumerate(planned):
        if isinstance(plan, str):
            reasons: list[dict[str, Any]] = [{"Code": "None"} for _ in planned]
            reasons[position] = {"Code": "ValidationError", "Message": plan}
            raise cancelled(reasons)
    return [plan for plan in planned if not isinstance(plan, str)]


def check_distinct(targets: list[tuple[TableDef, Item]]) -> None:
    """Refuse two operations on one item."""
    seen: set[tuple[int, tuple[str, ...]]] = set()
    for table, key in targets:
        marker = (table.space, key_marker(table, key))
        if marker in seen:
            raise ValidationException(DUPLICATE_ITEM)
        seen.add(marker)


def _check_in(tx: WriteTx, action: WriteAction) -> WriteResult:
    """A ConditionCheck: read the item and test the condition, writing nothing."""
    raw = tx.get(action.table.space, storage_key(action.table, action.key))
    old: Item | None = orjson.loads(raw) if raw is not None else None
    if action.condition is not None and not action.condition(old):
        extras = {"Item": old} if action.return_old and old is not None else {}
        raise ConditionalCheckFailedException(None, **extras)
    return WriteResult(old, old)


def run_actions(
    tx: WriteTx, actions: list[WriteAction], collection_limit: int | None
) -> list[WriteResult]:
    """Apply every action in `tx`; raise TransactionCanceledException if any fails.

    The caller's storage transaction then rolls back, so a cancelled transaction leaves
    no trace.
    """
    reasons: list[dict[str, Any]] = []
    results: list[WriteResult] = []
    failed = False
    for action in actions:
        try:
            if action.compute is None:
                result = _check_in(tx, action)
            else:
                result = write_in(
                    tx, action.table, action.key, action.compute, action.condition,
                    action.return_old, collection_limit=collection_limit,
                )  # fmt: skip
        except ConditionalCheckFailedException as error:
            failed = True
            if action.failure is not None:
                reasons.append(action.failure())
                continue
            reason: dict[str, Any] = {
                "Code": "ConditionalCheckFailed",
                "Message": "The conditional request failed",
            }
            reason.update(error.extras)
            reasons.append(reason)
            continue
        except ValidationException as error:
            failed = True
            reasons.append({"Code": "ValidationError", "Message": error.message})
            continue
        except ItemCollectionSizeLimitExceededException:
            failed = True
            reasons.append(
                {
                    "Code": item_collections.CANCELLATION_CODE,
                    "Message": item_collections.CANCELLATION_MESSAGE,
                }
            )
            continue
        reasons.append({"Code": "None"})
        results.append(result)
    if failed:
        raise cancelled(reasons)
    return results


Cost = tuple[float, dict[str, float]]


def write_costs(actions: list[WriteAction], results: list[WriteResult]) -> list[Cost]:
    """Transactional write capacity per action: the table's units doubled, index units as
    they are outside a transaction; a check costs the item it read."""
    costs: list[Cost] = []
    for action, result in zip(actions, results, strict=True):
        if action.compute is None:
            size = item_size(result.old) if result.old is not None else 0
            costs.append((2 * write_units(size), {}))
        else:
            units, per_index = write_cost(action.table, result.old, result.new)
            costs.append((2 * units, per_index))
    return costs


def _throttle_reason(error: AwsError) -> dict[str, Any]:
    return {"Code": _THROTTLE_CODES.get(error.type_name, error.type_name), "Message": error.message}


def _admitted(
    outcomes: Iterable[tuple[TableDef, float | AwsError]],
) -> tuple[list[float], list[dict[str, Any]], dict[str, TableDef]]:
    """Capacity reservations in request order: the units each took (0 where throttled),
    the CancellationReasons, and the throttled tables by name."""
    reserved: list[float] = []
    reasons: list[dict[str, Any]] = []
    throttled: dict[str, TableDef] = {}
    for table, outcome in outcomes:
        if isinstance(outcome, AwsError):
            throttled[table.name] = table
            reasons.append(_throttle_reason(outcome))
            reserved.append(0.0)
        else:
            reasons.append({"Code": "None"})
            reserved.append(outcome)
    return reserved, reasons, throttled


def _cancel_throttled(
    engine: Engine, throttled: dict[str, TableDef], reasons: list[dict[str, Any]]
) -> NoReturn:
    for table in throttled.values():
        engine.throttle.throttled_request(table)
    raise cancelled(reasons)


def _reserve_writes(engine: Engine, actions: list[WriteAction]) -> list[float]:
    """Admit every action through capacity, or cancel the transaction (throttled actions
    report ProvisionedThroughputExceeded / ThrottlingError, in request order)."""
    reserve = engine.throttle.try_reserve_write
    reserved, reasons, throttled = _admitted(
        (action.table, reserve(action.table, 2.0, action.key, action.item)) for action in actions
    )
    if throttled:
        _release_writes(engine, actions, reserved)
        _cancel_throttled(engine, throttled, reasons)
    return reserved


def _release_writes(engine: Engine, actions: list[WriteAction], reserved: list[float]) -> None:
    for action, units in zip(actions, reserved, strict=True):
        if units:
            engine.throttle.settle_write(action.table, units, 0.0)


def execute_writes(
    engine: Engine, actions: list[WriteAction], use: transactions.TokenUse | None
) -> tuple[list[WriteResult], list[Cost], dict[str, Any] | None]:
    """Run a write transaction: capacity, one storage transaction, the client token.

    Returns each action's result and cost, or what an earlier transaction with the same
    token recorded (then nothing was written).
    """
    reserved = _reserve_writes(engine, actions)
    results: list[WriteResult] = []
    try:
        with engine.backend.write() as tx:
            now = engine.clock()
            replay = transactions.replayed(tx, use, now) if use is not None else None
            if replay is None:
                results = run_actions(tx, actions, engine.settings.collection_limit)
                if use is not None:
                    transactions.remember(tx, use, replay_record(actions, results), now)
    except BaseException:
        _release_writes(engine, actions, reserved)
        raise
    if replay is not None:
        _release_writes(engine, actions, reserved)
        return [], [], replay
    costs = write_costs(actions, results)
    for action, result, units, (cost, per_index) in zip(
        actions, results, reserved, costs, strict=True
    ):
        engine.throttle.settle_write(action.table, units, cost, per_index, result.old, result.new)
    return results, costs, None


def transactional_reads(
    engine: Engine, targets: list[tuple[TableDef, Item]], totals: CapacityTotals
) -> list[Item | None]:
    """Read items in one snapshot through capacity (two strongly consistent reads each)."""
    reserved, reasons, throttled = _admitted(
        (table, engine.throttle.try_reserve_read(table, 2 * read_units(0, True), key))
        for table, key in targets
    )
    if throttled:
        for (table, _), units in zip(targets, reserved, strict=True):
            if units:
                engine.throttle.settle_read(table, units, 0.0)
        _cancel_throttled(engine, throttled, reasons)
    # One snapshot: every read sees the same committed state (serializable with writes).
    with engine.backend.read() as tx:
        raws = [tx.get(table.space, storage_key(table, key)) for table, key in targets]
    found: list[Item | None] = []
    for (table, key), raw, units in zip(targets, raws, reserved, strict=True):
        item = orjson.loads(raw) if raw is not None else None
        cost = 2 * read_units(item_size(item) if item is not None else 0, True)
        engine.throttle.settle_read(table, units, cost, key)
        totals.add(table, cost)
        found.append(item)
    return found


def replay_record(actions: list[WriteAction], results: list[WriteResult]) -> dict[str, Any]:
    """What a retry with the same token answers: read units per table (see `replay_answer`)."""
    units: dict[str, float] = {}
    for action, result in zip(actions, results, strict=True):
        sizes = [item_size(i) for i in (result.old, result.new) if i is not None]
        name = action.table.name
        units[name] = units.get(name, 0.0) + 2 * read_units(max(sizes, default=0), True)
    return {"read": units}


def write_capacity(
    mode: str,
    actions: list[WriteAction],
    costs: list[Cost],
    replay: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """ConsumedCapacity of a write transaction, or of a replayed one (`replay`)."""
    if replay is not None:
        return _replay_capacity(mode, actions, replay)
    totals = CapacityTotals()
    for action, (units, per_index) in zip(actions, costs, strict=True):
        totals.add(action.table, units, per_index)
    return totals.entries(mode, read=False)


def _replay_capacity(
    mode: str | None, actions: list[WriteAction], replay: dict[str, Any]
) -> list[dict[str, Any]]:
    """ConsumedCapacity of a replayed transaction: the read units of reading its items."""
    out: list[dict[str, Any]] = []
    tables = {action.table.name: action.table for action in actions}
    for name, units in replay["read"].items():
        table = tables.get(name)
        entry = consumed(mode, table, units, read=True) if table is not None else None
        if entry is not None:
            out.append(entry)
    return out


def token_use(ctx: RequestContext, operation: str, req: Request) -> transactions.TokenUse | None:
    token = req.get("ClientRequestToken")
    if token is None:
        return None
    digest = transactions.fingerprint(operation, req, _RESPONSE_ONLY)
    return transactions.TokenUse(ctx.account, ctx.region, token, digest)


# --- TransactWriteItems -----------------------------------------------------------------


def _kind(entry: dict[str, Any]) -> str:
    present = [name for name in _ACTIONS if entry.get(name) is not None]
    if not present:
        raise ValidationException(NO_ACTION)
    if len(present) > 1:
        raise ValidationException(ONE_ACTION)
    return present[0]


def _prepare(engine: Engine, entry: dict[str, Any]) -> tuple[str, Request, PreparedWrite]:
    """What DynamoDB checks of an action before looking any table up: its kind, its item
    or key values (and the 400 KB limit), then its expressions."""
    kind = _kind(entry)
    spec: Request = entry[kind]
    attrs.validate_item(spec["Item" if kind == "Put" else "Key"])
    return kind, spec, prepared_write(engine, spec, update=kind == "Update")


def _check_item_keys(table: TableDef, item: Item) -> None:
    attrs.validate_item_key(item, table_key_schema(table))
    check_index_keys(table, item)


def _plan(
    engine: Engine, ctx: RequestContext, kind: str, spec: Request, prepared: PreparedWrite
) -> WriteAction | str:
    """One action as a WriteAction, or the message of its key-schema problem."""
    on_failure = spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    table = engine.active_table(*table_ref(ctx, spec["TableName"]))
    if kind == "Put":
        item: Item = spec["Item"]
        problem = schema_problem(lambda: _check_item_keys(table, item))
        if problem is not None:
            return problem
        key = key_of(table, item)
        return WriteAction(table, key, put_compute(item), prepared.condition, on_failure, item)
    key = spec["Key"]
    problem = schema_problem(lambda: check_key(table, key, values_checked=True))
    if problem is not None:
        return problem
    if kind == "ConditionCheck":
        return WriteAction(table, key, None, prepared.condition, on_failure)
    if kind == "Delete":
        return WriteAction(table, key, delete_compute, prepared.condition, on_failure)
    action = WriteAction(table, key, None, prepared.condition, on_failure)
    if not prepared.update_names.isdisjoint(table.key_names):
        # Refused when the action runs: "Cannot update attribute ... part of the key".
        action.compute = update_compute(table, key, prepared.update, action.changed)
        return action
    update = schema_problem(lambda: _checked_update(table, prepared))
    if isinstance(update, str):
        return update
    action.compute = update_compute(table, key, update, action.changed)
    if prepared.deletes_only:
        action.compute = unless_missing(action.compute)
    return action


def _checked_update(table: TableDef, prepared: PreparedWrite) -> Updater | None:
    """UpdateItem's checks of an update against the schema before the item is read: index
    key values of a type the request shows, then no key or index key used as a map or
    list. The update returned checks the other index key values once applied."""
    update = prepared.update
    if update is not None and table.indexes:
        update = check_index_types(table, prepared, update)
    if prepared.nested_paths:
        check_key_paths(table, list(prepared.nested_paths))
    return update


def _collection_metrics(
    actions: list[WriteAction], results: list[WriteResult]
) -> dict[str, list[dict[str, Any]]]:
    """ItemCollectionMetrics: one entry per write (not check) to a table with LSIs."""
    out: dict[str, list[dict[str, Any]]] = {}
    for action, result in zip(actions, results, strict=True):
        size = result.collection_size
        if action.compute is not None and size is not None:
            entry = item_collections.metrics(action.table, action.key, size)
            out.setdefault(action.table.name, []).append(entry)
    return out


def transact_write_items(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    # Every action's values and expressions, then every table, then every key.
    prepared = [_prepare(engine, entry) for entry in req["TransactItems"]]
    actions = validated([_plan(engine, ctx, *action) for action in prepared])
    check_distinct([(action.table, action.key) for action in actions])
    check_total_size(actions)
    mode = req.get("ReturnConsumedCapacity")
    metrics = req.get("ReturnItemCollectionMetrics") == "SIZE"
    use = token_use(ctx, "TransactWriteItems", req)
    out: dict[str, Any] = {}
    results, costs, replay = execute_writes(engine, actions, use)
    if mode in ("TOTAL", "INDEXES"):
        out["ConsumedCapacity"] = write_capacity(mode, actions, costs, replay)
    if metrics and replay is None:
        collected = _collection_metrics(actions, results)
        if collected:
            out["ItemCollectionMetrics"] = collected
    return out


# --- TransactGetItems -------------------------------------------------------------------


def _prepare_get(engine: Engine, spec: Request) -> Projector | None:
    attrs.validate_item(spec["Key"])
    return prepare_read(engine, spec)


def _plan_get(
    engine: Engine, ctx: RequestContext, spec: Request, projection: Projector | None
) -> tuple[TableDef, Item, Projector | None] | str:
    """One Get's table and key, or the message of its key-schema problem."""
    table = engine.active_table(*table_ref(ctx, spec["TableName"]))
    key: Item = spec["Key"]
    problem = schema_problem(lambda: check_key(table, key, values_checked=True))
    return problem if problem is not None else (table, key, projection)


def transact_get_items(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    # Every Get's key values and projection, then every table, then every key.
    specs: list[Request] = [entry["Get"] for entry in req["TransactItems"]]
    projections = [_prepare_get(engine, spec) for spec in specs]
    plans = validated(
        [
            _plan_get(engine, ctx, spec, projection)
            for spec, projection in zip(specs, projections, strict=True)
        ]
    )
    check_distinct([(table, key) for table, key, _ in plans])
    totals = CapacityTotals()
    found = transactional_reads(engine, [(table, key) for table, key, _ in plans], totals)
    # (Only reachable past ten 400 KB items.)
    if len(found) * MAX_ITEM_SIZE > MAX_TRANSACTION_BYTES and (
        sum(item_size(item) for item in found if item is not None) > MAX_TRANSACTION_BYTES
    ):
        raise ValidationException(TOO_LARGE)
    responses: list[dict[str, Any]] = []
    for (_, _, projection), item in zip(plans, found, strict=True):
        if item is None:
            responses.append({})
        else:
            responses.append({"Item": projection(item) if projection is not None else item})
    out: dict[str, Any] = {"Responses": responses}
    mode = req.get("ReturnConsumedCapacity")
    if mode in ("TOTAL", "INDEXES"):
        out["ConsumedCapacity"] = totals.entries(mode, read=True)
    return out
