"""Where DynamoDB's request validation differs from its botocore model: a data table.

The botocore model gives every member, type and constraint, and `validate.py` compiles
from it. Real DynamoDB (recorded by dynalite against the service, and by recent
conformance captures) differs in a few ways the model cannot express:

- the order it lists errors in (its own member order, not the model's) and the order
  it prints enum value sets in;
- a few constraints the model lacks (KeySchema has at most 2 elements);
- table-name members typed ``TableArn`` (1..1024) that still get the table-name rules
  (3..255, ``[a-zA-Z0-9_.-]+``) unless the value is a table ARN;
- bespoke sentences instead of the aggregated form for some missing members;
- a newer rendering on some members: DynamoDB is moving operations to a validation
  framework that prints ``Value at 'RequestItems'`` (no value, member names as sent)
  or echoes the value as JSON.

Everything here is data; the validator reads it once at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar

_K = TypeVar("_K")
_V = TypeVar("_V")

# How an offending value is echoed in "Value '<echo>' at '<path>'".
ECHO_JAVA = "java"  # Java toString, as classic Coral does: [a, b], {k=v}, Shape(f=v)
ECHO_JSON = "json"  # the value as sent, compact JSON
ECHO_NONE = "none"  # "Value at '<path>'": the newer framework omits the value

# Constraint kinds, used to key per-constraint rendering overrides.
KIND_NULL = "null"
KIND_LENGTH = "length"
KIND_RANGE = "range"
KIND_PATTERN = "pattern"
KIND_ENUM = "enum"
KIND_MEMBERS = "members"  # "Member must satisfy constraint: [...]" on a list
KIND_KEYS = "keys"  # "Map keys must satisfy constraint: [...]"
KIND_VALUES = "values"  # "Map value must satisfy constraint: [...]"

TABLE_NAME_PATTERN = "[a-zA-Z0-9_.-]+"
TABLE_NAME_MIN = 3
TABLE_NAME_MAX = 255
_NAME = re.compile(TABLE_NAME_PATTERN)
_TABLE_ARN = re.compile(r"arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/" + TABLE_NAME_PATTERN)


@dataclass(frozen=True)
class Render:
    """How one error is printed."""

    echo: str = ECHO_JAVA
    raw_path: bool = False  # member names as sent (``RequestItems``), not ``requestItems``


CLASSIC = Render()


def _ro(mapping: Mapping[_K, _V]) -> Mapping[_K, _V]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Deviations:
    """A service's departures from its model (see the module docstring)."""

    java_package: str
    # structure shape -> DynamoDB's member order (members not listed follow, model order)
    member_order: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # enum shape -> the order DynamoDB prints the value set in
    enum_order: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # shape -> extra or replaced constraints ("min", "max", "pattern")
    extra_constraints: Mapping[str, Mapping[str, int | str]] = field(default_factory=dict)
    # (operation, member) -> sentence raised, alone, when the member is missing
    required_messages: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # (operation, member path, constraint kind or "") -> rendering; a member path uses
    # the names as sent, with "*" for a list element or map value: "RequestItems.*.Keys"
    renders: Mapping[tuple[str, str, str], Render] = field(default_factory=dict)
    # string shapes that take a table name or a table ARN
    table_name_shapes: frozenset[str] = frozenset()
    # structures echoed as "<package>.<Shape>@<hash>" (no toString of their own)
    opaque_shapes: frozenset[str] = frozenset()
    # Java regular expressions Python's re cannot compile -> an equivalent
    patterns: Mapping[str, str] = field(default_factory=dict)
    # enum shapes the service checks itself, with its own message (not Coral's)
    unchecked_enums: frozenset[str] = frozenset()
    # element shapes whose nulls in a list or map reach the service, which reports them
    # itself (a null AttributeValue is "Supplied AttributeValue is empty"); a null
    # element of any other shape is "Member must not be null" at the element's path
    nullable_elements: frozenset[str] = frozenset()


# Java regexes in the DynamoDB model that Python spells differently. Java matches
# UTF-16 code units, so a surrogate-pair class becomes the astral code point range.
_PATTERNS = {
    "\\p{Print}+": "[\\x20-\\x7e]+",
    "[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*": (
        "[\\u0020-\\ud7ff\\ue000-\\ufffd\\U00010000-\\U0010ffff\\r\\n\\t]*"
    ),
}

_TABLE_NAME_REQUIRED = "The parameter 'TableName' is required but was not present in the request"

# Newer framework rendering, captured 2026 (see the module docstring).
_NEW = Render(echo=ECHO_NONE, raw_path=True)

DYNAMODB = Deviations(
    java_package="com.amazonaws.dynamodb.v20120810",
    member_order=_ro(
        {
            # top-level inputs, in the order DynamoDB reports their errors
            "BatchGetItemInput": ("ReturnConsumedCapacity", "RequestItems"),
            "BatchWriteItemInput": (
                "ReturnConsumedCapacity",
                "ReturnItemCollectionMetrics",
                "RequestItems",
            ),
            "CreateTableInput": (
                "AttributeDefinitions",
                "TableName",
                "BillingMode",
                "ProvisionedThroughput",
                "KeySchema",
                "LocalSecondaryIndexes",
                "GlobalSecondaryIndexes",
            ),
            "GetItemInput": (
                "ReturnConsumedCapacity",
                "AttributesToGet",
                "TableName",
                "Key",
                "ConsistentRead",
                "ProjectionExpression",
                "ExpressionAttributeNames",
            ),
            "ListTablesInput": ("Limit", "ExclusiveStartTableName"),
            "QueryInput": (
                "Select",
                "IndexName",
                "ReturnConsumedCapacity",
                "QueryFilter",
                "TableName",
                "ConditionalOperator",
                "AttributesToGet",
                "Limit",
                "KeyConditions",
                "ExclusiveStartKey",
                "ConsistentRead",
                "ScanIndexForward",
                "KeyConditionExpression",
                "FilterExpression",
                "ProjectionExpression",
                "ExpressionAttributeValues",
                "ExpressionAttributeNames",
            ),
            "ScanInput": (
                "Select",
                "IndexName",
                "TotalSegments",
                "ReturnConsumedCapacity",
                "TableName",
                "ConditionalOperator",
                "ScanFilter",
                "Segment",
                "Limit",
                "AttributesToGet",
                "ExclusiveStartKey",
                "FilterExpression",
                "ProjectionExpression",
                "ExpressionAttributeValues",
                "ExpressionAttributeNames",
            ),
            "UpdateItemInput": (
                "ReturnConsumedCapacity",
                "TableName",
                "ReturnItemCollectionMetrics",
                "ReturnValues",
                "Key",
                "ConditionalOperator",
                "Expected",
                "AttributeUpdates",
                "ConditionExpression",
                "UpdateExpression",
                "ExpressionAttributeValues",
                "ExpressionAttributeNames",
            ),
            "UpdateTableInput": (
                "TableName",
                "ProvisionedThroughput",
                "BillingMode",
                "GlobalSecondaryIndexUpdates",
            ),
            # nested structures
            "ProvisionedThroughput": ("WriteCapacityUnits", "ReadCapacityUnits"),
            "ExpectedAttributeValue": (
                "AttributeValueList",
                "ComparisonOperator",
                "Exists",
                "Value",
            ),
            "WriteRequest": ("DeleteRequest", "PutRequest"),
            "CreateGlobalSecondaryIndexAction": (
                "Projection",
                "IndexName",
                "ProvisionedThroughput",
                "KeySchema",
            ),
        }
    ),
    enum_order=_ro(
        {
            "ReturnValue": ("ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"),
            "ComparisonOperator": (
                "IN",
                "NULL",
                "BETWEEN",
                "LT",
                "NOT_CONTAINS",
                "EQ",
                "GT",
                "NOT_NULL",
                "NE",
                "LE",
                "BEGINS_WITH",
                "GE",
                "CONTAINS",
            ),
            "ConditionalOperator": ("OR", "AND"),
            "Select": (
                "SPECIFIC_ATTRIBUTES",
                "COUNT",
                "ALL_ATTRIBUTES",
                "ALL_PROJECTED_ATTRIBUTES",
            ),
            "ScalarAttributeType": ("B", "N", "S"),
            "ProjectionType": ("ALL", "INCLUDE", "KEYS_ONLY"),
        }
    ),
    extra_constraints=_ro(
        {
            "KeySchema": _ro({"max": 2}),
            "AttributeNameList": _ro({"max": 255}),
        }
    ),
    required_messages=_ro(
        {
            ("CreateTable", "TableName"): _TABLE_NAME_REQUIRED,
            ("DeleteTable", "TableName"): _TABLE_NAME_REQUIRED,
            ("DescribeTable", "TableName"): _TABLE_NAME_REQUIRED,
            ("DescribeTimeToLive", "TableName"): _TABLE_NAME_REQUIRED,
            ("UpdateTimeToLive", "TableName"): _TABLE_NAME_REQUIRED,
            ("UpdateTable", "TableName"): _TABLE_NAME_REQUIRED,
        }
    ),
    renders=_ro(
        {
            ("Query", "Limit", ""): _NEW,
            ("BatchGetItem", "RequestItems", KIND_LENGTH): _NEW,
            ("BatchGetItem", "RequestItems", KIND_KEYS): Render(echo=ECHO_JSON),
            ("BatchGetItem", "RequestItems.*.Keys", ""): _NEW,
        }
    ),
    table_name_shapes=frozenset({"TableArn"}),
    unchecked_enums=frozenset({"TableClass"}),
    opaque_shapes=frozenset({"AttributeValue"}),
    patterns=_ro(_PATTERNS),
    nullable_elements=frozenset(
        {"AttributeValue", "StringAttributeValue", "NumberAttributeValue", "BinaryAttributeValue"}
    ),
)


def generic(java_package: str) -> Deviations:
    """No deviations: the model as written (for companion services)."""
    return Deviations(java_package=java_package, patterns=_ro(_PATTERNS))


# --- how Coral prints -------------------------------------------------------------------


def min_length_text(n: int) -> str:
    return f"Member must have length greater than or equal to {n}"


def max_length_text(n: int) -> str:
    return f"Member must have length less than or equal to {n}"


def pattern_text(pattern: str) -> str:
    return f"Member must satisfy regular expression pattern: {pattern}"


def lower_first(name: str) -> str:
    """A member name as Coral prints it in a path: 'SSESpecification' -> 'sSESpecification'."""
    return name[:1].lower() + name[1:]


def java_length(text: str) -> int:
    """String.length(): UTF-16 code units, so a character outside the BMP counts 2."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def java_hash(text: str) -> int:
    """String.hashCode(), as an unsigned 32-bit number."""
    h = 0
    for char in text:
        h = (31 * h + ord(char)) & 0xFFFFFFFF
    return h


def java_double(value: float) -> str:
    """Double.toString: plain between 1e-3 and 1e7, else "d.dddE<n>"."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        text = repr(float(value))
        return text if "e" not in text else format(value, "f")
    number = Decimal(repr(float(value))).normalize()
    digits = "".join(map(str, number.as_tuple().digits))
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{'-' if value < 0 else ''}{mantissa}E{number.adjusted()}"


def table_name_failures(value: str) -> list[tuple[str, str]] | None:
    """A table name's rules, unless the value is a table ARN."""
    valid_name = _NAME.fullmatch(value) is not None
    # The 3-character minimum applies only to a new table's name (CreateTable checks it);
    # for existing tables a short name is simply not found, as DynamoDB answers.
    if valid_name and len(value) <= TABLE_NAME_MAX:
        return None
    if not valid_name and _TABLE_ARN.fullmatch(value) is not None:
        return None
    failed: list[tuple[str, str]] = []
    if not valid_name:
        failed.append((KIND_PATTERN, pattern_text(TABLE_NAME_PATTERN)))
    if len(value) > TABLE_NAME_MAX:
        failed.append((KIND_LENGTH, max_length_text(TABLE_NAME_MAX)))
    return failed or None


def java_package(model: Mapping[str, Any]) -> str:
    """Coral's Java package for a model: com.amazonaws.<prefix>.v<api version>."""
    metadata = model.get("metadata", {})
    version = str(metadata.get("apiVersion", "")).replace("-", "")
    return f"com.amazonaws.{metadata.get('endpointPrefix', 'service')}.v{version}"
