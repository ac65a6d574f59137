"""Global tables, version 2019.11.21: replicas in other regions of the same account on one
server, added and removed with UpdateTable's ReplicaUpdates, kept in sync by the
replication worker (last writer wins). Two boto3 clients, us-east-1 and us-west-2."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.helpers import (
    REGION,
    Client,
    TableFactory,
    attr,
    aws_client,
    index_items,
    index_spec,
    raises,
    validation,
    wait_active,
    wait_for,
)

OTHER = "us-west-2"
THIRD = "eu-west-1"


@pytest.fixture(scope="module")
def west(endpoint: str) -> Client:
    """The DynamoDB client of the OTHER region."""
    return aws_client(endpoint, region=OTHER)


def _replica_status(client: Client, name: str, region: str) -> str | None:
    for replica in client.describe_table(TableName=name)["Table"].get("Replicas", []):
        if replica["RegionName"] == region:
            return str(replica["ReplicaStatus"])
    return None


def update_replica(client: Client, name: str, action: str, region: str) -> None:
    """UpdateTable with one ReplicaUpdates entry: `action` (Create or Delete) of `region`."""
    client.update_table(TableName=name, ReplicaUpdates=[{action: {"RegionName": region}}])


def add_replica(client: Client, name: str, region: str) -> None:
    update_replica(client, name, "Create", region)
    wait_for(lambda: _replica_status(client, name, region) == "ACTIVE")


def remove_replica(client: Client, name: str, region: str) -> None:
    update_replica(client, name, "Delete", region)
    wait_for(lambda: _replica_status(client, name, region) is None)


@pytest.fixture
def global_table(dynamodb: Client, west: Client, table: TableFactory) -> Iterator[str]:
    name = table(range_key=True)
    add_replica(dynamodb, name, OTHER)
    yield name
    if _replica_status(dynamodb, name, OTHER) is not None:
        remove_replica(dynamodb, name, OTHER)


def _get(client: Client, name: str, pk: str, sk: str = "a") -> dict[str, Any] | None:
    item = client.get_item(TableName=name, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")
    return item  # type: ignore[no-any-return]


# --- describing --------------------------------------------------------------------------


def test_describe_global_table(dynamodb: Client, west: Client, global_table: str) -> None:
    here = dynamodb.describe_table(TableName=global_table)["Table"]
    assert here["GlobalTableVersion"] == "2019.11.21"
    assert here["Replicas"] == [{"RegionName": OTHER, "ReplicaStatus": "ACTIVE"}]
    # A table that gets replicas gets a NEW_AND_OLD_IMAGES stream.
    assert here["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    there = west.describe_table(TableName=global_table)["Table"]
    assert there["TableStatus"] == "ACTIVE"
    assert there["TableArn"] == here["TableArn"].replace(REGION, OTHER)
    assert there["KeySchema"] == here["KeySchema"]
    assert there["GlobalTableVersion"] == "2019.11.21"
    assert there["Replicas"] == [{"RegionName": REGION, "ReplicaStatus": "ACTIVE"}]
    assert there["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_regional_table_has_no_global_fields(dynamodb: Client, table: TableFactory) -> None:
    desc = dynamodb.describe_table(TableName=table())["Table"]
    assert "Replicas" not in desc
    assert "GlobalTableVersion" not in desc


# --- replication ------------------------------------------------------------------------


def test_writes_replicate_both_ways(dynamodb: Client, west: Client, global_table: str) -> None:
    dynamodb.put_item(
        TableName=global_table,
        Item={"pk": {"S": "p1"}, "sk": {"S": "a"}, "from": {"S": "east"}},
    )
    assert wait_for(lambda: _get(west, global_table, "p1")) == {
        "pk": {"S": "p1"},
        "sk": {"S": "a"},
        "from": {"S": "east"},
    }
    west.update_item(
        TableName=global_table,
        Key={"pk": {"S": "p1"}, "sk": {"S": "a"}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "7"}},
    )
    wait_for(lambda: (_get(dynamodb, global_table, "p1") or {}).get("n") == {"N": "7"})
    dynamodb.delete_item(TableName=global_table, Key={"pk": {"S": "p1"}, "sk": {"S": "a"}})
    wait_for(lambda: _get(west, global_table, "p1") is None)


def test_batches_and_transactions_replicate(
    dynamodb: Client, west: Client, global_table: str
) -> None:
    dynamodb.batch_write_item(
        RequestItems={
            global_table: [
                {"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"S": str(n)}}}} for n in range(10)
            ]
        }
    )
    west.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": global_table, "Item": {"pk": {"S": "t"}, "sk": {"S": "1"}}}},
            {"Put": {"TableName": global_table, "Item": {"pk": {"S": "t"}, "sk": {"S": "2"}}}},
        ]
    )

    def count(client: Client, pk: str) -> int:
        return int(
            client.query(
                TableName=global_table,
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": pk}},
                Select="COUNT",
            )["Count"]
        )

    wait_for(lambda: count(west, "b") == 10)
    wait_for(lambda: count(dynamodb, "t") == 2)


def test_replicated_writes_are_not_sent_back(
    dynamodb: Client, west: Client, global_table: str, endpoint: str
) -> None:
    """A write replicated to us-west-2 shows once in each region's stream."""
    dynamodb.put_item(TableName=global_table, Item={"pk": {"S": "echo"}, "sk": {"S": "a"}})
    wait_for(lambda: _get(west, global_table, "echo"))
    time.sleep(1.5)  # several replication steps: an echo would have come back by now

    def events(region: str, client: Client) -> list[str]:
        streams = aws_client(endpoint, "dynamodbstreams", region=region)
        arn = client.describe_table(TableName=global_table)["Table"]["LatestStreamArn"]
        out: list[str] = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            records = streams.get_records(ShardIterator=iterator)["Records"]
            out += [r["eventName"] for r in records if r["dynamodb"]["Keys"]["pk"]["S"] == "echo"]
        return out

    assert events(REGION, dynamodb) == ["INSERT"]
    assert events(OTHER, west) == ["INSERT"]


def test_last_writer_wins(dynamodb: Client, west: Client, global_table: str) -> None:
    """Two regions write one item at nearly the same time: both end with the later write,
    whichever region wrote it."""
    cases = [(dynamodb, west, "west"), (west, dynamodb, "east")]
    for round_ in range(6):
        first, second, winner = cases[round_ % 2]
        pk = f"race{round_}"
        loser = "east" if winner == "west" else "west"
        first.put_item(
            TableName=global_table, Item={"pk": {"S": pk}, "sk": {"S": "a"}, "w": {"S": loser}}
        )
        time.sleep(0.01)
        second.put_item(
            TableName=global_table, Item={"pk": {"S": pk}, "sk": {"S": "a"}, "w": {"S": winner}}
        )

        def settled(pk: str = pk, winner: str = winner) -> bool:
            return all(
                (_get(client, global_table, pk) or {}).get("w") == {"S": winner}
                for client in (dynamodb, west)
            )

        wait_for(settled)
    time.sleep(1.0)  # and it stays so
    for round_ in range(6):
        winner = cases[round_ % 2][2]
        for client in (dynamodb, west):
            assert (_get(client, global_table, f"race{round_}") or {}).get("w") == {"S": winner}


def test_existing_items_are_copied_to_a_new_replica(
    dynamodb: Client, west: Client, table: TableFactory
) -> None:
    name = table(range_key=True)
    for n in range(30):
        dynamodb.put_item(
            TableName=name, Item={"pk": {"S": "old"}, "sk": {"S": f"{n:03d}"}, "n": {"N": str(n)}}
        )
    add_replica(dynamodb, name, OTHER)
    items = west.query(
        TableName=name,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "old"}},
    )["Items"]
    assert len(items) == 30
    assert items[5] == {"pk": {"S": "old"}, "sk": {"S": "005"}, "n": {"N": "5"}}
    remove_replica(dynamodb, name, OTHER)


def test_indexes_are_replicated(dynamodb: Client, west: Client, table: TableFactory) -> None:
    name = table(
        AttributeDefinitions=[attr("pk"), attr("email")],
        GlobalSecondaryIndexes=[index_spec("by-email", "email")],
    )
    add_replica(dynamodb, name, OTHER)
    there = west.describe_table(TableName=name)["Table"]
    assert [g["IndexName"] for g in there["GlobalSecondaryIndexes"]] == ["by-email"]
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "u1"}, "email": {"S": "a@b.c"}})

    found = wait_for(lambda: index_items(west, name, "by-email", "email", "a@b.c"))
    assert found[0]["pk"] == {"S": "u1"}
    remove_replica(dynamodb, name, OTHER)


def test_three_regions(dynamodb: Client, west: Client, table: TableFactory, endpoint: str) -> None:
    ireland = aws_client(endpoint, region=THIRD)
    name = table(range_key=True)
    add_replica(dynamodb, name, OTHER)
    add_replica(dynamodb, name, THIRD)
    assert sorted(
        r["RegionName"] for r in west.describe_table(TableName=name)["Table"]["Replicas"]
    ) == [THIRD, REGION]
    ireland.put_item(TableName=name, Item={"pk": {"S": "eu"}, "sk": {"S": "a"}})
    wait_for(lambda: _get(dynamodb, name, "eu") and _get(west, name, "eu"))
    remove_replica(dynamodb, name, THIRD)
    remove_replica(dynamodb, name, OTHER)


# --- removing replicas ---------------------------------------------------------------------


def test_removing_the_last_replica(dynamodb: Client, west: Client, table: TableFactory) -> None:
    name = table()
    add_replica(dynamodb, name, OTHER)
    remove_replica(dynamodb, name, OTHER)
    with raises("ResourceNotFoundException"):
        west.describe_table(TableName=name)
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert "Replicas" not in desc
    assert "GlobalTableVersion" not in desc
    # The stream stays, and may now be disabled.
    assert desc["StreamSpecification"]["StreamEnabled"] is True
    dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    wait_active(dynamodb, name)


def test_deleting_a_replica_table_leaves_the_group(
    dynamodb: Client, west: Client, table: TableFactory
) -> None:
    name = table()
    add_replica(dynamodb, name, OTHER)
    west.delete_table(TableName=name)
    wait_for(lambda: "Replicas" not in dynamodb.describe_table(TableName=name)["Table"])


# --- errors --------------------------------------------------------------------------------


def test_replica_errors(dynamodb: Client, global_table: str, table: TableFactory) -> None:
    with validation(
        "Cannot add or delete the local region through ReplicaUpdates. Use CreateTable, "
        "DeleteTable, or UpdateTable as required."
    ):
        update_replica(dynamodb, global_table, "Create", REGION)
    with raises("ValidationException") as info:
        update_replica(dynamodb, global_table, "Create", OTHER)
    assert "already exist" in info.value.response["Error"]["Message"]
    with validation(
        "Replica specified in the Replica Update or Replica Delete action of the request was "
        "not found."
    ):
        update_replica(dynamodb, global_table, "Delete", THIRD)
    with validation(
        "One or more parameter values were invalid: Disabling Stream is not allowed for a "
        "Global Table replica."
    ):
        dynamodb.update_table(TableName=global_table, StreamSpecification={"StreamEnabled": False})
    provisioned = table(
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    with validation("Table write capacity should either be Pay-Per-Request or AutoScaled."):
        update_replica(dynamodb, provisioned, "Create", OTHER)


def test_provisioned_table_with_write_autoscaling(
    dynamodb: Client, west: Client, table: TableFactory, endpoint: str
) -> None:
    name = table(
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    scaling = aws_client(endpoint, "application-autoscaling")
    scaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension="dynamodb:table:WriteCapacityUnits",
        MinCapacity=5,
        MaxCapacity=50,
    )
    scaling.put_scaling_policy(
        PolicyName="writes",
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension="dynamodb:table:WriteCapacityUnits",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "DynamoDBWriteCapacityUtilization"
            },
        },
    )
    add_replica(dynamodb, name, OTHER)
    there = west.describe_table(TableName=name)["Table"]
    assert there["ProvisionedThroughput"]["WriteCapacityUnits"] == 5
    assert there["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    remove_replica(dynamodb, name, OTHER)
    scaling.deregister_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension="dynamodb:table:WriteCapacityUnits",
    )
