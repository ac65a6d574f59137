"""ExecuteStatement, BatchExecuteStatement and ExecuteTransaction.

Statements are parsed and planned by `engine.partiql`; this module runs the plans on the
same paths as the JSON API: SELECT pages through `engine.reads` (GetItem, Query or Scan),
writes go through `engine.writes.write_in` with the statement's WHERE as the condition,
and ExecuteTransaction uses TransactWriteItems' machinery (ops/transact.py): one storage
transaction, CancellationReasons in statement order, client request tokens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson

from dynastore.engine import attrs, expr, reads
from dynastore.engine.capacity import consumed, item_write_units, read_units
from dynastore.engine.catalog import IndexDef, TableDef
from dynastore.engine.engine import Engine
from dynastore.engine.expr.resolve import java_set_order
from dynastore.engine.partiql import ast, parse
from dynastore.engine.partiql.parameters import validate_parameters
from dynastore.engine.partiql.planner import (
    PARAMETER_COUNT,
    Binder,
    ReadPlan,
    insert_item,
    only_key,
    plan_select,
    plan_write,
    projection,
)
from dynastore.engine.values import AttrValue, Item, item_size
from dynastore.engine.writes import WriteResult, check_index_keys, storage_key, write_in
from dynastore.errors import (
    AwsError,
    ConditionalCheckFailedException,
    DuplicateItemException,
    ResourceNotFoundException,
    ValidationException,
)
from dynastore.ops.context import Request, Result
from dynastore.ops.expressions import UpdatedPaths
from dynastore.ops.items import (
    CapacityTotals,
    check_key,
    delete_compute,
    key_of,
    metered_write,
    put_compute,
    table_key_schema,
    update_compute,
    write_cost,
)
from dynastore.ops.transact import (
    WriteAction,
    cancelled,
    check_distinct,
    check_total_size,
    execute_writes,
    token_use,
    transactional_reads,
    write_capacity,
)
from dynastore.server.protocol import RequestContext
from dynastore.storage.base import ReadTx, WriteTx

INVALID = "One or more parameter values were invalid: "
ON_INDEX = "This operation is not supported on an index"
INSERT_ON_INDEX = "FROM clause may only contain a single table name in data manipulation statements"
NO_INDEX = "The table does not have the specified index"
EXISTS_OUTSIDE = "EXISTS can only be used in ExecuteTransaction write requests."
BATCH_MIXED = "Read and write requests together in the same batch is not supported."
BATCH_KEY = "Select statements within BatchExecuteStatement must specify the primary key in the where clause."  # noqa: E501
TX_MIXED = (
    "ExecuteTransaction API does not support both read and write operations in the same request."
)
TX_KEY = (
    "Select statements within ExecuteTransaction must specify the primary key in the where clause."
)
TX_INDEX = "Reads on indices are not supported within transactions."
TX_RETURNING = "RETURNING clause is not supported in ExecuteTransaction."
KEY_MISMATCH = "The provided key element does not match the schema"
GSI_CONSISTENT = "Strongly consistent read is not supported on Global Secondary Indexes"
INVALID_TOKEN = "Invalid NextToken"
TOKEN_MISMATCH = "NextToken does not match request"
DUPLICATE_KEY = "Duplicate primary key exists in table"
# Key problems a transaction reports as a cancellation reason rather than an error.
_KEY_PROBLEMS = (
    "Where clause does not contain a mandatory equality",
    "Multiple conditions on same key",
    KEY_MISMATCH,
)
_INSERT_KEY_PROBLEMS = ("Missing the key", "Type mismatch for key")
_BATCH_CODES = {
    "ValidationException": "ValidationError",
    "ConditionalCheckFailedException": "ConditionalCheckFailed",
    "DuplicateItemException": "DuplicateItem",
    "ResourceNotFoundException": "ResourceNotFound",
    "ItemCollectionSizeLimitExceededException": "ItemCollectionSizeLimitExceeded",
    "ProvisionedThroughputExceededException": "ProvisionedThroughputExceeded",
    "TransactionConflictException": "TransactionConflict",
    "ThrottlingException": "ThrottlingError",
    "RequestLimitExceeded": "RequestLimitExceeded",
    "AccessDeniedException": "AccessDenied",
}


# --- shared steps ------------------------------------------------------------------------


def _bind(parsed: ast.Parsed, parameters: list[AttrValue]) -> Binder:
    if parsed.parameters > len(parameters):  # extra parameters are ignored, as DynamoDB does
        raise ValidationException(PARAMETER_COUNT)
    return Binder(parameters)


def _table(engine: Engine, ctx: RequestContext, source: ast.Source) -> TableDef:
    return engine.active_table(ctx.account, ctx.region, source.table)


def _index(table: TableDef, source: ast.Source) -> IndexDef | None:
    if source.index is None:
        return None
    index = table.index(source.index)
    if index is None:
        raise ValidationException(NO_INDEX)  # unlike Query's, the message names no index
    return index


def _check_write_source(statement: ast.Statement) -> None:
    source = _source(statement)
    if source.index is not None:
        raise ValidationException(
            INSERT_ON_INDEX if isinstance(statement, ast.Insert) else ON_INDEX
        )


def _source(statement: ast.Statement) -> ast.Source:
    return statement.select.source if isinstance(statement, ast.Exists) else statement.source


@dataclass(slots=True)
class _Write:
    """A planned write statement: the write path's action, and what it answers."""

    action: WriteAction
    kind: str
    returning: str | None = None


def _plan_write(
    binder: Binder, statement: ast.Statement, table: TableDef, on_failure: bool
) -> _Write:
    """Turn INSERT / UPDATE / DELETE / EXISTS into a WriteAction on the write path."""
    if isinstance(statement, ast.Insert):
        item = attrs.validate_item(insert_item(binder, statement))
        attrs.validate_item_key(item, table_key_schema(table))
        check_index_keys(table, item)
        action = WriteAction(table, key_of(table, item), put_compute(item), _absent, item=item)
        action.failure = _duplicate_reason
        return _Write(action, "INSERT")
    plan = plan_write(binder, statement, table)
    check_key(table, plan.key)
    node = plan.condition
    if plan.kind == "UPDATE":
        assert plan.update is not None
        update = plan.update

        def updater(item: Item) -> tuple[Item, UpdatedPaths]:
            new, paths = expr.apply_update(update, item)
            return new, UpdatedPaths(tuple(paths))

        action = WriteAction(table, plan.key, None, _present(node), on_failure)
        action.compute = update_compute(table, plan.key, updater, action.changed)
        return _Write(action, "UPDATE", plan.returning)
    if plan.kind == "DELETE":
        action = WriteAction(table, plan.key, delete_compute, _missing_or(node), on_failure)
        return _Write(action, "DELETE", plan.returning)
    return _Write(WriteAction(table, plan.key, None, _present(node), on_failure), "EXISTS")


def _absent(old: Item | None) -> bool:
    return old is None


def _duplicate_reason() -> dict[str, Any]:
    return {"Code": "ValidationError", "Message": DUPLICATE_KEY}


def _present(node: expr.Condition | None) -> Callable[[Item | None], bool]:
    """UPDATE / EXISTS: the item must exist and match the WHERE."""

    def check(old: Item | None) -> bool:
        return old is not None and (node is None or expr.evaluate(node, old))

    return check


def _missing_or(node: expr.Condition | None) -> Callable[[Item | None], bool]:
    """DELETE: a missing item is a no-op; an existing one must match the WHERE."""

    def check(old: Item | None) -> bool:
        return old is None or node is None or expr.evaluate(node, old)

    return check


def _returned(write: _Write, result: WriteResult) -> list[Item]:
    """The Items of a write's RETURNING clause."""
    returning = write.returning
    if returning is None:
        return []
    if returning == "ALL OLD":
        chosen = result.old
    elif returning == "ALL NEW":
        chosen = result.new
    else:
        source = result.old if returning == "MODIFIED OLD" else result.new
        changed = write.action.changed
        chosen = changed[0].project(source) if changed and source is not None else None
    return [chosen] if chosen else []


def _error_entry(error: AwsError) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Code": _BATCH_CODES.get(error.type_name, error.type_name),
        "Message": error.message,
    }
    if "Item" in error.extras:
        entry["Item"] = error.extras["Item"]
    return entry


# --- SELECT --------------------------------------------------------------------------------


def _projector(plan: ReadPlan) -> Callable[[Item], Item] | None:
    paths = plan.projection
    return None if paths is None else partial(_project, paths)


def _project(paths: tuple[tuple[str, expr.Path], ...], item: Item) -> Item:
    """`item` with the attributes at `paths`, each under its label."""
    out: Item = {}
    for label, path in paths:
        value = expr.get_path(item, path)
        if value is not None:
            out[label] = value
    return out


def _check_index_attributes(plan: ReadPlan) -> None:
    """What a secondary index cannot answer: a GSI refuses a projection of attributes it
    does not hold; a read keyed on the index partition refuses a filter on them (an unkeyed
    read is a scan of the index entries, where such attributes are missing)."""
    index = plan.index
    projected = None if index is None else reads.Source(plan.table, index).projected()
    if index is None or projected is None:
        return
    if index.kind == "GSI" and plan.projection is not None:
        names = dict.fromkeys(str(path.elements[0]) for _, path in plan.projection)
        absent = [name for name in names if name not in projected]
        if absent:
            raise ValidationException(
                f"{INVALID}Global secondary index {index.name} does not project "
                f"[{', '.join(absent)}]"
            )
    if plan.partitions and plan.filter is not None:
        missing = [name for name in expr.top_level_names(plan.filter) if name not in projected]
        if missing:
            names_text = ", ".join(java_set_order(missing, len(missing)))
            raise ValidationException(
                f"{INVALID}Secondary index {index.name} does not project one or more filter "
                f"attributes: [{names_text}]"
            )


class _ReachBack:
    """Reads the table item behind an LSI entry, for projected attributes the index does
    not hold; each read is charged on its own item's size, as DynamoDB does."""

    def __init__(self, table: TableDef, consistent: bool) -> None:
        self.table = table
        self.consistent = consistent
        self.units = 0.0

    def __call__(self, tx: ReadTx, entry: Item) -> bytes | None:
        raw = tx.get(self.table.space, storage_key(self.table, entry))
        if raw is not None:
            self.units += read_units(item_size(orjson.loads(raw)), self.consistent)
        return raw


def _reach_back(plan: ReadPlan, consistent: bool) -> _ReachBack | None:
    """The table reads an LSI SELECT needs: when it projects attributes the index lacks."""
    index, table = plan.index, plan.table
    if index is None or index.kind != "LSI" or plan.projection is None:
        return None
    projected = reads.Source(table, index).projected()
    if projected is None:
        return None
    if all(str(path.elements[0]) in projected for _, path in plan.projection):
        return None
    return _ReachBack(table, consistent)


def _digest(req: Request) -> str:
    data = orjson.dumps([req["Statement"], req.get("Parameters")], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(data).hexdigest()[:32]


def _next_token(digest: str, position: int, key: Item | None) -> str:
    data = orjson.dumps({"d": digest, "p": position, "k": key})
    return base64.urlsafe_b64encode(data).decode()


def _resume(token: str | None, digest: str) -> tuple[int, Item | None]:
    if token is None:
        return 0, None
    try:
        state = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        position, key, seen = int(state["p"]), state["k"], state["d"]
    except (binascii.Error, ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise ValidationException(INVALID_TOKEN) from None
    if seen != digest:
        raise ValidationException(TOKEN_MISMATCH)
    return position, key


@dataclass(slots=True)
class _Pages:
    """What a SELECT read: answered items (JSON bytes), capacity units, where it stopped."""

    items: list[bytes]
    table_units: float = 0.0
    index_units: float = 0.0
    next_state: tuple[int, Item | None] | None = None


def _run_select(
    engine: Engine, plan: ReadPlan, req: Request, start: tuple[int, Item | None]
) -> _Pages:
    consistent = bool(req.get("ConsistentRead"))
    measure = req.get("ReturnConsumedCapacity") in ("TOTAL", "INDEXES")
    limit: int | None = req.get("Limit")
    node = plan.filter
    fetch = _reach_back(plan, consistent)
    keep: Callable[[Item], bool] | None = None
    if node is not None:
        # The filter sees the index entry even when the item was read back from the table.
        held = reads.Source(plan.table, plan.index).projected() if fetch is not None else None

        def keep(item: Item) -> bool:
            if held is not None:
                item = {name: value for name, value in item.items() if name in held}
            return expr.evaluate(node, item)

    project = _projector(plan)
    source = reads.Source(plan.table, plan.index)
    out = _Pages([])
    position, after = start
    if not plan.partitions:
        begin, end = reads.scan_range(None, None)
        ranges = [(0, begin, end)]
    else:
        ranges = [(i, b"", None) for i in range(position, len(plan.partitions))]
    evaluated = 0
    for number, (index, begin, end) in enumerate(ranges):
        remaining = None if limit is None else limit - evaluated
        if remaining == 0:
            out.next_state = (index, None)
            break
        if plan.get:
            evaluated += 1
            _get_one(engine, plan, plan.partitions[index], keep, project, consistent, out)
            continue
        if plan.partitions:
            begin, end = reads.query_range(source, plan.key_condition(plan.partitions[index]))
        if number == 0 and after is not None:
            begin, end = reads.resume(begin, end, source.encode_start(after), plan.descending)
        page_plan = reads.Plan(source.space, begin, end, plan.descending, remaining)
        page_plan.filter, page_plan.project, page_plan.measure = keep, project, measure
        page_plan.fetch = fetch
        page = reads.read_page(engine.backend, page_plan)
        evaluated += page.scanned
        out.items.extend(page.items)
        if plan.index is None:
            out.table_units += read_units(page.read_size, consistent)
        else:
            out.index_units += read_units(page.read_size, consistent)
        if page.last_key is not None:
            out.next_state = (index, source.decode(page.last_key))
            break
    if fetch is not None:
        out.table_units += fetch.units
    return out


def _get_one(
    engine: Engine,
    plan: ReadPlan,
    partition: AttrValue,
    keep: Callable[[Item], bool] | None,
    project: Callable[[Item], Item] | None,
    consistent: bool,
    out: _Pages,
) -> None:
    """One GetItem of a SELECT that fixes the whole key."""
    table = plan.table
    raw = engine.backend.get(table.space, storage_key(table, plan.get_key(partition)))
    if raw is None:
        out.table_units += read_units(0, consistent)
        return
    item = orjson.loads(raw)
    out.table_units += read_units(item_size(item), consistent)
    if keep is None or keep(item):
        out.items.append(raw if project is None else orjson.dumps(project(item)))


def _select(
    engine: Engine, binder: Binder, select: ast.Select, table: TableDef, req: Request
) -> bytes:
    index = _index(table, select.source)
    if req.get("ConsistentRead") and index is not None and index.kind == "GSI":
        raise ValidationException(GSI_CONSISTENT)
    plan = plan_select(binder, select, table, index)
    _check_index_attributes(plan)
    digest = _digest(req)
    start = _resume(req.get("NextToken"), digest)
    consistent = bool(req.get("ConsistentRead"))
    at = index.name if index is not None else None
    reserved = engine.throttle.reserve_read(table, read_units(0, consistent), None, at)
    pages = _run_select(engine, plan, req, start)
    if index is None:
        engine.throttle.settle_read(table, reserved, pages.table_units)
    else:
        engine.throttle.settle_read(table, reserved, pages.index_units, None, at)
        if pages.table_units:
            engine.throttle.settle_read(table, 0.0, pages.table_units)
    parts = [b'{"Items":[', b",".join(pages.items), b"]"]
    if pages.next_state is not None:
        position, key = pages.next_state
        parts += [b',"NextToken":', orjson.dumps(_next_token(digest, position, key))]
        if key is not None:
            parts += [b',"LastEvaluatedKey":', orjson.dumps(key)]
    mode = req.get("ReturnConsumedCapacity")
    if mode in ("TOTAL", "INDEXES"):
        per_index = {index.name: pages.index_units} if index is not None else None
        capacity = consumed(mode, table, pages.table_units, read=True, index_units=per_index)
        parts += [b',"ConsumedCapacity":', orjson.dumps(capacity)]
    parts.append(b"}")
    return b"".join(parts)


# --- ExecuteStatement ----------------------------------------------------------------------


def execute_statement(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    parameters = validate_parameters(req.get("Parameters"))
    parsed = parse(req["Statement"])
    statement = parsed.statement
    if isinstance(statement, ast.Exists):
        raise ValidationException(EXISTS_OUTSIDE)
    binder = _bind(parsed, parameters)
    if isinstance(statement, ast.Select):
        return _select(engine, binder, statement, _table(engine, ctx, statement.source), req)
    _check_write_source(statement)
    table = _table(engine, ctx, _source(statement))
    on_failure = req.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    write = _plan_write(binder, statement, table, on_failure)
    action = write.action
    assert action.compute is not None
    estimate = item_write_units(action.item) if action.item is not None else 1.0
    try:
        result, (units, per_index) = metered_write(
            engine, table, action.key, action.compute, action.condition, on_failure,
            estimate, action.item,
        )  # fmt: skip
    except ConditionalCheckFailedException:
        if write.kind == "INSERT":
            raise DuplicateItemException() from None
        raise
    out: dict[str, Any] = {"Items": _returned(write, result)}
    mode = req.get("ReturnConsumedCapacity")
    if mode in ("TOTAL", "INDEXES"):
        out["ConsumedCapacity"] = consumed(mode, table, units, read=False, index_units=per_index)
    return out


# --- BatchExecuteStatement -----------------------------------------------------------------


@dataclass(slots=True)
class _Member:
    """One statement of a batch, parsed (or the error that stopped it)."""

    request: Request
    statement: ast.Statement | None = None
    binder: Binder | None = None
    error: dict[str, Any] | None = None


def _batch_members(statements: list[Request]) -> tuple[list[_Member], bool]:
    members: list[_Member] = []
    reading: bool | None = None
    for request in statements:
        member = _Member(request)
        members.append(member)
        try:
            parameters = validate_parameters(request.get("Parameters"))
            parsed = parse(request["Statement"])
            if isinstance(parsed.statement, ast.Exists):
                raise ValidationException(EXISTS_OUTSIDE)
            member.binder = _bind(parsed, parameters)
        except ValidationException as error:
            member.error = {"Error": _error_entry(error)}
            continue
        member.statement = parsed.statement
        is_read = isinstance(parsed.statement, ast.Select)
        if reading is None:
            reading = is_read
        elif reading != is_read:
            raise ValidationException(BATCH_MIXED)
    return members, bool(reading)


def batch_execute_statement(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    members, reading = _batch_members(req["Statements"])
    totals = CapacityTotals()
    if reading:
        with engine.backend.read() as tx:
            responses = _answers(members, lambda m: _batch_read(engine, ctx, tx, m, totals))
    else:
        # One storage transaction: a statement that fails raises before writing anything.
        with engine.backend.write() as wtx:
            responses = _answers(members, lambda m: _batch_update(engine, ctx, wtx, m, totals))
    return _responses(req, responses, totals, reading)


def _responses(
    req: Request, responses: list[dict[str, Any]], totals: CapacityTotals, read: bool
) -> Result:
    """`responses` as the answer, with their ConsumedCapacity when the request asks for it."""
    out: dict[str, Any] = {"Responses": responses}
    mode = req.get("ReturnConsumedCapacity")
    if mode in ("TOTAL", "INDEXES"):
        out["ConsumedCapacity"] = totals.entries(mode, read=read)
    return out


def _answers(
    members: list[_Member], answer: Callable[[_Member], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each member's response, in order: its parse error, or `answer(member)`."""
    return [answer(member) if member.error is None else member.error for member in members]


def _failed(error: AwsError, name: str) -> dict[str, Any]:
    """The response of a batch statement on table `name` that failed alone."""
    return {"Error": _error_entry(error), "TableName": name}


def _batch_read(
    engine: Engine, ctx: RequestContext, tx: ReadTx, member: _Member, totals: CapacityTotals
) -> dict[str, Any]:
    """One SELECT of a batch: a GetItem by the full primary key."""
    select = member.statement
    assert isinstance(select, ast.Select) and member.binder is not None
    name = select.source.table
    try:
        table = _table(engine, ctx, select.source)
        key = only_key(member.binder, table, select.where)
        if select.source.index is not None or key is None:
            raise ValidationException(BATCH_KEY)
        check_key(table, key)
        paths = projection(select.projection)
    except AwsError as error:
        return _failed(error, name)
    consistent = bool(member.request.get("ConsistentRead"))
    reserved = engine.throttle.try_reserve_read(table, read_units(0, consistent), key)
    if isinstance(reserved, AwsError):
        engine.throttle.throttled_request(table)
        return _failed(reserved, name)
    raw = tx.get(table.space, storage_key(table, key))
    entry: dict[str, Any] = {"TableName": name}
    item = orjson.loads(raw) if raw is not None else None
    units = read_units(item_size(item) if item is not None else 0, consistent)
    engine.throttle.settle_read(table, reserved, units, key)
    totals.add(table, units)
    if item is not None:
        entry["Item"] = _project_item(item, paths)
    return entry


def _project_item(item: Item, paths: tuple[tuple[str, expr.Path], ...] | None) -> Item:
    return item if paths is None else _project(paths, item)


def _batch_update(
    engine: Engine, ctx: RequestContext, tx: WriteTx, member: _Member, totals: CapacityTotals
) -> dict[str, Any]:
    """One write statement of a batch (INSERT, UPDATE or DELETE)."""
    statement = member.statement
    assert statement is not None and member.binder is not None
    name = _source(statement).table
    on_failure = member.request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    try:
        _check_write_source(statement)
        table = _table(engine, ctx, _source(statement))
        write = _plan_write(member.binder, statement, table, on_failure)
        result = _batch_write(engine, tx, write, on_failure)
    except AwsError as error:
        return _failed(error, name)
    units, per_index = write_cost(table, result.old, result.new)
    totals.add(table, units, per_index)
    entry: dict[str, Any] = {"TableName": name}
    returned = _returned(write, result)  # a RETURNING clause answers in the entry's Item
    if returned:
        entry["Item"] = returned[0]
    return entry


def _batch_write(engine: Engine, tx: WriteTx, write: _Write, on_failure: bool) -> WriteResult:
    """One statement of a batch inside the batch's storage transaction, through capacity
    (a throttled statement fails alone; it raises before writing anything)."""
    action, table = write.action, write.action.table
    assert action.compute is not None
    estimate = item_write_units(action.item) if action.item is not None else 1.0
    reserved = engine.throttle.try_reserve_write(table, estimate, action.key, action.item)
    if isinstance(reserved, AwsError):
        engine.throttle.throttled_request(table)
        raise reserved
    try:
        result = write_in(
            tx, table, action.key, action.compute, action.condition, on_failure,
            collection_limit=engine.settings.collection_limit,
        )  # fmt: skip
    except ConditionalCheckFailedException:
        engine.throttle.settle_write(table, reserved, estimate)  # a failed check costs too
        if write.kind == "INSERT":
            raise DuplicateItemException() from None
        raise
    except AwsError:
        engine.throttle.settle_write(table, reserved, 0.0)
        raise
    units, per_index = write_cost(table, result.old, result.new)
    engine.throttle.settle_write(table, reserved, units, per_index, result.old, result.new)
    return result


# --- ExecuteTransaction --------------------------------------------------------------------


# A transaction's statements as parsed: (statement, its parameters, its request member).
_Statements = list[tuple[ast.Statement, Binder, Request]]


def _failed_in(position: int, error: ValidationException) -> ValidationException:
    return ValidationException(
        f"Validation failed in TransactStatements[{position}]: {error.message}"
    )


def _transaction_table(
    engine: Engine, ctx: RequestContext, source: ast.Source, reasons: list[dict[str, Any]]
) -> TableDef | None:
    """A statement's table, or None when there is none (its cancellation reason added)."""
    try:
        return _table(engine, ctx, source)
    except ResourceNotFoundException as error:
        reasons.append({"Code": "ResourceNotFound", "Message": error.message})
        return None


def execute_transaction(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    statements: list[Request] = req["TransactStatements"]
    parsed: _Statements = []
    reading: bool | None = None
    for position, request in enumerate(statements):
        parameters = validate_parameters(request.get("Parameters"))
        try:
            tree = parse(request["Statement"])
            binder = _bind(tree, parameters)
        except ValidationException as error:
            raise _failed_in(position, error) from None
        statement = tree.statement
        is_read = isinstance(statement, ast.Select)
        if reading is None:
            reading = is_read
        elif reading != is_read:
            raise ValidationException(TX_MIXED)
        if isinstance(statement, ast.Update | ast.Delete) and statement.returning is not None:
            raise _failed_in(position, ValidationException(TX_RETURNING))
        parsed.append((statement, binder, request))
    if reading:
        return _transact_reads(engine, ctx, req, parsed)
    return _transact_writes(engine, ctx, req, parsed)


def _transact_reads(
    engine: Engine, ctx: RequestContext, req: Request, parsed: _Statements
) -> Result:
    reasons: list[dict[str, Any]] = []
    gets: list[tuple[TableDef, Item, tuple[tuple[str, expr.Path], ...] | None]] = []
    failed = False
    for position, (statement, binder, _) in enumerate(parsed):
        assert isinstance(statement, ast.Select)
        table = _transaction_table(engine, ctx, statement.source, reasons)
        if table is None:
            failed = True
            continue
        try:
            if statement.source.index is not None:
                raise ValidationException(TX_INDEX)
            key = only_key(binder, table, statement.where)
            if key is None:
                raise ValidationException(TX_KEY)
            paths = projection(statement.projection)
        except ValidationException as error:
            raise _failed_in(position, error) from None
        try:
            check_key(table, key)
        except ValidationException as error:
            failed = True
            reasons.append({"Code": "ValidationError", "Message": error.message})
            continue
        reasons.append({"Code": "None"})
        gets.append((table, key, paths))
    if failed:
        raise cancelled(reasons)
    check_distinct([(table, key) for table, key, _ in gets])
    totals = CapacityTotals()
    found = transactional_reads(engine, [(table, key) for table, key, _ in gets], totals)
    responses: list[dict[str, Any]] = []
    for (_, _, paths), item in zip(gets, found, strict=True):
        responses.append({"Item": _project_item(item, paths)} if item is not None else {})
    return _responses(req, responses, totals, True)


def _transact_writes(
    engine: Engine, ctx: RequestContext, req: Request, parsed: _Statements
) -> Result:
    reasons: list[dict[str, Any]] = []
    actions: list[WriteAction] = []
    failed = False
    for position, (statement, binder, request) in enumerate(parsed):
        table = _transaction_table(engine, ctx, _source(statement), reasons)
        if table is None:
            failed = True
            continue
        on_failure = request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
        insert = isinstance(statement, ast.Insert)
        try:
            _check_write_source(statement)
            write = _plan_write(binder, statement, table, on_failure)
        except ValidationException as error:
            message = error.message or ""
            if insert and any(problem in message for problem in _INSERT_KEY_PROBLEMS):
                failed = True
                reasons.append({"Code": "ValidationError", "Message": message})
                continue
            if not insert and any(problem in message for problem in _KEY_PROBLEMS):
                failed = True
                reasons.append({"Code": "ValidationError", "Message": KEY_MISMATCH})
                continue
            raise _failed_in(position, error) from None
        reasons.append({"Code": "None"})
        actions.append(write.action)
    if failed:
        raise cancelled(reasons)
    check_distinct([(action.table, action.key) for action in actions])
    check_total_size(actions)
    use = token_use(ctx, "ExecuteTransaction", req)
    _, costs, replay = execute_writes(engine, actions, use)
    out: dict[str, Any] = {"Responses": []}
    mode = req.get("ReturnConsumedCapacity")
    if mode in ("TOTAL", "INDEXES"):
        out["ConsumedCapacity"] = write_capacity(mode, actions, costs, replay)
    return out
