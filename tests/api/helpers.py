"""Shared helpers for the black-box API tests: error assertions, boto3 clients, table
and item shortcuts, raw HTTP, an HTTP endpoint for SNS deliveries.

The tests talk to a live server exactly as users do (boto3, the AWS CLI, raw HTTP), so
nothing here imports dynastore.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Protocol

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCESS_KEY = "test"
SECRET_KEY = "test"
TARGET_PREFIX = "DynamoDB_20120810."
JSON_10 = "application/x-amz-json-1.0"

# boto3 clients are untyped here (no mypy_boto3 stubs): one alias keeps signatures honest.
Client = Any
Item = dict[str, Any]


class TableFactory(Protocol):
    """The `table` fixture: create an ACTIVE test table and return its name."""

    def __call__(self, range_key: bool = False, **create: Any) -> str: ...


# Expected texts are us-east-1's. Some regions reworded validation errors in 2026-06 (an
# "N validation error(s) detected:" envelope on every message); us-east-1 has not.
REQUEST_FAILED = "The conditional request failed"
RESOURCE_NOT_FOUND = "Requested resource not found"
KEY_SCHEMA_MISMATCH = "The provided key element does not match the schema"
START_INVALID = "The provided starting key is invalid"
INVALID = "One or more parameter values were invalid: "
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
NAME_PATTERN = "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
RETURN_VALUES_ENUM = (
    "Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
)
CAPACITY_ENUM = "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
METRICS_ENUM = "Member must satisfy enum value set: [SIZE, NONE]"
ONLY_ALL_OLD = "ReturnValues can only be ALL_OLD or NONE"
NO_THROUGHPUT_ON_DEMAND = (
    INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
    "BillingMode is PAY_PER_REQUEST"
)
NAMES_WITHOUT_EXPRESSION = "ExpressionAttributeNames can only be specified when using expressions"
VALUES_WITHOUT_CONDITION = (
    "ExpressionAttributeValues can only be specified when using expressions: "
    "ConditionExpression is null"
)
# ReturnConsumedCapacity of a one-unit single-item write: (mode, ConsumedCapacity but the name)
WRITE_CAPACITY_MODES = [
    ("TOTAL", {"CapacityUnits": 1.0}),
    ("INDEXES", {"CapacityUnits": 1.0, "Table": {"CapacityUnits": 1.0}}),
]


def unique_name(prefix: str = "t") -> str:
    """A table name no other test (or xdist worker) will use."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def table_not_found(name: str) -> str:
    """The message of DescribeTable/DeleteTable/UpdateTable for a missing table."""
    return f"Requested resource not found: Table: {name} not found"


def empty_key(name: str, kind: str = "string") -> str:
    """The message for an empty S/B value in a key attribute."""
    return (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        f"cannot contain an empty {kind} value. Key: {name}"
    )


def mixed(non_expression: str, expression: str) -> str:
    """The message for legacy and expression parameters in one request."""
    return (
        "Can not use both expression and non-expression parameters in the same request: "
        f"Non-expression parameters: {{{non_expression}}} "
        f"Expression parameters: {{{expression}}}"
    )


def constraint(value: str | None, member: str, text: str) -> str:
    """One clause of a constraint-violation message; `member` is the camelCase path."""
    shown = "null" if value is None else f"'{value}'"
    return f"Value {shown} at '{member}' failed to satisfy constraint: {text}"


# The clauses of a write's enum parameters given as "INVALID" (`errors` joins them).
RETURN_VALUES_INVALID = constraint("INVALID", "returnValues", RETURN_VALUES_ENUM)
CAPACITY_INVALID = constraint("INVALID", "returnConsumedCapacity", CAPACITY_ENUM)
METRICS_INVALID = constraint("INVALID", "returnItemCollectionMetrics", METRICS_ENUM)


def errors(*clauses: str) -> str:
    """DynamoDB's "N validation errors detected: a; b" aggregation."""
    noun = "error" if len(clauses) == 1 else "errors"
    return f"{len(clauses)} validation {noun} detected: " + "; ".join(clauses)


def one_error(value: str | None, member: str, text: str) -> str:
    """A single constraint violation ("1 validation error detected: Value ... at ...")."""
    return errors(constraint(value, member, text))


def assert_error(
    err: ClientError, code: str, message: str | None = None, status: int = 400
) -> None:
    """Check a ClientError's code, exact message and HTTP status."""
    error = err.response.get("Error", {})
    got_code = error.get("Code")
    got_message = error.get("Message")
    assert got_code == code, f"code {got_code!r} != {code!r} (message: {got_message!r})"
    if message is not None:
        assert got_message == message, f"\n  got:  {got_message!r}\n  want: {message!r}"
    got_status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    assert got_status == status, f"HTTP status {got_status} != {status}"


@contextlib.contextmanager
def raises(
    code: str, message: str | None = None, status: int = 400
) -> Iterator[pytest.ExceptionInfo[ClientError]]:
    """`with raises("ValidationException", "..."):` around one client call."""
    with pytest.raises(ClientError) as excinfo:
        yield excinfo
    assert_error(excinfo.value, code, message, status)


def validation(message: str) -> contextlib.AbstractContextManager[Any]:
    """Shorthand for the most common expectation: a ValidationException with this text."""
    return raises("ValidationException", message)


def fails(
    call: Callable[[], Any], code: str, message: str | None = None, status: int = 400
) -> None:
    """Make one call and check the error it raises, as `raises` does."""
    with raises(code, message, status):
        call()


def error_of(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    """(code, message) of a caught ClientError; the message is "" when there is none."""
    error = info.value.response["Error"]
    return error["Code"], error.get("Message", "")


def wait_for(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll `check` every 0.1 s until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


# --- clients ---------------------------------------------------------------------------


def _connection(
    endpoint: str, region: str, access_key: str, secret_key: str, config: dict[str, Any]
) -> dict[str, Any]:
    return {
        "endpoint_url": endpoint,
        "region_name": region,
        "aws_access_key_id": access_key,
        "aws_secret_access_key": secret_key,
        "config": Config(**{"retries": {"max_attempts": 0}, **config}),
    }


def aws_client(
    endpoint: str,
    service: str = "dynamodb",
    *,
    region: str = REGION,
    access_key: str = ACCESS_KEY,
    secret_key: str = SECRET_KEY,
    session: boto3.Session | None = None,
    **config: Any,
) -> Client:
    """A boto3 client of `service` at `endpoint` that never retries, made by `session`
    (boto3's default one when None); `config` goes to its botocore Config (e.g.
    parameter_validation=False)."""
    # one call for every service (boto3's stubs overload by name)
    make: Any = boto3.client if session is None else session.client
    return make(service, **_connection(endpoint, region, access_key, secret_key, config))


def aws_resource(endpoint: str, service: str = "dynamodb", **config: Any) -> Any:
    """The boto3 resource API of `service`, configured as `aws_client` is."""
    make: Any = boto3.resource
    return make(service, **_connection(endpoint, REGION, ACCESS_KEY, SECRET_KEY, config))


def key(pk: str, sk: str | None = None) -> Item:
    """A DynamoDB-JSON key for the standard test tables (pk S, optional sk S)."""
    out: Item = {"pk": {"S": pk}}
    if sk is not None:
        out["sk"] = {"S": sk}
    return out


def read(client: Client, table: str, item_key: Item) -> Item | None:
    """A strongly consistent GetItem; None when the item does not exist."""
    got: Item | None = client.get_item(TableName=table, Key=item_key, ConsistentRead=True).get(
        "Item"
    )
    return got


def normalized(item: Item | None) -> Item | None:
    """Sets come back in any order: sort them so items compare."""
    if item is None:
        return None
    out: Item = {}
    for name, value in item.items():
        ((tag, raw),) = value.items()
        out[name] = {tag: sorted(raw)} if tag in ("SS", "NS", "BS") else value
    return out


def seed(client: Client, table: str, item: Item) -> Item:
    """Put an item and return it, for tests that check it is untouched afterwards."""
    client.put_item(TableName=table, Item=item)
    return item


def wait_active(client: Client, table: str) -> None:
    """The table_exists waiter, polling fast enough for a test suite."""
    client.get_waiter("table_exists").wait(
        TableName=table, WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
    )


def wait_gone(client: Client, table: str) -> None:
    """The table_not_exists waiter, polling fast."""
    client.get_waiter("table_not_exists").wait(
        TableName=table, WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
    )


# --- tables ----------------------------------------------------------------------------


def attr(name: str, kind: str = "S") -> dict[str, str]:
    """One AttributeDefinitions entry."""
    return {"AttributeName": name, "AttributeType": kind}


def schema(hash_key: str, range_key: str | None = None) -> list[dict[str, str]]:
    """A KeySchema: a hash key and an optional range key."""
    out = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key is not None:
        out.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return out


def index_spec(
    name: str, hash_key: str, range_key: str | None = None, **projection: Any
) -> dict[str, Any]:
    """A GlobalSecondaryIndexes or LocalSecondaryIndexes entry; `projection` is its
    Projection (ALL when not given)."""
    return {
        "IndexName": name,
        "KeySchema": schema(hash_key, range_key),
        "Projection": projection or {"ProjectionType": "ALL"},
    }


def create_table(
    client: Client, name: str | None = None, range_key: bool = False, **create: Any
) -> str:
    """Create an ACTIVE table (pk S [+ sk S], on-demand unless ProvisionedThroughput is
    given); keyword arguments go to CreateTable and override these defaults."""
    name = name or unique_name()
    params: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": [attr("pk"), attr("sk")] if range_key else [attr("pk")],
        "KeySchema": schema("pk", "sk" if range_key else None),
        "BillingMode": "PAY_PER_REQUEST",
    }
    params.update(create)
    if "ProvisionedThroughput" in create and "BillingMode" not in create:
        del params["BillingMode"]
    client.create_table(**params)
    wait_active(client, name)
    return name


def put_all(client: Client, table: str, items: list[Item]) -> None:
    """Put items with BatchWriteItem, 25 at a time."""
    for start in range(0, len(items), 25):
        chunk = items[start : start + 25]
        client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": i}} for i in chunk]})


# --- raw HTTP -------------------------------------------------------------------------


@dataclass(frozen=True)
class RawResponse:
    """An HTTP answer with lower-cased header names."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def signed_headers(url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
    """Headers plus a valid SigV4 signature for the test credentials."""
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "dynamodb", REGION).add_auth(request)
    return dict(request.headers.items())


def raw_request(
    endpoint: str,
    body: bytes | str,
    *,
    target: str | None = None,
    content_type: str | None = JSON_10,
    sign: bool = True,
    method: str = "POST",
    extra_headers: dict[str, str] | None = None,
) -> RawResponse:
    """Send one hand-made request; `target` is the operation name ("GetItem") or a full value."""
    data = body.encode() if isinstance(body, str) else body
    headers: dict[str, str] = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if target is not None:
        headers["X-Amz-Target"] = target if "." in target else TARGET_PREFIX + target
    headers.update(extra_headers or {})
    url = endpoint.rstrip("/") + "/"
    if sign:
        headers = signed_headers(url, data, headers)
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=30)
    try:
        conn.request(method, "/", body=data if method != "GET" else None, headers=headers)
        resp = conn.getresponse()
        payload = resp.read()
        return RawResponse(
            status=resp.status,
            headers={k.lower(): v for k, v in resp.getheaders()},
            body=payload,
        )
    finally:
        conn.close()


def raw_call(endpoint: str, operation: str, params: dict[str, Any]) -> RawResponse:
    """A well-formed, signed JSON 1.0 call of one operation."""
    return raw_request(endpoint, json.dumps(params), target=operation)


class HttpEndpoint:
    """An HTTP server on a free 127.0.0.1 port, serving in a daemon thread: each POST is
    handed to `answer(headers, body)` (header names lower-cased), which returns the status."""

    def __init__(self, path: str) -> None:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                self.send_response(endpoint.answer(headers, body))
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        raise NotImplementedError

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def confirm_subscription(message: dict[str, Any]) -> None:
    """Visit the SubscribeURL of an SNS SubscriptionConfirmation, as a subscriber does."""
    with urllib.request.urlopen(message["SubscribeURL"], timeout=10) as answer:
        answer.read()


def update(
    client: Client,
    table: str,
    item_key: Item,
    expression: str,
    values: Item | None = None,
    names: dict[str, str] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """UpdateItem with an UpdateExpression; placeholders are passed only when given."""
    params: dict[str, Any] = {"TableName": table, "Key": item_key, "UpdateExpression": expression}
    if values is not None:
        params["ExpressionAttributeValues"] = values
    if names is not None:
        params["ExpressionAttributeNames"] = names
    params.update(kwargs)
    answer: dict[str, Any] = client.update_item(**params)
    return answer


def n(value: str) -> Item:
    """A number AttributeValue."""
    return {"N": value}


def s(value: str) -> Item:
    """A string AttributeValue."""
    return {"S": value}


def failure_item(err: ClientError) -> Item | None:
    """The item a ConditionalCheckFailedException carries when ALL_OLD was asked for."""
    response: dict[str, Any] = dict(err.response)
    item: Item | None = response.get("Item")
    return item


def scan_all(client: Client, name: str) -> dict[tuple[str, str], Item]:
    """Every item of a table by (pk, sk), or (pk, "") where it has no sk, read page by page
    with strong consistency."""
    found: dict[tuple[str, str], Item] = {}
    kwargs: dict[str, Any] = {"TableName": name, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        for got in page["Items"]:
            found[(got["pk"]["S"], got["sk"]["S"] if "sk" in got else "")] = got
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def index_items(client: Client, name: str, index: str, attribute: str, value: str) -> list[Item]:
    """The items of index `index` whose hash key `attribute` is the string `value`."""
    found: list[Item] = client.query(
        TableName=name,
        IndexName=index,
        KeyConditionExpression=f"{attribute} = :v",
        ExpressionAttributeValues={":v": {"S": value}},
    )["Items"]
    return found


def gsi_item_keys(client: Client, name: str, gk: str) -> list[tuple[str, str]]:
    """(pk, sk) of the items under `gk` in the "by-gk" index, in index order."""
    return [(i["pk"]["S"], i["sk"]["S"]) for i in index_items(client, name, "by-gk", "gk", gk)]
