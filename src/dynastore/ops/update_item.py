"""UpdateItem: the update is a pure function of the old item, applied in one transaction.

Before the item is read, the update is checked against the schema in DynamoDB's order:
no key attribute written; then the index key attributes it writes with a value of a
known type (a literal, arithmetic, list_append, ADD's or DELETE's operand) must have the
index's type; then no key or index key attribute may be used as a map or list. A type
that only shows once the update is applied (SET gsiKey = otherAttr) is refused then,
with DynamoDB's other message.
"""

from __future__ import annotations

from typing import Any

from dynastore.engine import attrs, expr
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.engine.values import Item, value_type
from dynastore.engine.writes import Compute
from dynastore.errors import ValidationException
from dynastore.ops.context import Request, Result
from dynastore.ops.expressions import PreparedWrite, UpdatedPaths, Updater, prepare_write
from dynastore.ops.items import (
    check_key,
    check_return_values,
    collection_metrics,
    finish,
    item_table,
    metered_write,
    update_compute,
    write_capacity,
)
from dynastore.ops.query import check_key_paths
from dynastore.server.protocol import RequestContext

RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
UNSUPPORTED_INDEX_TYPE = (
    "The update expression attempted to update the secondary index key to unsupported type"
)


def handle(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    rv = check_return_values(req.get("ReturnValues"), RETURN_VALUES)
    key = attrs.validate_item(req["Key"])
    prepared = prepare_write(engine, req, update=True)
    table = item_table(engine, ctx, req)
    check_key(table, key, values_checked=True)
    for name in table.key_names:
        if name in prepared.update_names:
            raise ValidationException(
                "One or more parameter values were invalid: Cannot update attribute "
                f"{name}. This attribute is part of the key"
            )
    update = prepared.update
    if update is not None and table.indexes:
        update = check_index_types(table, prepared, update)
    if prepared.nested_paths:
        check_key_paths(table, list(prepared.nested_paths))
    on_failure = req.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    changed: list[UpdatedPaths] = []
    compute = update_compute(table, key, update, changed)
    if prepared.deletes_only:
        compute = unless_missing(compute)
    result, cost = metered_write(engine, table, key, compute, prepared.condition, on_failure)
    out: dict[str, Any] = {}
    attributes = _returned(rv, result.old, result.new, changed[0] if changed else None)
    if attributes:
        out["Attributes"] = attributes
    return finish(
        out,
        write_capacity(req, table, result.old, result.new, cost),
        collection_metrics(req, table, key, result),
    )


def check_index_types(table: TableDef, prepared: PreparedWrite, update: Updater) -> Updater:
    """Refuse index key values of a known wrong type now; check the others once applied."""
    written = [
        (index.name, attr.name, attr.type)
        for index in table.indexes
        for attr in (index.pk, index.sk)
        if attr is not None and attr.name in prepared.update_names
    ]
    if not written or prepared.update_expr is None:
        return update
    known = _known_types(prepared.update_expr)
    for index_name, name, wanted in written:
        actual = known.get(name)
        if actual is not None and actual != wanted:
            raise ValidationException(
                "One or more parameter values were invalid: Type mismatch for Index Key "
                f"{name} Expected: {wanted} Actual: {actual} IndexName: {index_name}"
            )

    def checked(item: Item) -> tuple[Item, UpdatedPaths]:
        new, paths = update(item)
        for _, name, wanted in written:
            value = new.get(name)
            if value is not None and wanted not in value:
                raise ValidationException(UNSUPPORTED_INDEX_TYPE)
        return new, paths

    return checked


def _known_types(update: expr.UpdateExpr) -> dict[str, str]:
    """The type of the value each top-level SET, ADD or DELETE names, where the request
    alone tells it (DELETE's is its set's, as for AttributeUpdates' Value)."""
    known: dict[str, str] = {}
    for _, action in update.actions():
        if len(action.path.elements) != 1 or isinstance(action, expr.RemoveAction):
            continue
        value = action.value
        if isinstance(value, expr.Literal):
            known[str(action.path.head)] = value_type(value.value)
        elif isinstance(value, expr.Arith):
            known[str(action.path.head)] = "N"
        elif isinstance(value, expr.Call) and value.name == "list_append":
            known[str(action.path.head)] = "L"
    return known


def unless_missing(compute: Compute) -> Compute:
    """An update that only removes writes nothing, and creates nothing, for a missing item."""

    def run(old: Item | None) -> Item | None:
        return None if old is None else compute(old)

    return run


def _returned(
    rv: str, old: Item | None, new: Item | None, paths: UpdatedPaths | None
) -> Item | None:
    if rv == "ALL_OLD":
        return old
    if rv == "ALL_NEW":
        return new
    if rv in ("UPDATED_OLD", "UPDATED_NEW") and paths is not None:
        source = old if rv == "UPDATED_OLD" else new
        return paths.project(source) if source is not None else None
    return None
