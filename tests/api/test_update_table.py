"""UpdateTable: billing mode, throughput, deletion protection, table class, and errors."""

from __future__ import annotations

import datetime

import pytest

from tests.api.helpers import (
    INVALID,
    NO_THROUGHPUT_ON_DEMAND,
    Client,
    TableFactory,
    key,
    one_error,
    raises,
    read,
    table_not_found,
    unique_name,
    validation,
    wait_active,
)

THROUGHPUT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
NOTHING_TO_UPDATE = (
    "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
    "GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, MultiAccountReplicaReady, "
    "ReplicaTransitRoleArn, MultiRegionConsistency, DeletionProtectionEnabled, "
    "OnDemandThroughput, WarmThroughput or TableClass is required"
)


def provisioned(table: TableFactory) -> str:
    return table(BillingMode="PROVISIONED", ProvisionedThroughput=THROUGHPUT)


def test_increase_throughput(dynamodb: Client, table: TableFactory) -> None:
    name = provisioned(table)
    answer = dynamodb.update_table(
        TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 6}
    )["TableDescription"]
    assert answer["TableName"] == name
    assert answer["TableStatus"] in ("UPDATING", "ACTIVE")
    wait_active(dynamodb, name)
    throughput = dynamodb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]
    assert throughput["ReadCapacityUnits"] == 10
    assert throughput["WriteCapacityUnits"] == 6
    assert isinstance(throughput["LastIncreaseDateTime"], datetime.datetime)


def test_decrease_throughput(dynamodb: Client, table: TableFactory) -> None:
    name = provisioned(table)
    dynamodb.update_table(
        TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
    )
    wait_active(dynamodb, name)
    throughput = dynamodb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]
    assert (throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]) == (1, 1)
    assert isinstance(throughput["LastDecreaseDateTime"], datetime.datetime)


@pytest.mark.parametrize(
    ("mode", "throughput", "units"),
    [
        ("PAY_PER_REQUEST", None, (0, 0)),
        ("PROVISIONED", {"ReadCapacityUnits": 4, "WriteCapacityUnits": 2}, (4, 2)),
    ],
    ids=["to-on-demand", "to-provisioned"],
)
def test_switch_billing_mode(
    dynamodb: Client,
    table: TableFactory,
    mode: str,
    throughput: dict[str, int] | None,
    units: tuple[int, int],
) -> None:
    """From the other mode to `mode`; the description shows (RCU, WCU) `units` after."""
    if throughput is None:
        name = provisioned(table)
        dynamodb.update_table(TableName=name, BillingMode=mode)
    else:
        name = table()
        dynamodb.update_table(TableName=name, BillingMode=mode, ProvisionedThroughput=throughput)
    wait_active(dynamodb, name)
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert desc["BillingModeSummary"]["BillingMode"] == mode
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == units[0]
    assert desc["ProvisionedThroughput"]["WriteCapacityUnits"] == units[1]


def test_items_survive_billing_change(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    item = {**key("a"), "v": {"N": "1"}}
    dynamodb.put_item(TableName=name, Item=item)
    dynamodb.update_table(
        TableName=name, BillingMode="PROVISIONED", ProvisionedThroughput=THROUGHPUT
    )
    wait_active(dynamodb, name)
    assert read(dynamodb, name, key("a")) == item


def test_enable_and_disable_deletion_protection(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    answer = dynamodb.update_table(TableName=name, DeletionProtectionEnabled=True)
    assert answer["TableDescription"]["DeletionProtectionEnabled"] is True
    wait_active(dynamodb, name)
    assert dynamodb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is True
    dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False)
    wait_active(dynamodb, name)
    assert dynamodb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is False


def test_change_table_class(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    dynamodb.update_table(TableName=name, TableClass="STANDARD_INFREQUENT_ACCESS")
    wait_active(dynamodb, name)
    summary = dynamodb.describe_table(TableName=name)["Table"]["TableClassSummary"]
    assert summary["TableClass"] == "STANDARD_INFREQUENT_ACCESS"


def test_unchanged_throughput(dynamodb: Client, table: TableFactory) -> None:
    name = provisioned(table)
    with validation(
        "The provisioned throughput for the table will not change. The requested value equals "
        "the current value. Current ReadCapacityUnits provisioned for the table: 5. Requested "
        "ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for the table: 5. "
        "Requested WriteCapacityUnits: 5. Refer to the Amazon DynamoDB Developer Guide for "
        "current limits and how to request higher limits."
    ):
        dynamodb.update_table(TableName=name, ProvisionedThroughput=THROUGHPUT)
    assert dynamodb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"


def test_nothing_to_update(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation(NOTHING_TO_UPDATE):
        dynamodb.update_table(TableName=name)


def test_throughput_on_on_demand_table(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation(NO_THROUGHPUT_ON_DEMAND):
        dynamodb.update_table(TableName=name, ProvisionedThroughput=THROUGHPUT)
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_provisioned_without_throughput(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation(
        INVALID + "ProvisionedThroughput must be specified when BillingMode is PROVISIONED"
    ):
        dynamodb.update_table(TableName=name, BillingMode="PROVISIONED")


def test_zero_write_capacity(unchecked: Client, table: TableFactory) -> None:
    name = provisioned(table)
    with validation(
        one_error(
            "0",
            "provisionedThroughput.writeCapacityUnits",
            "Member must have value greater than or equal to 1",
        )
    ):
        unchecked.update_table(
            TableName=name,
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 0},
        )


def test_invalid_billing_mode(unchecked: Client, table: TableFactory) -> None:
    name = table()
    with validation(
        one_error(
            "FREE",
            "billingMode",
            "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]",
        )
    ):
        unchecked.update_table(TableName=name, BillingMode="FREE")


def test_unknown_table(dynamodb: Client) -> None:
    name = unique_name("missing")
    with raises("ResourceNotFoundException", table_not_found(name)):
        dynamodb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
