"""Application Auto Scaling for DynamoDB: targets, policies, tags, and real scaling.

The API tests use the session server. The scaling tests start a server of their own that
evaluates policies every 0.2 s (--autoscaling-interval), so scale-out (2 periods above
the target) and scale-in (15 periods below it) happen within seconds.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.api.conftest import own_server
from tests.api.helpers import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    Client,
    TableFactory,
    assert_error,
    unique_name,
    wait_active,
)

ACCOUNT = "000000000000"
READ = "dynamodb:table:ReadCapacityUnits"
WRITE = "dynamodb:table:WriteCapacityUnits"
INDEX_READ = "dynamodb:index:ReadCapacityUnits"
PROVISIONED = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


def _client(endpoint: str, service: str) -> Client:
    make: Any = boto3.client
    return make(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"max_attempts": 0}),
    )


@pytest.fixture(scope="module")
def scaling(endpoint: str) -> Client:
    return _client(endpoint, "application-autoscaling")


def _provisioned(table: TableFactory, **extra: Any) -> str:
    return table(BillingMode="PROVISIONED", ProvisionedThroughput=PROVISIONED, **extra)


def _register(scaling: Client, name: str, dimension: str = READ, **extra: Any) -> str:
    arn: str = scaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension=dimension,
        MinCapacity=extra.pop("MinCapacity", 5),
        MaxCapacity=extra.pop("MaxCapacity", 100),
        **extra,
    )["ScalableTargetARN"]
    return arn


def _tracking(metric: str, target: float = 70.0, **extra: Any) -> dict[str, Any]:
    return {
        "TargetValue": target,
        "PredefinedMetricSpecification": {"PredefinedMetricType": metric},
        **extra,
    }


# --- scalable targets ---------------------------------------------------------------------


def test_register_and_describe_target(scaling: Client, table: TableFactory) -> None:
    name = _provisioned(table)
    arn = _register(scaling, name, Tags={"team": "data"})
    assert arn.startswith(f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/")
    found = scaling.describe_scalable_targets(
        ServiceNamespace="dynamodb", ResourceIds=[f"table/{name}"]
    )["ScalableTargets"]
    assert len(found) == 1
    target = found[0]
    assert target["ResourceId"] == f"table/{name}"
    assert target["ScalableDimension"] == READ
    assert (target["MinCapacity"], target["MaxCapacity"]) == (5, 100)
    assert target["ScalableTargetARN"] == arn
    assert target["RoleARN"].endswith(
        "/dynamodb.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
    )
    assert target["SuspendedState"] == {
        "DynamicScalingInSuspended": False,
        "DynamicScalingOutSuspended": False,
        "ScheduledScalingSuspended": False,
    }
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"team": "data"}


def test_register_again_updates_the_target(scaling: Client, table: TableFactory) -> None:
    name = _provisioned(table)
    arn = _register(scaling, name)
    again = scaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension=READ,
        MaxCapacity=50,
        SuspendedState={"DynamicScalingInSuspended": True},
    )
    assert again["ScalableTargetARN"] == arn
    target = scaling.describe_scalable_targets(
        ServiceNamespace="dynamodb", ResourceIds=[f"table/{name}"]
    )["ScalableTargets"][0]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (5, 50)
    assert target["SuspendedState"]["DynamicScalingInSuspended"] is True


def test_register_errors(scaling: Client, table: TableFactory) -> None:
    name = _provisioned(table)
    with pytest.raises(ClientError) as info:
        _register(scaling, "no-such-table-here")
    assert_error(
        info.value, "ValidationException", "DynamoDB table does not exist: table/no-such-table-here"
    )
    with pytest.raises(ClientError) as info:
        _register(scaling, name, MinCapacity=10, MaxCapacity=5)
    assert_error(info.value, "ValidationException")
    with pytest.raises(ClientError) as info:
        _register(scaling, name, dimension=INDEX_READ)
    assert_error(
        info.value,
        "ValidationException",
        "Unsupported service namespace, resource type or scalable dimension",
    )
    with pytest.raises(ClientError) as info:
        scaling.register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId=f"table/{name}/index/nope",
            ScalableDimension=INDEX_READ,
            MinCapacity=1,
            MaxCapacity=2,
        )
    assert_error(
        info.value, "ValidationException", f"DynamoDB index does not exist: table/{name}/index/nope"
    )


def test_deregister(scaling: Client, table: TableFactory) -> None:
    name = _provisioned(table)
    _register(scaling, name)
    scaling.deregister_scalable_target(
        ServiceNamespace="dynamodb", ResourceId=f"table/{name}", ScalableDimension=READ
    )
    assert (
        scaling.describe_scalable_targets(
            ServiceNamespace="dynamodb", ResourceIds=[f"table/{name}"]
        )["ScalableTargets"]
        == []
    )
    with pytest.raises(ClientError) as info:
        scaling.deregister_scalable_target(
            ServiceNamespace="dynamodb", ResourceId=f"table/{name}", ScalableDimension=READ
        )
    assert_error(
        info.value,
        "ObjectNotFoundException",
        f"No scalable target found for service namespace: dynamodb, resource ID: "
        f"table/{name}, scalable dimension: {READ}",
    )


def test_describe_targets_pages(scaling: Client, table: TableFactory) -> None:
    name = _provisioned(table)
    _register(scaling, name, READ)
    _register(scaling, name, WRITE)
    first = scaling.describe_scalable_targets(
        ServiceNamespace="dynamodb", ResourceIds=[f"table/{name}"], MaxResults=1
    )
    second = scaling.describe_scalable_targets(
        ServiceNamespace="dynamodb",
        ResourceIds=[f"table/{name}"],
        MaxResults=1,
        NextToken=first["NextToken"],
    )
    dims = [t["ScalableDimension"] for t in first["ScalableTargets"] + second["ScalableTargets"]]
    assert sorted(dims) == [READ, WRITE]
    assert "NextToken" not in second
    # Tokens that are not ours: garbage, and well-encoded JSON of the wrong shape.
    for token in ("garbage!", base64.urlsafe_b64encode(b'{"a": 1}').decode()):
        with pytest.raises(ClientError) as info:
            scaling.describe_scalable_targets(ServiceNamespace="dynamodb", NextToken=token)
        assert info.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_index_target(scaling: Client, table: TableFactory) -> None:
    name = table(
        BillingMode="PROVISIONED",
        ProvisionedThroughput=PROVISIONED,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": PROVISIONED,
            }
        ],
    )
    resource = f"table/{name}/index/by-g"
    scaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=resource,
        ScalableDimension=INDEX_READ,
        MinCapacity=5,
        MaxCapacity=10,
    )
    found = scaling.describe_scalable_targets(
        ServiceNamespace="dynamodb", ScalableDimension=INDEX_READ, ResourceIds=[resource]
    )["ScalableTargets"]
    assert [t["ResourceId"] for t in found] == [resource]


# --- policies -----------------------------------------------------------------------------


def test_put_and_describe_policy(scaling: Client, table: TableFactory) -> None:
    name = _provisioned(table)
    _register(scaling, name)
    put = scaling.put_scaling_policy(
        PolicyName="read-tracking",
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension=READ,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=_tracking(
            "DynamoDBReadCapacityUtilization", ScaleInCooldown=60, ScaleOutCooldown=30
        ),
    )
    assert put["PolicyARN"].startswith(f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:scalingPolicy:")
    assert put["PolicyARN"].endswith(f":resource/dynamodb/table/{name}:policyName/read-tracking")
    assert len(put["Alarms"]) == 4
    policies = scaling.describe_scaling_policies(
        ServiceNamespace="dynamodb", ResourceId=f"table/{name}"
    )["ScalingPolicies"]
    assert len(policies) == 1
    policy = policies[0]
    assert policy["PolicyName"] == "read-tracking"
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert policy["TargetTrackingScalingPolicyConfiguration"] == {
        "TargetValue": 70.0,
        "PredefinedMetricSpecification": {
            "PredefinedMetricType": "DynamoDBReadCapacityUtilization"
        },
        "ScaleInCooldown": 60,
        "ScaleOutCooldown": 30,
    }
    # Putting it again updates it in place: same ARN.
    again = scaling.put_scaling_policy(
        PolicyName="read-tracking",
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension=READ,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=_tracking("DynamoDBReadCapacityUtilization", 50),
    )
    assert again["PolicyARN"] == put["PolicyARN"]
    scaling.delete_scaling_policy(
        PolicyName="read-tracking",
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension=READ,
    )
    assert (
        scaling.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId=f"table/{name}")[
            "ScalingPolicies"
        ]
        == []
    )


def test_policy_errors(scaling: Client, table: TableFactory) -> None:
    name = _provisioned(table)
    base = {
        "PolicyName": "p",
        "ServiceNamespace": "dynamodb",
        "ResourceId": f"table/{name}",
        "ScalableDimension": READ,
        "PolicyType": "TargetTrackingScaling",
    }
    with pytest.raises(ClientError) as info:
        scaling.put_scaling_policy(
            **base,
            TargetTrackingScalingPolicyConfiguration=_tracking("DynamoDBReadCapacityUtilization"),
        )
    assert_error(
        info.value,
        "ObjectNotFoundException",
        f"No scalable target registered for service namespace: dynamodb, resource ID: "
        f"table/{name}, scalable dimension: {READ}",
    )
    _register(scaling, name)
    with pytest.raises(ClientError) as info:
        scaling.put_scaling_policy(
            **base,
            TargetTrackingScalingPolicyConfiguration=_tracking("DynamoDBWriteCapacityUtilization"),
        )
    assert_error(info.value, "ValidationException")
    with pytest.raises(ClientError) as info:
        scaling.put_scaling_policy(
            **base,
            TargetTrackingScalingPolicyConfiguration=_tracking(
                "DynamoDBReadCapacityUtilization", 95
            ),
        )
    assert_error(info.value, "ValidationException")
    with pytest.raises(ClientError) as info:
        scaling.delete_scaling_policy(
            PolicyName="nope",
            ServiceNamespace="dynamodb",
            ResourceId=f"table/{name}",
            ScalableDimension=READ,
        )
    assert_error(info.value, "ObjectNotFoundException")


def test_deregister_drops_policies(scaling: Client, table: TableFactory) -> None:
    name = _provisioned(table)
    _register(scaling, name)
    scaling.put_scaling_policy(
        PolicyName="p",
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension=READ,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=_tracking("DynamoDBReadCapacityUtilization"),
    )
    scaling.deregister_scalable_target(
        ServiceNamespace="dynamodb", ResourceId=f"table/{name}", ScalableDimension=READ
    )
    assert (
        scaling.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId=f"table/{name}")[
            "ScalingPolicies"
        ]
        == []
    )


def test_tags(scaling: Client, table: TableFactory) -> None:
    name = _provisioned(table)
    arn = _register(scaling, name)
    scaling.tag_resource(ResourceARN=arn, Tags={"a": "1", "b": "2"})
    scaling.untag_resource(ResourceARN=arn, TagKeys=["a"])
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"b": "2"}
    missing = arn[:-4] + "ffff" if not arn.endswith("ffff") else arn[:-4] + "eeee"
    with pytest.raises(ClientError) as info:
        scaling.list_tags_for_resource(ResourceARN=missing)
    assert_error(info.value, "ResourceNotFoundException")


def test_other_namespaces_are_refused(scaling: Client) -> None:
    with pytest.raises(ClientError) as info:
        scaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId="service/cluster/svc",
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=1,
            MaxCapacity=2,
        )
    assert_error(info.value, "ValidationException")
    assert scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []


# --- the worker really scales --------------------------------------------------------------


@pytest.fixture(scope="module")
def fast_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with own_server(
        tmp_path_factory.mktemp("dynastore-autoscaling"), "--autoscaling-interval", "0.2"
    ) as url:
        yield url


def _capacity(ddb: Client, name: str) -> dict[str, int]:
    throughput = ddb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]
    return {k: throughput[k] for k in ("ReadCapacityUnits", "WriteCapacityUnits")}


def _wait_for(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def test_worker_scales_out_and_in(fast_endpoint: str) -> None:
    ddb = _client(fast_endpoint, "dynamodb")
    scaling = _client(fast_endpoint, "application-autoscaling")
    name = unique_name("scale")
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 2},
    )
    wait_active(ddb, name)
    # Registering with a minimum above the current capacity raises it to the minimum.
    _register(scaling, name, WRITE, MinCapacity=3, MaxCapacity=40)
    _wait_for(lambda: _capacity(ddb, name)["WriteCapacityUnits"] == 3)
    scaling.put_scaling_policy(
        PolicyName="writes",
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension=WRITE,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=_tracking("DynamoDBWriteCapacityUtilization", 50),
    )
    # Write about 10 units a second for a while: utilization far above 50 % of 3.
    deadline = time.monotonic() + 3.0
    n = 0
    while time.monotonic() < deadline:
        try:
            ddb.put_item(TableName=name, Item={"pk": {"S": f"k{n % 50}"}, "v": {"N": str(n)}})
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
        n += 1
        time.sleep(0.1)
    scaled = _wait_for(lambda: _capacity(ddb, name)["WriteCapacityUnits"] > 3)
    assert scaled
    out = _capacity(ddb, name)["WriteCapacityUnits"]
    assert 3 < out <= 40
    activities = scaling.describe_scaling_activities(
        ServiceNamespace="dynamodb", ResourceId=f"table/{name}"
    )["ScalingActivities"]
    assert activities[0]["StatusCode"] == "Successful"
    assert activities[0]["Description"] == f"Setting write capacity units to {out}."
    assert "triggered policy writes" in activities[0]["Cause"]
    assert activities[-1]["Cause"] == "minimum capacity was set to 3"
    # No traffic: after 15 quiet periods it scales back in to the minimum.
    _wait_for(lambda: _capacity(ddb, name)["WriteCapacityUnits"] == 3, timeout=30.0)
    ddb.delete_table(TableName=name)
