"""The shared request validator: DynamoDB's type pass and constraint pass."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from dynastore.errors import AwsError, SerializationException, ValidationException
from dynastore.ops import shapes
from dynastore.ops.shapes import java_double, java_package
from dynastore.ops.validate import RequestValidator

CAST = (
    "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to "
    "class java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and "
    "java.lang.Class are in module java.base of loader 'bootstrap')"
)
AV_MAP = (
    "Unrecognized collection type java.util.Map<java.lang.String, "
    "com.amazonaws.dynamodb.v20120810.AttributeValue>"
)


@pytest.fixture(scope="module")
def validator() -> RequestValidator:
    return RequestValidator.from_botocore()


def fail(validator: RequestValidator, operation: str, body: dict[str, Any]) -> AwsError:
    with pytest.raises(AwsError) as caught:
        validator.validate(operation, body)
    return caught.value


def serialization(validator: RequestValidator, operation: str, body: dict[str, Any]) -> str:
    error = fail(validator, operation, body)
    assert isinstance(error, SerializationException)
    assert error.body()["__type"] == "com.amazon.coral.service#SerializationException"
    assert error.message is not None
    return error.message


def validation(validator: RequestValidator, operation: str, body: dict[str, Any]) -> str:
    error = fail(validator, operation, body)
    assert isinstance(error, ValidationException)
    assert error.message is not None
    return error.message


def one(text: str) -> str:
    return f"1 validation error detected: {text}"


# --- the type pass ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "TRUE_VALUE cannot be converted to String"),
        (False, "FALSE_VALUE cannot be converted to String"),
        (23, "NUMBER_VALUE cannot be converted to String"),
        (2147483648, "NUMBER_VALUE cannot be converted to String"),
        (34.56, "DECIMAL_VALUE cannot be converted to String"),
        ([], "Unrecognized collection type class java.lang.String"),
        ({}, "Start of structure or map found where not expected"),
    ],
)
def test_string_member_of_the_wrong_type(
    validator: RequestValidator, value: Any, message: str
) -> None:
    assert serialization(validator, "PutItem", {"TableName": value}) == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("23", "Unexpected token received from parser"),
        (23, "NUMBER_VALUE cannot be converted to Boolean"),
        (34.56, "DECIMAL_VALUE cannot be converted to Boolean"),
        ([], "Unrecognized collection type class java.lang.Boolean"),
        ({}, "Start of structure or map found where not expected"),
    ],
)
def test_boolean_member_of_the_wrong_type(
    validator: RequestValidator, value: Any, message: str
) -> None:
    body = {"TableName": "abc", "Key": {}, "ConsistentRead": value}
    assert serialization(validator, "GetItem", body) == message


@pytest.mark.parametrize(("text", "expected"), [("true", True), ("NO", False), ("1", True)])
def test_boolean_text_is_converted_in_place(
    validator: RequestValidator, text: str, expected: bool
) -> None:
    body: dict[str, Any] = {"TableName": "abc", "Key": {}, "ConsistentRead": text}
    validator.validate("GetItem", body)
    assert body["ConsistentRead"] is expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("23", "STRING_VALUE cannot be converted to Integer"),
        (True, "TRUE_VALUE cannot be converted to Integer"),
        (False, "FALSE_VALUE cannot be converted to Integer"),
        ([], "Unrecognized collection type class java.lang.Integer"),
        ({}, "Start of structure or map found where not expected"),
        (2147483648, "Numeric value (2147483648) out of range of int (-2147483648 - 2147483647)"),
    ],
)
def test_integer_member_of_the_wrong_type(
    validator: RequestValidator, value: Any, message: str
) -> None:
    assert serialization(validator, "ListTables", {"Limit": value}) == message


def test_long_member_names_long(validator: RequestValidator) -> None:
    body = {"TableName": "abc", "ProvisionedThroughput": {"ReadCapacityUnits": "1"}}
    assert serialization(validator, "CreateTable", body) == (
        "STRING_VALUE cannot be converted to Long"
    )
    body["ProvisionedThroughput"] = {"ReadCapacityUnits": 2**63}
    assert serialization(validator, "CreateTable", body) == (
        "Numeric value (9223372036854775808) out of range of long "
        "(-9223372036854775808 - 9223372036854775807)"
    )


def test_decimal_integer_truncates_toward_zero(validator: RequestValidator) -> None:
    body: dict[str, Any] = {"Limit": 7.9}
    validator.validate("ListTables", body)
    assert body["Limit"] == 7 and type(body["Limit"]) is int


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "only base-64-encoded strings are convertible to bytes"),
        (23, "only base-64-encoded strings are convertible to bytes"),
        (34.56, "only base-64-encoded strings are convertible to bytes"),
        ([], "Unrecognized collection type class java.nio.ByteBuffer"),
        ({}, "Start of structure or map found where not expected"),
        ("23456", "Base64 encoded length is expected a multiple of 4 bytes but found: 5"),
        ("=+/=", "Invalid last non-pad Base64 character dectected"),
        ("+/+=", "Invalid last non-pad Base64 character dectected"),
        ("ab!d", "Invalid last non-pad Base64 character dectected"),
    ],
)
def test_blob_of_the_wrong_type(validator: RequestValidator, value: Any, message: str) -> None:
    body = {"TableName": "abc", "Item": {"a": {"B": value}}}
    assert serialization(validator, "PutItem", body) == message
    body = {"TableName": "abc", "Item": {"a": {"BS": [value]}}}
    assert serialization(validator, "PutItem", body) == message


def test_valid_blobs_pass(validator: RequestValidator) -> None:
    body = {"TableName": "abc", "Item": {"a": {"B": "Yg=="}, "b": {"B": ""}, "c": {"BS": ["AA=="]}}}
    validator.validate("PutItem", body)


@pytest.mark.parametrize(
    ("member", "value", "message"),
    [
        # a list member of a structure
        ("AttributesToGet", "23", "Unexpected field type"),
        ("AttributesToGet", 23, "Unexpected field type"),
        ("AttributesToGet", {}, "Start of structure or map found where not expected"),
        # a map member of a structure
        ("Key", "23", "Unexpected field type"),
        ("Key", True, "Unexpected field type"),
        ("Key", [], AV_MAP),
        (
            "ExpressionAttributeNames",
            [],
            "Unrecognized collection type java.util.Map<java.lang.String, java.lang.String>",
        ),
    ],
)
def test_collections_of_the_wrong_type(
    validator: RequestValidator, member: str, value: Any, message: str
) -> None:
    body = {"TableName": "abc", member: value}
    assert serialization(validator, "GetItem", body) == message


def test_structures_of_the_wrong_type(validator: RequestValidator) -> None:
    # a structure as a map value ("ValueStruct") and as a member ("FieldStruct")
    item = {"TableName": "abc", "Item": {"a": "x"}}
    assert serialization(validator, "PutItem", item) == "Unexpected value type in payload"
    item = {"TableName": "abc", "Item": {"a": []}}
    assert serialization(validator, "PutItem", item) == (
        "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue"
    )
    expected = {"TableName": "abc", "Expected": {"a": {"Value": "x"}}}
    assert serialization(validator, "PutItem", expected) == "Unexpected field type"
    expected = {"TableName": "abc", "Expected": {"a": []}}
    assert serialization(validator, "PutItem", expected) == (
        "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.ExpectedAttributeValue"
    )


def test_collections_inside_collections(validator: RequestValidator) -> None:
    # BatchWriteItem.RequestItems values are lists; BatchGetItem Keys are lists of maps
    assert serialization(validator, "BatchWriteItem", {"RequestItems": {"t": "x"}}) == CAST
    body: dict[str, Any] = {"RequestItems": {"tbl": {"Keys": [5]}}}
    assert serialization(validator, "BatchGetItem", body) == CAST
    body = {"RequestItems": {"tbl": {"Keys": [[]]}}}
    assert serialization(validator, "BatchGetItem", body) == AV_MAP
    body = {"RequestItems": {"tbl": {"Keys": [{"pk": {"L": [{"M": {"x": {"SS": [1]}}}]}}]}}}
    assert serialization(validator, "BatchGetItem", body) == (
        "NUMBER_VALUE cannot be converted to String"
    )


def test_unknown_members_and_nulls_are_ignored(validator: RequestValidator) -> None:
    body = {
        "TableName": "abc",
        "Item": {"a": {"S": "x", "Q": 5}},
        "Bogus": [1, 2],
        "ReturnValues": None,
    }
    validator.validate("PutItem", body)


def test_the_first_type_error_in_document_order_wins(validator: RequestValidator) -> None:
    body = {"ConsistentRead": 5, "TableName": True}
    assert serialization(validator, "GetItem", body) == (
        "NUMBER_VALUE cannot be converted to Boolean"
    )


def test_type_errors_come_before_constraint_errors(validator: RequestValidator) -> None:
    body = {"TableName": "a;", "ReturnValues": "hi", "Item": {"a": {"N": 5}}}
    assert serialization(validator, "PutItem", body) == (
        "NUMBER_VALUE cannot be converted to String"
    )


# --- the constraint pass ---------------------------------------------------------------


def test_required_members(validator: RequestValidator) -> None:
    assert validation(validator, "PutItem", {}) == (
        "2 validation errors detected: "
        "Value null at 'tableName' failed to satisfy constraint: Member must not be null; "
        "Value null at 'item' failed to satisfy constraint: Member must not be null"
    )


def test_errors_follow_dynamodb_member_order(validator: RequestValidator) -> None:
    body = {
        "TableName": "abc;",
        "ReturnConsumedCapacity": "hi",
        "ReturnItemCollectionMetrics": "hi",
        "ReturnValues": "hi",
    }
    # DynamoDB reports PutItem's errors in the model's member order.
    assert validation(validator, "PutItem", body) == (
        "5 validation errors detected: "
        "Value 'abc;' at 'tableName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "
        "Value null at 'item' failed to satisfy constraint: Member must not be null; "
        "Value 'hi' at 'returnValues' failed to satisfy constraint: "
        "Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]; "
        "Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: "
        "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; "
        "Value 'hi' at 'returnItemCollectionMetrics' failed to satisfy constraint: "
        "Member must satisfy enum value set: [SIZE, NONE]"
    )


@pytest.mark.parametrize(
    ("name", "errors"),
    [
        ("", ["Member must have length greater than or equal to 1"]),
        ("a;", ["Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"]),
        ("a" * 256, ["Member must have length less than or equal to 255"]),
        ("bad table!@#", ["Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"]),
        (
            "arn:aws:dynamodb:us-east-1:12345:table/abc",
            ["Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"],
        ),
    ],
)
def test_table_name_rules(validator: RequestValidator, name: str, errors: list[str]) -> None:
    body = {"TableName": name, "Item": {}}
    texts = [f"Value '{name}' at 'tableName' failed to satisfy constraint: {e}" for e in errors]
    count = len(texts)
    prefix = f"{count} validation error{'s' if count > 1 else ''} detected: "
    assert validation(validator, "PutItem", body) == prefix + "; ".join(texts)


@pytest.mark.parametrize(
    "name",
    [
        "abc",
        "a.b-c_d",
        "a" * 255,
        "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
        "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/o.r_d-ers",
    ],
)
def test_table_names_and_arns_pass(validator: RequestValidator, name: str) -> None:
    validator.validate("PutItem", {"TableName": name, "Item": {}})
    validator.validate("DescribeTable", {"TableName": name})


def test_create_table_names(validator: RequestValidator) -> None:
    assert validation(validator, "CreateTable", {}) == (
        "The parameter 'TableName' is required but was not present in the request"
    )
    assert validation(validator, "DescribeTable", {}) == (
        "The parameter 'TableName' is required but was not present in the request"
    )
    # A name shorter than 3 is a missing table everywhere but CreateTable, which checks
    # it in ops/create_table.py (tests/api/test_create_table.py).
    validator.validate("PutItem", {"TableName": "ab", "Item": {}})


def test_nested_paths_and_enum_order(validator: RequestValidator) -> None:
    body = {
        "TableName": "abc",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "INVALID"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "INVALID"}],
    }
    assert validation(validator, "CreateTable", body) == (
        "2 validation errors detected: "
        "Value 'INVALID' at 'attributeDefinitions.1.member.attributeType' failed to satisfy "
        "constraint: Member must satisfy enum value set: [B, N, S]; "
        "Value 'INVALID' at 'keySchema.1.member.keyType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [HASH, RANGE]"
    )


def test_map_value_paths(validator: RequestValidator) -> None:
    body = {"TableName": "abc", "QueryFilter": {"a": {}, "b": {"ComparisonOperator": ""}}}
    assert validation(validator, "Query", body) == (
        "2 validation errors detected: "
        "Value null at 'queryFilter.a.member.comparisonOperator' failed to satisfy constraint: "
        "Member must not be null; "
        "Value '' at 'queryFilter.b.member.comparisonOperator' failed to satisfy constraint: "
        "Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, "
        "NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
    )
    body = {"RequestItems": {"tbl": [{"PutRequest": {}}]}}
    assert validation(validator, "BatchWriteItem", body) == one(
        "Value null at 'requestItems.tbl.member.1.member.putRequest.item' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_numeric_ranges_print_the_value_quoted(validator: RequestValidator) -> None:
    assert validation(validator, "Scan", {"TableName": "abc", "Limit": 0}) == one(
        "Value '0' at 'limit' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )
    assert validation(validator, "ListTables", {"Limit": 101}) == one(
        "Value '101' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 100"
    )
    body = {
        "TableName": "abc",
        "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
    }
    assert validation(validator, "CreateTable", body) == (
        "2 validation errors detected: "
        "Value '0' at 'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1; "
        "Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )


def test_list_lengths_echo_java_to_string(validator: RequestValidator) -> None:
    body = {
        "TableName": "abc",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
            {"AttributeName": "extra", "KeyType": "RANGE"},
        ],
    }
    assert validation(validator, "CreateTable", body) == one(
        "Value '[KeySchemaElement(attributeName=pk, keyType=HASH), "
        "KeySchemaElement(attributeName=sk, keyType=RANGE), "
        "KeySchemaElement(attributeName=extra, keyType=RANGE)]' at 'keySchema' failed to "
        "satisfy constraint: Member must have length less than or equal to 2"
    )
    assert validation(validator, "TransactWriteItems", {"TransactItems": []}) == one(
        "Value '[]' at 'transactItems' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )
    body = {"TableName": "abc", "AttributesToGet": []}
    assert validation(validator, "Scan", body) == one(
        "Value '[]' at 'attributesToGet' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )


def test_map_value_constraints(validator: RequestValidator) -> None:
    writes = [{"PutRequest": {"Item": {"pk": {"S": str(i)}}}} for i in range(26)]
    message = validation(validator, "BatchWriteItem", {"RequestItems": {"tbl": writes}})
    assert message.startswith(
        "1 validation error detected: Value '{tbl=[WriteRequest(putRequest=PutRequest(item="
        "{pk=com.amazonaws.dynamodb.v20120810.AttributeValue@"
    )
    assert "}), deleteRequest=null), WriteRequest(" in message
    assert message.endswith(
        "]}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: "
        "[Member must have length less than or equal to 25, "
        "Member must have length greater than or equal to 1]"
    )


def test_list_member_constraints(validator: RequestValidator) -> None:
    body = {"ResourceArn": "arn", "TagKeys": ["ok", ""]}
    assert validation(validator, "UntagResource", body) == one(
        "Value '[ok, ]' at 'tagKeys' failed to satisfy constraint: Member must satisfy "
        "constraint: [Member must have length less than or equal to 128, "
        "Member must have length greater than or equal to 1]"
    )


def test_map_key_constraints(validator: RequestValidator) -> None:
    long_name = "a" * 65536
    body = {"TableName": "abc", "Key": {long_name: {"S": "x"}}}
    message = validation(validator, "GetItem", body)
    assert message.endswith(
        "at 'key' failed to satisfy constraint: Map keys must satisfy constraint: "
        "[Member must have length less than or equal to 65535]"
    )
    # keys nested inside an M value are checked too
    body = {"TableName": "abc", "Key": {"k": {"L": [{"M": {long_name: {"S": "x"}}}]}}}
    assert validation(validator, "GetItem", body).endswith(
        "at 'key.k.member.l.1.member.m' failed to satisfy constraint: Map keys must satisfy "
        "constraint: [Member must have length less than or equal to 65535]"
    )


def test_errors_stop_at_ten(validator: RequestValidator) -> None:
    body = {"TableName": "abc", "LocalSecondaryIndexes": [{} for _ in range(9)]}
    message = validation(validator, "CreateTable", body)
    assert message.startswith(
        "10 validation errors detected: "
        "Value null at 'localSecondaryIndexes.1.member.indexName' failed to satisfy "
        "constraint: Member must not be null; "
        "Value null at 'localSecondaryIndexes.1.member.keySchema' failed to satisfy "
        "constraint: Member must not be null; "
        "Value null at 'localSecondaryIndexes.1.member.projection' failed to satisfy "
        "constraint: Member must not be null; "
    )
    assert message.count("; ") == 9
    assert message.endswith(
        "'localSecondaryIndexes.4.member.indexName' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_newer_rendering_overrides(validator: RequestValidator) -> None:
    body = {"TableName": "abc", "KeyConditionExpression": "pk = :v", "Limit": 0}
    assert validation(validator, "Query", body) == one(
        "Value at 'Limit' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )
    assert validation(validator, "BatchGetItem", {"RequestItems": {}}) == one(
        "Value at 'RequestItems' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )
    keys = [{"pk": {"S": str(i)}} for i in range(101)]
    body = {"RequestItems": {"tbl": {"Keys": keys}}}
    assert validation(validator, "BatchGetItem", body) == one(
        "Value at 'RequestItems.tbl.member.Keys' failed to satisfy constraint: "
        "Member must have length less than or equal to 100"
    )
    body = {"RequestItems": {"bad!name": {"Keys": [{"pk": {"S": "a"}}]}}}
    assert validation(validator, "BatchGetItem", body) == one(
        """Value '{"bad!name":{"Keys":[{"pk":{"S":"a"}}]}}' at 'requestItems' failed to """
        "satisfy constraint: Map keys must satisfy constraint: "
        "[Member must have length less than or equal to 255, "
        "Member must have length greater than or equal to 3, "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]"
    )


def test_valid_requests_pass(validator: RequestValidator) -> None:
    validator.validate(
        "CreateTable",
        {
            "TableName": "orders",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "Tags": [{"Key": "env", "Value": ""}],
        },
    )
    validator.validate(
        "BatchGetItem",
        {"RequestItems": {"arn:aws:dynamodb:us-east-1:123456789012:table/t": {"Keys": [{}]}}},
    )
    validator.validate("UnknownOperation", {"Anything": 1})
    assert validator.has_operation("PutItem") and not validator.has_operation("Nope")


def test_null_list_elements_and_map_values(validator: RequestValidator) -> None:
    body: dict[str, Any] = {
        "TableName": "abc",
        "AttributeDefinitions": [None],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, None],
    }
    assert validation(validator, "CreateTable", body) == (
        "2 validation errors detected: "
        "Value null at 'attributeDefinitions.1.member' failed to satisfy constraint: "
        "Member must not be null; "
        "Value null at 'keySchema.2.member' failed to satisfy constraint: "
        "Member must not be null"
    )
    body = {"RequestItems": {"tbl": {"Keys": [None]}}}
    assert validation(validator, "BatchGetItem", body) == one(
        "Value null at 'requestItems.tbl.member.keys.1.member' failed to satisfy constraint: "
        "Member must not be null"
    )
    body = {"TableName": "abc", "Key": {}, "ExpressionAttributeNames": {"#a": None}}
    assert validation(validator, "GetItem", body) == one(
        "Value null at 'expressionAttributeNames.#a.member' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_null_attribute_values_are_left_to_dynamodb(validator: RequestValidator) -> None:
    # "Supplied AttributeValue is empty" is DynamoDB's own check (engine/attrs.py).
    item = {"pk": None, "l": {"L": [None]}, "m": {"M": {"a": None}}, "s": {"SS": [None]}}
    validator.validate("PutItem", {"TableName": "abc", "Item": item})
    validator.validate(
        "Query",
        {
            "TableName": "abc",
            "ExpressionAttributeValues": {":v": None},
            "KeyConditions": {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [None]}},
        },
    )
    validator.validate("ExecuteStatement", {"Statement": "SELECT", "Parameters": [None]})


# --- a small synthetic model: the generic machinery --------------------------------------

MODEL: dict[str, Any] = {
    "metadata": {"apiVersion": "2015-03-31", "endpointPrefix": "things"},
    "operations": {"Do": {"input": {"shape": "DoInput"}}, "Ping": {}},
    "shapes": {
        "DoInput": {
            "type": "structure",
            "required": ["Name"],
            "members": {
                "Name": {"shape": "Name"},
                "Modes": {"shape": "ModeList"},
                "Data": {"shape": "Data"},
                "When": {"shape": "When"},
                "Ratio": {"shape": "Ratio"},
                "Labels": {"shape": "Labels"},
                "Child": {"shape": "Child"},
                "Children": {"shape": "Children"},
            },
        },
        "Name": {"type": "string", "min": 2, "max": 4},
        "Mode": {"type": "string", "enum": ["FAST", "SLOW"]},
        "ModeList": {"type": "list", "member": {"shape": "Mode"}},
        "Data": {"type": "blob", "max": 2},
        "When": {"type": "timestamp"},
        "Ratio": {"type": "double", "max": 1},
        "Label": {"type": "string", "pattern": "[a-z]+"},
        "Labels": {"type": "map", "key": {"shape": "Label"}, "value": {"shape": "Label"}},
        "Child": {
            "type": "structure",
            "required": ["Name"],
            "members": {"Name": {"shape": "Name"}, "Flag": {"shape": "Flag"}},
        },
        "Flag": {"type": "boolean"},
        "Children": {"type": "list", "member": {"shape": "Child"}},
    },
}


@pytest.fixture(scope="module")
def generic() -> RequestValidator:
    return RequestValidator(MODEL)


def test_java_package_from_metadata() -> None:
    assert java_package(MODEL) == "com.amazonaws.things.v20150331"
    assert shapes.DYNAMODB.java_package == "com.amazonaws.dynamodb.v20120810"


def test_lengths_count_utf16_units(generic: RequestValidator) -> None:
    generic.validate("Do", {"Name": "\U0001f600\U0001f600"})  # 4 UTF-16 units
    assert validation(generic, "Do", {"Name": "\U0001f600\U0001f600a"}) == one(
        "Value '\U0001f600\U0001f600a' at 'name' failed to satisfy constraint: "
        "Member must have length less than or equal to 4"
    )


def test_generic_list_of_enums(generic: RequestValidator) -> None:
    assert validation(generic, "Do", {"Name": "ab", "Modes": ["FAST", "x"]}) == one(
        "Value '[FAST, x]' at 'modes' failed to satisfy constraint: Member must satisfy "
        "constraint: [Member must satisfy enum value set: [FAST, SLOW]]"
    )


def test_generic_scalars(generic: RequestValidator) -> None:
    assert validation(generic, "Do", {"Name": "ab", "Data": "AAAA"}) == one(
        "Value 'java.nio.HeapByteBuffer[pos=0 lim=3 cap=3]' at 'data' failed to satisfy "
        "constraint: Member must have length less than or equal to 2"
    )
    assert validation(generic, "Do", {"Name": "ab", "Ratio": 1.5}) == one(
        "Value '1.5' at 'ratio' failed to satisfy constraint: "
        "Member must have value less than or equal to 1"
    )
    generic.validate("Do", {"Name": "ab", "When": 1700000000.5, "Ratio": 1})
    assert serialization(generic, "Do", {"Name": "ab", "When": "2024-01-01"}) == (
        "STRING_VALUE cannot be converted to Date"
    )
    assert serialization(generic, "Do", {"Name": "ab", "Ratio": "1"}) == (
        "STRING_VALUE cannot be converted to Double"
    )


def test_generic_maps_and_structures(generic: RequestValidator) -> None:
    body: dict[str, Any] = {"Name": "ab", "Labels": {"OK": "fine", "ok": "BAD"}}
    assert validation(generic, "Do", body) == (
        "2 validation errors detected: "
        "Value '{OK=fine, ok=BAD}' at 'labels' failed to satisfy constraint: Map keys must "
        "satisfy constraint: [Member must satisfy regular expression pattern: [a-z]+]; "
        "Value '{OK=fine, ok=BAD}' at 'labels' failed to satisfy constraint: Map value must "
        "satisfy constraint: [Member must satisfy regular expression pattern: [a-z]+]"
    )
    body = {"Name": "ab", "Child": {"Flag": True}, "Children": [{"Name": "x"}, {}]}
    assert validation(generic, "Do", body) == (
        "3 validation errors detected: "
        "Value null at 'child.name' failed to satisfy constraint: Member must not be null; "
        "Value 'x' at 'children.1.member.name' failed to satisfy constraint: "
        "Member must have length greater than or equal to 2; "
        "Value null at 'children.2.member.name' failed to satisfy constraint: "
        "Member must not be null"
    )
    body = {"Name": "ab", "Children": [{"Name": "abcdef"}] * 12}
    message = validation(generic, "Do", body)
    assert message.startswith("10 validation errors detected: ")
    assert message.count("; ") == 9
    assert "'children.10.member.name'" in message and "children.11" not in message
    generic.validate("Ping", {})


def test_generic_collections_are_dense(generic: RequestValidator) -> None:
    body: dict[str, Any] = {"Name": "ab", "Modes": ["FAST", None], "Labels": {"a": None}}
    assert validation(generic, "Do", body) == (
        "2 validation errors detected: "
        "Value null at 'modes.2.member' failed to satisfy constraint: Member must not be null; "
        "Value null at 'labels.a.member' failed to satisfy constraint: Member must not be null"
    )
    body = {"Name": "ab", "Children": [None, {"Name": "x"}]}
    assert validation(generic, "Do", body) == (
        "2 validation errors detected: "
        "Value null at 'children.1.member' failed to satisfy constraint: "
        "Member must not be null; "
        "Value 'x' at 'children.2.member.name' failed to satisfy constraint: "
        "Member must have length greater than or equal to 2"
    )
    sparse = copy.deepcopy(MODEL)
    sparse["shapes"]["ModeList"]["sparse"] = True
    RequestValidator(sparse).validate("Do", {"Name": "ab", "Modes": [None]})


def test_java_doubles() -> None:
    assert [java_double(x) for x in (1.5, 100.0, 0.001, 1e7, 1.5e-5, -2.5e20, 0.0)] == [
        "1.5",
        "100.0",
        "0.001",
        "1.0E7",
        "1.5E-5",
        "-2.5E20",
        "0.0",
    ]


# --- cost ------------------------------------------------------------------------------


def test_validating_a_put_item_is_cheap(validator: RequestValidator) -> None:
    import orjson

    body = {
        "TableName": "users",
        "Item": {
            "pk": {"S": "user#123"},
            "sk": {"S": "profile"},
            "name": {"S": "Alice"},
            "age": {"N": "42"},
            "active": {"BOOL": True},
            "tags": {"SS": ["a", "b"]},
            "addr": {"M": {"city": {"S": "Paris"}}},
            "hist": {"L": [{"N": "1"}]},
        },
        "ConditionExpression": "attribute_not_exists(pk)",
        "ReturnConsumedCapacity": "TOTAL",
    }
    raw = orjson.dumps(body)
    bodies = [orjson.loads(raw) for _ in range(2000)]
    best = float("inf")
    for start in range(0, 2000, 400):
        began = time.perf_counter()
        for each in bodies[start : start + 400]:
            validator.validate("PutItem", each)
        best = min(best, (time.perf_counter() - began) / 400)
    # A few microseconds on a quiet machine; the bound leaves room for a busy CI box.
    assert best < 100e-6, f"{best * 1e6:.1f} us per PutItem body"
