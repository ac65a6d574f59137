"""Query, and the request handling it shares with Scan (Select, start keys, pages).

Checks run in DynamoDB's order: Select's combination rules (part of its validation
pass), the expression/legacy mix and the legacy parameters, ConditionalOperator's need
for a legacy filter of two or more conditions, ExclusiveStartKey's values,
the expressions, the key condition's structure; then the table, the index, and for each
key attribute the start key and the key condition against the schema; then the start
key's table key and its place in the queried range; then the key attributes the
projection and filter may not use.
"""

from __future__ import annotations

import re

from dynastore.engine import attrs, expr, keys
from dynastore.engine.capacity import consumed, read_units
from dynastore.engine.catalog import KeyAttr, TableDef
from dynastore.engine.engine import Engine
from dynastore.engine.expr import KeyCondition, SortCondition
from dynastore.engine.indexes import is_backfilling
from dynastore.engine.reads import Plan, Source, page_body, query_range, read_page, resume
from dynastore.engine.values import AttrValue, Item, binary_bytes, compare, value_type
from dynastore.engine.writes import storage_key
from dynastore.errors import AwsError, ValidationException
from dynastore.ops.context import Request, Result
from dynastore.ops.expressions import PreparedSearch, prepare_search
from dynastore.ops.items import item_table
from dynastore.server.protocol import RequestContext
from dynastore.storage.base import ReadTx

START_INVALID = "The provided starting key is invalid"
NO_KEY_CONDITION = (
    "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
)
# Value errors DynamoDB reports without the "starting key is invalid" preamble.
_UNPREFIXED = re.compile(
    r"contains duplicates|number set|numeric value|converted into a number|significant digits"
    r"|number with magnitude"
)
_SELECT_LABELS = {
    "ALL_ATTRIBUTES": "ALL_ATTRIBUTES",
    "ALL_PROJECTED_ATTRIBUTES": "ALL_PROJECTED_ATTRIBUTES",
    "COUNT": "only the Count",
}
_STRUCTURE_PROBE = "\x00"  # a key name no condition can use: see check_key_structure


# --- request checks shared with Scan ---------------------------------------------------


def check_select(req: Request, prefix: str) -> None:
    """Select's combinations with projections and indexes (Query words them as its
    validation pass does, `prefix` "1 validation error detected: "; Scan bare)."""
    select = req.get("Select")
    if select is None:
        return
    projection = (
        "ProjectionExpression"
        if req.get("ProjectionExpression") is not None
        else "AttributesToGet"
        if req.get("AttributesToGet") is not None
        else None
    )
    if select == "SPECIFIC_ATTRIBUTES" and projection is None:
        raise ValidationException(
            prefix + "Must specify the AttributesToGet or ProjectionExpression when choosing "
            "to get SPECIFIC_ATTRIBUTES"
        )
    if select in _SELECT_LABELS and projection is not None:
        raise ValidationException(
            f"{prefix}Cannot specify the {projection} when choosing to get {_SELECT_LABELS[select]}"
        )
    if select == "ALL_PROJECTED_ATTRIBUTES" and req.get("IndexName") is None:
        raise ValidationException(
            prefix + "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
        )


def check_conditional_operator(req: Request, parameter: str) -> None:
    """ConditionalOperator joins the conditions of a legacy parameter (QueryFilter,
    ScanFilter or Expected, named by `parameter`): it needs one with two or more."""
    if req.get("ConditionalOperator") is None:
        return
    conditions = req.get(parameter)
    if not conditions:
        raise ValidationException("ConditionalOperator cannot be used without Filter or Expected")
    if len(conditions) < 2:
        raise ValidationException(
            "ConditionalOperator can only be used when Filter or Expected has two or more elements"
        )


def check_start_values(start: Item | None) -> None:
    """ExclusiveStartKey's values must be valid AttributeValues."""
    for value in (start or {}).values():
        try:
            attrs.validate_value(value)
        except ValidationException as error:
            message = error.message or ""
            if _UNPREFIXED.search(message):
                raise
            raise ValidationException(f"{START_INVALID}: {message}") from None


def source_of(table: TableDef, req: Request) -> Source:
    """The table or the named index, refusing what DynamoDB refuses about the index."""
    name = req.get("IndexName")
    if name is None:
        return Source(table)
    index = table.index(name)
    if index is None:
        raise ValidationException(f"The table does not have the specified index: {name}")
    if index.kind == "GSI":
        if req.get("ConsistentRead"):
            raise ValidationException(
                "Consistent reads are not supported on global secondary indexes"
            )
        if is_backfilling(table, name):
            raise ValidationException(
                f"Cannot read from backfilling global secondary index: {name}"
            )
    return Source(table, index)


def start_piece(start: Item, attr: KeyAttr, is_hash: bool) -> AttrValue:
    """One key attribute of an ExclusiveStartKey, checked against its schema type."""
    value = start.get(attr.name)
    if value is None:
        raise ValidationException(START_INVALID)
    if attr.type not in value:
        raise ValidationException(attrs.KEY_SCHEMA_MISMATCH)
    raw = value[attr.type]
    if attr.type != "N":
        if not raw:
            kind = "string" if attr.type == "S" else "binary"
            raise ValidationException(
                "One or more parameter values are not valid. The AttributeValue for a key "
                f"attribute cannot contain an empty {kind} value. Key: {attr.name}"
            )
        size = len(raw.encode()) if attr.type == "S" else len(binary_bytes(raw))
        if size > (attrs.MAX_HASH_KEY_BYTES if is_hash else attrs.MAX_RANGE_KEY_BYTES):
            raise ValidationException(
                attrs.HASH_KEY_TOO_LARGE if is_hash else attrs.RANGE_KEY_TOO_LARGE
            )
    return value


def check_start_table_key(table: TableDef, start: Item) -> None:
    """The table key inside an ExclusiveStartKey, reported with the preamble."""
    schema = [(table.pk, True)] + ([(table.sk, False)] if table.sk is not None else [])
    for attr, is_hash in schema:
        try:
            if attr.name not in start:
                raise ValidationException(attrs.KEY_SCHEMA_MISMATCH)
            start_piece(start, attr, is_hash)
        except ValidationException as error:
            raise ValidationException(f"{START_INVALID}: {error.message}") from None


def check_key_paths(table: TableDef, paths: list[expr.Path]) -> None:
    """Key attributes may not be used as maps or lists in projections and filters."""
    nested = {p.elements[0] for p in paths if len(p.elements) > 1}
    if not nested:
        return
    for name in table.key_names:
        if name in nested:
            raise _not_scalar(f"Key: {name}")
    for index in table.indexes:
        for attr in (index.pk, index.sk):
            if attr is not None and attr.name in nested:
                raise _not_scalar(f"IndexKey: {attr.name}")


def _not_scalar(which: str) -> ValidationException:
    return ValidationException(
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
        f"allowed: {which}"
    )


def expression_paths(prepared: PreparedSearch) -> tuple[list[expr.Path], list[expr.Path]]:
    """The document paths of the projection and of the filter."""
    projection = list(prepared.projection.paths) if prepared.projection else []
    filter_paths = list(expr.iter_paths(prepared.filter)) if prepared.filter else []
    return projection, filter_paths


def check_all_attributes(source: Source, req: Request) -> None:
    index = source.index
    if (
        req.get("Select") == "ALL_ATTRIBUTES"
        and index is not None
        and index.kind == "GSI"
        and index.projection != "ALL"
    ):
        raise ValidationException(
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
            f"supported for global secondary index {index.name} because its projection type "
            "is not ALL"
        )


def build_plan(
    source: Source,
    req: Request,
    prepared: PreparedSearch,
    start: bytes,
    end: bytes | None,
    reverse: bool = False,
) -> Plan:
    """The page read of a Query or Scan: its filter, projection and Select."""
    select = req.get("Select")
    node = prepared.filter
    paths = prepared.projection
    table = source.table
    plan = Plan(source.space, start, end, reverse, req.get("Limit"))
    plan.count_only = select == "COUNT"
    if node is not None:
        plan.filter = lambda item: expr.evaluate(node, item)
    if paths is not None and not plan.count_only:
        plan.project = lambda item: expr.project(item, paths)
    projected = source.projected()
    if projected is not None and source.index is not None and source.index.kind == "LSI":
        # An LSI answers attributes it does not hold from the table, as DynamoDB does.
        wanted = set(expr.top_level_names(paths)) if paths is not None else set()
        if node is not None:
            wanted.update(expr.top_level_names(node))
        if select == "ALL_ATTRIBUTES" or not wanted <= projected:

            def fetch(tx: ReadTx, entry: Item) -> bytes | None:
                return tx.get(table.space, storage_key(table, entry))

            plan.fetch = fetch
            if select != "ALL_ATTRIBUTES" and plan.project is None and not plan.count_only:
                # Fetched for the filter only: the answer keeps to what the index projects.
                kept = projected
                plan.project = lambda item: {k: v for k, v in item.items() if k in kept}
    return plan


def _gsi_name(source: Source) -> str | None:
    """The index whose own capacity a read uses (an LSI shares its table's)."""
    index = source.index
    return index.name if index is not None and index.kind == "GSI" else None


def run(engine: Engine, req: Request, source: Source, plan: Plan, key: Item | None = None) -> bytes:
    """Admit the read (throttling), read the page, charge its capacity, answer.

    `key` is the queried partition, for Contributor Insights; sizes are measured exactly
    when the capacity is answered or enforced, else estimated from stored bytes.
    """
    table = source.table
    throttle = engine.throttle
    consistent = bool(req.get("ConsistentRead"))
    mode = req.get("ReturnConsumedCapacity")
    plan.measure = mode in ("TOTAL", "INDEXES") or throttle.enforces(table)
    gsi = _gsi_name(source)
    reserved = throttle.reserve_read(table, read_units(0, consistent), key, gsi)
    page = read_page(engine.backend, plan)
    read = read_units(page.read_size, consistent)
    fetched = read_units(page.fetch_size, consistent) if page.fetch_size else 0.0
    if source.index is None:
        table_units, index_units = read, {}
    else:
        table_units, index_units = fetched, {source.index.name: read}
    if gsi is not None:
        throttle.settle_read(table, reserved, read, key, gsi)
    else:
        throttle.settle_read(table, reserved, read + fetched, key)
    capacity = consumed(mode, table, table_units, read=True, index_units=index_units)
    last = source.decode(page.last_key) if page.last_key is not None else None
    return page_body(page, last, capacity, req.get("Select") == "COUNT")


# --- Query -------------------------------------------------------------------------------


def check_key_structure(condition: expr.Condition, legacy: bool) -> None:
    """The schema-free checks of a key condition, which DynamoDB makes before it looks the
    table up: `plan_key_condition` checks the structure before the schema, so planning
    against a key name no condition can use stops right after the structure.

    Only the term count is checked on every request; the rest runs when a later check
    fails (see `handle`), since a structure error must win over it.
    """
    try:
        expr.plan_key_condition(condition, _STRUCTURE_PROBE, _STRUCTURE_PROBE, legacy=legacy)
    except ValidationException as error:
        if not (error.message or "").startswith("Query condition missed key schema element"):
            raise
    if len(_terms(condition)) > 2:
        raise ValidationException("Conditions can be of length 1 or 2 only")


def _terms(condition: expr.Condition) -> list[expr.Condition]:
    if isinstance(condition, expr.And):
        return [t for operand in condition.operands for t in _terms(operand)]
    return [condition]


def plan_query(
    source: Source, condition: expr.Condition, legacy: bool, start: Item | None
) -> KeyCondition:
    """The key condition against the queried schema, and ExclusiveStartKey against both."""
    pk, sk = source.pk, source.sk
    if start is not None:
        if len(start) != len(source.start_key_attrs):
            raise ValidationException(START_INVALID)
        start_piece(start, pk, True)
    types = {a.name: a.type for a in source.key_attrs}
    planned = expr.plan_key_condition(
        condition, pk.name, sk.name if sk is not None else None, types, legacy=legacy
    )
    if start is None:
        return planned
    if sk is not None:
        start_piece(start, sk, False)
    check_start_table_key(source.table, start)
    same_partition = keys.encode_key_value(start[pk.name]) == keys.encode_key_value(
        planned.partition_value
    )
    if planned.sort is None:
        if not same_partition:
            raise ValidationException(
                "The provided starting key is outside query boundaries based on provided conditions"
            )
    else:
        assert sk is not None
        if not _sort_matches(start[sk.name], planned.sort):
            raise ValidationException(
                "The provided starting key does not match the range key predicate"
            )
        if not same_partition:
            raise ValidationException(
                "The query can return at most one row and cannot be restarted"
            )
    return planned


def _sort_matches(value: AttrValue, sort: SortCondition) -> bool:
    op, bounds = sort.op, sort.values
    if op == "begins_with":
        tag = value_type(bounds[0])
        if tag == "S":
            return str(value.get("S", "")).startswith(bounds[0]["S"])
        return binary_bytes(value.get("B", "")).startswith(binary_bytes(bounds[0]["B"]))
    order = compare(value, bounds[0])
    if order is None:
        return False
    if op == "BETWEEN":
        upper = compare(value, bounds[1])
        return order >= 0 and upper is not None and upper <= 0
    return {
        "=": order == 0,
        "<": order < 0,
        "<=": order <= 0,
        ">": order > 0,
        ">=": order >= 0,
    }[op]


def _check_filter_keys(source: Source, prepared: PreparedSearch) -> None:
    if prepared.filter is None:
        return
    used = set(expr.top_level_names(prepared.filter))
    for attr in source.key_attrs:
        if attr.name in used:
            raise ValidationException(
                f"{prepared.filter_label} can only contain non-primary key attributes: "
                f"Primary key attribute: {attr.name}"
            )


def handle(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    check_select(req, "1 validation error detected: ")
    start: Item | None = req.get("ExclusiveStartKey")

    def checks() -> None:
        check_conditional_operator(req, "QueryFilter")
        check_start_values(start)
        if req.get("KeyConditions") is None and req.get("KeyConditionExpression") is None:
            raise ValidationException(NO_KEY_CONDITION)

    prepared = prepare_search(engine, req, "Query", checks)
    condition = prepared.key_condition
    assert condition is not None  # checks() refused a request without one
    if len(_terms(condition)) > 2:  # planning would ignore a third term: refuse it now
        check_key_structure(condition, prepared.legacy_keys)
    try:
        table = item_table(engine, ctx, req)
        source = source_of(table, req)
        planned = plan_query(source, condition, prepared.legacy_keys, start)
    except AwsError:
        check_key_structure(condition, prepared.legacy_keys)  # its errors come first
        raise
    projection_paths, filter_paths = expression_paths(prepared)
    check_key_paths(table, projection_paths)
    _check_filter_keys(source, prepared)
    check_all_attributes(source, req)
    check_key_paths(table, filter_paths)
    reverse = req.get("ScanIndexForward") is False
    low, high = query_range(source, planned)
    if start is not None:
        low, high = resume(low, high, source.encode_start(start), reverse)
    plan = build_plan(source, req, prepared, low, high, reverse)
    return run(engine, req, source, plan, {source.pk.name: planned.partition_value})
