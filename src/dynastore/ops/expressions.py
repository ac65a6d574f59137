"""Turns a request's expression parameters (or their legacy forms) into callables.

Parsing goes through the engine's cache; placeholders are resolved once per request
across all its expressions, and unused ones refused, in DynamoDB's order: parse errors,
then placeholder errors, then value-type errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dynastore.engine import attrs, expr
from dynastore.engine.engine import Engine
from dynastore.engine.values import Item
from dynastore.errors import ValidationException
from dynastore.ops.context import Request

Projector = Callable[[Item], Item]


@dataclass(frozen=True, slots=True)
class UpdatedPaths:
    """The document paths one update wrote (for UPDATED_OLD / UPDATED_NEW)."""

    paths: tuple[expr.Path, ...]

    @property
    def top_level(self) -> set[str]:
        return {str(p.elements[0]) for p in self.paths}

    def project(self, item: Item) -> Item:
        return expr.project(item, self.paths)


Updater = Callable[[Item], tuple[Item, UpdatedPaths]]
Check = Callable[[Item | None], bool]


@dataclass(frozen=True, slots=True)
class PreparedWrite:
    condition: Check | None
    update: Updater | None
    update_names: frozenset[str] = frozenset()  # top-level attributes the update writes
    nested_paths: tuple[expr.Path, ...] = ()  # its paths into a map or list (a.b, a[0])
    deletes_only: bool = False  # it only removes attributes or set members
    update_expr: expr.UpdateExpr | None = None  # the resolved update, for schema checks


def _resolver(req: Request) -> expr.Resolver:
    names = req.get("ExpressionAttributeNames")
    values = req.get("ExpressionAttributeValues")
    expr.check_attribute_maps(names, values)
    if values:
        for placeholder, value in values.items():
            try:
                attrs.validate_value(value)
            except ValidationException as error:
                raise ValidationException(
                    "ExpressionAttributeValues contains invalid value: "
                    f"{error.message} for key {placeholder}"
                ) from None
    return expr.Resolver(names, values)


def _check_of(node: expr.Condition | None) -> Check | None:
    if node is None:
        return None

    def check(old: Item | None) -> bool:
        return expr.evaluate(node, old)

    return check


def _mix(req: Request, operation: str) -> None:
    expression_params, legacy_params = expr.OPERATION_PARAMETERS[operation]
    expr.check_expression_mix(req, expression_params, legacy_params)


def prepare_write(engine: Engine, req: Request, *, update: bool) -> PreparedWrite:
    """Condition (and update) of PutItem, DeleteItem or UpdateItem."""
    _mix(req, "UpdateItem" if update else "PutItem")
    if req.get("ConditionalOperator") is not None:
        # Imported here: ops.query imports this module.
        from dynastore.ops.query import check_conditional_operator

        check_conditional_operator(req, "Expected")
    cache = engine.expressions
    condition_text = req.get("ConditionExpression")
    update_text = req.get("UpdateExpression") if update else None
    condition: expr.Condition | None = None
    resolved_update: expr.UpdateExpr | None = None
    if update_text is not None or condition_text is not None:
        resolver = _resolver(req)
        # DynamoDB checks one expression at a time: the update, then the condition.
        if update_text is not None:
            resolved_update = resolver.update(cache.get_or_parse_update(update_text))
        if condition_text is not None:
            condition = resolver.condition(cache.get_or_parse_condition(condition_text))
        resolver.check_unused()
    else:
        _resolver(req)
        condition = expr.expected_to_condition(req.get("Expected"), req.get("ConditionalOperator"))
        if update:
            resolved_update = expr.attribute_updates_to_update(req.get("AttributeUpdates"))
    if resolved_update is None:
        return PreparedWrite(_check_of(condition), None)
    names, nested, deletes_only = _summary(resolved_update)
    return PreparedWrite(
        _check_of(condition),
        _updater(resolved_update),
        names,
        nested,
        deletes_only,
        resolved_update,
    )


def _summary(
    update: expr.UpdateExpr,
) -> tuple[frozenset[str], tuple[expr.Path, ...], bool]:
    """The top-level names an update writes, its nested paths (written or read), and
    whether it only removes (REMOVE, DELETE): one pass over the actions."""
    names: set[str] = set()
    nested: list[expr.Path] = []
    deletes_only = True
    for clause in update.clauses:
        for action in clause.actions:
            path = action.path
            names.add(str(path.elements[0]))
            if len(path.elements) > 1:
                nested.append(path)
            if isinstance(action, expr.SetAction):
                deletes_only = False
                _nested_reads(action.value, nested)
            elif isinstance(action, expr.AddAction):
                deletes_only = False
    return frozenset(names), tuple(nested), deletes_only


def _nested_reads(value: expr.SetValue, into: list[expr.Path]) -> None:
    """Append the nested paths a SET's right-hand side reads."""
    if isinstance(value, expr.Path):
        if len(value.elements) > 1:
            into.append(value)
    elif isinstance(value, expr.Arith):
        _nested_reads(value.left, into)
        _nested_reads(value.right, into)
    elif isinstance(value, expr.Call):
        for arg in value.args:
            _nested_reads(arg, into)


def _updater(update: expr.UpdateExpr | None) -> Updater | None:
    if update is None:
        return None

    def apply(item: Item) -> tuple[Item, UpdatedPaths]:
        new, paths = expr.apply_update(update, item)
        return new, UpdatedPaths(tuple(paths))

    return apply


def prepare_read(engine: Engine, req: Request, operation: str = "GetItem") -> Projector | None:
    """The projection of a read (ProjectionExpression or AttributesToGet), or None."""
    _mix(req, operation)
    text = req.get("ProjectionExpression")
    projection: expr.Projection | None = None
    if text is not None:
        resolver = _resolver(req)
        projection = resolver.projection(engine.expressions.get_or_parse_projection(text))
        resolver.check_unused(values=False)
    elif req.get("AttributesToGet") is not None:
        projection = expr.attributes_to_projection(req["AttributesToGet"])
    if projection is None:
        return None
    paths = projection

    def project(item: Item) -> Item:
        return expr.project(item, paths)

    return project


# --- Query and Scan ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PreparedSearch:
    """The resolved expressions (or translated legacy parameters) of a Query or Scan."""

    key_condition: expr.Condition | None  # Query only; checked against the schema later
    legacy_keys: bool  # the key condition came from KeyConditions
    filter: expr.Condition | None
    projection: expr.Projection | None
    filter_label: str  # how DynamoDB names the filter in its messages


def prepare_search(
    engine: Engine, req: Request, operation: str, checks: Callable[[], None]
) -> PreparedSearch:
    """Query's or Scan's parameters in DynamoDB's order: the expression/legacy mix, the
    legacy filter and AttributesToGet (Query checks the filter first, Scan the list
    first), then `checks()` (the operation's own checks that DynamoDB makes at this
    point), then the expressions: parsed key condition, filter, projection, resolved
    filter, projection, key condition, unused placeholders.
    """
    _mix(req, operation)
    legacy_filter_name = "QueryFilter" if operation == "Query" else "ScanFilter"
    legacy_filter: expr.Condition | None = None
    legacy_projection: expr.Projection | None = None
    names = req.get("AttributesToGet")
    if operation == "Query":
        legacy_filter = expr.filter_to_condition(
            req.get(legacy_filter_name), req.get("ConditionalOperator")
        )
    if names is not None:
        legacy_projection = expr.attributes_to_projection(names)
    if operation != "Query":
        legacy_filter = expr.filter_to_condition(
            req.get(legacy_filter_name), req.get("ConditionalOperator")
        )
    checks()
    cache = engine.expressions
    key_text = req.get("KeyConditionExpression")
    filter_text = req.get("FilterExpression")
    projection_text = req.get("ProjectionExpression")
    if key_text is None and filter_text is None and projection_text is None:
        _resolver(req)
        key_conditions = req.get("KeyConditions")
        key_condition = (
            expr.key_conditions_to_condition(key_conditions) if key_conditions is not None else None
        )
        return PreparedSearch(
            key_condition, True, legacy_filter, legacy_projection, legacy_filter_name
        )
    parsed_key = (
        cache.get_or_parse_condition(key_text, "KeyConditionExpression")
        if key_text is not None
        else None
    )
    parsed_filter = (
        cache.get_or_parse_condition(filter_text, "FilterExpression")
        if filter_text is not None
        else None
    )
    parsed_projection = (
        cache.get_or_parse_projection(projection_text) if projection_text is not None else None
    )
    resolver = _resolver(req)
    filter_node = resolver.condition(parsed_filter, "FilterExpression") if parsed_filter else None
    projection = resolver.projection(parsed_projection) if parsed_projection else None
    key_node = resolver.condition(parsed_key, "KeyConditionExpression") if parsed_key else None
    resolver.check_unused()
    legacy_keys = key_node is None and req.get("KeyConditions") is not None
    if legacy_keys:
        key_node = expr.key_conditions_to_condition(req["KeyConditions"])
    if filter_node is None:
        filter_node, label = legacy_filter, legacy_filter_name
    else:
        label = "Filter Expression"
    return PreparedSearch(
        key_node, legacy_keys, filter_node, projection or legacy_projection, label
    )
