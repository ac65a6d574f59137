"""DynamoDB's expression languages: parse, resolve, evaluate, update, project.

Phases, in DynamoDB's error order: `parse` (text, syntax and static checks; cacheable
through `ExpressionCache`), `Resolver` (placeholders and value types, across all the
expressions of one request, then `check_unused`), then per item `evaluate`,
`apply_update` and `project`. Key conditions become a `KeyCondition` through
`plan_key_condition`. The legacy parameters translate into the same trees (`legacy`).
"""

from dynastore.engine.expr.cache import ExpressionCache
from dynastore.engine.expr.evaluate import evaluate, get_path, operand_value, size_of
from dynastore.engine.expr.keycond import KeyCondition, SortCondition, plan_key_condition
from dynastore.engine.expr.legacy import (
    OPERATION_PARAMETERS,
    attribute_updates_to_update,
    attributes_to_projection,
    check_expression_mix,
    condition_for,
    expected_to_condition,
    filter_to_condition,
    key_conditions_to_condition,
)
from dynastore.engine.expr.nodes import (
    AddAction,
    And,
    Arith,
    Between,
    Call,
    Compare,
    Condition,
    ConditionKind,
    DeleteAction,
    Expression,
    ExpressionKind,
    In,
    Literal,
    NameRef,
    Not,
    Operand,
    Or,
    Path,
    Projection,
    RemoveAction,
    SetAction,
    SetValue,
    UpdateAction,
    UpdateClause,
    UpdateExpr,
    ValueRef,
    iter_paths,
    top_level_names,
)
from dynastore.engine.expr.parser import parse, parse_condition, parse_projection, parse_update
from dynastore.engine.expr.projection import project
from dynastore.engine.expr.reserved import RESERVED_WORDS, is_reserved
from dynastore.engine.expr.resolve import Resolver, check_attribute_maps, check_overlaps
from dynastore.engine.expr.update import apply_update

__all__ = [
    "OPERATION_PARAMETERS",
    "RESERVED_WORDS",
    "AddAction",
    "And",
    "Arith",
    "Between",
    "Call",
    "Compare",
    "Condition",
    "ConditionKind",
    "DeleteAction",
    "Expression",
    "ExpressionCache",
    "ExpressionKind",
    "In",
    "KeyCondition",
    "Literal",
    "NameRef",
    "Not",
    "Operand",
    "Or",
    "Path",
    "Projection",
    "RemoveAction",
    "Resolver",
    "SetAction",
    "SetValue",
    "SortCondition",
    "UpdateAction",
    "UpdateClause",
    "UpdateExpr",
    "ValueRef",
    "apply_update",
    "attribute_updates_to_update",
    "attributes_to_projection",
    "check_attribute_maps",
    "check_expression_mix",
    "check_overlaps",
    "condition_for",
    "evaluate",
    "expected_to_condition",
    "filter_to_condition",
    "get_path",
    "is_reserved",
    "iter_paths",
    "key_conditions_to_condition",
    "operand_value",
    "parse",
    "parse_condition",
    "parse_projection",
    "parse_update",
    "plan_key_condition",
    "project",
    "size_of",
    "top_level_names",
]
