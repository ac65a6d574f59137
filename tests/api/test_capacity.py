"""Provisioned capacity and throttling: token buckets, burst credit, batches, limits.

The throttling tests run against a server of their own started with `--burst-seconds 1`
(DynamoDB keeps 300 s of unused capacity), so a 5 WCU table has 5 units of credit and a
burst is throttled within a few requests instead of minutes. The UpdateTable/CreateTable
limit tests use the session server.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import ENDPOINT_ENV, own_server
from tests.api.helpers import (
    INVALID,
    REGION,
    Client,
    TableFactory,
    attr,
    aws_client,
    create_table,
    index_spec,
    raises,
    unique_name,
    wait_active,
)

TABLE_EXCEEDED = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)
INDEX_EXCEEDED = (
    "The level of configured provisioned throughput for one or more global secondary indexes "
    "of the table was exceeded. Consider increasing your provisioning level for the "
    "under-provisioned global secondary indexes with the UpdateTable API"
)
ON_DEMAND_EXCEEDED = (
    "Throughput exceeds the maximum OnDemandThroughput configured on table or index"
)
THROTTLED = "ProvisionedThroughputExceededException"


# --- a server with a one-second burst window --------------------------------------------


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """A client of a server whose tables keep one second of unused capacity."""
    if os.environ.get(ENDPOINT_ENV):
        pytest.skip("needs a server started with --burst-seconds")
    with own_server(tmp_path_factory.mktemp("burst"), "--burst-seconds", "1") as url:
        yield aws_client(url)


@pytest.fixture
def fast_table(fast: Client) -> Callable[..., str]:
    def make(rcu: int = 5, wcu: int = 5, **extra: Any) -> str:
        return create_table(
            fast,
            AttributeDefinitions=[attr("pk"), *extra.pop("attributes", [])],
            ProvisionedThroughput={"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu},
            **extra,
        )

    return make


def _put(client: Client, table: str, n: int) -> None:
    client.put_item(TableName=table, Item={"pk": {"S": f"k{n}"}, "v": {"S": "x" * 100}})


def _writes_until_throttled(
    client: Client, table: str, limit: int = 200
) -> tuple[int, ClientError]:
    for n in range(limit):
        try:
            _put(client, table, n)
        except ClientError as err:
            return n, err
    pytest.fail(f"{limit} writes were never throttled")


def reasons(err: ClientError) -> Any:
    """The ThrottlingReasons member of a throttle error (botocore keeps unmodelled members)."""
    return cast(dict[str, Any], err.response)["ThrottlingReasons"]


def _arn(table: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:000000000000:table/{table}"


# --- throttling ------------------------------------------------------------------------


def test_burst_is_throttled_after_the_credit_is_spent_and_recovers(
    fast: Client, fast_table: Callable[..., str]
) -> None:
    table = fast_table(wcu=5)
    started = time.monotonic()
    done, err = _writes_until_throttled(fast, table)
    elapsed = time.monotonic() - started
    # 5 units of credit, plus whatever refilled (5 per second) during the burst
    assert 5 <= done <= 5 + 5 * elapsed + 1
    assert err.response["Error"] == {"Code": THROTTLED, "Message": TABLE_EXCEEDED}
    assert reasons(err) == [
        {"reason": "TableWriteProvisionedThroughputExceeded", "resource": _arn(table)}
    ]
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    time.sleep(1.05)  # a second at 5 WCU refills the bucket
    for n in range(5):
        _put(fast, table, 1000 + n)


def test_large_items_cost_more(fast: Client, fast_table: Callable[..., str]) -> None:
    table = fast_table(wcu=5)
    item = {"pk": {"S": "big"}, "v": {"S": "x" * 3000}}  # 3 KB: 3 units a write
    out = fast.put_item(TableName=table, Item=item, ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["CapacityUnits"] == 3.0
    with pytest.raises(ClientError) as caught:
        for _ in range(3):
            fast.put_item(TableName=table, Item=item)
    assert caught.value.response["Error"]["Code"] == THROTTLED


def test_reads_are_throttled_separately(fast: Client, fast_table: Callable[..., str]) -> None:
    table = fast_table(rcu=2, wcu=5)
    _put(fast, table, 0)
    key = {"pk": {"S": "k0"}}
    with pytest.raises(ClientError) as caught:
        for _ in range(50):  # eventually consistent: half a unit each
            fast.get_item(TableName=table, Key=key)
    assert caught.value.response["Error"] == {"Code": THROTTLED, "Message": TABLE_EXCEEDED}
    assert reasons(caught.value)[0]["reason"] == ("TableReadProvisionedThroughputExceeded")
    _put(fast, table, 1)  # writes still have credit


def test_batch_write_returns_throttled_items_unprocessed(
    fast: Client, fast_table: Callable[..., str]
) -> None:
    table = fast_table(wcu=5)
    requests = [{"PutRequest": {"Item": {"pk": {"S": f"b{n}"}}}} for n in range(10)]
    out = fast.batch_write_item(RequestItems={table: requests})
    unprocessed = out["UnprocessedItems"][table]
    assert 1 <= len(unprocessed) <= 5
    assert unprocessed == requests[10 - len(unprocessed) :]
    # nothing left at all: the whole batch is throttled
    with raises(THROTTLED, TABLE_EXCEEDED):
        fast.batch_write_item(RequestItems={table: requests[:2]})
    time.sleep(1.05)
    out = fast.batch_write_item(RequestItems={table: unprocessed})
    assert out["UnprocessedItems"] == {}


def test_batch_get_returns_throttled_keys_unprocessed(
    fast: Client, fast_table: Callable[..., str]
) -> None:
    table = fast_table(rcu=2, wcu=20)
    keys = [{"pk": {"S": f"k{n}"}} for n in range(10)]
    for n in range(10):
        _put(fast, table, n)
    out = fast.batch_get_item(RequestItems={table: {"Keys": keys, "ConsistentRead": True}})
    unprocessed = out["UnprocessedKeys"][table]
    assert unprocessed["ConsistentRead"] is True
    assert 1 <= len(unprocessed["Keys"]) <= 8
    assert len(out["Responses"][table]) + len(unprocessed["Keys"]) == 10
    with raises(THROTTLED, TABLE_EXCEEDED):
        fast.batch_get_item(RequestItems={table: {"Keys": keys[:3], "ConsistentRead": True}})


def test_gsi_throttles_writes_to_its_table(fast: Client, fast_table: Callable[..., str]) -> None:
    table = fast_table(
        wcu=100,
        attributes=[attr("g")],
        GlobalSecondaryIndexes=[
            {
                **index_spec("by-g", "g"),
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 2},
            }
        ],
    )
    with pytest.raises(ClientError) as caught:
        for n in range(20):
            fast.put_item(TableName=table, Item={"pk": {"S": f"k{n}"}, "g": {"S": "x"}})
    assert caught.value.response["Error"] == {"Code": THROTTLED, "Message": INDEX_EXCEEDED}
    assert reasons(caught.value) == [
        {
            "reason": "IndexWriteProvisionedThroughputExceeded",
            "resource": _arn(table) + "/index/by-g",
        }
    ]


def test_raising_capacity_takes_effect(fast: Client, fast_table: Callable[..., str]) -> None:
    table = fast_table(wcu=1)
    _writes_until_throttled(fast, table)
    fast.update_table(
        TableName=table, ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 50}
    )
    wait_active(fast, table)
    time.sleep(0.5)  # 25 units at the new rate
    for n in range(20):
        _put(fast, table, 500 + n)


def test_on_demand_maximum_throttles(fast: Client) -> None:
    name = create_table(fast, OnDemandThroughput={"MaxWriteRequestUnits": 3})
    with pytest.raises(ClientError) as caught:
        for n in range(30):
            _put(fast, name, n)
    assert caught.value.response["Error"] == {
        "Code": "ThrottlingException",
        "Message": ON_DEMAND_EXCEEDED,
    }
    time.sleep(1.05)
    fast.update_table(TableName=name, OnDemandThroughput={"MaxWriteRequestUnits": -1})
    for n in range(30):  # -1: no maximum any more
        _put(fast, name, 100 + n)
    for n in range(30):  # reads never had one
        fast.get_item(TableName=name, Key={"pk": {"S": f"k{n}"}})


def test_on_demand_tables_are_not_throttled(fast: Client) -> None:
    name = create_table(fast)
    for n in range(100):
        _put(fast, name, n)


# --- capacity limits of CreateTable / UpdateTable ----------------------------------------


def _provisioned(table: TableFactory, rcu: int = 10, wcu: int = 10) -> str:
    return table(ProvisionedThroughput={"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu})


def test_capacity_above_the_table_maximum(dynamodb: Client, table: TableFactory) -> None:
    name = _provisioned(table)
    with raises(
        "LimitExceededException",
        f"The requested ReadCapacityUnits, 40001, is above the per table maximum for the "
        f"account in {REGION}. Per table maximum: 40000.",
    ):
        dynamodb.update_table(
            TableName=name,
            ProvisionedThroughput={"ReadCapacityUnits": 40001, "WriteCapacityUnits": 10},
        )
    dynamodb.update_table(
        TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 40000, "WriteCapacityUnits": 10}
    )
    with raises(
        "LimitExceededException",
        f"The requested WriteCapacityUnits, 50000, is above the per table maximum for the "
        f"account in {REGION}. Per table maximum: 40000.",
    ):
        dynamodb.create_table(
            TableName=unique_name(),
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 50000},
        )


def test_capacity_minimum_is_one(unchecked: Client, table: TableFactory) -> None:
    name = _provisioned(table)
    with raises(
        "ValidationException",
        "1 validation error detected: Value '0' at 'provisionedThroughput.writeCapacityUnits' "
        "failed to satisfy constraint: Member must have value greater than or equal to 1",
    ):
        unchecked.update_table(
            TableName=name,
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 0},
        )


def test_four_decreases_a_day(dynamodb: Client, table: TableFactory) -> None:
    name = _provisioned(table)
    for units in (9, 8, 7, 6):
        dynamodb.update_table(
            TableName=name,
            ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": units},
        )
        wait_active(dynamodb, name)
    throughput = dynamodb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]
    assert throughput["NumberOfDecreasesToday"] == 4
    assert throughput["WriteCapacityUnits"] == 6
    with pytest.raises(ClientError) as caught:
        dynamodb.update_table(
            TableName=name,
            ProvisionedThroughput={"ReadCapacityUnits": 11, "WriteCapacityUnits": 5},
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "LimitExceededException"
    assert error["Message"].startswith(
        "Subscriber limit exceeded: Provisioned throughput decreases are limited within a given "
        "UTC day. After the first 4 decreases, each subsequent decrease in the same UTC day can "
        "be performed at most once every 3600 seconds. Number of decreases today: 4. Last "
        "decrease at "
    )
    assert error["Message"].endswith(" Coordinated Universal Time.")
    dynamodb.update_table(  # increases are not limited
        TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 20, "WriteCapacityUnits": 20}
    )


def test_on_demand_maximum_settings(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with raises(
        "ValidationException",
        INVALID + "Requested MaxReadRequestUnits for OnDemandThroughput for table is outside "
        "of valid range",
    ):
        dynamodb.update_table(TableName=name, OnDemandThroughput={"MaxReadRequestUnits": 0})
    with raises(
        "LimitExceededException",
        "Subscriber limit exceeded: Requested MaxWriteRequestUnits for OnDemandThroughput for "
        f"table exceeds TableMaxWriteCapacityUnits of the account in region {REGION}",
    ):
        dynamodb.update_table(TableName=name, OnDemandThroughput={"MaxWriteRequestUnits": 40001})
    dynamodb.update_table(TableName=name, OnDemandThroughput={"MaxReadRequestUnits": 100})
    dynamodb.update_table(TableName=name, OnDemandThroughput={"MaxWriteRequestUnits": 200})
    described = dynamodb.describe_table(TableName=name)["Table"]
    assert described["OnDemandThroughput"] == {
        "MaxReadRequestUnits": 100,
        "MaxWriteRequestUnits": 200,
    }
    provisioned = _provisioned(table)
    with raises(
        "ValidationException",
        INVALID + "MaxReadRequestUnits for OnDemandThroughput cannot be specified when the "
        "table BillingMode is PROVISIONED",
    ):
        dynamodb.update_table(TableName=provisioned, OnDemandThroughput={"MaxReadRequestUnits": 5})


def test_on_demand_maximum_at_create(dynamodb: Client, cleanup: Callable[[str], str]) -> None:
    params: dict[str, Any] = {
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    }
    with raises(
        "ValidationException",
        INVALID + "MaxReadRequestUnits for OnDemandThroughput cannot be specified when table "
        "BillingMode is PROVISIONED.",
    ):
        dynamodb.create_table(
            TableName=unique_name(),
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            OnDemandThroughput={"MaxReadRequestUnits": 5},
            **params,
        )
    with raises(
        "ValidationException",
        INVALID + "Requested MaxReadRequestUnits for OnDemandThroughput for table is outside "
        "of valid range",
    ):
        dynamodb.create_table(
            TableName=unique_name(),
            BillingMode="PAY_PER_REQUEST",
            OnDemandThroughput={"MaxReadRequestUnits": -1},
            **params,
        )
    name = cleanup(unique_name())
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        OnDemandThroughput={"MaxReadRequestUnits": 100},
        **params,
    )
    wait_active(dynamodb, name)
