"""The wire protocol by hand: targets, JSON errors, content types, CRC32, ids, error bodies."""

from __future__ import annotations

import re
import zlib

import pytest

from tests.api.helpers import (
    JSON_10,
    Client,
    RawResponse,
    TableFactory,
    key,
    raw_call,
    raw_request,
    read,
    seed,
    unique_name,
)

CORAL = "com.amazon.coral.service#"
DYNAMODB = "com.amazonaws.dynamodb.v20120810#"
REQUEST_ID = re.compile(r"^[A-Z0-9]{52}$")


def error_type(resp: RawResponse) -> str:
    body = resp.json()
    assert isinstance(body, dict)
    kind: str = body["__type"]
    return kind


def assert_crc32(resp: RawResponse) -> None:
    assert int(resp.headers["x-amz-crc32"]) == zlib.crc32(resp.body)


@pytest.mark.parametrize(
    "target",
    ["DynamoDB_20120810.NoSuchOperation", "DynamoDB_20990101.ListTables", "ListTables", None],
    ids=["unknown-operation", "unknown-version", "no-prefix", "missing"],
)
def test_unknown_operation(endpoint: str, target: str | None) -> None:
    # raw_request prefixes bare names, so send "ListTables" as a full header value here.
    headers = {"X-Amz-Target": target} if target else {}
    resp = raw_request(endpoint, "{}", extra_headers=headers)
    assert resp.status == 400
    assert error_type(resp) == CORAL + "UnknownOperationException"
    assert_crc32(resp)


@pytest.mark.parametrize("body", ["{not json", '{"TableName": ', "\x00\x01"])
def test_malformed_json(endpoint: str, body: str) -> None:
    resp = raw_request(endpoint, body, target="ListTables")
    assert resp.status == 400
    assert error_type(resp) == CORAL + "SerializationException"


def test_wrong_member_type(endpoint: str) -> None:
    resp = raw_call(endpoint, "DescribeTable", {"TableName": 123})
    assert resp.status == 400
    assert resp.json() == {
        "__type": CORAL + "SerializationException",
        "Message": "NUMBER_VALUE cannot be converted to String",
    }


def test_number_sent_as_json_number(endpoint: str, dynamodb: Client, table: TableFactory) -> None:
    name = table()
    resp = raw_call(
        endpoint, "PutItem", {"TableName": name, "Item": {"pk": {"S": "a"}, "n": {"N": 5}}}
    )
    assert resp.status == 400
    assert resp.json()["Message"] == "NUMBER_VALUE cannot be converted to String"
    assert read(dynamodb, name, key("a")) is None


def test_unknown_members_are_ignored(endpoint: str) -> None:
    resp = raw_call(endpoint, "ListTables", {"Limit": 1, "NotAMember": True})
    assert resp.status == 200
    assert isinstance(resp.json()["TableNames"], list)


def test_wrong_content_type(endpoint: str) -> None:
    resp = raw_request(endpoint, "{}", target="ListTables", content_type="text/plain")
    assert resp.status == 404
    assert b"UnknownOperationException" in resp.body


def test_plain_json_content_type_is_accepted(endpoint: str) -> None:
    resp = raw_request(endpoint, "{}", target="ListTables", content_type="application/json")
    assert resp.status == 200
    assert isinstance(resp.json()["TableNames"], list)


def test_success_response_headers(endpoint: str) -> None:
    resp = raw_request(endpoint, "{}", target="ListTables")
    assert resp.status == 200
    assert resp.headers["content-type"].startswith(JSON_10)
    assert int(resp.headers["content-length"]) == len(resp.body)
    assert_crc32(resp)
    assert REQUEST_ID.match(resp.headers["x-amzn-requestid"])


def test_request_ids_are_unique(endpoint: str) -> None:
    ids = {
        raw_request(endpoint, "{}", target="ListTables").headers["x-amzn-requestid"]
        for _ in range(5)
    }
    assert len(ids) == 5


def test_error_responses_carry_crc32_and_request_id(endpoint: str) -> None:
    resp = raw_call(endpoint, "DescribeTable", {"TableName": unique_name("missing")})
    assert resp.status == 400
    assert_crc32(resp)
    assert REQUEST_ID.match(resp.headers["x-amzn-requestid"])


def test_boto3_exposes_the_request_id(dynamodb: Client) -> None:
    meta = dynamodb.list_tables(Limit=1)["ResponseMetadata"]
    assert REQUEST_ID.match(meta["RequestId"])
    assert meta["HTTPHeaders"]["x-amzn-requestid"] == meta["RequestId"]


def test_resource_not_found_body(endpoint: str) -> None:
    resp = raw_call(endpoint, "GetItem", {"TableName": unique_name("missing"), "Key": key("a")})
    assert resp.json() == {
        "__type": DYNAMODB + "ResourceNotFoundException",
        "message": "Requested resource not found",
    }


def test_table_not_found_body(endpoint: str) -> None:
    name = unique_name("missing")
    resp = raw_call(endpoint, "DescribeTable", {"TableName": name})
    assert resp.json() == {
        "__type": DYNAMODB + "ResourceNotFoundException",
        "message": f"Requested resource not found: Table: {name} not found",
    }


def test_validation_error_body(endpoint: str) -> None:
    resp = raw_call(endpoint, "ListTables", {"Limit": 0})
    assert resp.status == 400
    assert resp.json() == {
        "__type": "com.amazon.coral.validate#ValidationException",
        "message": "1 validation error detected: Value '0' at 'limit' failed to satisfy "
        "constraint: Member must have value greater than or equal to 1",
    }


def test_resource_in_use_body(endpoint: str, table: TableFactory) -> None:
    name = table()
    params = {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    resp = raw_call(endpoint, "CreateTable", params)
    assert resp.json() == {
        "__type": DYNAMODB + "ResourceInUseException",
        "message": f"Table already exists: {name}",
    }


def test_conditional_check_body_with_item(
    endpoint: str, dynamodb: Client, table: TableFactory
) -> None:
    name = table()
    old = seed(dynamodb, name, {**key("a"), "v": {"N": "1"}})
    resp = raw_call(
        endpoint,
        "PutItem",
        {
            "TableName": name,
            "Item": key("a"),
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        },
    )
    assert resp.status == 400
    assert resp.json() == {
        "__type": DYNAMODB + "ConditionalCheckFailedException",
        "message": "The conditional request failed",
        "Item": old,
    }
    assert read(dynamodb, name, key("a")) == old


def test_successful_write_body_is_empty_object(endpoint: str, table: TableFactory) -> None:
    resp = raw_call(endpoint, "PutItem", {"TableName": table(), "Item": key("a")})
    assert resp.status == 200
    assert resp.json() == {}
    assert_crc32(resp)


def test_binary_values_travel_as_base64(endpoint: str, table: TableFactory) -> None:
    name = table()
    raw_call(endpoint, "PutItem", {"TableName": name, "Item": {**key("a"), "b": {"B": "AAEC/w=="}}})
    resp = raw_call(
        endpoint, "GetItem", {"TableName": name, "Key": key("a"), "ConsistentRead": True}
    )
    assert resp.json()["Item"]["b"] == {"B": "AAEC/w=="}


def test_health_check(endpoint: str) -> None:
    resp = raw_request(endpoint, b"", method="GET", content_type=None, sign=False)
    assert resp.status == 200
    assert resp.body.startswith(b"healthy: dynamodb.")


def test_gzip_request_bodies(endpoint: str, table: TableFactory) -> None:
    """Content-Encoding: gzip (SDKs compress large requests): the signature covers the
    compressed bytes, the server reads what they encode."""
    import gzip
    import json

    name = table()
    item = {"pk": {"S": "zipped"}, "data": {"S": "x" * 20_000}}
    body = gzip.compress(json.dumps({"TableName": name, "Item": item}).encode())
    gz = {"Content-Encoding": "gzip"}
    resp = raw_request(endpoint, body, target="PutItem", extra_headers=gz)
    assert resp.status == 200, resp.body
    got = raw_call(endpoint, "GetItem", {"TableName": name, "Key": {"pk": {"S": "zipped"}}})
    assert got.json()["Item"] == item
    # Not gzip at all: a serialization error, nothing written.
    resp = raw_request(endpoint, b"not gzip", target="PutItem", extra_headers=gz)
    assert resp.status == 400
    assert error_type(resp) == CORAL + "SerializationException"
    # A small body that inflates past the request limit is refused.
    bomb = gzip.compress(b" " * (17 * 1024 * 1024))
    resp = raw_request(endpoint, bomb, target="ListTables", extra_headers=gz)
    assert resp.status == 413
    assert error_type(resp) == CORAL + "RequestEntityTooLarge"
