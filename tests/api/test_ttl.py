"""UpdateTimeToLive / DescribeTimeToLive and the TTL sweeper, against a live server.

The suite's server runs with a 1 s TTL delay, sweeps every 0.2 s and allows one TTL
change per 2 s per table (see conftest.py), so expiry is observable in seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.api.helpers import (
    Client,
    TableFactory,
    attr,
    aws_client,
    index_items,
    index_spec,
    key,
    one_error,
    put_all,
    raises,
    read,
    schema,
    table_not_found,
    unique_name,
    validation,
    wait_active,
)
from tests.api.test_streams import slow_tables as slow_tables_fixture

DELAY = 1.0  # --ttl-delay
WINDOW = 2.0  # --ttl-change-window
DEADLINE = 10.0  # generous bound for "vanishes within the delay" on a busy machine
TOO_OFTEN = "Time to live has been modified multiple times within a fixed interval"
slow_tables = slow_tables_fixture  # a server whose tables take two seconds to change status


@pytest.fixture(scope="module")
def streams(endpoint: str) -> Client:
    return aws_client(endpoint, "dynamodbstreams")


def enable(client: Client, name: str, attribute: str = "expires") -> dict[str, Any]:
    answer: dict[str, Any] = client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
    )
    return answer


def disable(client: Client, name: str, attribute: str = "expires") -> dict[str, Any]:
    answer: dict[str, Any] = client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": False, "AttributeName": attribute}
    )
    return answer


def describe(client: Client, name: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    return answer


def wait_until(check: Callable[[], bool], timeout: float = DEADLINE) -> float:
    """Poll `check` until true; returns the seconds it took."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(0.05)
    return time.monotonic() - start


def item(pk: str, **attrs: Any) -> dict[str, Any]:
    return {"pk": {"S": pk}, **attrs}


def epoch(offset: float = 0.0) -> dict[str, str]:
    return {"N": str(int(time.time() + offset))}


# --- configuration ----------------------------------------------------------------------


def test_new_table_is_disabled(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    assert describe(dynamodb, name) == {"TimeToLiveStatus": "DISABLED"}


def test_enable_and_disable(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    answer = enable(dynamodb, name)
    assert answer["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "expires"}
    assert describe(dynamodb, name) == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires",
    }
    time.sleep(WINDOW)
    answer = disable(dynamodb, name)
    assert answer["TimeToLiveSpecification"] == {"Enabled": False, "AttributeName": "expires"}
    assert describe(dynamodb, name) == {"TimeToLiveStatus": "DISABLED"}


def test_one_change_per_window(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    enable(dynamodb, name)
    with validation(TOO_OFTEN):
        disable(dynamodb, name)
    assert describe(dynamodb, name)["TimeToLiveStatus"] == "ENABLED"
    time.sleep(WINDOW)
    disable(dynamodb, name)


def test_already_enabled_and_disabled(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation("TimeToLive is already disabled"):
        disable(dynamodb, name)
    enable(dynamodb, name)
    with validation("TimeToLive is already enabled"):
        enable(dynamodb, name)
    with validation(
        "TimeToLive is active on a different AttributeName: current AttributeName is expires"
    ):
        enable(dynamodb, name, "other")
    with validation(
        "TimeToLive is active on a different AttributeName: current AttributeName is expires"
    ):
        disable(dynamodb, name, "other")


def test_missing_table(dynamodb: Client) -> None:
    name = unique_name()
    with raises("ResourceNotFoundException", table_not_found(name)):
        enable(dynamodb, name)
    with raises("ResourceNotFoundException", table_not_found(name)):
        dynamodb.describe_time_to_live(TableName=name)


def test_bad_specification(unchecked: Client, table: TableFactory) -> None:
    name = table()
    member = "timeToLiveSpecification.attributeName"
    with validation(one_error(None, member, "Member must not be null")):
        unchecked.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True})
    with validation(one_error(None, "timeToLiveSpecification.enabled", "Member must not be null")):
        unchecked.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": "expires"}
        )
    long_name = "a" * 256
    with validation(
        one_error(long_name, member, "Member must have length less than or equal to 255")
    ):
        unchecked.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": long_name}
        )
    with validation(one_error("", member, "Member must have length greater than or equal to 1")):
        unchecked.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ""}
        )
    assert describe(unchecked, name) == {"TimeToLiveStatus": "DISABLED"}


def test_table_being_created(slow_tables: str) -> None:
    client = aws_client(slow_tables)
    name = unique_name()
    client.create_table(
        TableName=name,
        AttributeDefinitions=[attr("pk")],
        KeySchema=schema("pk"),
        BillingMode="PAY_PER_REQUEST",
    )
    with raises(
        "ResourceInUseException",
        f"Attempt to change a resource which is still in use: Table {name} is being created",
    ):
        enable(client, name)
    with validation(
        "Cannot describe time to live while table is in CREATING state: Current table state "
        "is CREATING"
    ):
        client.describe_time_to_live(TableName=name)
    wait_active(client, name)
    enable(client, name)


# --- expiry -----------------------------------------------------------------------------


def test_expired_items_vanish_within_the_delay(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    enable(dynamodb, name)
    dynamodb.put_item(TableName=name, Item=item("past", expires=epoch(-60)))
    dynamodb.put_item(TableName=name, Item=item("soon", expires=epoch(2)))
    dynamodb.put_item(TableName=name, Item=item("later", expires=epoch(3600)))
    wait_until(lambda: read(dynamodb, name, key("past")) is None)
    assert read(dynamodb, name, key("soon")) is not None  # not yet expired
    took = wait_until(lambda: read(dynamodb, name, key("soon")) is None)
    assert took >= 1.0  # it expires in 2 s, and then waits the 1 s delay
    assert read(dynamodb, name, key("later")) is not None


def test_values_that_never_expire(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    enable(dynamodb, name)
    past = str(int(time.time()) - 60)
    kept = {
        "string": {"S": past},
        "set": {"NS": [past]},
        "list": {"L": [{"N": past}]},
        "ancient": {"N": str(int(time.time()) - 6 * 365 * 86400)},  # over five years past
    }
    for pk, value in kept.items():
        dynamodb.put_item(TableName=name, Item=item(pk, expires=value))
    dynamodb.put_item(TableName=name, Item=item("absent"))
    dynamodb.put_item(TableName=name, Item=item("marker", expires=epoch(-60)))
    wait_until(lambda: read(dynamodb, name, key("marker")) is None)
    time.sleep(DELAY)
    for pk in [*kept, "absent"]:
        assert read(dynamodb, name, key(pk)) is not None, pk


def test_changed_ttl_is_respected(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    enable(dynamodb, name)
    dynamodb.put_item(TableName=name, Item=item("moved", expires=epoch(1)))
    dynamodb.update_item(
        TableName=name,
        Key=key("moved"),
        UpdateExpression="SET expires = :e",
        ExpressionAttributeValues={":e": epoch(3600)},
    )
    dynamodb.put_item(TableName=name, Item=item("removed", expires=epoch(1)))
    dynamodb.update_item(TableName=name, Key=key("removed"), UpdateExpression="REMOVE expires")
    dynamodb.put_item(TableName=name, Item=item("marker", expires=epoch(1)))
    wait_until(lambda: read(dynamodb, name, key("marker")) is None)
    assert read(dynamodb, name, key("moved")) is not None
    assert read(dynamodb, name, key("removed")) is not None


def test_items_written_before_ttl_was_enabled(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    put_all(dynamodb, name, [item(f"old{i}", expires=epoch(-60)) for i in range(60)])
    enable(dynamodb, name)
    wait_until(lambda: count(dynamodb, name) == 0)


def test_disabled_ttl_deletes_nothing(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    enable(dynamodb, name)
    time.sleep(WINDOW)
    disable(dynamodb, name)
    dynamodb.put_item(TableName=name, Item=item("kept", expires=epoch(-60)))
    time.sleep(DELAY + 0.5)
    assert read(dynamodb, name, key("kept")) is not None


def test_expiry_updates_indexes_and_the_stream(
    dynamodb: Client, streams: Client, table: TableFactory
) -> None:
    name = table(
        AttributeDefinitions=[attr("pk"), attr("g")],
        GlobalSecondaryIndexes=[index_spec("byG", "g")],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    enable(dynamodb, name)
    dynamodb.put_item(TableName=name, Item=item("gone", g={"S": "x"}, expires=epoch(-60)))
    wait_until(lambda: read(dynamodb, name, key("gone")) is None)
    assert index_items(dynamodb, name, "byG", "g", "x") == []
    arn = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]
    insert, remove = records
    assert "userIdentity" not in insert
    assert remove["eventName"] == "REMOVE"
    assert remove["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    assert remove["dynamodb"]["OldImage"]["pk"] == {"S": "gone"}
    assert "NewImage" not in remove["dynamodb"]


# --- helpers ----------------------------------------------------------------------------


def count(client: Client, name: str) -> int:
    return int(client.scan(TableName=name, Select="COUNT", ConsistentRead=True)["Count"])
