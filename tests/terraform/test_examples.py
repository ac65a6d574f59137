"""The Terraform examples apply, re-plan clean and destroy against a live server.

Runs the real Terraform CLI with the real AWS provider from a local filesystem mirror
(no network): set DYNASTORE_TF_MIRROR to the mirror's root, or it is looked for in the
usual places. Without Terraform the tests skip, unless DYNASTORE_REQUIRE_TERRAFORM=1
(CI sets it) makes that a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.api.conftest import own_server

EXAMPLES = Path(__file__).parents[2] / "examples" / "terraform"
MIRROR_CANDIDATES = ("/opt/tf-plugins", "/usr/share/terraform/plugins", "~/.terraform.d/plugins")
PROVIDER = "registry.terraform.io/hashicorp/aws"


def _mirror() -> Path | None:
    configured = os.environ.get("DYNASTORE_TF_MIRROR")
    candidates = [configured] if configured else list(MIRROR_CANDIDATES)
    for candidate in candidates:
        root = Path(os.path.expanduser(candidate))
        if (root / PROVIDER).is_dir():
            return root
    return None


def _require() -> tuple[str, Path]:
    terraform = shutil.which("terraform")
    mirror = _mirror()
    if terraform and mirror:
        return terraform, mirror
    reason = "terraform is not installed" if not terraform else "no AWS provider mirror found"
    if os.environ.get("DYNASTORE_REQUIRE_TERRAFORM") == "1":
        pytest.fail(f"{reason} (DYNASTORE_REQUIRE_TERRAFORM=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def tf_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own: Terraform runs are long and must not share state with others."""
    with own_server(tmp_path_factory.mktemp("tf-server")) as url:
        yield url


class Terraform:
    """One example copied to a scratch directory, driven with the Terraform CLI."""

    def __init__(self, binary: str, mirror: Path, workdir: Path, endpoint: str) -> None:
        self.binary = binary
        self.workdir = workdir
        self.endpoint = endpoint
        rc = workdir.parent / "terraformrc"
        rc.write_text(
            f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n'
        )
        self.env = {
            **os.environ,
            "TF_CLI_CONFIG_FILE": str(rc),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
            "TF_VAR_endpoint": endpoint,
        }

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.binary, *args, "-no-color"],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"terraform {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        return result


def _prepare(name: str, tmp_path: Path, endpoint: str) -> Terraform:
    binary, mirror = _require()
    shutil.copytree(EXAMPLES, tmp_path / "terraform")
    tf = Terraform(binary, mirror, tmp_path / "terraform" / name, endpoint)
    tf.run("init", "-input=false")
    return tf


def _client(service: str, endpoint: str) -> object:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _round_trip(tf: Terraform) -> None:
    """apply, then a plan that must find nothing to change."""
    tf.run("apply", "-auto-approve", "-input=false")
    plan = tf.run("plan", "-detailed-exitcode", "-input=false", check=False)
    assert plan.returncode == 0, f"plan after apply is not empty:\n{plan.stdout[-6000:]}"


def test_job_tracker(tf_endpoint: str, tmp_path: Path) -> None:
    tf = _prepare("002-job-tracker", tmp_path, tf_endpoint)
    _round_trip(tf)
    ddb = _client("dynamodb", tf_endpoint)
    name = "cloud-tools-production-CustomJobsTable-abc123"
    table = ddb.describe_table(TableName=name)["Table"]  # type: ignore[attr-defined]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {
        "StatusIndex",
        "UserIndex",
    }
    ddb.put_item(  # type: ignore[attr-defined]
        TableName=name,
        Item={
            "jobId": {"S": "j1"},
            "status": {"S": "processing"},
            "userId": {"S": "u1"},
            "createdAt": {"S": "2024-02-01T00:00:00Z"},
        },
    )
    found = ddb.query(  # type: ignore[attr-defined]
        TableName=name,
        IndexName="StatusIndex",
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "processing"}},
    )["Items"]
    assert [i["jobId"]["S"] for i in found] == ["j1"]
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]  # type: ignore[attr-defined]
    assert ttl["TimeToLiveStatus"] in ("ENABLED", "ENABLING")
    status = ddb.get_item(TableName=name, Key={"jobId": {"S": "system-status"}})  # type: ignore[attr-defined]
    assert status["Item"]["status"] == {"S": "completed"}
    tf.run("destroy", "-auto-approve", "-input=false")
    assert name not in ddb.list_tables()["TableNames"]  # type: ignore[attr-defined]


def test_key_value_and_time_series(tf_endpoint: str, tmp_path: Path) -> None:
    tf = _prepare("003-kv-timeseries", tmp_path, tf_endpoint)
    _round_trip(tf)
    ddb = _client("dynamodb", tf_endpoint)
    events = ddb.describe_table(TableName="kv-test-events")["Table"]  # type: ignore[attr-defined]
    assert events["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    ddb.put_item(  # type: ignore[attr-defined]
        TableName="kv-test-events",
        Item={"event_type": {"S": "login"}, "timestamp": {"N": "1700000000"}},
    )
    streams = _client("dynamodbstreams", tf_endpoint)
    arn = events["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]  # type: ignore[attr-defined]
    iterator = streams.get_shard_iterator(  # type: ignore[attr-defined]
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]  # type: ignore[attr-defined]
    assert [r["eventName"] for r in records] == ["INSERT"]
    tf.run("destroy", "-auto-approve", "-input=false")


def _regional(service: str, endpoint: str, region: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_observability_index_tables(tf_endpoint: str, tmp_path: Path) -> None:
    """Seed 000: Mimir and Loki index tables, KMS, PITR, auto scaling of tables and GSIs."""
    tf = _prepare("000-observability-index", tmp_path, tf_endpoint)
    _round_trip(tf)
    ddb = _regional("dynamodb", tf_endpoint, "us-east-1")
    mimir = ddb.describe_table(TableName="observability-mimir-index-prod")["Table"]
    assert {i["IndexName"] for i in mimir["GlobalSecondaryIndexes"]} == {
        "tenant-timestamp-index",
        "labels-index",
        "custom-index",
    }
    assert mimir["SSEDescription"]["SSEType"] == "KMS"
    assert mimir["ProvisionedThroughput"]["ReadCapacityUnits"] == 50
    backups = ddb.describe_continuous_backups(TableName="observability-mimir-index-prod")
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    ddb.put_item(
        TableName="observability-mimir-index-prod",
        Item={
            "metric_name": {"S": "cpu.usage"},
            "timestamp": {"S": "2024-01-01T00:00:00Z"},
            "tenant_id": {"S": "t1"},
            "labels_hash": {"S": "abc"},
        },
    )
    found = ddb.query(
        TableName="observability-mimir-index-prod",
        IndexName="tenant-timestamp-index",
        KeyConditionExpression="tenant_id = :t",
        ExpressionAttributeValues={":t": {"S": "t1"}},
    )["Items"]
    assert [i["metric_name"]["S"] for i in found] == ["cpu.usage"]
    scaling = _regional("application-autoscaling", tf_endpoint, "us-east-1")
    targets = scaling.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    # Mimir: table + 3 indexes, Loki: table + 2 indexes; read and write each.
    assert len(targets) == 14
    assert all((t["MinCapacity"], t["MaxCapacity"]) == (25, 500) for t in targets)
    policies = scaling.describe_scaling_policies(ServiceNamespace="dynamodb")["ScalingPolicies"]
    assert len(policies) == 14
    tf.run("destroy", "-auto-approve", "-input=false")
    assert ddb.list_tables()["TableNames"] == []
    assert scaling.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"] == []


def test_dynamodb_addon_global_tables(tf_endpoint: str, tmp_path: Path) -> None:
    """Seed 004: a global table in four regions with AWS Backup, and a provisioned table
    with auto scaling."""
    tf = _prepare("004-dynamodb-addon", tmp_path, tf_endpoint)
    _round_trip(tf)
    home = _regional("dynamodb", tf_endpoint, "ap-northeast-2")
    name = "global-app-prod-users"
    table = home.describe_table(TableName=name)["Table"]
    assert table["GlobalTableVersion"] == "2019.11.21"
    assert sorted((r["RegionName"], r["ReplicaStatus"]) for r in table["Replicas"]) == [
        ("ap-southeast-1", "ACTIVE"),
        ("eu-west-1", "ACTIVE"),
        ("us-east-1", "ACTIVE"),
    ]
    # A write in the table's region reaches every replica, indexes included.
    home.put_item(
        TableName=name,
        Item={
            "user_id": {"S": "user123"},
            "created_at": {"S": "2024-01-01T00:00:00Z"},
            "email": {"S": "user@example.com"},
            "status": {"S": "active"},
        },
    )
    for region in ("us-east-1", "eu-west-1", "ap-southeast-1"):
        replica = _regional("dynamodb", tf_endpoint, region)

        def by_email(replica: Any = replica) -> list[Any]:
            items: list[Any] = replica.query(
                TableName=name,
                IndexName="email-index",
                KeyConditionExpression="email = :e",
                ExpressionAttributeValues={":e": {"S": "user@example.com"}},
            )["Items"]
            return items

        assert _eventually(by_email), f"not replicated to {region}"
    # ... and a write in a replica comes back.
    _regional("dynamodb", tf_endpoint, "eu-west-1").put_item(
        TableName=name,
        Item={"user_id": {"S": "eu-user"}, "created_at": {"S": "2024-02-01T00:00:00Z"}},
    )
    assert _eventually(
        lambda: home.get_item(
            TableName=name,
            Key={"user_id": {"S": "eu-user"}, "created_at": {"S": "2024-02-01T00:00:00Z"}},
        ).get("Item")
    )
    backup = _regional("backup", tf_endpoint, "ap-northeast-2")
    vaults = {v["BackupVaultName"] for v in backup.list_backup_vaults()["BackupVaultList"]}
    assert vaults == {"global-app-prod-users-backup-vault", "ecommerce-prod-orders-backup-vault"}
    plans = backup.list_backup_plans()["BackupPlansList"]
    assert {p["BackupPlanName"] for p in plans} == {
        "global-app-prod-users-backup-plan",
        "ecommerce-prod-orders-backup-plan",
    }
    scaling = _regional("application-autoscaling", tf_endpoint, "ap-northeast-2")
    targets = scaling.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    assert {t["ResourceId"] for t in targets} == {"table/ecommerce-prod-orders"}
    alarms = _regional("cloudwatch", tf_endpoint, "ap-northeast-2").describe_alarms()
    assert len(alarms["MetricAlarms"]) == 6
    tf.run("destroy", "-auto-approve", "-input=false")
    for region in ("ap-northeast-2", "us-east-1", "eu-west-1", "ap-southeast-1"):
        assert _regional("dynamodb", tf_endpoint, region).list_tables()["TableNames"] == []


def _outputs(tf: Terraform) -> dict[str, Any]:
    values: dict[str, Any] = json.loads(tf.run("output", "-json").stdout)
    return {name: output["value"] for name, output in values.items()}


def test_streaming_logs_seed_001(tf_endpoint: str, tmp_path: Path) -> None:
    """Seed 001: four tables under a customer managed KMS key with GSIs, TTL, streams and
    PITR, and alarms notifying an SNS topic; on demand (dev) and auto scaled (prod)."""
    tf = _prepare("001-streaming-logs", tmp_path, tf_endpoint)
    _round_trip(tf)
    outputs = _outputs(tf)
    out, prod = outputs["dev"], outputs["prod"]
    ddb = _regional("dynamodb", tf_endpoint, "us-east-1")
    kms = _regional("kms", tf_endpoint, "us-east-1")
    for stack, days in ((out, 7), (prod, 30)):
        key = kms.describe_key(KeyId=stack["kms_alias_name"])["KeyMetadata"]
        assert (key["Arn"], key["KeyManager"]) == (stack["kms_key_arn"], "CUSTOMER")
        for name in stack["table_names"].values():
            table = ddb.describe_table(TableName=name)["Table"]
            assert table["TableStatus"] == "ACTIVE"
            assert table["SSEDescription"]["Status"] == "ENABLED"
            assert table["SSEDescription"]["KMSMasterKeyArn"] == stack["kms_key_arn"]
            backups = ddb.describe_continuous_backups(TableName=name)
            pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
            assert (pitr["PointInTimeRecoveryStatus"], pitr["RecoveryPeriodInDays"]) == (
                "ENABLED",
                days,
            )
    names = out["table_names"]
    assert set(names) == {"log-metadata", "user-sessions", "system-config", "audit-trail"}
    logs = ddb.describe_table(TableName=names["log-metadata"])["Table"]
    assert logs["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {i["IndexName"] for i in logs["GlobalSecondaryIndexes"]} == {
        "ServiceIndex",
        "LogLevelIndex",
        "UserIndex",
    }
    ddb.put_item(
        TableName=names["log-metadata"],
        Item={
            "log_id": {"S": "l1"},
            "timestamp": {"S": "2024-01-01T00:00:00Z"},
            "service_name": {"S": "ingest"},
            "log_level": {"S": "ERROR"},
            "user_id": {"S": "u1"},
            "message": {"S": "disk full"},
        },
    )
    found = ddb.query(
        TableName=names["log-metadata"],
        IndexName="ServiceIndex",
        KeyConditionExpression="service_name = :s AND #t >= :t",
        ExpressionAttributeNames={"#t": "timestamp"},
        ExpressionAttributeValues={":s": {"S": "ingest"}, ":t": {"S": "2024"}},
    )["Items"]
    assert [i["message"]["S"] for i in found] == ["disk full"]
    ttl = {
        key: ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        for key, name in names.items()
    }
    assert ttl["system-config"] == {"TimeToLiveStatus": "DISABLED"}
    for key in ("log-metadata", "user-sessions", "audit-trail"):
        assert ttl[key] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    # dev: only the system config table has a stream; prod: every table.
    assert set(out["table_stream_arns"]) == {"system-config"}
    assert set(prod["table_stream_arns"]) == set(names)
    ddb.put_item(
        TableName=names["system-config"],
        Item={"config_key": {"S": "feature.x"}, "environment": {"S": "dev"}},
    )
    streams = _regional("dynamodbstreams", tf_endpoint, "us-east-1")
    arn = out["table_stream_arns"]["system-config"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [(r["eventName"], r["dynamodb"]["NewImage"]["environment"]) for r in records] == [
        ("INSERT", {"S": "dev"})
    ]
    cloudwatch = _regional("cloudwatch", tf_endpoint, "us-east-1")
    sns = _regional("sns", tf_endpoint, "us-east-1")
    for stack, prefix in ((out, "streaming-logs-dev-"), (prod, "streaming-logs-prod-")):
        topic = stack["sns_topic_arn"]
        assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["TopicArn"] == topic
        alarms = cloudwatch.describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]
        assert sorted(a["AlarmName"] for a in alarms) == sorted(stack["alarm_names"])
        assert all(a["AlarmActions"] == a["OKActions"] == [topic] for a in alarms)
        metrics = {a["MetricName"] for a in alarms}
        assert {"ReadThrottleEvents", "WriteThrottleEvents", "SystemErrors"} <= metrics
        assert {"UserErrors", "SuccessfulRequestLatency"} <= metrics
    # 4 tables x (2 throttles, system errors, 3 latencies) + UserErrors; prod adds
    # consumed read and write capacity per table.
    assert (len(out["alarm_names"]), len(prod["alarm_names"])) == (25, 33)
    scaling = _regional("application-autoscaling", tf_endpoint, "us-east-1")
    targets = scaling.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    # prod only: 4 tables and 7 GSIs, read and write each.
    assert len(targets) == 22
    assert all(t["ResourceId"].startswith("table/streaming-logs-prod-") for t in targets)
    tf.run("destroy", "-auto-approve", "-input=false")
    assert ddb.list_tables()["TableNames"] == []
    assert cloudwatch.describe_alarms()["MetricAlarms"] == []
    key = kms.describe_key(KeyId=out["kms_key_arn"])["KeyMetadata"]
    assert key["KeyState"] == "PendingDeletion"
