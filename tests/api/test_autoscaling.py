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

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import own_server
from tests.api.helpers import (
    REGION,
    Client,
    TableFactory,
    attr,
    aws_client,
    create_table,
    index_spec,
    raises,
    unique_name,
    wait_for,
)

ACCOUNT = "000000000000"
READ = "dynamodb:table:ReadCapacityUnits"
WRITE = "dynamodb:table:WriteCapacityUnits"
INDEX_READ = "dynamodb:index:ReadCapacityUnits"
PROVISIONED = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


@pytest.fixture(scope="module")
def scaling(endpoint: str) -> Client:
    return aws_client(endpoint, "application-autoscaling")


def _put_policy(
    scaling: Client, name: str, tracking: dict[str, Any], policy: str = "p"
) -> dict[str, Any]:
    """PutScalingPolicy: target tracking `policy` of table `name`'s read capacity."""
    answer: dict[str, Any] = scaling.put_scaling_policy(
        PolicyName=policy,
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension=READ,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=tracking,
    )
    return answer


def _policies(scaling: Client, name: str) -> list[dict[str, Any]]:
    """The scaling policies of table `name`."""
    found: list[dict[str, Any]] = scaling.describe_scaling_policies(
        ServiceNamespace="dynamodb", ResourceId=f"table/{name}"
    )["ScalingPolicies"]
    return found


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
    with raises("ValidationException", "DynamoDB table does not exist: table/no-such-table-here"):
        _register(scaling, "no-such-table-here")
    with raises("ValidationException"):
        _register(scaling, name, MinCapacity=10, MaxCapacity=5)
    with raises(
        "ValidationException", "Unsupported service namespace, resource type or scalable dimension"
    ):
        _register(scaling, name, dimension=INDEX_READ)
    with raises("ValidationException", f"DynamoDB index does not exist: table/{name}/index/nope"):
        scaling.register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId=f"table/{name}/index/nope",
            ScalableDimension=INDEX_READ,
            MinCapacity=1,
            MaxCapacity=2,
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
    with raises(
        "ObjectNotFoundException",
        f"No scalable target found for service namespace: dynamodb, resource ID: "
        f"table/{name}, scalable dimension: {READ}",
    ):
        scaling.deregister_scalable_target(
            ServiceNamespace="dynamodb", ResourceId=f"table/{name}", ScalableDimension=READ
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
        AttributeDefinitions=[attr("pk"), attr("g")],
        GlobalSecondaryIndexes=[{**index_spec("by-g", "g"), "ProvisionedThroughput": PROVISIONED}],
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
    tracking = _tracking("DynamoDBReadCapacityUtilization", ScaleInCooldown=60, ScaleOutCooldown=30)
    put = _put_policy(scaling, name, tracking, "read-tracking")
    assert put["PolicyARN"].startswith(f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:scalingPolicy:")
    assert put["PolicyARN"].endswith(f":resource/dynamodb/table/{name}:policyName/read-tracking")
    assert len(put["Alarms"]) == 4
    policies = _policies(scaling, name)
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
    again = _put_policy(
        scaling, name, _tracking("DynamoDBReadCapacityUtilization", 50), "read-tracking"
    )
    assert again["PolicyARN"] == put["PolicyARN"]
    scaling.delete_scaling_policy(
        PolicyName="read-tracking",
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension=READ,
    )
    assert _policies(scaling, name) == []


def test_policy_errors(scaling: Client, table: TableFactory) -> None:
    name = _provisioned(table)
    with raises(
        "ObjectNotFoundException",
        f"No scalable target registered for service namespace: dynamodb, resource ID: "
        f"table/{name}, scalable dimension: {READ}",
    ):
        _put_policy(scaling, name, _tracking("DynamoDBReadCapacityUtilization"))
    _register(scaling, name)
    with raises("ValidationException"):
        _put_policy(scaling, name, _tracking("DynamoDBWriteCapacityUtilization"))
    with raises("ValidationException"):
        _put_policy(scaling, name, _tracking("DynamoDBReadCapacityUtilization", 95))
    with raises("ObjectNotFoundException"):
        scaling.delete_scaling_policy(
            PolicyName="nope",
            ServiceNamespace="dynamodb",
            ResourceId=f"table/{name}",
            ScalableDimension=READ,
        )


def test_deregister_drops_policies(scaling: Client, table: TableFactory) -> None:
    name = _provisioned(table)
    _register(scaling, name)
    _put_policy(scaling, name, _tracking("DynamoDBReadCapacityUtilization"))
    scaling.deregister_scalable_target(
        ServiceNamespace="dynamodb", ResourceId=f"table/{name}", ScalableDimension=READ
    )
    assert _policies(scaling, name) == []


def test_tags(scaling: Client, table: TableFactory) -> None:
    name = _provisioned(table)
    arn = _register(scaling, name)
    scaling.tag_resource(ResourceARN=arn, Tags={"a": "1", "b": "2"})
    scaling.untag_resource(ResourceARN=arn, TagKeys=["a"])
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"b": "2"}
    missing = arn[:-4] + "ffff" if not arn.endswith("ffff") else arn[:-4] + "eeee"
    with raises("ResourceNotFoundException"):
        scaling.list_tags_for_resource(ResourceARN=missing)


def test_other_namespaces_are_refused(scaling: Client) -> None:
    with raises("ValidationException"):
        scaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId="service/cluster/svc",
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=1,
            MaxCapacity=2,
        )
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


def _track_writes(scaling: Client, name: str) -> None:
    """Policy "writes": table `name`'s write capacity tracking 50 % utilization."""
    scaling.put_scaling_policy(
        PolicyName="writes",
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension=WRITE,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=_tracking("DynamoDBWriteCapacityUtilization", 50),
    )


def write_for(ddb: Client, name: str, seconds: float) -> None:
    """Put a small item every 0.1 s for `seconds` (about 10 write units a second)."""
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        try:
            ddb.put_item(TableName=name, Item={"pk": {"S": f"k{n % 50}"}, "v": {"N": str(n)}})
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
        n += 1
        time.sleep(0.1)


def test_worker_scales_out_and_in(fast_endpoint: str) -> None:
    ddb = aws_client(fast_endpoint)
    scaling = aws_client(fast_endpoint, "application-autoscaling")
    name = create_table(
        ddb,
        unique_name("scale"),
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 2},
    )
    # Registering with a minimum above the current capacity raises it to the minimum.
    _register(scaling, name, WRITE, MinCapacity=3, MaxCapacity=40)
    wait_for(lambda: _capacity(ddb, name)["WriteCapacityUnits"] == 3)
    _track_writes(scaling, name)
    write_for(ddb, name, 3.0)  # utilization far above 50 % of 3
    scaled = wait_for(lambda: _capacity(ddb, name)["WriteCapacityUnits"] > 3)
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
    wait_for(lambda: _capacity(ddb, name)["WriteCapacityUnits"] == 3, timeout=30.0)
    ddb.delete_table(TableName=name)
