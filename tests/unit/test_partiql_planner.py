"""Planning PartiQL onto the engine: GetItem / Query / Scan choice, keys, conditions, updates."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from dynastore.engine import expr
from dynastore.engine.catalog import IndexDef, KeyAttr, TableDef
from dynastore.engine.partiql import ast, parse
from dynastore.engine.partiql.planner import (
    MANDATORY_KEY,
    OVERLAPPING,
    PARAMETER_COUNT,
    Binder,
    ReadPlan,
    WritePlan,
    insert_item,
    only_key,
    plan_select,
    plan_write,
)
from dynastore.engine.values import AttrValue, Item
from dynastore.errors import ValidationException

GSI = IndexDef("byG", "GSI", 1002, KeyAttr("g", "S"), KeyAttr("n", "N"), "KEYS_ONLY")
TABLE = TableDef(
    "000000000000", "us-east-1", "t", 1001, KeyAttr("pk", "S"), KeyAttr("sk", "S"), {}, [GSI]
)
HASH_ONLY = TableDef("000000000000", "us-east-1", "h", 1003, KeyAttr("id", "N"), None, {})


def select_plan(text: str, params: Sequence[AttrValue] = (), table: TableDef = TABLE) -> ReadPlan:
    select = parse(text).statement
    assert isinstance(select, ast.Select)
    index = table.index(select.source.index) if select.source.index else None
    return plan_select(Binder(params), select, table, index)


def write_plan(text: str, params: Sequence[AttrValue] = (), table: TableDef = TABLE) -> WritePlan:
    return plan_write(Binder(params), parse(text).statement, table)


def error_of(call: object) -> str:
    assert callable(call)
    with pytest.raises(ValidationException) as info:
        call()
    return info.value.message or ""


S = {"S": "a"}


def test_full_key_is_a_get() -> None:
    plan = select_plan("SELECT * FROM t WHERE pk = 'a' AND sk = 'b'")
    assert plan.get and plan.partitions == (S,)
    assert plan.get_key(S) == {"pk": S, "sk": {"S": "b"}}
    assert isinstance(plan.filter, expr.And)


def test_partition_key_alone_is_a_query() -> None:
    plan = select_plan("SELECT * FROM t WHERE pk = ?", [S])
    assert not plan.get and plan.partitions == (S,) and plan.sort is None
    condition = plan.key_condition(S)
    assert (condition.partition_key, condition.partition_value) == ("pk", S)


@pytest.mark.parametrize(
    ("where", "op", "values"),
    [
        ("sk > 'm'", ">", ({"S": "m"},)),
        ("'m' > sk", "<", ({"S": "m"},)),
        ("sk BETWEEN 'a' AND 'f'", "BETWEEN", ({"S": "a"}, {"S": "f"})),
        ("begins_with(sk, 'x')", "begins_with", ({"S": "x"},)),
    ],
)
def test_sort_key_conditions_narrow_the_query(
    where: str, op: str, values: tuple[AttrValue, ...]
) -> None:
    plan = select_plan(f"SELECT * FROM t WHERE pk = 'a' AND {where}")
    assert plan.sort is not None and (plan.sort.op, plan.sort.values) == (op, values)
    assert not plan.get


def test_no_partition_key_is_a_scan() -> None:
    for where in ("n > 3", "pk > 'a'", "pk = 'a' OR sk = 'b'"):
        plan = select_plan(f"SELECT * FROM t WHERE {where}")
        assert plan.partitions == () and plan.filter is not None
    assert select_plan("SELECT * FROM t").filter is None


def test_in_on_the_partition_key_reads_each_partition() -> None:
    plan = select_plan("SELECT * FROM t WHERE pk IN ['a', 'b']")
    assert plan.partitions == ({"S": "a"}, {"S": "b"})
    assert error_of(lambda: select_plan("SELECT * FROM t WHERE pk IN ['a', 'a']")) == OVERLAPPING


def test_index_reads_use_the_index_keys() -> None:
    plan = select_plan("SELECT * FROM t.\"byG\" WHERE g = 'x' AND n >= 2")
    assert plan.index is GSI and not plan.get
    assert plan.key_condition({"S": "x"}).partition_key == "g"
    assert plan.sort is not None and plan.sort.op == ">="


def test_key_type_mismatch() -> None:
    message = "Key attribute's data type should match its data type in table's schema: Key pk"
    assert error_of(lambda: select_plan("SELECT * FROM t WHERE pk = 1 OR pk = 'a'")) == message
    assert select_plan("SELECT * FROM t WHERE pk > 1").partitions == ()


def test_projection_labels_and_duplicates() -> None:
    plan = select_plan("SELECT a.b, l[2] FROM t")
    assert plan.projection is not None
    assert [label for label, _ in plan.projection] == ["b", "l[2]"]
    message = "Duplicate identifiers in select clause: z"
    assert error_of(lambda: select_plan("SELECT a.z, b.z FROM t")) == message


def test_conditions_become_expression_trees() -> None:
    plan = select_plan(
        "SELECT * FROM t WHERE x IS MISSING AND y IS NOT MISSING AND z IS NULL "
        "AND size(s) > 2 AND contains(c, 'q') AND n NOT IN [1, 2]"
    )
    assert isinstance(plan.filter, expr.And)
    calls = [term for term in plan.filter.operands if isinstance(term, expr.Call)]
    assert [call.name for call in calls] == [
        "attribute_not_exists", "attribute_exists", "attribute_type", "contains",
    ]  # fmt: skip
    assert expr.evaluate(plan.filter, {"y": S, "z": {"NULL": True}, "s": {"S": "abc"},
                                       "c": {"S": "xqx"}, "n": {"N": "3"}})  # fmt: skip


def test_the_resolver_checks_operand_types() -> None:
    message = (
        "Incorrect operand type for operator or function; operator or function: >, "
        "operand type: BOOL"
    )
    assert error_of(lambda: select_plan("SELECT * FROM t WHERE n > true")) == message


def test_missing_parameters() -> None:
    assert error_of(lambda: select_plan("SELECT * FROM t WHERE pk = ?")) == PARAMETER_COUNT


def test_update_plan() -> None:
    plan = write_plan(
        "UPDATE t SET n = n + ?, l = list_append(l, [1]) SET s = set_add(s, <<'x'>>) "
        "REMOVE r WHERE pk = 'a' AND sk = 'b' AND v = 1",
        [{"N": "2"}],
    )
    assert plan.key == {"pk": S, "sk": {"S": "b"}}
    assert plan.update is not None
    assert [c.keyword for c in plan.update.clauses] == ["SET", "ADD", "REMOVE"]
    old: Item = {"n": {"N": "1"}, "l": {"L": []}, "s": {"SS": ["y"]}, "r": S}
    new, _ = expr.apply_update(plan.update, old)
    assert new["n"] == {"N": "3"} and new["l"] == {"L": [{"N": "1"}]} and "r" not in new
    assert sorted(new["s"]["SS"]) == ["x", "y"]
    assert plan.condition is not None and not expr.evaluate(plan.condition, old)


def test_write_keys() -> None:
    assert error_of(lambda: write_plan("UPDATE t SET a = 1 WHERE pk = 'a'")) == MANDATORY_KEY
    assert error_of(lambda: write_plan("DELETE FROM t WHERE n = 1")) == MANDATORY_KEY
    message = (
        "Multiple conditions on same key pk. Only single item Update/Insert/Delete are supported"
    )
    text = "DELETE FROM t WHERE pk = 'a' AND sk = 'b' AND pk = 'c'"
    assert error_of(lambda: write_plan(text)) == message
    assert write_plan("DELETE FROM t WHERE (pk = 'a' AND sk = 'b') AND pk = 'a'").key["pk"] == S


def test_set_add_checks() -> None:
    text = "UPDATE t SET s = set_add(s, 'x') WHERE pk = 'a' AND sk = 'b'"
    assert error_of(lambda: write_plan(text)) == (
        "The second argument to SET_ADD must be a value with type SET at 1:26:1"
    )
    text = "UPDATE t SET s = set_delete(q, <<'x'>>) WHERE pk = 'a' AND sk = 'b'"
    assert error_of(lambda: write_plan(text)) == (
        "The first argument to SET_DELETE must equal the assignment value at 1:18:10"
    )


def test_delete_returning_only_all_old() -> None:
    text = "DELETE FROM t WHERE pk = 'a' AND sk = 'b' RETURNING MODIFIED OLD *"
    assert error_of(lambda: write_plan(text)) == (
        "Invalid returning clause: RETURNING MODIFIED OLD *. Only RETURNING ALL OLD * is "
        "allowed in DELETE statements."
    )


def test_exists_needs_key_equalities() -> None:
    plan = write_plan("EXISTS(SELECT * FROM t WHERE pk = 'a' AND sk = 'b' AND x = 1)")
    assert plan.kind == "EXISTS" and plan.key == {"pk": S, "sk": {"S": "b"}}
    text = "EXISTS(SELECT * FROM t WHERE pk IN ['a'] AND sk = 'b' AND x = 1)"
    assert error_of(lambda: write_plan(text)) == (
        "EXISTS() must contain a single item read with additional condition"
    )


def test_insert_item_binds_parameters() -> None:
    insert = parse("INSERT INTO h VALUE {'id': ?, 'n': 1}").statement
    assert isinstance(insert, ast.Insert)
    assert insert_item(Binder([{"N": "7"}]), insert) == {"id": {"N": "7"}, "n": {"N": "1"}}
    bad = parse("INSERT INTO h VALUE 'x'").statement
    assert isinstance(bad, ast.Insert)
    assert error_of(lambda: insert_item(Binder([]), bad)).startswith("Unsupported format")


def test_only_key_for_batch_and_transaction_reads() -> None:
    def key_of(where: str) -> Item | None:
        select = parse(f"SELECT * FROM t WHERE {where}").statement
        assert isinstance(select, ast.Select)
        return only_key(Binder([]), TABLE, select.where)

    assert key_of("pk = 'a' AND sk = 'b'") == {"pk": S, "sk": {"S": "b"}}
    assert key_of("pk IN ['a'] AND sk IN ['b']") == {"pk": S, "sk": {"S": "b"}}
    assert key_of("(sk = 'b') AND pk = 'a' AND pk = 'a'") == {"pk": S, "sk": {"S": "b"}}
    assert key_of("pk = 'a'") is None
    assert key_of("pk = 'a' AND sk = 'b' AND x = 1") is None
    assert key_of("pk = 'a' AND sk = 'b' AND pk = 'c'") is None


def test_a_long_chain_of_conditions_plans_without_recursion() -> None:
    terms = " AND ".join(f"a{i} = {i}" for i in range(1500))
    plan = select_plan(f"SELECT * FROM t WHERE pk = 'a' AND {terms}")
    assert isinstance(plan.filter, expr.And) and len(plan.filter.operands) == 1501
    assert plan.partitions == (S,)
