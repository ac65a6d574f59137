"""Nulls inside lists and maps of a request: DynamoDB's collections are dense.

A null list element or map value is "Member must not be null" at the element's path
('attributeDefinitions.1.member', 'requestItems.<table>.member'), like a missing
required member. A null AttributeValue (an item's attribute, a key part, a list element
of an L, an ExpressionAttributeValues entry) is DynamoDB's own "Supplied AttributeValue
is empty" instead. boto3 refuses to send such requests, so they go out by hand.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import INVALID, TableFactory, constraint, errors, key, raw_call

EMPTY = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"


def null_at(*paths: str) -> str:
    return errors(*(constraint(None, path, "Member must not be null") for path in paths))


def answer(endpoint: str, operation: str, request: dict[str, Any]) -> tuple[str, str]:
    resp = raw_call(endpoint, operation, request)
    assert resp.status == 400, resp.body
    body = resp.json()
    return body["__type"].rpartition("#")[2], body["message"]


SCHEMA: dict[str, Any] = {
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def test_null_list_elements_of_create_table(endpoint: str) -> None:
    request = {
        **SCHEMA,
        "TableName": "never-created",
        "AttributeDefinitions": [None, {"AttributeName": "pk"}],
        "KeySchema": [None],
    }
    assert answer(endpoint, "CreateTable", request) == (
        "ValidationException",
        null_at(
            "attributeDefinitions.1.member",
            "attributeDefinitions.2.member.attributeType",
            "keySchema.1.member",
        ),
    )


@pytest.mark.parametrize(
    ("operation", "request_of", "path"),
    [
        ("BatchGetItem", lambda t: {"RequestItems": {t: None}}, "requestItems.{t}.member"),
        (
            "BatchGetItem",
            lambda t: {"RequestItems": {t: {"Keys": [None]}}},
            "requestItems.{t}.member.keys.1.member",
        ),
        (
            "BatchWriteItem",
            lambda t: {"RequestItems": {t: [None]}},
            "requestItems.{t}.member.1.member",
        ),
        ("TransactWriteItems", lambda t: {"TransactItems": [None]}, "transactItems.1.member"),
        ("BatchExecuteStatement", lambda t: {"Statements": [None]}, "statements.1.member"),
        (
            "GetItem",
            lambda t: {"TableName": t, "Key": key("a"), "AttributesToGet": ["a", None]},
            "attributesToGet.2.member",
        ),
        (
            "UpdateItem",
            lambda t: {
                "TableName": t,
                "Key": key("a"),
                "UpdateExpression": "SET #a = :v",
                "ExpressionAttributeNames": {"#a": None},
                "ExpressionAttributeValues": {":v": {"S": "x"}},
            },
            "expressionAttributeNames.#a.member",
        ),
        (
            "PutItem",
            lambda t: {"TableName": t, "Item": key("a"), "Expected": {"a": None}},
            "expected.a.member",
        ),
        (
            "Query",
            lambda t: {"TableName": t, "KeyConditions": {"pk": None}},
            "keyConditions.pk.member",
        ),
    ],
)
def test_null_elements_are_not_allowed(
    endpoint: str, table: TableFactory, operation: str, request_of: Any, path: str
) -> None:
    name = table()
    assert answer(endpoint, operation, request_of(name)) == (
        "ValidationException",
        null_at(path.format(t=name)),
    )


@pytest.mark.parametrize(
    ("operation", "request_of", "message"),
    [
        ("PutItem", lambda t: {"TableName": t, "Item": {**key("a"), "a": None}}, EMPTY),
        ("PutItem", lambda t: {"TableName": t, "Item": {**key("a"), "a": {"L": [None]}}}, EMPTY),
        (
            "PutItem",
            lambda t: {"TableName": t, "Item": {**key("a"), "a": {"M": {"b": None}}}},
            EMPTY,
        ),
        ("GetItem", lambda t: {"TableName": t, "Key": {"pk": None}}, EMPTY),
        (
            "UpdateItem",
            lambda t: {
                "TableName": t,
                "Key": key("a"),
                "UpdateExpression": "SET a = :v",
                "ExpressionAttributeValues": {":v": None},
            },
            f"ExpressionAttributeValues contains invalid value: {EMPTY} for key :v",
        ),
        (
            "Scan",
            lambda t: {
                "TableName": t,
                "ScanFilter": {"a": {"AttributeValueList": [None], "ComparisonOperator": "EQ"}},
            },
            EMPTY,
        ),
        (
            "PutItem",
            lambda t: {
                "TableName": t,
                "Item": key("a"),
                "Expected": {"a": {"AttributeValueList": [None], "ComparisonOperator": "EQ"}},
            },
            EMPTY,
        ),
        (
            "UpdateItem",
            lambda t: {
                "TableName": t,
                "Key": key("a"),
                "AttributeUpdates": {"a": {"Value": {"L": [None]}, "Action": "PUT"}},
            },
            EMPTY,
        ),
        (
            "UpdateItem",
            lambda t: {"TableName": t, "Key": key("a"), "AttributeUpdates": {"a": {"Value": {}}}},
            EMPTY,
        ),
    ],
)
def test_null_attribute_values_are_empty(
    endpoint: str, table: TableFactory, operation: str, request_of: Any, message: str
) -> None:
    assert answer(endpoint, operation, request_of(table())) == ("ValidationException", message)


def test_an_expected_value_is_validated(endpoint: str, table: TableFactory) -> None:
    request = {"TableName": table(), "Item": key("a"), "Expected": {"a": {"Value": {"N": "x"}}}}
    assert answer(endpoint, "PutItem", request) == (
        "ValidationException",
        "The parameter cannot be converted to a numeric value: x",
    )
    request["Expected"] = {"a": {"Exists": False, "Value": {}}}
    assert answer(endpoint, "PutItem", request) == (
        "ValidationException",
        INVALID + "Value cannot be used when Exists is false for Attribute: a",
    )
