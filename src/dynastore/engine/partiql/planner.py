"""Plan PartiQL statements onto the engine's own paths.

Nothing here reads or writes: a statement becomes the same things the JSON API builds —
expression trees (`engine.expr` nodes, checked by the same `Resolver`), a `KeyCondition`
for a Query, a key for a GetItem, an `UpdateExpr` for an update — and ops/partiql.py runs
them through `engine.reads` and `engine.writes`, so conditions, updates and projections
have one implementation.

A SELECT whose WHERE fixes the partition key (`pk = v` or `pk IN [...]` at the top level
of an AND) reads those partitions (a GetItem when the sort key is fixed too, otherwise a
Query, narrowed by a sort-key condition when there is one); any other SELECT is a Scan.
The whole WHERE is the filter in every case. A write's WHERE must fix the whole primary
key; the WHERE is then the write's condition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dynastore.engine import expr
from dynastore.engine.catalog import IndexDef, KeyAttr, TableDef
from dynastore.engine.expr import KeyCondition, SortCondition
from dynastore.engine.expr.nodes import SetValue
from dynastore.engine.partiql import ast
from dynastore.engine.values import AttrValue, Item, value_type, values_equal
from dynastore.errors import ValidationException

MANDATORY_KEY = "Where clause does not contain a mandatory equality on all key attributes"
OVERLAPPING = "Overlapping conditions with range keys are not supported in where clause"
PARAMETER_COUNT = "Number of parameters in request and statement don't match."
NOT_BOOLEAN = "WHERE clause must contain an expression that resolves to a boolean"
EXISTS_SHAPE = "EXISTS() must contain a single item read with additional condition"
_CONDITION_ARITY = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
    "size": 1,
}
# The functions that are conditions (size is a value).
_TRUTH_FUNCTIONS = frozenset(name for name in _CONDITION_ARITY if name != "size")
_IS_TYPES = {
    "NULL": "NULL",
    "BOOL": "BOOL",
    "BOOLEAN": "BOOL",
    "STRING": "S",
    "NUMERIC": "N",
    "INT": "N",
    "INTEGER": "N",
    "DECIMAL": "N",
    "FLOAT": "N",
    "DOUBLE": "N",
    "BLOB": "B",
    "LIST": "L",
    "STRUCT": "M",
    "TUPLE": "M",
}
_SORT_OPS = ("=", "<", "<=", ">", ">=")
_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def resolved(node: expr.Condition) -> expr.Condition:
    """Run a condition through the expression resolver's checks, without its prefix."""
    try:
        return expr.Resolver().condition(node)
    except ValidationException as error:
        raise ValidationException(_unprefixed(error.message)) from None


def _unprefixed(message: str | None) -> str:
    text = message or ""
    for kind in ("ConditionExpression", "UpdateExpression", "ProjectionExpression"):
        prefix = f"Invalid {kind}: "
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


class Binder:
    """Turns PartiQL expressions into expression-engine nodes, `?` bound to `parameters`."""

    def __init__(self, parameters: Sequence[AttrValue]) -> None:
        self.parameters = parameters

    def value(self, node: ast.Expr) -> AttrValue | None:
        """The constant a literal or parameter stands for (None: MISSING or not constant)."""
        if isinstance(node, ast.Lit):
            return node.value
        if isinstance(node, ast.Param):
            if node.index >= len(self.parameters):
                raise ValidationException(PARAMETER_COUNT)
            return self.parameters[node.index]
        return None

    def path(self, ref: ast.Ref) -> expr.Path:
        return expr.Path(ref.steps)

    def operand(self, node: ast.Expr) -> expr.Operand:
        if isinstance(node, ast.Ref):
            return self.path(node)
        if isinstance(node, ast.Lit | ast.Param):
            value = self.value(node)
            if value is None:
                raise ValidationException("MISSING must be compared using IS operator")
            return expr.Literal(value)
        if isinstance(node, ast.Call) and node.name == "size":
            return expr.Call("size", tuple(self.operand(arg) for arg in self._args(node)))
        if isinstance(node, ast.Call) and node.name not in _CONDITION_ARITY:
            self._args(node)  # an unknown function: DynamoDB names it
        if isinstance(node, ast.Binary) and node.op in ("+", "-", "*", "/", "%", "||"):
            raise ValidationException(
                f"Unsupported operator in Condition Expression. Operator: {node.op}"
            )
        raise ValidationException(f"Unsupported operation: {type(node).__name__}")

    def _args(self, node: ast.Call) -> tuple[ast.Expr, ...]:
        expected = _CONDITION_ARITY.get(node.name)
        if expected is None:
            raise ValidationException(f"Unrecognized function: {node.name} at {node.token.where}")
        if len(node.args) != expected:
            raise ValidationException(
                "Incorrect number of operands for operator or function; "
                f"operator or function: {node.name}, number of operands: {len(node.args)}"
            )
        return node.args

    def condition(self, node: ast.Expr) -> expr.Condition:
        if isinstance(node, ast.Binary):
            if node.op in ("AND", "OR"):
                # A chain `a AND b AND c` parses left-deep: flatten it without recursing
                # down the chain (a statement may hold a thousand terms).
                terms = [self.condition(term) for term in _chain(node, node.op)]
                kind = expr.And if node.op == "AND" else expr.Or
                parts: list[expr.Condition] = []
                for part in terms:
                    parts.extend(part.operands if isinstance(part, kind) else (part,))
                return kind(tuple(parts))
            if node.op in ("=", "<>", "<", "<=", ">", ">="):
                truth = self._compared_truth(node)
                if truth is not None:
                    return truth
                return expr.Compare(node.op, self.operand(node.left), self.operand(node.right))
        if isinstance(node, ast.Unary) and node.op == "NOT":
            return expr.Not(self.condition(node.operand))
        if isinstance(node, ast.Between):
            between = expr.Between(
                self.operand(node.operand), self.operand(node.low), self.operand(node.high)
            )
            return expr.Not(between) if node.negated else between
        if isinstance(node, ast.InList):
            choices = tuple(self.operand(choice) for choice in node.choices)
            within = expr.In(self.operand(node.operand), choices)
            return expr.Not(within) if node.negated else within
        if isinstance(node, ast.Is):
            return self._is(node)
        if isinstance(node, ast.Call) and node.name != "size":
            return expr.Call(node.name, tuple(self.operand(arg) for arg in self._args(node)))
        raise ValidationException(NOT_BOOLEAN)

    def _compared_truth(self, node: ast.Binary) -> expr.Condition | None:
        """`attribute_exists(a) = true` and the like: a condition function compared with a
        boolean (= or <>) is that condition or its negation."""
        if node.op not in ("=", "<>"):
            return None
        for call, other in ((node.left, node.right), (node.right, node.left)):
            if not isinstance(call, ast.Call) or call.name not in _TRUTH_FUNCTIONS:
                continue
            value = self.value(other) if isinstance(other, ast.Lit | ast.Param) else None
            if value is None or "BOOL" not in value:
                return None
            condition = self.condition(call)
            return condition if value["BOOL"] == (node.op == "=") else expr.Not(condition)
        return None

    def _is(self, node: ast.Is) -> expr.Condition:
        if not isinstance(node.operand, ast.Ref):
            raise ValidationException(
                "The left hand side argument to IS must be a Variable Reference, Literal, or Path"
            )
        path = self.path(node.operand)
        if node.type_name == "MISSING":
            name = "attribute_exists" if node.negated else "attribute_not_exists"
            return expr.Call(name, (path,))
        tag = _IS_TYPES.get(node.type_name)
        if tag is None:
            raise ValidationException(
                f"Unsupported data type for IS operator: {node.type_name}. Supported data types "
                "are [MISSING, NULL, BOOLEAN, BLOB, STRING, NUMERIC, STRUCT, TUPLE, LIST]"
            )
        test = expr.Call("attribute_type", (path, expr.Literal({"S": tag})))
        return expr.Not(test) if node.negated else test

    # --- UPDATE -------------------------------------------------------------------------

    def set_value(self, node: ast.Expr) -> SetValue:
        if isinstance(node, ast.Binary) and node.op in ("+", "-"):
            return expr.Arith(node.op, self.set_value(node.left), self.set_value(node.right))
        if isinstance(node, ast.Call) and node.name in ("list_append", "if_not_exists"):
            if len(node.args) != 2:
                raise ValidationException(
                    "Incorrect number of operands for operator or function; "
                    f"operator or function: {node.name}, number of operands: {len(node.args)}"
                )
            return expr.Call(node.name, tuple(self.operand(arg) for arg in node.args))
        if isinstance(node, ast.Binary | ast.Unary):
            raise ValidationException(
                f"Unsupported operator in Update Expression. Operator: {node.op}"
            )
        return self.operand(node)

    def update(self, actions: Sequence[ast.Assign]) -> expr.UpdateExpr:
        """The actions as an UpdateExpr (set_add / set_delete become ADD / DELETE)."""
        clauses: list[expr.UpdateClause] = []
        for assign in actions:
            keyword, action = self._action(assign)
            if clauses and clauses[-1].keyword == keyword:
                last = clauses[-1]
                clauses[-1] = expr.UpdateClause(keyword, (*last.actions, action))
            else:
                clauses.append(expr.UpdateClause(keyword, (action,)))
        try:
            return expr.Resolver().update(expr.UpdateExpr(tuple(clauses)))
        except ValidationException as error:
            raise ValidationException(_unprefixed(error.message)) from None

    def _action(self, assign: ast.Assign) -> tuple[str, expr.UpdateAction]:
        path = self.path(assign.target)
        value = assign.value
        if value is None:
            return "REMOVE", expr.RemoveAction(path)
        if isinstance(value, ast.Call) and value.name in ("set_add", "set_delete"):
            label = value.name[4:].upper()
            at = value.token.where
            if len(value.args) != 2:
                raise ValidationException(f"SET_{label} must have exactly two arguments at {at}")
            first, second = value.args
            if not isinstance(first, ast.Ref) or first.steps != assign.target.steps:
                raise ValidationException(
                    f"The first argument to SET_{label} must equal the assignment value at {at}"
                )
            members = self.value(second)
            if members is None or value_type(members) not in ("SS", "NS", "BS"):
                # sic: DynamoDB points at the first argument
                raise ValidationException(
                    f"The second argument to SET_{label} must be a value with type SET at "
                    f"{first.token.where}"
                )
            literal = expr.Literal(members)
            if label == "ADD":
                return "ADD", expr.AddAction(path, literal)
            return "DELETE", expr.DeleteAction(path, literal)
        return "SET", expr.SetAction(path, self.set_value(value))


# --- keys --------------------------------------------------------------------------------


def _chain(node: ast.Expr, op: str) -> list[ast.Expr]:
    """The operands of nested `op` (AND or OR) nodes, in written order, iteratively."""
    out: list[ast.Expr] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Binary) and current.op == op:
            stack += (current.right, current.left)
        else:
            out.append(current)
    return out


def conjuncts(node: ast.Expr | None) -> list[ast.Expr]:
    """The terms of the top-level AND of a WHERE (parenthesised ANDs included)."""
    return [] if node is None else _chain(node, "AND")


def _key_term(node: ast.Expr, name: str) -> tuple[str, ast.Expr, ast.Expr] | None:
    """(op, key side, value side) of a comparison of attribute `name` with a constant."""
    if not isinstance(node, ast.Binary) or node.op not in _SORT_OPS:
        return None
    for key_side, other, op in ((node.left, node.right, node.op), (node.right, node.left, None)):
        is_key = isinstance(key_side, ast.Ref) and key_side.steps == (name,)
        if is_key and isinstance(other, ast.Lit | ast.Param):
            return (op or _FLIPPED[node.op]), key_side, other
    return None


def _is_key_equality(node: ast.Expr, names: Sequence[str]) -> bool:
    for name in names:
        matched = _key_term(node, name)
        if matched is not None and matched[0] == "=":
            return True
    return False


def equalities(binder: Binder, where: ast.Expr | None, name: str) -> list[AttrValue]:
    """The values `name = v` conjuncts give the key attribute `name`, in written order."""
    found: list[AttrValue] = []
    for term in conjuncts(where):
        matched = _key_term(term, name)
        if matched is not None and matched[0] == "=":
            value = binder.value(matched[2])
            if value is not None:
                found.append(value)
    return found


def check_key_types(binder: Binder, where: ast.Expr | None, attrs: Sequence[KeyAttr]) -> None:
    """Refuse an equality or IN that compares a key attribute with a value of another type."""
    types = {attr.name: attr.type for attr in attrs}
    stack: list[ast.Expr] = [where] if where is not None else []
    while stack:
        node = stack.pop()
        values: list[ast.Expr] = []
        name: str | None = None
        if isinstance(node, ast.Binary) and node.op in ("AND", "OR"):
            stack.extend((node.left, node.right))
            continue
        if isinstance(node, ast.Unary):
            stack.append(node.operand)
            continue
        if isinstance(node, ast.Binary) and node.op == "=":
            for side, other in ((node.left, node.right), (node.right, node.left)):
                if isinstance(side, ast.Ref) and len(side.steps) == 1:
                    name, values = str(side.steps[0]), [other]
                    break
        elif isinstance(node, ast.InList) and isinstance(node.operand, ast.Ref):
            name = str(node.operand.steps[0]) if len(node.operand.steps) == 1 else None
            values = list(node.choices)
        if name not in types:
            continue
        for candidate in values:
            value = binder.value(candidate)
            if value is not None and value_type(value) != types[name]:
                raise ValidationException(
                    "Key attribute's data type should match its data type in table's schema: "
                    f"Key {name}"
                )


def write_key(binder: Binder, table: TableDef, where: ast.Expr | None) -> Item:
    """The one item a write's WHERE names: an equality on every key attribute."""
    key: Item = {}
    for name in table.key_names:
        values = equalities(binder, where, name)
        if not values:
            raise ValidationException(MANDATORY_KEY)
        if any(not values_equal(values[0], other) for other in values[1:]):
            raise ValidationException(
                f"Multiple conditions on same key {name}. Only single item "
                "Update/Insert/Delete are supported"
            )
        key[name] = values[0]
    return key


def only_key(binder: Binder, table: TableDef, where: ast.Expr | None) -> Item | None:
    """The key of a WHERE made of key equalities alone (batch and transaction reads)."""
    key: Item = {}
    for term in conjuncts(where):
        found = None
        for name in table.key_names:
            matched = _key_term(term, name)
            if matched is not None and matched[0] == "=":
                found = name, binder.value(matched[2])
        if found is None and isinstance(term, ast.InList) and len(term.choices) == 1:
            operand = term.operand
            if isinstance(operand, ast.Ref) and operand.steps in [(n,) for n in table.key_names]:
                found = str(operand.steps[0]), binder.value(term.choices[0])
        if found is None or found[1] is None:
            return None
        name, value = found
        assert value is not None
        if name in key and not values_equal(key[name], value):
            return None
        key[name] = value
    return key if len(key) == len(table.key_names) else None


# --- SELECT ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadPlan:
    """How to answer a SELECT.

    `partitions` lists the partition-key values to read (empty: a Scan). With `get`, the
    sort key is fixed too and each partition is one GetItem of the base table; otherwise
    each partition is a Query, narrowed by `sort` when set.
    """

    table: TableDef
    index: IndexDef | None
    partitions: tuple[AttrValue, ...]
    sort_key: str | None
    sort: SortCondition | None
    get: bool
    filter: expr.Condition | None
    projection: tuple[tuple[str, expr.Path], ...] | None
    descending: bool = False

    def key_condition(self, partition: AttrValue) -> KeyCondition:
        """The Query of one partition."""
        pk = self.index.pk.name if self.index is not None else self.table.pk.name
        return KeyCondition(pk, partition, self.sort_key, self.sort)

    def get_key(self, partition: AttrValue) -> Item:
        """The GetItem key of one partition (plans with `get`)."""
        key = {self.table.pk.name: partition}
        if self.sort_key is not None and self.sort is not None:
            key[self.sort_key] = self.sort.values[0]
        return key


def projection(refs: tuple[ast.Ref, ...] | None) -> tuple[tuple[str, expr.Path], ...] | None:
    if refs is None:
        return None
    seen: set[str] = set()
    out = []
    for ref in refs:
        label = ref.label
        if label in seen:
            raise ValidationException(f"Duplicate identifiers in select clause: {label}")
        seen.add(label)
        out.append((label, expr.Path(ref.steps)))
    return tuple(out)


def _partitions(binder: Binder, where: ast.Expr | None, pk: str) -> list[AttrValue]:
    for term in conjuncts(where):
        matched = _key_term(term, pk)
        if matched is not None and matched[0] == "=":
            value = binder.value(matched[2])
            if value is not None:
                return [value]
    for term in conjuncts(where):
        if (
            isinstance(term, ast.InList)
            and not term.negated
            and isinstance(term.operand, ast.Ref)
            and term.operand.steps == (pk,)
        ):
            values = [binder.value(choice) for choice in term.choices]
            if any(value is None for value in values):
                return []
            distinct: list[AttrValue] = []
            for value in values:
                assert value is not None
                if any(values_equal(value, seen) for seen in distinct):
                    raise ValidationException(OVERLAPPING)
                distinct.append(value)
            return distinct
    return []


def _sort_condition(binder: Binder, where: ast.Expr | None, sk: str) -> SortCondition | None:
    for term in conjuncts(where):
        matched = _key_term(term, sk)
        if matched is not None:
            value = binder.value(matched[2])
            if value is not None:
                return SortCondition(matched[0], (value,))
        operand = term.operand if isinstance(term, ast.Between) else None
        if isinstance(term, ast.Between) and isinstance(operand, ast.Ref) and not term.negated:
            low, high = binder.value(term.low), binder.value(term.high)
            if operand.steps == (sk,) and low is not None and high is not None:
                return SortCondition("BETWEEN", (low, high))
        if isinstance(term, ast.Call) and term.name == "begins_with" and len(term.args) == 2:
            subject, prefix = term.args
            if isinstance(subject, ast.Ref) and subject.steps == (sk,):
                value = binder.value(prefix)
                if value is not None and value_type(value) in ("S", "B"):
                    return SortCondition("begins_with", (value,))
    return None


def plan_select(
    binder: Binder, select: ast.Select, table: TableDef, index: IndexDef | None
) -> ReadPlan:
    pk = index.pk if index is not None else table.pk
    sk = index.sk if index is not None else table.sk
    attrs = [pk] if sk is None else [pk, sk]
    check_key_types(binder, select.where, attrs)
    condition = resolved(binder.condition(select.where)) if select.where is not None else None
    descending = _order(select, [a.name for a in attrs])
    partitions = _partitions(binder, select.where, pk.name)
    if select.order_by and not partitions:
        raise ValidationException(
            "Must have at least one non-optional hash key condition in WHERE clause when "
            "using ORDER BY clause."
        )
    sort = None
    if sk is not None and partitions:
        sort = _sort_condition(binder, select.where, sk.name)
    # A GetItem per partition when the sort key is fixed too (its value travels in `sort`).
    fixed = sk is None or (sort is not None and sort.op == "=")
    get = bool(partitions) and index is None and fixed
    return ReadPlan(
        table,
        index,
        tuple(partitions),
        sk.name if sk is not None else None,
        sort,
        get,
        condition,
        projection(select.projection),
        descending,
    )


def _order(select: ast.Select, key_names: list[str]) -> bool:
    if not select.order_by:
        return False
    if select.where is None:
        raise ValidationException(
            "Must have WHERE clause in the statement when using ORDER BY clause."
        )
    descending = False
    for term in select.order_by:
        if term.name not in key_names:
            raise ValidationException(
                f"Variable reference {term.name} in ORDER BY clause must be part of the primary key"
            )
        if term.name == key_names[-1]:
            descending = term.descending
    return descending


# --- writes ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WritePlan:
    """One item write: INSERT (`item`), UPDATE (`update`), DELETE, or EXISTS (a check).

    `condition` is the WHERE (UPDATE, DELETE, EXISTS) as a resolved condition.
    """

    kind: str
    table: TableDef
    key: Item
    item: Item | None = None
    update: expr.UpdateExpr | None = None
    condition: expr.Condition | None = None
    returning: str | None = None


def insert_item(binder: Binder, insert: ast.Insert) -> Item:
    """The item an INSERT writes (validated by the caller like any PutItem item)."""
    if isinstance(insert.value, ast.ItemLit):
        item: Item = {}
        for name, member in insert.value.members:
            bound = binder.value(member)
            if bound is None:
                raise ValidationException(f"Unsupported data type: MISSING under key {name}")
            item[name] = bound
        return item
    value = binder.value(insert.value) if isinstance(insert.value, ast.Lit | ast.Param) else None
    if value is None or value_type(value) != "M":
        raise ValidationException(
            "Unsupported format in item expression. Please use struct format {...} to express "
            "item values for insert statement."
        )
    members: Item = value["M"]
    return members


def plan_write(binder: Binder, statement: ast.Statement, table: TableDef) -> WritePlan:
    """Plan an UPDATE, DELETE or EXISTS (INSERT's item is checked by the caller)."""
    if isinstance(statement, ast.Update):
        key = write_key(binder, table, statement.where)
        update = binder.update(statement.actions)
        condition = resolved(binder.condition(statement.where)) if statement.where else None
        return WritePlan("UPDATE", table, key, update=update, condition=condition,
                         returning=statement.returning)  # fmt: skip
    if isinstance(statement, ast.Delete):
        if statement.returning not in (None, "ALL OLD"):
            raise ValidationException(
                f"Invalid returning clause: RETURNING {statement.returning} *. Only RETURNING "
                "ALL OLD * is allowed in DELETE statements."
            )
        key = write_key(binder, table, statement.where)
        condition = resolved(binder.condition(statement.where)) if statement.where else None
        return WritePlan("DELETE", table, key, condition=condition, returning=statement.returning)
    if isinstance(statement, ast.Exists):
        where = statement.select.where
        checked: Item = {}
        for name in table.key_names:
            values = equalities(binder, where, name)
            if not values:
                raise ValidationException(EXISTS_SHAPE)
            checked[name] = values[0]
        if all(_is_key_equality(term, table.key_names) for term in conjuncts(where)):
            raise ValidationException(EXISTS_SHAPE)  # nothing to check beyond the key
        condition = resolved(binder.condition(where)) if where is not None else None
        return WritePlan("EXISTS", table, checked, condition=condition)
    raise TypeError(f"not a write: {statement!r}")
