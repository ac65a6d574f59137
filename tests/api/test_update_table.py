"""UpdateTable: billing mode, throughput, deletion protection, table class, and errors."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tests.api.helpers import (
    INVALID,
    NO_THROUGHPUT_ON_DEMAND,
    Client,
    TableFactory,
    attr,
    index_spec,
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


@pytest.mark.parametrize("mode", ["PAY_PER_REQUEST", "PROVISIONED"])
def test_provisioned_without_throughput(dynamodb: Client, table: TableFactory, mode: str) -> None:
    """BillingMode=PROVISIONED needs ProvisionedThroughput, even when it is the mode already."""
    name = table() if mode == "PAY_PER_REQUEST" else provisioned(table)
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


def test_switch_to_on_demand_with_throughput(dynamodb: Client, table: TableFactory) -> None:
    name = provisioned(table)
    with validation(
        INVALID + "ProvisionedThroughput cannot be specified when BillingMode is PAY_PER_REQUEST"
    ):
        dynamodb.update_table(
            TableName=name, BillingMode="PAY_PER_REQUEST", ProvisionedThroughput=THROUGHPUT
        )
    assert "BillingModeSummary" not in dynamodb.describe_table(TableName=name)["Table"]


STREAM = {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
ONLY = " must be the only operation in the request"


@pytest.mark.parametrize(
    ("update", "message"),
    [
        (
            {"DeletionProtectionEnabled": True, "SSESpecification": {"Enabled": True}},
            "Server-Side Encryption modification" + ONLY,
        ),
        (
            {"DeletionProtectionEnabled": True, "TableClass": "STANDARD"},
            "TableClass modification" + ONLY,
        ),
        (
            {"DeletionProtectionEnabled": True, "ProvisionedThroughput": THROUGHPUT},
            "DeletionProtection modification" + ONLY,
        ),
        (
            {"DeletionProtectionEnabled": False, "BillingMode": "PAY_PER_REQUEST"},
            "DeletionProtection modification" + ONLY,
        ),
        (
            {"WarmThroughput": {"ReadUnitsPerSecond": 13000}, "DeletionProtectionEnabled": True},
            "DeletionProtection modification" + ONLY,
        ),
        (
            {"WarmThroughput": {"ReadUnitsPerSecond": 13000}, "BillingMode": "PAY_PER_REQUEST"},
            "WarmThroughput" + ONLY,
        ),
        (
            {"StreamSpecification": STREAM, "OnDemandThroughput": {"MaxReadRequestUnits": 9}},
            "OnDemandThroughput can only be combined with BillingMode in an UpdateTable request",
        ),
        (
            {"StreamSpecification": STREAM, "ProvisionedThroughput": THROUGHPUT},
            "You cannot modify stream status while updating table IOPS",
        ),
        (
            {
                "StreamSpecification": STREAM,
                "BillingMode": "PROVISIONED",
                "ProvisionedThroughput": THROUGHPUT,
            },
            "You cannot modify stream status while updating table IOPS",
        ),
    ],
    ids=[
        "sse-and-protection",
        "class-and-protection",
        "protection-and-throughput",
        "protection-and-billing",
        "warm-and-protection",
        "warm-and-billing",
        "stream-and-maximums",
        "stream-and-throughput",
        "stream-and-provisioned",
    ],
)
def test_one_kind_of_change_per_call(
    dynamodb: Client, table: TableFactory, update: dict[str, Any], message: str
) -> None:
    name = table()
    before = dynamodb.describe_table(TableName=name)["Table"]
    with validation(INVALID + message):
        dynamodb.update_table(TableName=name, **update)
    after = dynamodb.describe_table(TableName=name)["Table"]
    assert after == before  # nothing applied


@pytest.mark.parametrize(
    "update",
    [{"StreamSpecification": STREAM}, {"OnDemandThroughput": {"MaxReadRequestUnits": 9}}],
    ids=["stream", "maximums"],
)
def test_switch_to_on_demand_combines(
    dynamodb: Client, table: TableFactory, update: dict[str, Any]
) -> None:
    name = provisioned(table)
    dynamodb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST", **update)
    wait_active(dynamodb, name)
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    member = next(iter(update))
    assert desc[member] == update[member]


def test_billing_mode_summary_across_switches(dynamodb: Client, table: TableFactory) -> None:
    """Back to PROVISIONED, the last switch to on demand stays on record and the on-demand
    maximums go; the answers carry the mode alone."""
    name = table(OnDemandThroughput={"MaxReadRequestUnits": 50})
    since = dynamodb.describe_table(TableName=name)["Table"]["BillingModeSummary"][
        "LastUpdateToPayPerRequestDateTime"
    ]
    answer = dynamodb.update_table(
        TableName=name, BillingMode="PROVISIONED", ProvisionedThroughput=THROUGHPUT
    )["TableDescription"]
    assert answer["BillingModeSummary"] == {"BillingMode": "PROVISIONED"}
    wait_active(dynamodb, name)
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert desc["BillingModeSummary"] == {
        "BillingMode": "PROVISIONED",
        "LastUpdateToPayPerRequestDateTime": since,
    }
    assert "OnDemandThroughput" not in desc
    answer = dynamodb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    assert answer["TableDescription"]["BillingModeSummary"] == {"BillingMode": "PAY_PER_REQUEST"}
    wait_active(dynamodb, name)
    summary = dynamodb.describe_table(TableName=name)["Table"]["BillingModeSummary"]
    assert summary["LastUpdateToPayPerRequestDateTime"] > since


def _warm(client: Client, name: str) -> tuple[int, int]:
    warm = client.describe_table(TableName=name)["Table"]["WarmThroughput"]
    assert warm["Status"] == "ACTIVE"
    return warm["ReadUnitsPerSecond"], warm["WriteUnitsPerSecond"]


def test_warm_throughput_follows_provisioned_units(dynamodb: Client, table: TableFactory) -> None:
    """The highest units ever provisioned, never less; on demand at least 12000/4000."""
    name = provisioned(table)
    assert _warm(dynamodb, name) == (5, 5)
    for units in ((7, 6), (2, 2)):
        dynamodb.update_table(
            TableName=name,
            ProvisionedThroughput={"ReadCapacityUnits": units[0], "WriteCapacityUnits": units[1]},
        )
        wait_active(dynamodb, name)
    assert _warm(dynamodb, name) == (7, 6)
    dynamodb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    wait_active(dynamodb, name)
    assert _warm(dynamodb, name) == (12000, 4000)


def test_warm_throughput_increase(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    answer = dynamodb.update_table(TableName=name, WarmThroughput={"ReadUnitsPerSecond": 13000})[
        "TableDescription"
    ]
    assert answer["TableStatus"] == "ACTIVE"
    assert answer["WarmThroughput"] == {
        "ReadUnitsPerSecond": 13000,
        "WriteUnitsPerSecond": 4000,
        "Status": "UPDATING",
    }
    assert _warm(dynamodb, name) == (13000, 4000)
    dynamodb.update_table(TableName=name, WarmThroughput={"ReadUnitsPerSecond": 13000})
    with validation(
        INVALID + "Requested WriteUnitsPerSecond for WarmThroughput for table is lower than "
        "current WarmThroughput, decreasing WarmThroughput is not supported"
    ):
        dynamodb.update_table(TableName=name, WarmThroughput={"WriteUnitsPerSecond": 3999})
    assert _warm(dynamodb, name) == (13000, 4000)


def test_clearing_on_demand_maximums(dynamodb: Client, table: TableFactory) -> None:
    """-1 clears one maximum: echoed as -1, then gone; with both gone, so is the struct."""
    name = table()
    both = {"MaxReadRequestUnits": 1000, "MaxWriteRequestUnits": 500}
    dynamodb.update_table(TableName=name, OnDemandThroughput=both)
    answer = dynamodb.update_table(TableName=name, OnDemandThroughput={"MaxReadRequestUnits": -1})
    assert answer["TableDescription"]["OnDemandThroughput"] == {**both, "MaxReadRequestUnits": -1}
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert desc["OnDemandThroughput"] == {"MaxWriteRequestUnits": 500}
    answer = dynamodb.update_table(TableName=name, OnDemandThroughput={"MaxWriteRequestUnits": -1})
    assert answer["TableDescription"]["OnDemandThroughput"] == {"MaxWriteRequestUnits": -1}
    assert "OnDemandThroughput" not in dynamodb.describe_table(TableName=name)["Table"]


def test_index_maximums_and_warm_throughput(dynamodb: Client, table: TableFactory) -> None:
    """A GSI's maximums merge member by member; its warm throughput only increases."""
    name = table(
        AttributeDefinitions=[attr("pk"), attr("g")],
        GlobalSecondaryIndexes=[index_spec("by-g", "g")],
    )

    def update(**change: Any) -> None:
        dynamodb.update_table(
            TableName=name,
            GlobalSecondaryIndexUpdates=[{"Update": {"IndexName": "by-g", **change}}],
        )

    update(OnDemandThroughput={"MaxReadRequestUnits": 6000, "MaxWriteRequestUnits": 5000})
    update(OnDemandThroughput={"MaxReadRequestUnits": 7000})
    with validation(
        INVALID + "Requested ReadUnitsPerSecond for WarmThroughput for index by-g is lower than "
        "current WarmThroughput, decreasing WarmThroughput is not supported"
    ):
        update(WarmThroughput={"ReadUnitsPerSecond": 100})
    wait_active(dynamodb, name)
    (gsi,) = dynamodb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]
    assert gsi["OnDemandThroughput"] == {"MaxReadRequestUnits": 7000, "MaxWriteRequestUnits": 5000}
    assert gsi["WarmThroughput"] == {
        "ReadUnitsPerSecond": 12000,
        "WriteUnitsPerSecond": 4000,
        "Status": "ACTIVE",
    }


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ({"DeletionProtectionEnabled": True}, "DeletionProtection modification" + ONLY),
        (
            {"StreamSpecification": STREAM},
            "You cannot create or delete index while changing stream status",
        ),
        (
            {"WarmThroughput": {"ReadUnitsPerSecond": 13000}},
            "Create global secondary index cannot be specified when updating WarmThroughput",
        ),
    ],
    ids=["protection", "stream", "warm"],
)
def test_index_creation_comes_alone(
    dynamodb: Client, table: TableFactory, update: dict[str, Any], message: str
) -> None:
    name = table()
    with validation(INVALID + message):
        dynamodb.update_table(
            TableName=name,
            AttributeDefinitions=[attr("g")],
            GlobalSecondaryIndexUpdates=[{"Create": index_spec("by-g", "g")}],
            **update,
        )
    assert "GlobalSecondaryIndexes" not in dynamodb.describe_table(TableName=name)["Table"]
