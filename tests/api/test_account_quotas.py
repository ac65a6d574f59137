"""Account quotas: tables per account and region, tables in flight, provisioned units.

A server of its own, with small quotas (`--table-limit 3 --table-operation-limit 2`) and
tables that stay CREATING / DELETING for a second, so the quotas are reached at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.api.conftest import own_server
from tests.api.helpers import ACCESS_KEY, REGION, SECRET_KEY, Client, raises, wait_active

SUBSCRIBER = "Subscriber limit exceeded: "
LIMIT = "LimitExceededException"


@pytest.fixture(scope="module")
def endpoint_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    flags = ("--table-limit", "3", "--table-operation-limit", "2", "--table-status-delay", "1")
    with own_server(tmp_path_factory.mktemp("quotas"), *flags) as url:
        yield url


@pytest.fixture(scope="module")
def clients(endpoint_url: str) -> Callable[[str], Client]:
    def make(region: str = REGION) -> Client:
        return boto3.client(
            "dynamodb",
            endpoint_url=endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(region_name=region, retries={"max_attempts": 0}),
        )

    return make


def create(client: Client, name: str, **extra: Any) -> None:
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        **({"BillingMode": "PAY_PER_REQUEST"} | extra),
    )


def test_quotas_of_tables(clients: Callable[[str], Client]) -> None:
    dynamodb = clients(REGION)
    create(dynamodb, "first")
    create(dynamodb, "second")
    with raises(
        LIMIT, f"{SUBSCRIBER}Only 2 tables can be created, updated, or deleted simultaneously"
    ):
        create(dynamodb, "third")
    wait_active(dynamodb, "first")
    wait_active(dynamodb, "second")
    gsi = {
        "IndexName": "by_pk",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }
    create(dynamodb, "third", GlobalSecondaryIndexes=[gsi])
    wait_active(dynamodb, "third")
    with raises(LIMIT, f"{SUBSCRIBER}There is a limit of 3 tables per subscriber"):
        create(dynamodb, "fourth")
    create(clients("eu-west-1"), "fourth")  # each region has its own quota
    dynamodb.delete_table(TableName="first")
    dynamodb.get_waiter("table_not_exists").wait(
        TableName="first", WaiterConfig={"Delay": 0.2, "MaxAttempts": 50}
    )
    create(dynamodb, "fourth")
    assert dynamodb.describe_limits() | {"ResponseMetadata": None} == {
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000,
        "ResponseMetadata": None,
    }


def test_provisioned_units_of_the_account(clients: Callable[[str], Client]) -> None:
    dynamodb = clients("ap-south-1")
    throughput = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 40000}
    for name in ("big-1", "big-2"):
        create(dynamodb, name, BillingMode="PROVISIONED", ProvisionedThroughput=throughput)
        wait_active(dynamodb, name)
    with raises(
        LIMIT,
        "This request would have caused the WriteCapacityUnits limit to be exceeded for the "
        "account in ap-south-1. Current WriteCapacityUnits reserved by the account: 80000. "
        "Limit: 80000. Requested: 1",
    ):
        create(dynamodb, "big-3", BillingMode="PROVISIONED", ProvisionedThroughput={
            "ReadCapacityUnits": 1, "WriteCapacityUnits": 1
        })  # fmt: skip
    create(dynamodb, "big-3")  # on-demand tables reserve no units
