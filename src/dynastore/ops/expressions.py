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


def _resolver(req: Request) -> expr.Resolver:
    names = req.get("ExpressionAttributeNames")
    values = req.get("ExpressionAttributeValues")
    expr.check_attribute_maps(names, values)
    if values:
        values = attrs.validate_values(values)
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
    return PreparedWrite(_check_of(condition), _updater(resolved_update))


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
