"""Fuzzing the request path: every operation of botocore's DynamoDB and DynamoDB Streams
models with hypothesis-generated bodies, mutated valid bodies, and hand-picked hostile
values (deep nesting, huge numbers, invalid UTF-8, ...).

Bodies follow each operation's input shape from the model, with any member now and then
replaced by arbitrary JSON, and names drawn mostly from tables that exist (so requests
get past the table lookup into the engine). Every answer must be a 200 or a 4xx with a
JSON `__type`, never a 5xx; the server must log no error or traceback, keep answering,
and leave a sentinel table (never named by any case) untouched.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.harness import DYNAMODB, STREAMS, Api, Server, Unavailable

PLAY = "play"
SENTINEL = "sentinel-4f0c2a"
SENTINEL_ITEMS = [{"pk": {"S": f"s-{i}"}, "sk": {"N": str(i)}, "g": {"S": "s"}} for i in range(10)]
FUZZ_SETTINGS = settings(
    database=None,  # no .hypothesis directory in the checkout
    # CI replays the same cases (a landing is not failed by a new find); locally every
    # run explores new ones.
    derandomize=os.environ.get("CI") == "true",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
RSS_LIMIT_MIB = 600


@pytest.fixture(scope="module")
def server(module_workdir: Path) -> Iterator[Server]:
    srv = Server(module_workdir)
    srv.start()
    api = Api(srv.url)
    make_play(api)
    api.call("CreateTable", table_request(SENTINEL))
    api.wait_active(SENTINEL)
    for item in SENTINEL_ITEMS:
        api.call("PutItem", {"TableName": SENTINEL, "Item": item})
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def api(server: Server) -> Api:
    return Api(server.url, timeout=60)


@pytest.fixture(autouse=True)
def untouched(server: Server) -> Iterator[None]:
    yield
    assert server.alive()
    items = Api(server.url).scan(SENTINEL)
    assert sorted(items, key=lambda i: int(i["sk"]["N"])) == SENTINEL_ITEMS
    server.assert_clean_log()
    assert server.rss_kib() < RSS_LIMIT_MIB * 1024


def table_request(name: str) -> dict[str, Any]:
    return {
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }


def make_play(api: Api) -> None:
    """(Re)create the table most cases name, with a few items."""
    try:
        api.call("DescribeTable", {"TableName": PLAY})
        return
    except Exception:
        pass
    api.call("CreateTable", table_request(PLAY))
    api.wait_active(PLAY)
    for i in range(5):
        item = {"pk": {"S": "a"}, "sk": {"N": str(i)}, "g": {"S": f"g{i % 2}"}, "x": {"L": []}}
        api.call("PutItem", {"TableName": PLAY, "Item": item})


def check_answer(status: int, data: bytes, what: str) -> None:
    assert status < 500, f"{what} -> {status}: {data[:500]!r}"
    assert b"Traceback" not in data
    if status != 200:
        assert "__type" in json.loads(data), f"{what} -> {status}: {data[:500]!r}"


def send(api: Api, operation: str, body: bytes, service: str = DYNAMODB) -> tuple[int, bytes]:
    try:
        status, data = api.raw(operation, body, service)
    except Unavailable as exc:
        raise AssertionError(
            f"{service}.{operation} dropped the connection: {body[:300]!r}"
        ) from exc
    check_answer(status, data, f"{operation} {body[:300]!r}")
    return status, data


# --- strategies from botocore's shapes --------------------------------------------------

NAMES = st.sampled_from([PLAY, PLAY, PLAY, "by_g", "pk", "sk", "g", "x", "#n", ":v", "nope"])
EDGE_TEXT = st.sampled_from(
    [
        "", " ", "\x00", "\u2028", "\U0001f600", "é" * 50, "a" * 300, "a" * 70_000, "%s%n%x",
        "' OR 1=1 --", 'SELECT * FROM "play"', "../../etc/passwd", "${jndi:x}", "\\", '"',
        "arn:aws:dynamodb:us-east-1:000000000000:table/play",
        "arn:aws:dynamodb:us-east-1:111111111111:table/play",
    ]
)  # fmt: skip
TEXT = st.one_of(NAMES, EDGE_TEXT, st.text(max_size=30))
NUMBERS = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False, places=None).map(str),
    st.sampled_from(
        [
            "1E+125", "9.9999999999999999999999999999999999999E+125", "1E+126", "1E-130",
            "1E-131", "-1E+126", "0x10", "1_000", " 1", "1 ", "", "NaN", "Infinity", ".5",
            "5.", "-0", "+1", "1e", "e1", "9" * 38, "9" * 39, "0." + "0" * 200 + "1",
            "1e999999999", "-1e-999999999", "1e9999999999999999999999",
        ]
    ),
)  # fmt: skip
BLOBS = st.one_of(st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()), TEXT)
EXPRESSIONS = st.one_of(
    st.sampled_from(
        [
            "pk = :v", "#n = :v", "attribute_not_exists(pk)", "attribute_exists(#n)",
            "SET #n = :v", "SET x = list_append(x, :v)", "ADD c :v", "REMOVE #n",
            "DELETE s :v", "SET a = if_not_exists(a, :v) + :v", "size(#n) > :v",
            "begins_with(pk, :v)", "pk = :v AND sk BETWEEN :v AND :v", "#n, x[0].y",
            "contains(#n, :v) OR NOT #n IN (:v, :v)",
            "SET " + ", ".join(f"a{i} = :v" for i in range(300)),
            "(" * 200 + "pk = :v" + ")" * 200, "x" + "[0]" * 100, ".".join(["m"] * 200),
        ]
    ),
    st.text(alphabet="pkx#:v =<>()[].,ANDORSETADD_", max_size=60),
)  # fmt: skip
TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")


def any_json(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT, NUMBERS)
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.one_of(NAMES, st.sampled_from(TYPES)), inner, max_size=3),
        ),
        max_leaves=max_leaves,
    )


def attribute_value(depth: int = 0) -> st.SearchStrategy[Any]:
    options = [
        st.fixed_dictionaries({"S": TEXT}),
        st.fixed_dictionaries({"N": NUMBERS}),
        st.fixed_dictionaries({"B": BLOBS}),
        st.fixed_dictionaries({"BOOL": st.booleans()}),
        st.fixed_dictionaries({"NULL": st.sampled_from([True, False])}),
        st.fixed_dictionaries({"SS": st.lists(TEXT, max_size=3)}),
        st.fixed_dictionaries({"NS": st.lists(NUMBERS, max_size=3)}),
        st.fixed_dictionaries({"BS": st.lists(BLOBS, max_size=3)}),
        st.dictionaries(st.sampled_from(TYPES), any_json(3), max_size=2),  # malformed
    ]
    if depth < 3:
        nested = st.deferred(lambda: attribute_value(depth + 1))
        options.append(st.fixed_dictionaries({"M": st.dictionaries(NAMES, nested, max_size=3)}))
        options.append(st.fixed_dictionaries({"L": st.lists(nested, max_size=3)}))
    return st.one_of(options)


def for_shape(shape: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of a botocore shape, now and then replaced by arbitrary JSON."""
    if depth > 5:
        return st.none()
    kind = shape.type_name
    name = shape.name
    base: st.SearchStrategy[Any]
    if name == "AttributeValue":
        base = attribute_value()
    elif kind == "structure":
        members = shape.members
        required = set(shape.required_members)
        base = st.fixed_dictionaries(
            {m: for_shape(members[m], depth + 1) for m in members if m in required},
            optional={m: for_shape(members[m], depth + 1) for m in members if m not in required},
        )
    elif kind == "list":
        base = st.lists(for_shape(shape.member, depth + 1), max_size=3)
    elif kind == "map":
        base = st.dictionaries(NAMES, for_shape(shape.value, depth + 1), max_size=3)
    elif kind == "string":
        if shape.enum:
            base = st.one_of(st.sampled_from(shape.enum), TEXT)
        elif "Expression" in name or name in ("PartiQLStatement", "ProjectionExpression"):
            base = EXPRESSIONS
        else:
            base = TEXT
    elif kind in ("integer", "long"):
        base = st.one_of(
            st.integers(min_value=-5, max_value=2000), st.sampled_from([2**31, 2**63, 10**30])
        )
    elif kind == "boolean":
        base = st.booleans()
    elif kind in ("double", "float"):
        base = st.floats()
    elif kind == "blob":
        base = BLOBS
    elif kind == "timestamp":
        base = st.one_of(st.floats(min_value=-1e12, max_value=1e13), st.integers(), TEXT)
    else:
        base = any_json()
    return st.one_of(base, base, base, base, base, base, any_json(4))


def operations() -> list[tuple[str, str, Any]]:
    """(service target prefix, operation, input shape) of every modelled operation."""
    session = botocore.session.get_session()
    out = []
    for service, prefix in (("dynamodb", DYNAMODB), ("dynamodbstreams", STREAMS)):
        model = session.get_service_model(service)
        for operation in model.operation_names:
            out.append((prefix, operation, model.operation_model(operation).input_shape))
    return out


OPERATIONS = operations()
STRATEGIES = {(prefix, op): for_shape(shape) for prefix, op, shape in OPERATIONS if shape}


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, bytes]:
    prefix, operation = draw(st.sampled_from(sorted(STRATEGIES)))
    body = draw(STRATEGIES[(prefix, operation)])
    return prefix, operation, json.dumps(body).encode()


def test_fuzz_every_operation(server: Server, api: Api, numbers: Callable[[str], None]) -> None:
    seen: set[str] = set()
    started = time.monotonic()
    statuses: dict[int, int] = {}

    @settings(FUZZ_SETTINGS, max_examples=400)
    @given(requests())
    def case(request: tuple[str, str, bytes]) -> None:
        prefix, operation, body = request
        status, _ = send(api, operation, body, prefix)
        seen.add(operation)
        statuses[status] = statuses.get(status, 0) + 1
        if operation in ("DeleteTable", "UpdateTable", "RestoreTableToPointInTime"):
            make_play(api)

    case()
    # Plus one well-formed empty body per operation, so each is reached at least once.
    for prefix, operation, _ in OPERATIONS:
        send(api, operation, b"{}", prefix)
    numbers(
        f"{sum(statuses.values())} generated requests over {len(seen)} of {len(OPERATIONS)} "
        f"operations (+{len(OPERATIONS)} empty), statuses {dict(sorted(statuses.items()))}, "
        f"{time.monotonic() - started:.0f}s"
    )


# --- mutations of valid requests -------------------------------------------------------

ITEM = {
    "pk": {"S": "a"},
    "sk": {"N": "1"},
    "g": {"S": "g1"},
    "m": {"M": {"l": {"L": [{"N": "1"}]}}},
}
KEY = {"pk": {"S": "a"}, "sk": {"N": "1"}}
VALID: list[tuple[str, dict[str, Any]]] = [
    (
        "PutItem",
        {"TableName": PLAY, "Item": ITEM, "ConditionExpression": "attribute_not_exists(pk)"},
    ),
    ("GetItem", {"TableName": PLAY, "Key": KEY, "ProjectionExpression": "pk, m.l[0]"}),
    (
        "UpdateItem",
        {
            "TableName": PLAY,
            "Key": KEY,
            "UpdateExpression": "SET #a = :v ADD c :one",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeNames": {"#a": "a"},
            "ExpressionAttributeValues": {":v": {"S": "x"}, ":one": {"N": "1"}},
            "ReturnValues": "ALL_NEW",
        },
    ),
    (
        "Query",
        {
            "TableName": PLAY,
            "KeyConditionExpression": "pk = :p AND sk > :s",
            "FilterExpression": "attribute_exists(g)",
            "ExpressionAttributeValues": {":p": {"S": "a"}, ":s": {"N": "0"}},
            "Limit": 2,
        },
    ),
    ("Scan", {"TableName": PLAY, "IndexName": "by_g", "Segment": 0, "TotalSegments": 2}),
    (
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": PLAY, "Item": ITEM}},
                {
                    "ConditionCheck": {
                        "TableName": PLAY,
                        "Key": {"pk": {"S": "b"}, "sk": {"N": "2"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        },
    ),
    ("BatchWriteItem", {"RequestItems": {PLAY: [{"PutRequest": {"Item": ITEM}}]}}),
    ("BatchGetItem", {"RequestItems": {PLAY: {"Keys": [KEY]}}}),
    (
        "ExecuteStatement",
        {"Statement": f'SELECT * FROM "{PLAY}" WHERE pk = ?', "Parameters": [{"S": "a"}]},
    ),
    ("CreateTable", table_request("fuzzed")),
]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    operation, request = draw(st.sampled_from(VALID))
    data = bytearray(json.dumps(request).encode())
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate"]))
        at = draw(st.integers(min_value=0, max_value=max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif kind == "insert":
            data[at:at] = draw(
                st.sampled_from([b"{", b"[", b'"', b"\\", b"\xff", b"\x00", b",", b"1e999"])
            )
        elif kind == "delete":
            del data[at : at + draw(st.integers(min_value=1, max_value=8))]
        elif kind == "truncate":
            del data[at:]
        else:
            data[at:at] = data[at : at + draw(st.integers(min_value=1, max_value=40))]
    return operation, bytes(data)


def test_fuzz_mutated_valid_requests(
    server: Server, api: Api, numbers: Callable[[str], None]
) -> None:
    statuses: dict[int, int] = {}

    @settings(FUZZ_SETTINGS, max_examples=250)
    @given(mutated())
    def case(request: tuple[str, bytes]) -> None:
        operation, body = request
        status, _ = send(api, operation, body)
        statuses[status] = statuses.get(status, 0) + 1

    case()
    counts = dict(sorted(statuses.items()))
    numbers(f"{sum(statuses.values())} mutated valid requests, statuses {counts}")


# --- hand-picked hostile values ---------------------------------------------------------


def nested(depth: int, kind: str) -> str:
    """A value nested `depth` levels deep, as JSON text (too deep for json.dumps)."""
    opener, closer = ('{"M": {"m": ', "}}") if kind == "M" else ('{"L": [', "]}")
    return opener * depth + '{"S": "leaf"}' + closer * depth


HOSTILE_VALUES: dict[str, str] = {
    "map nested 33 deep": nested(33, "M"),
    "list nested 33 deep": nested(33, "L"),
    "map nested 5,000 deep": nested(5000, "M"),
    "list nested 100,000 deep": nested(100_000, "L"),
    **{
        name: json.dumps(value)
        for name, value in {
            "number 1e999999999": {"N": "1e999999999"},
            "number set with 1e999999999": {"NS": ["1e999999999", "1"]},
            "number -1e-999999999": {"N": "-1e-999999999"},
            "number 1e9999999999999999999999": {"N": "1e9999999999999999999999"},
            "number 1e126": {"N": "1e126"},
            "number of 100,000 digits": {"N": "9" * 100_000},
            "number 0.(10,000 zeros)1": {"N": "0." + "0" * 10_000 + "1"},
            "string of 500 KB": {"S": "s" * 500_000},
            "string with NUL and controls": {"S": "\x00\x01\x1f\x7f"},
            "binary not base64": {"B": "!!!not base64!!!"},
            "set of 50,000 strings": {"SS": [str(i) for i in range(50_000)]},
            "duplicates in a set": {"SS": ["a", "a"]},
        }.items()
    },
}


def hostile_requests(value: str) -> list[tuple[str, bytes]]:
    """The value (JSON text) in an item, an update, a key condition, a key, a PartiQL
    parameter and a transaction."""
    item = {"pk": {"S": "h"}, "sk": {"N": "1"}, "v": "VALUE"}
    requests: list[tuple[str, dict[str, Any]]] = [
        ("PutItem", {"TableName": PLAY, "Item": item}),
        (
            "UpdateItem",
            {
                "TableName": PLAY,
                "Key": {"pk": {"S": "h"}, "sk": {"N": "1"}},
                "UpdateExpression": "SET v = :v",
                "ExpressionAttributeValues": {":v": "VALUE"},
            },
        ),
        (
            "Query",
            {
                "TableName": PLAY,
                "KeyConditionExpression": "pk = :p AND sk = :v",
                "ExpressionAttributeValues": {":p": {"S": "h"}, ":v": "VALUE"},
            },
        ),
        ("GetItem", {"TableName": PLAY, "Key": {"pk": {"S": "h"}, "sk": "VALUE"}}),
        (
            "ExecuteStatement",
            {
                "Statement": f"INSERT INTO \"{PLAY}\" VALUE {{'pk': ?, 'sk': 2, 'v': ?}}",
                "Parameters": [{"S": "h"}, "VALUE"],
            },
        ),
        ("TransactWriteItems", {"TransactItems": [{"Put": {"TableName": PLAY, "Item": item}}]}),
    ]
    return [
        (op, json.dumps(request).replace('"VALUE"', value).encode()) for op, request in requests
    ]


RAW_BODIES: dict[str, bytes] = {
    "JSON nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    "object nested 100,000 deep": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "invalid UTF-8": b'{"TableName": "\xff\xfe"}',
    "overlong UTF-8": b'{"TableName": "\xc0\xaf"}',
    "lone surrogate escape": b'{"TableName": "\\ud800"}',
    "NUL byte": b'{"TableName": "a\x00b"}',
    "integer of 100,000 digits": b'{"Limit": ' + b"9" * 100_000 + b"}",
    "float 1e999": b'{"Limit": 1e999}',
    "NaN literal": b'{"Limit": NaN}',
    "duplicate keys": b'{"TableName": "play", "TableName": "sentinel-4f0c2a"}',
    "top-level array": b"[]",
    "top-level string": b'"x"',
    "top-level null": b"null",
    "empty": b"",
    "UTF-16": '{"TableName": "play"}'.encode("utf-16"),
    "BOM": b'\xef\xbb\xbf{"TableName": "play"}',
}
RAW_OPERATIONS = ("ListTables", "DescribeTable", "PutItem", "Query", "ExecuteStatement")


@pytest.mark.parametrize("missing", ["KeySchema", "AttributeDefinitions"])
def test_create_table_without_a_required_member(server: Server, api: Api, missing: str) -> None:
    request = {
        "TableName": "incomplete",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    del request[missing]
    status, data = send(api, "CreateTable", json.dumps(request).encode())
    assert status == 400 and b"ValidationException" in data


K = {"pk": {"S": "a"}, "sk": {"N": "1"}}
SCHEMA = {
    "TableName": "ttt",
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
}
# A null list element or map value below the top level: "Member must not be null" at the
# element's path, or DynamoDB's "Supplied AttributeValue is empty" for an AttributeValue.
NESTED_NULLS: dict[str, tuple[str, dict[str, Any]]] = {
    "BatchExecuteStatement Statements": ("BatchExecuteStatement", {"Statements": [None]}),
    "ExecuteTransaction TransactStatements": (
        "ExecuteTransaction",
        {"TransactStatements": [None]},
    ),
    "TransactGetItems TransactItems": ("TransactGetItems", {"TransactItems": [None]}),
    "TransactWriteItems TransactItems": ("TransactWriteItems", {"TransactItems": [None]}),
    "BatchGetItem RequestItems": ("BatchGetItem", {"RequestItems": {PLAY: None}}),
    "BatchGetItem Keys": ("BatchGetItem", {"RequestItems": {PLAY: {"Keys": [None]}}}),
    "BatchWriteItem RequestItems": ("BatchWriteItem", {"RequestItems": {PLAY: [None]}}),
    "PutItem Expected": ("PutItem", {"TableName": PLAY, "Item": K, "Expected": {"a": None}}),
    "PutItem Expected AttributeValueList": (
        "PutItem",
        {
            "TableName": PLAY,
            "Item": K,
            "Expected": {"a": {"AttributeValueList": [None], "ComparisonOperator": "EQ"}},
        },
    ),
    "UpdateItem AttributeUpdates": (
        "UpdateItem",
        {"TableName": PLAY, "Key": K, "AttributeUpdates": {"a": None}},
    ),
    "UpdateItem ExpressionAttributeNames": (
        "UpdateItem",
        {
            "TableName": PLAY,
            "Key": K,
            "UpdateExpression": "SET #a = :v",
            "ExpressionAttributeNames": {"#a": None},
            "ExpressionAttributeValues": {":v": {"S": "x"}},
        },
    ),
    "Query KeyConditions": ("Query", {"TableName": PLAY, "KeyConditions": {"pk": None}}),
    "Scan ScanFilter": ("Scan", {"TableName": PLAY, "ScanFilter": {"a": None}}),
    "CreateTable AttributeDefinitions": (
        "CreateTable",
        {**SCHEMA, "AttributeDefinitions": [None]},
    ),
    "CreateTable KeySchema": ("CreateTable", {**SCHEMA, "KeySchema": [None]}),
    "CreateTable GlobalSecondaryIndexes": (
        "CreateTable",
        {**SCHEMA, "GlobalSecondaryIndexes": [None]},
    ),
    "UpdateTable GlobalSecondaryIndexUpdates": (
        "UpdateTable",
        {"TableName": PLAY, "GlobalSecondaryIndexUpdates": [None]},
    ),
    "PutItem Item L": ("PutItem", {"TableName": PLAY, "Item": {**K, "a": {"L": [None]}}}),
    "PutItem Item M": ("PutItem", {"TableName": PLAY, "Item": {**K, "a": {"M": {"b": None}}}}),
    "GetItem Key": ("GetItem", {"TableName": PLAY, "Key": {"pk": None, "sk": {"N": "1"}}}),
    "Query ExpressionAttributeValues": (
        "Query",
        {
            "TableName": PLAY,
            "KeyConditionExpression": "pk = :v",
            "ExpressionAttributeValues": {":v": None},
        },
    ),
    "Query KeyConditions AttributeValueList": (
        "Query",
        {
            "TableName": PLAY,
            "KeyConditions": {"pk": {"AttributeValueList": [None], "ComparisonOperator": "EQ"}},
        },
    ),
    "UpdateItem AttributeUpdates Value": (
        "UpdateItem",
        {"TableName": PLAY, "Key": K, "AttributeUpdates": {"a": {"Value": {"L": [None]}}}},
    ),
    "TransactWriteItems Put Item": (
        "TransactWriteItems",
        {"TransactItems": [{"Put": {"TableName": PLAY, "Item": {**K, "a": None}}}]},
    ),
    "TagResource Tags": (
        "TagResource",
        {"ResourceArn": f"arn:aws:dynamodb:us-east-1:000000000000:table/{PLAY}", "Tags": [None]},
    ),
}


@pytest.mark.parametrize("case", sorted(NESTED_NULLS))
def test_nested_nulls(server: Server, api: Api, case: str) -> None:
    operation, request = NESTED_NULLS[case]
    status, data = send(api, operation, json.dumps(request).encode())
    assert status == 400 and b"ValidationException" in data


# Every list and map (at most two structures deep) of every operation of the JSON
# services, with a null element: "Member must not be null" at the element's path. A null
# AttributeValue is DynamoDB's own check ("Supplied AttributeValue is empty").
NULL_SERVICES = ("dynamodb", "dynamodbstreams", "kms", "cloudwatch", "application-autoscaling")
NULLABLE_ELEMENTS = {
    "AttributeValue", "StringAttributeValue", "NumberAttributeValue", "BinaryAttributeValue"
}  # fmt: skip


def minimal(shape: Any, depth: int = 0) -> Any:
    """A value of `shape` with only its required members (not necessarily valid)."""
    kind = shape.type_name
    if kind == "structure":
        if depth > 3:
            return {}
        return {m: minimal(shape.members[m], depth + 1) for m in shape.required_members}
    if kind == "list":
        return [minimal(shape.member, depth + 1)] if depth <= 3 else []
    if kind == "map":
        return {}
    if kind == "string":
        return shape.enum[0] if shape.enum else "x" * max(3, shape.metadata.get("min", 1))
    if kind in ("integer", "long"):
        return max(1, shape.metadata.get("min", 1))
    if kind in ("double", "float"):
        return 1.0
    if kind == "boolean":
        return True
    if kind == "blob":
        return "AAAA"
    return 0  # timestamp


def collections(shape: Any, depth: int = 0) -> Iterator[tuple[tuple[str, ...], str, Any]]:
    """(member names from the input, Coral's printed path, shape) of each list or map."""
    for name, member in shape.members.items():
        printed = name[:1].lower() + name[1:]
        if member.type_name in ("list", "map"):
            element = member.member if member.type_name == "list" else member.value
            if element.name not in NULLABLE_ELEMENTS:
                yield (name,), printed, member
        elif member.type_name == "structure" and depth < 1:
            for names, path, found in collections(member, depth + 1):
                yield (name, *names), f"{printed}.{path}", found


def null_cases() -> list[tuple[str, str, bytes, str]]:
    """(target prefix, operation, body, expected error text) for each collection."""
    session = botocore.session.get_session()
    cases = []
    for service in NULL_SERVICES:
        model = session.get_service_model(service)
        for operation in model.operation_names:
            shape = model.operation_model(operation).input_shape
            if shape is None:
                continue
            for names, path, found in collections(shape):
                body = minimal(shape)
                parent, parent_shape = body, shape
                for name in names[:-1]:
                    parent_shape = parent_shape.members[name]
                    parent = parent.setdefault(name, minimal(parent_shape, 1))
                if found.type_name == "list":
                    parent[names[-1]], element = [None], "1"
                else:
                    parent[names[-1]], element = {"k": None}, "k"
                expected = f"Value null at '{path}.{element}.member' failed to satisfy constraint"
                cases.append(
                    (model.metadata["targetPrefix"], operation, json.dumps(body), expected)
                )
    return [(p, o, b.encode(), e) for p, o, b, e in cases]


def test_nulls_in_every_collection(
    server: Server, api: Api, numbers: Callable[[str], None]
) -> None:
    cases = null_cases()
    rejected = 0
    for prefix, operation, body, expected in cases:
        status, data = send(api, operation, body, prefix)
        answer = json.loads(data) if status != 200 else {}
        if answer.get("__type", "").endswith("ValidationException"):
            assert expected in answer.get("message", answer.get("Message", "")), (operation, data)
            rejected += 1
        else:  # an operation this server does not implement
            assert answer.get("__type", "").endswith("UnknownOperationException"), (operation, data)
    numbers(f"{len(cases)} requests with a null list element or map value, {rejected} rejected")


def test_hostile_values(server: Server, api: Api, numbers: Callable[[str], None]) -> None:
    cases = 0
    for value in HOSTILE_VALUES.values():
        for operation, body in hostile_requests(value):
            send(api, operation, body)
            cases += 1
    for operation in RAW_OPERATIONS:
        for body in RAW_BODIES.values():
            send(api, operation, body)
            cases += 1
    numbers(f"{cases} hostile values and bodies (deep nesting, huge numbers, bad UTF-8, ...)")
