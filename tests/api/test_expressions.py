"""Expression semantics and errors: conditions, projections, update typing, #names / :values."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.helpers import (
    Client,
    Item,
    TableFactory,
    key,
    n,
    raises,
    read,
    s,
    seed,
    update,
    validation,
)

ITEM: Item = {
    **key("a"),
    "num": n("5"),
    "txt": s("hello"),
    "bin": {"B": b"\x01\x02\x03"},
    "ss": {"SS": ["x", "y"]},
    "ns": {"NS": ["1", "2"]},
    "lst": {"L": [n("1"), s("two"), {"L": [s("deep")]}]},
    "doc": {"M": {"k": s("v"), "z": n("0"), "arr": {"L": [n("10"), n("20")]}}},
    "nul": {"NULL": True},
    "flag": {"BOOL": True},
    "blank": s(""),
}
VALUES: Item = {
    ":zero": n("0"),
    ":one": n("1"),
    ":two": n("2"),
    ":three": n("3"),
    ":four": n("4"),
    ":five": n("5"),
    ":fivezero": n("5.00"),
    ":six": n("6"),
    ":str5": s("5"),
    ":hello": s("hello"),
    ":he": s("he"),
    ":ell": s("ell"),
    ":hz": s("hz"),
    ":x": s("x"),
    ":twostr": s("two"),
    ":bin": {"B": b"\x01\x02\x03"},
    ":true": {"BOOL": True},
    ":yx": {"SS": ["y", "x"]},
    ":typeN": s("N"),
    ":typeNULL": s("NULL"),
    ":typeSS": s("SS"),
    ":doc": {"M": {"z": n("0"), "k": s("v"), "arr": {"L": [n("10"), n("20")]}}},
    ":empty": s(""),
}


def error_cases(argnames: tuple[str, str, str], cases: list[Any]) -> pytest.MarkDecorator:
    """Parametrize over (expression, placeholders, detail) cases, named after the expression."""
    return pytest.mark.parametrize(argnames, cases, ids=[c[0][:40] or "empty" for c in cases])


def holds(client: Client, table: str, condition: str, names: dict[str, str] | None = None) -> bool:
    """Evaluate a condition against ITEM by re-putting ITEM under it (a no-op either way)."""
    used = {k: v for k, v in VALUES.items() if k in _placeholders(condition)}
    params: dict[str, Any] = {"TableName": table, "Item": ITEM, "ConditionExpression": condition}
    if used:
        params["ExpressionAttributeValues"] = used
    if names:
        params["ExpressionAttributeNames"] = names
    try:
        client.put_item(**params)
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _placeholders(expression: str) -> set[str]:
    out: set[str] = set()
    for raw in expression.replace("(", " ").replace(")", " ").replace(",", " ").split():
        if raw.startswith(":"):
            out.add(raw)
    return out


CONDITIONS = [
    ("num = :five", True),
    ("num = :fivezero", True),  # numbers compare by value: 5.00 == 5
    ("num <> :six", True),
    ("num < :six", True),
    ("num <= :five", True),
    ("num > :four", True),
    ("num >= :six", False),
    ("num = :str5", False),  # different types are never equal
    ("num < :str5", False),
    ("txt < :hz", True),
    ("bin = :bin", True),
    ("flag = :true", True),
    ("blank = :empty", True),
    ("num BETWEEN :four AND :six", True),
    ("num BETWEEN :one AND :four", False),
    ("num IN (:one, :five)", True),
    ("txt IN (:x, :he)", False),
    ("NOT num = :five OR txt = :hello", True),
    ("NOT (num = :five OR txt = :hello)", False),
    ("num = :six AND txt = :hello OR flag = :true", True),  # AND binds tighter than OR
    ("num = :six AND (txt = :hello OR flag = :true)", False),
    ("attribute_exists(doc.k)", True),
    ("attribute_exists(doc.q)", False),
    ("attribute_not_exists(nope)", True),
    ("attribute_exists(lst[2][0])", True),
    ("attribute_exists(lst[5])", False),
    ("attribute_type(num, :typeN)", True),
    ("attribute_type(nul, :typeNULL)", True),
    ("attribute_type(ss, :typeN)", False),
    ("begins_with(txt, :he)", True),
    ("begins_with(txt, :ell)", False),
    ("contains(txt, :ell)", True),
    ("contains(ss, :x)", True),
    ("contains(lst, :twostr)", True),
    ("contains(ns, :three)", False),
    ("size(txt) = :five", True),
    ("size(ss) = :two", True),
    ("size(lst) > :two", True),
    ("size(doc) = :three", True),
    ("size(bin) = :three", True),
    ("size(nope) = :zero", False),
    ("lst[0] = :one", True),
    ("doc.arr[1] > doc.arr[0]", True),  # two paths may be compared
    ("doc.z = :zero", True),
    ("nope = :five", False),
    ("nope <> :five", True),  # a missing attribute is "not equal" to anything
    ("ss = :yx", True),  # sets are equal regardless of order
    ("doc = :doc", True),  # maps compare deeply, regardless of key order
]


@pytest.mark.parametrize(("condition", "expected"), CONDITIONS, ids=[c for c, _ in CONDITIONS])
def test_condition_semantics(dynamodb: Client, seeded: str, condition: str, expected: bool) -> None:
    assert holds(dynamodb, seeded, condition) is expected
    assert read(dynamodb, seeded, key("a")) == ITEM


def test_condition_with_names(dynamodb: Client, seeded: str) -> None:
    names = {"#d": "doc", "#k": "k", "#sz": "size"}
    assert holds(dynamodb, seeded, "#d.#k = :x OR attribute_not_exists(#sz)", names)


def test_names_can_contain_dots(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    seed(dynamodb, name, {**key("a"), "a.b": n("1"), "a": {"M": {"b": n("2")}}})
    answer = dynamodb.get_item(
        TableName=name,
        Key=key("a"),
        ProjectionExpression="#ab",
        ExpressionAttributeNames={"#ab": "a.b"},
    )
    assert answer["Item"] == {"a.b": n("1")}


# --- projection semantics --------------------------------------------------------------


PROJECTIONS = [
    ("num, txt", {"num": n("5"), "txt": s("hello")}),
    ("doc.k", {"doc": {"M": {"k": s("v")}}}),
    ("doc.arr[1], doc.k", {"doc": {"M": {"arr": {"L": [n("20")]}, "k": s("v")}}}),
    ("lst[2][0]", {"lst": {"L": [{"L": [s("deep")]}]}}),
    ("lst[0], lst[2]", {"lst": {"L": [n("1"), {"L": [s("deep")]}]}}),
    ("nope, doc.nope, lst[9], num", {"num": n("5")}),
    ("pk", key("a")),
]


@pytest.mark.parametrize(("projection", "expected"), PROJECTIONS, ids=[p for p, _ in PROJECTIONS])
def test_projection_semantics(
    dynamodb: Client, seeded: str, projection: str, expected: Item
) -> None:
    answer = dynamodb.get_item(TableName=seeded, Key=key("a"), ProjectionExpression=projection)
    assert answer["Item"] == expected


# --- errors ----------------------------------------------------------------------------


def condition_error(client: Client, table: str, condition: str, message: str, **extra: Any) -> None:
    params: dict[str, Any] = {"TableName": table, "Item": ITEM, "ConditionExpression": condition}
    params.update(extra)
    with validation(message):
        client.put_item(**params)
    assert read(client, table, key("a")) == ITEM


# Message stems shared by the condition, update and projection parsers.
NO_VALUE = "An expression attribute value used in expression is not defined; attribute value: "
NO_NAME = "An expression attribute name used in the document path is not defined; attribute name: "
RESERVED = "Attribute name is a reserved keyword; reserved keyword: "
OPERANDS = "Incorrect number of operands for operator or function; operator or function: "
NEEDS_PATH = "Operator or function requires a document path; operator or function: "
OPERAND_TYPE = "Incorrect operand type for operator or function; "
DISTINCT = (
    "The first operand must be distinct from the remaining operands for this operator or "
    "function; operator: "
)
OVERLAP = "Two document paths overlap with each other; must remove or rewrite one of these paths; "
CONFLICT = (
    "Two document paths conflict with each other; must remove or rewrite one of these paths; "
)
BAD_BETWEEN = (
    "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
    "lower bound operand: AttributeValue: {N:6}, upper bound operand: AttributeValue: {N:4}"
)
MISUSED_SIZE = "The function is not allowed to be used this way in an expression; function: size"

CONDITION_ERRORS = [
    ("", {}, "The expression can not be empty;"),
    ("= :five", {":five": n("5")}, 'Syntax error; token: "=", near: "= :five"'),
    ("((attribute_not_exists(pk)))", {}, "The expression has redundant parentheses;"),
    ("num = :nope", {}, NO_VALUE + ":nope"),
    ("#nope = :one", {":one": n("1")}, NO_NAME + "#nope"),
    ("status = :one", {":one": n("1")}, RESERVED + "status"),
    ("foo(num)", {}, "Invalid function name; function: foo"),
    ("begins_with(txt)", {}, OPERANDS + "begins_with, number of operands: 1"),
    ("attribute_exists(:one)", {":one": n("1")}, NEEDS_PATH + "attribute_exists"),
    ("size(txt)", {}, MISUSED_SIZE),
    ("num = num", {}, DISTINCT + "=, first operand: [num]"),
    ("contains(txt, txt)", {}, DISTINCT + "contains, first operand: [txt]"),
    ("num BETWEEN :six AND :four", {":six": n("6"), ":four": n("4")}, BAD_BETWEEN),
    (
        "attribute_exists(num)" + " " * 4076,
        {},
        "Expression size has exceeded the maximum allowed size; expression size: 4097",
    ),
]


@error_cases(("condition", "values", "detail"), CONDITION_ERRORS)
def test_condition_errors(
    dynamodb: Client, seeded: str, condition: str, values: Item, detail: str
) -> None:
    extra: dict[str, Any] = {"ExpressionAttributeValues": values} if values else {}
    condition_error(dynamodb, seeded, condition, "Invalid ConditionExpression: " + detail, **extra)


def test_invalid_attribute_type_name(dynamodb: Client, seeded: str) -> None:
    # The ten type names are listed in an order DynamoDB does not guarantee.
    with raises("ValidationException") as info:
        dynamodb.put_item(
            TableName=seeded,
            Item=ITEM,
            ConditionExpression="attribute_type(num, :t)",
            ExpressionAttributeValues={":t": s("INT")},
        )
    text = info.value.response["Error"]["Message"]
    prefix = (
        "Invalid ConditionExpression: Invalid attribute type name found; type: INT, valid types: "
    )
    assert text.startswith(prefix + "{") and text.endswith("}"), text
    listed = text[len(prefix) + 1 : -1].split(",")
    assert sorted(listed) == sorted(["B", "NULL", "SS", "BOOL", "L", "BS", "N", "NS", "S", "M"])
    assert read(dynamodb, seeded, key("a")) == ITEM


@pytest.mark.parametrize(
    ("condition", "message", "extra"),
    [
        (
            "contains(#a, #a)",
            "Invalid ConditionExpression: " + DISTINCT + "contains, first operand: [data]",
            {"ExpressionAttributeNames": {"#a": "data"}},
        ),
        (
            "attribute_exists(num)",
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}",
            {"ExpressionAttributeNames": {"#unused": "x"}},
        ),
        (
            "num = :five",
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}",
            {"ExpressionAttributeValues": {":five": n("5"), ":unused": n("1")}},
        ),
    ],
    ids=["distinct-operands-after-name-substitution", "unused-name", "unused-value"],
)
def test_placeholder_errors(
    dynamodb: Client, seeded: str, condition: str, message: str, extra: dict[str, Any]
) -> None:
    condition_error(dynamodb, seeded, condition, message, **extra)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"ExpressionAttributeNames": {"name": "x"}},
            'ExpressionAttributeNames contains invalid key: Syntax error; key: "name"',
        ),
        (
            {"ExpressionAttributeValues": {"v": n("1")}},
            'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"',
        ),
        ({"ExpressionAttributeNames": {}}, "ExpressionAttributeNames must not be empty"),
        ({"ExpressionAttributeValues": {}}, "ExpressionAttributeValues must not be empty"),
        (
            {"ExpressionAttributeValues": {":v": {"SS": []}}},
            "ExpressionAttributeValues contains invalid value: One or more parameter values were "
            "invalid: An string set  may not be empty for key :v",
        ),
        (
            {"ExpressionAttributeNames": {"#" + "a" * 255: "x"}},
            "ExpressionAttributeNames contains invalid key: The expression attribute map "
            "contains a key that is too long; size of key: 256",
        ),
        (
            # DynamoDB gives no size for a value's key.
            {"ExpressionAttributeValues": {":" + "a" * 255: n("1")}},
            "ExpressionAttributeValues contains invalid key: The expression attribute map "
            "contains a key that is too long;",
        ),
    ],
    ids=[
        "name-key",
        "value-key",
        "empty-names",
        "empty-values",
        "bad-value",
        "long-name-key",
        "long-value-key",
    ],
)
def test_placeholder_map_errors(
    unchecked: Client, seeded: str, extra: dict[str, Any], message: str
) -> None:
    condition_error(unchecked, seeded, "attribute_exists(num)", message, **extra)


# --- update expression errors found before any item is read ----------------------------


UPDATE_ERRORS = [
    ("INVALID SYNTAX HERE", {}, 'Syntax error; token: "INVALID", near: "INVALID SYNTAX"'),
    ("ADD hits : incr", {}, 'Syntax error; token: ":", near: "hits : incr"'),
    (
        "SET a = :v SET b = :v",
        {":v": n("1")},
        'The "SET" section can only be used once in an update expression;',
    ),
    ("SET a = foo(:v)", {":v": n("1")}, "Invalid function name; function: foo"),
    ("SET a = if_not_exists(:v, a)", {":v": n("1")}, NEEDS_PATH + "if_not_exists"),
    ("SET a = if_not_exists(a)", {}, OPERANDS + "if_not_exists, number of operands: 1"),
    (
        "SET a = list_append(a, :v)",
        {":v": s("x")},
        OPERAND_TYPE + "operator or function: list_append, operand type: S",
    ),
    (
        "SET a = :v + :one",
        {":v": s("x"), ":one": n("1")},
        OPERAND_TYPE + "operator or function: +, operand type: S",
    ),
    (
        "ADD a :v",
        {":v": s("x")},
        OPERAND_TYPE + "operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND",
    ),
    (
        "DELETE a :v",
        {":v": n("1")},
        OPERAND_TYPE
        + "operator: DELETE, operand type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND",
    ),
    ("SET #n = :v", {":v": n("1")}, NO_NAME + "#n"),
    ("SET a = :nope", {}, NO_VALUE + ":nope"),
    ("", {}, "The expression can not be empty;"),
    # Only a condition or a filter that is too long has its size in the message.
    ("SET a = :v" + " " * 4087, {}, "Expression size has exceeded the maximum allowed size;"),
]


@error_cases(("expression", "values", "detail"), UPDATE_ERRORS)
def test_update_expression_errors(
    dynamodb: Client, seeded: str, expression: str, values: Item, detail: str
) -> None:
    with validation("Invalid UpdateExpression: " + detail):
        update(dynamodb, seeded, key("a"), expression, values or None)
    assert read(dynamodb, seeded, key("a")) == ITEM


def test_update_unused_value(dynamodb: Client, seeded: str) -> None:
    with validation(
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"
    ):
        update(dynamodb, seeded, key("a"), "SET a = :v", {":v": n("1"), ":unused": n("2")})
    assert read(dynamodb, seeded, key("a")) == ITEM


def test_names_used_only_in_condition_count(dynamodb: Client, seeded: str) -> None:
    update(
        dynamodb,
        seeded,
        key("a"),
        "SET #a = :v",
        {":v": n("1"), ":five": n("5")},
        {"#a": "added", "#num": "num"},
        ConditionExpression="#num = :five",
    )
    assert read(dynamodb, seeded, key("a")) == {**ITEM, "added": n("1")}


# --- projection errors -----------------------------------------------------------------


PROJECTION_ERRORS = [
    ("", None, "The expression can not be empty;"),
    ("num, num", None, OVERLAP + "path one: [num], path two: [num]"),
    ("doc, doc.k", None, OVERLAP + "path one: [doc], path two: [doc, k]"),
    ("doc.k, doc[0]", None, CONFLICT + "path one: [doc, k], path two: [doc, [0]]"),
    ("status", None, RESERVED + "status"),
    ("#nope", {"#other": "x"}, NO_NAME + "#nope"),
    ("a" * 4097, None, "Expression size has exceeded the maximum allowed size;"),
]


@error_cases(("projection", "names", "detail"), PROJECTION_ERRORS)
def test_projection_errors(
    dynamodb: Client, seeded: str, projection: str, names: dict[str, str] | None, detail: str
) -> None:
    extra: dict[str, Any] = {"ExpressionAttributeNames": names} if names else {}
    with validation("Invalid ProjectionExpression: " + detail):
        dynamodb.get_item(TableName=seeded, Key=key("a"), ProjectionExpression=projection, **extra)


def test_projection_unused_name(dynamodb: Client, seeded: str) -> None:
    with validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {#u}"):
        dynamodb.get_item(
            TableName=seeded,
            Key=key("a"),
            ProjectionExpression="num",
            ExpressionAttributeNames={"#u": "x"},
        )
