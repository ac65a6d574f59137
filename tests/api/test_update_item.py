"""UpdateItem: every update action, ReturnValues, conditions, legacy AttributeUpdates, errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import (
    CAPACITY_INVALID,
    INVALID,
    KEY_SCHEMA_MISMATCH,
    REQUEST_FAILED,
    RESOURCE_NOT_FOUND,
    RETURN_VALUES_INVALID,
    Client,
    Item,
    TableFactory,
    attr,
    errors,
    failure_item,
    index_spec,
    key,
    mixed,
    n,
    normalized,
    raises,
    read,
    s,
    seed,
    unique_name,
    update,
    validation,
)

BAD_OPERAND = "An operand in the update expression has an incorrect data type"
NO_CONDITIONS = "ConditionalOperator cannot be used without Filter or Expected"
ONE_CONDITION = (
    "ConditionalOperator can only be used when Filter or Expected has two or more elements"
)
ITEM: Item = {
    **key("a"),
    "cnt": n("10"),
    "title": s("hello"),
    "tags": {"SS": ["red", "blue"]},
    "nums": {"NS": ["1", "2"]},
    "lst": {"L": [s("l0"), s("l1"), s("l2"), s("l3")]},
    "doc": {"M": {"leaf": s("v"), "deep": {"M": {"x": n("1")}}}},
}


def after(client: Client, name: str) -> Item:
    item = read(client, name, key("a"))
    assert item is not None
    return item


def assert_untouched(client: Client, name: str) -> None:
    assert after(client, name) == ITEM


def set_v(client: Client, name: str, item_key: Item | None = None, **kwargs: Any) -> dict[str, Any]:
    """`SET v = :v` (1) on `item_key`, the seeded item's key unless given."""
    return update(client, name, item_key or key("a"), "SET v = :v", {":v": n("1")}, **kwargs)


# --- SET, REMOVE, ADD, DELETE ----------------------------------------------------------

L0, L1, L2, L3 = ITEM["lst"]["L"]


def test_set_creates_missing_item(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    answer = update(dynamodb, name, key("new", "1"), "SET v = :v", {":v": s("x")})
    assert set(answer) == {"ResponseMetadata"}
    assert read(dynamodb, name, key("new", "1")) == {**key("new", "1"), "v": s("x")}


@pytest.mark.parametrize(
    ("expression", "values", "changes"),
    [
        pytest.param(
            "SET #t = :t, score = :s",
            {":t": s("bye"), ":s": n("7"), "#t": "title"},
            {"title": s("bye"), "score": n("7")},
            id="set-with-names",
        ),
        pytest.param("SET cnt = cnt + :d", {":d": n("2.50")}, {"cnt": n("12.5")}, id="plus"),
        pytest.param("SET cnt = cnt - :d", {":d": n("2.50")}, {"cnt": n("7.5")}, id="minus"),
        pytest.param("SET cnt = :d - cnt", {":d": n("2.50")}, {"cnt": n("-7.5")}, id="from"),
        pytest.param("SET cnt = :d + :d", {":d": n("2.50")}, {"cnt": n("5")}, id="values"),
        pytest.param(
            "SET cnt = if_not_exists(cnt, :z), fresh = if_not_exists(fresh, :z)",
            {":z": n("0")},
            {"fresh": n("0")},
            id="if-not-exists",
        ),
        pytest.param(
            "SET lst = list_append(:head, list_append(lst, :tail))",
            {":head": {"L": [s("h")]}, ":tail": {"L": [s("t1"), s("t2")]}},
            {"lst": {"L": [s("h"), L0, L1, L2, L3, s("t1"), s("t2")]}},
            id="list-append-both-ways",
        ),
        pytest.param(
            "SET doc.deep.y = :y, doc.leaf = :l, lst[1] = :e",
            {":y": n("2"), ":l": s("w"), ":e": s("E")},
            {
                "doc": {"M": {"leaf": s("w"), "deep": {"M": {"x": n("1"), "y": n("2")}}}},
                "lst": {"L": [L0, s("E"), L2, L3]},
            },
            id="nested-map-and-list-paths",
        ),
        pytest.param(
            "SET lst[10] = :e",
            {":e": s("end")},
            {"lst": {"L": [L0, L1, L2, L3, s("end")]}},
            id="beyond-list-end-appends",
        ),
        pytest.param(
            "SET clone = doc.deep", {}, {"clone": {"M": {"x": n("1")}}}, id="copy-attribute"
        ),
        pytest.param(
            "REMOVE title, doc.deep, absent",
            {},
            {"title": None, "doc": {"M": {"leaf": s("v")}}},
            id="remove-attributes-and-nested-paths",
        ),
        # Indexes refer to the list before the update: l1 and l3 go, the rest shift down.
        pytest.param("REMOVE lst[3], lst[1]", {}, {"lst": {"L": [L0, L2]}}, id="remove-indexes"),
        pytest.param("REMOVE lst[9]", {}, {}, id="remove-index-past-end-is-ignored"),
        pytest.param(
            "ADD cnt :d, fresh :d", {":d": n("-3")}, {"cnt": n("7"), "fresh": n("-3")}, id="add"
        ),
        pytest.param(
            "ADD tags :t, nums :n, fresh :t",
            {":t": {"SS": ["red", "green"]}, ":n": {"NS": ["2.0", "3"]}},
            {
                "tags": {"SS": ["blue", "green", "red"]},
                "nums": {"NS": ["1", "2", "3"]},
                "fresh": {"SS": ["green", "red"]},
            },
            id="add-to-sets",
        ),
        pytest.param(
            "DELETE tags :t, nums :n",
            {":t": {"SS": ["red", "absent"]}, ":n": {"NS": ["1", "2"]}},
            {"tags": {"SS": ["blue"]}, "nums": None},  # an emptied set is removed
            id="delete-from-sets",
        ),
        pytest.param(
            "SET title = :t REMOVE doc ADD cnt :one DELETE tags :red",
            {":t": s("all"), ":one": n("1"), ":red": {"SS": ["red"]}},
            {"title": s("all"), "cnt": n("11"), "tags": {"SS": ["blue"]}, "doc": None},
            id="all-clauses-together",
        ),
    ],
)
def test_update_changes(
    dynamodb: Client, seeded: str, expression: str, values: Item, changes: Item
) -> None:
    """`values` holds the :values and #names; `changes` the attributes the update sets
    (None: removes). Every other attribute stays as it was."""
    placeholders = {k: v for k, v in values.items() if k.startswith(":")} or None
    names = {k: v for k, v in values.items() if k.startswith("#")} or None
    update(dynamodb, seeded, key("a"), expression, placeholders, names)
    expected = {k: v for k, v in {**ITEM, **changes}.items() if v is not None}
    assert normalized(after(dynamodb, seeded)) == normalized(expected)


def test_if_not_exists_counter(dynamodb: Client, seeded: str) -> None:
    expression = "SET hits = if_not_exists(hits, :zero) + :one"
    for _ in range(3):
        update(dynamodb, seeded, key("a"), expression, {":zero": n("0"), ":one": n("1")})
    assert after(dynamodb, seeded)["hits"] == n("3")


# --- ReturnValues ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "values", "mode", "attributes"),
    [
        ("SET title = :t", {":t": s("x")}, "ALL_OLD", ITEM),
        ("REMOVE tags", None, "ALL_NEW", {k: v for k, v in ITEM.items() if k != "tags"}),
        (
            "SET title = :t, brand = :t REMOVE nums",
            {":t": s("x")},
            "UPDATED_OLD",
            {"title": s("hello"), "nums": {"NS": ["1", "2"]}},
        ),
        (
            "SET doc.deep.x = doc.deep.x + :one ADD cnt :one",
            {":one": n("1")},
            "UPDATED_NEW",
            {"cnt": n("11"), "doc": {"M": {"deep": {"M": {"x": n("2")}}}}},
        ),
        ("SET v = :v", {":v": n("1")}, "NONE", None),
    ],
    ids=["all-old", "all-new", "updated-old", "updated-new", "none"],
)
def test_return_values(
    dynamodb: Client,
    seeded: str,
    expression: str,
    values: Item | None,
    mode: str,
    attributes: Item | None,
) -> None:
    answer = update(dynamodb, seeded, key("a"), expression, values, ReturnValues=mode)
    assert answer.get("Attributes") == attributes


def test_return_all_old_on_new_item(dynamodb: Client, table: TableFactory) -> None:
    answer = set_v(dynamodb, table(), key("z"), ReturnValues="ALL_OLD")
    assert "Attributes" not in answer


# --- conditions and capacity -----------------------------------------------------------


def test_condition_passes(dynamodb: Client, seeded: str) -> None:
    update(
        dynamodb,
        seeded,
        key("a"),
        "SET cnt = :v",
        {":v": n("1"), ":ten": n("10")},
        ConditionExpression="cnt = :ten",
    )
    assert after(dynamodb, seeded)["cnt"] == n("1")


def test_condition_fails_and_returns_old_item(dynamodb: Client, seeded: str) -> None:
    with raises("ConditionalCheckFailedException", REQUEST_FAILED) as info:
        update(
            dynamodb,
            seeded,
            key("a"),
            "SET cnt = :v",
            {":v": n("1")},
            ConditionExpression="cnt < :v",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert failure_item(info.value) == ITEM
    assert_untouched(dynamodb, seeded)


def test_failed_condition_creates_nothing(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with raises("ConditionalCheckFailedException", REQUEST_FAILED):
        set_v(dynamodb, name, key("z"), ConditionExpression="attribute_exists(pk)")
    assert read(dynamodb, name, key("z")) is None


def test_update_capacity_uses_larger_image(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    seed(dynamodb, name, {**key("a"), "big": s("x" * 2500)})
    answer = update(dynamodb, name, key("a"), "REMOVE big", ReturnConsumedCapacity="TOTAL")
    assert answer["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 3.0}


# --- legacy AttributeUpdates -----------------------------------------------------------


def test_attribute_updates_actions(dynamodb: Client, seeded: str) -> None:
    dynamodb.update_item(
        TableName=seeded,
        Key=key("a"),
        AttributeUpdates={
            "title": {"Action": "PUT", "Value": s("put")},
            "cnt": {"Action": "ADD", "Value": n("5")},
            "tags": {"Action": "DELETE", "Value": {"SS": ["red"]}},
            "nums": {"Action": "ADD", "Value": {"NS": ["9"]}},
            "doc": {"Action": "DELETE"},
        },
        Expected={"cnt": {"Value": n("10")}},
    )
    item = after(dynamodb, seeded)
    assert (item["title"], item["cnt"], item["tags"]) == (s("put"), n("15"), {"SS": ["blue"]})
    assert sorted(item["nums"]["NS"]) == ["1", "2", "9"]
    assert "doc" not in item


def test_attribute_updates_default_action_is_put(dynamodb: Client, seeded: str) -> None:
    dynamodb.update_item(
        TableName=seeded, Key=key("a"), AttributeUpdates={"title": {"Value": s("p")}}
    )
    assert after(dynamodb, seeded)["title"] == s("p")


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (
            {"Action": "PUT"},
            INVALID + "Only DELETE action is allowed when no attribute value is specified",
        ),
        (
            {"Action": "ADD", "Value": s("x")},
            INVALID + "ADD action is not supported for the type S",
        ),
        (
            {"Action": "DELETE", "Value": s("x")},
            INVALID + "DELETE action with value is not supported for the type S",
        ),
    ],
    ids=["put-without-value", "add-string", "delete-string"],
)
def test_attribute_updates_errors(
    dynamodb: Client, seeded: str, action: dict[str, object], message: str
) -> None:
    with validation(message):
        dynamodb.update_item(TableName=seeded, Key=key("a"), AttributeUpdates={"title": action})
    assert_untouched(dynamodb, seeded)


@pytest.mark.parametrize(
    ("attribute", "action"),
    [
        ("cnt", {"Action": "DELETE", "Value": {"NS": ["1"]}}),
        ("title", {"Action": "ADD", "Value": n("1")}),
        ("tags", {"Action": "ADD", "Value": {"NS": ["1"]}}),
        ("nums", {"Action": "ADD", "Value": n("1")}),
        ("nums", {"Action": "DELETE", "Value": {"SS": ["1"]}}),
    ],
    ids=["delete-ns-from-n", "add-n-to-s", "add-ns-to-ss", "add-n-to-ns", "delete-ss-from-ns"],
)
def test_attribute_updates_type_mismatch(
    dynamodb: Client, seeded: str, attribute: str, action: dict[str, object]
) -> None:
    """AttributeUpdates words a type error its own way (UpdateExpression: BAD_OPERAND)."""
    with validation("Type mismatch for attribute to update"):
        dynamodb.update_item(TableName=seeded, Key=key("a"), AttributeUpdates={attribute: action})
    assert_untouched(dynamodb, seeded)


@pytest.mark.parametrize(
    ("legacy", "message"),
    [
        ({"AttributeUpdates": {"title": {"Value": s("v")}}}, NO_CONDITIONS),
        ({}, NO_CONDITIONS),
        ({"Expected": {"cnt": {"Value": n("10")}}}, ONE_CONDITION),
        (
            {
                "AttributeUpdates": {"title": {"Action": "PUT", "Value": s("y")}},
                "Expected": {"cnt": {"Value": n("10")}},
                "UpdateExpression": "SET title = :v",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {":v": s("x")},
            },
            mixed(
                "AttributeUpdates, Expected, ConditionalOperator",
                "UpdateExpression, ConditionExpression",
            ),
        ),
    ],
    ids=["updates-only", "nothing", "one-condition", "with-expressions"],
)
def test_conditional_operator_misuse(
    unchecked: Client, seeded: str, legacy: dict[str, Any], message: str
) -> None:
    with validation(message):
        unchecked.update_item(TableName=seeded, Key=key("a"), ConditionalOperator="AND", **legacy)
    assert_untouched(unchecked, seeded)


def test_mixing_attribute_updates_and_expression(dynamodb: Client, seeded: str) -> None:
    with validation(mixed("AttributeUpdates", "UpdateExpression")):
        update(
            dynamodb,
            seeded,
            key("a"),
            "SET title = :v",
            {":v": s("x")},
            AttributeUpdates={"title": {"Action": "PUT", "Value": s("y")}},
        )
    assert_untouched(dynamodb, seeded)


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "values"),
    [("SET pk = :v", {":v": s("b")}), ("REMOVE pk", None), ("ADD pk :v", {":v": n("1")})],
    ids=["set", "remove", "add"],
)
def test_cannot_update_hash_key(
    dynamodb: Client, seeded: str, expression: str, values: Item | None
) -> None:
    with validation(INVALID + "Cannot update attribute pk. This attribute is part of the key"):
        update(dynamodb, seeded, key("a"), expression, values)
    assert_untouched(dynamodb, seeded)


def test_cannot_update_range_key(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    seed(dynamodb, name, key("a", "1"))
    with validation(INVALID + "Cannot update attribute sk. This attribute is part of the key"):
        update(dynamodb, name, key("a", "1"), "SET sk = :v", {":v": s("2")})
    assert read(dynamodb, name, key("a", "1")) == key("a", "1")


def test_cannot_update_key_with_attribute_updates(dynamodb: Client, seeded: str) -> None:
    with validation(INVALID + "Cannot update attribute pk. This attribute is part of the key"):
        dynamodb.update_item(
            TableName=seeded,
            Key=key("a"),
            AttributeUpdates={"pk": {"Action": "PUT", "Value": s("b")}},
        )
    assert_untouched(dynamodb, seeded)


@pytest.mark.parametrize(
    ("expression", "one", "two"),
    [
        ("SET title = :v, title = :v", "[title]", "[title]"),
        ("SET doc = :v REMOVE doc.leaf", "[doc]", "[doc, leaf]"),
        ("REMOVE lst[1], lst[1]", "[lst, [1]]", "[lst, [1]]"),
    ],
)
def test_overlapping_paths(
    dynamodb: Client, seeded: str, expression: str, one: str, two: str
) -> None:
    values = {":v": s("x")} if ":v" in expression else None
    with validation(
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
        f"rewrite one of these paths; path one: {one}, path two: {two}"
    ):
        update(dynamodb, seeded, key("a"), expression, values)
    assert_untouched(dynamodb, seeded)


def test_conflicting_paths(dynamodb: Client, seeded: str) -> None:
    with validation(
        "Invalid UpdateExpression: Two document paths conflict with each other; must remove or "
        "rewrite one of these paths; path one: [doc, leaf], path two: [doc, [0]]"
    ):
        update(dynamodb, seeded, key("a"), "SET doc.leaf = :v, doc[0] = :v", {":v": s("x")})
    assert_untouched(dynamodb, seeded)


BAD_PATH = "The document path provided in the update expression is invalid for update"
NO_SUCH_ATTRIBUTE = "The provided expression refers to an attribute that does not exist in the item"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("SET nope.x = :v", BAD_PATH),
        ("SET title.x = :v", BAD_PATH),
        ("SET cnt = nope + :one", NO_SUCH_ATTRIBUTE),
        ("SET cnt = title + :one", BAD_OPERAND),
        ("ADD title :one", BAD_OPERAND),
        ("DELETE cnt :set", BAD_OPERAND),
        ("SET lst = list_append(lst, doc)", BAD_OPERAND),
    ],
    ids=[
        "missing-parent",
        "scalar-parent",
        "missing-operand",
        "string-plus",
        "add-to-string",
        "delete-from-number",
        "append-map",
    ],
)
def test_runtime_errors_leave_item(
    dynamodb: Client, seeded: str, expression: str, message: str
) -> None:
    candidates: Item = {":v": s("x"), ":one": n("1"), ":set": {"SS": ["x"]}}
    values = {k: v for k, v in candidates.items() if k in expression}
    with validation(message):
        update(dynamodb, seeded, key("a"), expression, values or None)
    assert_untouched(dynamodb, seeded)


def test_missing_item_arithmetic_creates_nothing(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation(NO_SUCH_ATTRIBUTE):
        update(dynamodb, name, key("z"), "SET cnt = cnt + :one", {":one": n("1")})
    assert read(dynamodb, name, key("z")) is None


@pytest.mark.parametrize(
    "request_params",
    [
        {"UpdateExpression": "REMOVE title"},
        {"UpdateExpression": "REMOVE doc.leaf, lst[0]"},  # no parent to find: still no error
        {"UpdateExpression": "DELETE tags :t", "ExpressionAttributeValues": {":t": {"SS": ["x"]}}},
        {"AttributeUpdates": {"title": {"Action": "DELETE"}}},
        {"AttributeUpdates": {"tags": {"Action": "DELETE", "Value": {"SS": ["x"]}}}},
    ],
    ids=["remove", "remove-nested", "delete-from-set", "legacy-delete", "legacy-delete-members"],
)
def test_removing_from_missing_item_creates_nothing(
    dynamodb: Client, table: TableFactory, request_params: dict[str, Any]
) -> None:
    """An update that only removes neither creates a missing item nor returns one."""
    name = table()
    answer = dynamodb.update_item(
        TableName=name, Key=key("z"), ReturnValues="ALL_NEW", **request_params
    )
    assert "Attributes" not in answer
    assert read(dynamodb, name, key("z")) is None


def test_remove_with_set_on_missing_item_checks_paths(
    dynamodb: Client, table: TableFactory
) -> None:
    name = table()
    with validation(BAD_PATH):
        update(dynamodb, name, key("z"), "REMOVE doc.leaf SET v = :v", {":v": n("1")})
    assert read(dynamodb, name, key("z")) is None
    update(dynamodb, name, key("z"), "REMOVE title SET v = :v", {":v": n("1")})
    assert read(dynamodb, name, key("z")) == {**key("z"), "v": n("1")}


def nested_maps(levels: int) -> Item:
    """A value spanning `levels` nesting levels: maps around a string."""
    value = s("leaf")
    for _ in range(levels - 1):
        value = {"M": {"a": value}}
    return value


def test_set_below_the_top_keeps_to_32_levels(dynamodb: Client, seeded: str) -> None:
    """doc is level 1, so a value set at doc.x may span 31 levels, not 32."""
    with validation(
        "Nesting Levels have exceeded supported limits: Attributes in the item have nested "
        "levels beyond supported limit"
    ):
        update(dynamodb, seeded, key("a"), "SET doc.x = :d", {":d": nested_maps(32)})
    assert_untouched(dynamodb, seeded)
    update(dynamodb, seeded, key("a"), "SET doc.x = :d", {":d": nested_maps(31)})
    assert after(dynamodb, seeded)["doc"]["M"]["x"] == nested_maps(31)


# --- index keys ------------------------------------------------------------------------

NOT_SCALAR = "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
INDEXED: Item = {**key("a", "1"), "e": n("1")}


@pytest.fixture
def indexed(dynamodb: Client, table: TableFactory) -> str:
    """A table whose attribute c keys an LSI (S) and g a GSI (S); item INDEXED has e = 1."""
    name = table(
        range_key=True,
        AttributeDefinitions=[attr("pk"), attr("sk"), attr("c"), attr("g")],
        GlobalSecondaryIndexes=[index_spec("by-g", "g")],
        LocalSecondaryIndexes=[index_spec("by-c", "pk", "c")],
    )
    seed(dynamodb, name, INDEXED)
    return name


@pytest.mark.parametrize(
    ("request_params", "message"),
    [
        (
            {"AttributeUpdates": {"c": {"Value": n("2")}}},
            INVALID + "Type mismatch for Index Key c Expected: S Actual: N IndexName: by-c",
        ),
        (
            # The index key's type is known before the other action's bad path is found.
            {"UpdateExpression": "SET g.a = e ADD c :one"},
            INVALID + "Type mismatch for Index Key c Expected: S Actual: N IndexName: by-c",
        ),
        (
            # ... and before the arithmetic on a string is tried.
            {"UpdateExpression": "SET x = g[1], g = pk + :one"},
            INVALID + "Type mismatch for Index Key g Expected: S Actual: N IndexName: by-g",
        ),
        (
            {"UpdateExpression": "SET g = list_append(:l, :l)"},
            INVALID + "Type mismatch for Index Key g Expected: S Actual: L IndexName: by-g",
        ),
        ({"UpdateExpression": "ADD g.b :one"}, NOT_SCALAR + "allowed: IndexKey: g"),
        ({"UpdateExpression": "SET c[1] = :one"}, NOT_SCALAR + "allowed: IndexKey: c"),
        ({"UpdateExpression": "SET x = e, y = g[1]"}, NOT_SCALAR + "allowed: IndexKey: g"),
        ({"UpdateExpression": "SET x = pk.y"}, NOT_SCALAR + "allowed: Key: pk"),
        (
            {"UpdateExpression": "SET g = e"},
            "The update expression attempted to update the secondary index key to unsupported type",
        ),
    ],
    ids=[
        "legacy-type",
        "add-type",
        "arithmetic-type",
        "list-type",
        "add-into-index-key",
        "set-into-index-key",
        "read-from-index-key",
        "read-from-table-key",
        "type-known-once-applied",
    ],
)
def test_index_key_updates(
    dynamodb: Client, indexed: str, request_params: dict[str, Any], message: str
) -> None:
    expression = request_params.get("UpdateExpression", "")
    values = {k: v for k, v in {":one": n("1"), ":l": {"L": []}}.items() if k in expression}
    if values:
        request_params = {**request_params, "ExpressionAttributeValues": values}
    with validation(message):
        dynamodb.update_item(TableName=indexed, Key=key("a", "1"), **request_params)
    assert read(dynamodb, indexed, key("a", "1")) == INDEXED


def test_index_key_of_the_right_type(dynamodb: Client, indexed: str) -> None:
    update(dynamodb, indexed, key("a", "1"), "SET g = :g, c = if_not_exists(c, :g)", {":g": s("x")})
    assert read(dynamodb, indexed, key("a", "1")) == {**INDEXED, "g": s("x"), "c": s("x")}


def test_unknown_table(dynamodb: Client) -> None:
    with raises("ResourceNotFoundException", RESOURCE_NOT_FOUND):
        set_v(dynamodb, unique_name("missing"))


def test_key_not_matching_schema(dynamodb: Client, seeded: str) -> None:
    with validation(KEY_SCHEMA_MISMATCH):
        set_v(dynamodb, seeded, {"pk": n("1")})
    assert_untouched(dynamodb, seeded)


def test_enum_errors_are_aggregated(unchecked: Client, seeded: str) -> None:
    with validation(errors(CAPACITY_INVALID, RETURN_VALUES_INVALID)):
        set_v(unchecked, seeded, ReturnValues="INVALID", ReturnConsumedCapacity="INVALID")
    assert_untouched(unchecked, seeded)
