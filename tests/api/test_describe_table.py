"""DescribeTable: the TableDescription of ACTIVE tables and the not-found/validation errors."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest

from tests.api.helpers import (
    NAME_PATTERN,
    UUID_RE,
    Client,
    TableFactory,
    attr,
    index_spec,
    key,
    one_error,
    raises,
    table_not_found,
    unique_name,
    validation,
)


def test_hash_table_description(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert desc["TableName"] == name
    assert desc["TableStatus"] == "ACTIVE"
    assert desc["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert desc["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert desc["ItemCount"] == 0
    assert desc["TableSizeBytes"] == 0
    assert isinstance(desc["CreationDateTime"], datetime.datetime)
    assert UUID_RE.match(desc["TableId"])


def test_hash_range_table_description(dynamodb: Client, table: TableFactory) -> None:
    desc = dynamodb.describe_table(TableName=table(range_key=True))["Table"]
    assert desc["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert desc["AttributeDefinitions"] == [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ]


def test_table_arn(dynamodb: Client, table: TableFactory) -> None:
    first, second = table(), table()
    arn1 = dynamodb.describe_table(TableName=first)["Table"]["TableArn"]
    arn2 = dynamodb.describe_table(TableName=second)["Table"]["TableArn"]
    match = re.fullmatch(r"arn:aws:dynamodb:us-east-1:(\d{12}):table/(.+)", arn1)
    assert match is not None, arn1
    assert match.group(2) == first
    assert arn2 == arn1.replace(first, second)  # same account for the same credentials


def test_on_demand_billing_summary(dynamodb: Client, table: TableFactory) -> None:
    desc = dynamodb.describe_table(TableName=table())["Table"]
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert isinstance(
        desc["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"], datetime.datetime
    )
    assert desc["ProvisionedThroughput"] == {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": 0,
        "WriteCapacityUnits": 0,
    }


def test_provisioned_throughput(dynamodb: Client, table: TableFactory) -> None:
    name = table(
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 2},
    )
    throughput = dynamodb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]
    assert throughput["ReadCapacityUnits"] == 3
    assert throughput["WriteCapacityUnits"] == 2
    assert throughput["NumberOfDecreasesToday"] == 0


@pytest.mark.parametrize(
    ("billing", "warm"),
    [
        ({}, {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000}),
        (
            {
                "BillingMode": "PROVISIONED",
                "ProvisionedThroughput": {"ReadCapacityUnits": 4, "WriteCapacityUnits": 3},
            },
            {"ReadUnitsPerSecond": 4, "WriteUnitsPerSecond": 3},
        ),
    ],
    ids=["on-demand", "provisioned"],
)
def test_index_descriptions(
    dynamodb: Client, table: TableFactory, billing: dict[str, Any], warm: dict[str, int]
) -> None:
    """An ACTIVE GSI with its counters, ARN and an ACTIVE warm throughput (the table's
    mode decides it); an LSI without status or throughput."""
    gsi = index_spec("by-g", "g")
    if billing:
        gsi["ProvisionedThroughput"] = billing["ProvisionedThroughput"]
    name = table(
        range_key=True,
        AttributeDefinitions=[attr("pk"), attr("sk"), attr("g")],
        GlobalSecondaryIndexes=[gsi],
        LocalSecondaryIndexes=[index_spec("by-g-local", "pk", "g")],
        **billing,
    )
    desc = dynamodb.describe_table(TableName=name)["Table"]
    (described,) = desc["GlobalSecondaryIndexes"]
    assert described["IndexStatus"] == "ACTIVE"
    assert described["WarmThroughput"] == {**warm, "Status": "ACTIVE"}
    assert described["IndexArn"] == f"{desc['TableArn']}/index/by-g"
    assert (described["ItemCount"], described["IndexSizeBytes"]) == (0, 0)
    assert "Backfilling" not in described
    (local,) = desc["LocalSecondaryIndexes"]
    assert set(local) == {
        "IndexName", "KeySchema", "Projection", "IndexSizeBytes", "ItemCount", "IndexArn"
    }  # fmt: skip


def test_deletion_protection_false_by_default(dynamodb: Client, table: TableFactory) -> None:
    desc = dynamodb.describe_table(TableName=table())["Table"]
    assert desc["DeletionProtectionEnabled"] is False


def test_deletion_protection_when_enabled(dynamodb: Client, table: TableFactory) -> None:
    desc = dynamodb.describe_table(TableName=table(DeletionProtectionEnabled=True))["Table"]
    assert desc["DeletionProtectionEnabled"] is True


@pytest.mark.parametrize("table_class", ["STANDARD", "STANDARD_INFREQUENT_ACCESS"])
def test_table_class_summary_when_set(
    dynamodb: Client, table: TableFactory, table_class: str
) -> None:
    desc = dynamodb.describe_table(TableName=table(TableClass=table_class))["Table"]
    assert desc["TableClassSummary"]["TableClass"] == table_class


def test_description_is_stable(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    first = dynamodb.describe_table(TableName=name)["Table"]
    second = dynamodb.describe_table(TableName=name)["Table"]
    assert first["TableId"] == second["TableId"]
    assert first["CreationDateTime"] == second["CreationDateTime"]
    assert first["TableArn"] == second["TableArn"]


def test_creation_time_is_recent(dynamodb: Client, table: TableFactory) -> None:
    created = dynamodb.describe_table(TableName=table())["Table"]["CreationDateTime"]
    age = datetime.datetime.now(datetime.UTC) - created
    assert datetime.timedelta(seconds=-60) < age < datetime.timedelta(minutes=10)


def test_writes_do_not_change_the_schema(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    dynamodb.put_item(TableName=name, Item={**key("a"), "n": {"N": "1"}})
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert desc["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert desc["TableStatus"] == "ACTIVE"


def test_unknown_table(dynamodb: Client) -> None:
    name = unique_name("missing")
    with raises("ResourceNotFoundException", table_not_found(name)):
        dynamodb.describe_table(TableName=name)


def test_name_is_case_sensitive(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with raises("ResourceNotFoundException", table_not_found(name.upper())):
        dynamodb.describe_table(TableName=name.upper())


def test_invalid_name_characters(dynamodb: Client) -> None:
    message = one_error("bad name!", "tableName", NAME_PATTERN)
    with validation(message):
        dynamodb.describe_table(TableName="bad name!")


def test_empty_name(unchecked: Client) -> None:
    message = one_error("", "tableName", "Member must have length greater than or equal to 1")
    with validation(message):
        unchecked.describe_table(TableName="")


def test_missing_name(unchecked: Client) -> None:
    with validation("The parameter 'TableName' is required but was not present in the request"):
        unchecked.describe_table()
