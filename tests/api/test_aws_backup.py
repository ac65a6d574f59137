"""AWS Backup (REST-JSON) with boto3's backup client: vaults, plans, selections, tags,
and on-demand backup jobs of DynamoDB tables."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.api.helpers import REGION, Client, TableFactory, aws_client, raises, unique_name

ACCOUNT = "000000000000"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"


@pytest.fixture(scope="module")
def backup(endpoint: str) -> Client:
    return aws_client(endpoint, "backup")


def _vault(backup: Client, **extra: Any) -> str:
    name = unique_name("vault")[:40]
    backup.create_backup_vault(BackupVaultName=name, **extra)
    return name


def _plan_document(vault: str, name: str | None = None, **rule: Any) -> dict[str, Any]:
    return {
        "BackupPlanName": name or unique_name("plan"),
        "Rules": [{"RuleName": "daily", "TargetBackupVaultName": vault, **rule}],
    }


# --- vaults -------------------------------------------------------------------------------


def test_vault_lifecycle(backup: Client) -> None:
    name = unique_name("vault")[:40]
    created = backup.create_backup_vault(
        BackupVaultName=name, BackupVaultTags={"env": "test"}, CreatorRequestId="req-1"
    )
    arn = f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-vault:{name}"
    assert created["BackupVaultArn"] == arn
    assert created["BackupVaultName"] == name
    described = backup.describe_backup_vault(BackupVaultName=name)
    assert described["BackupVaultArn"] == arn
    assert described["NumberOfRecoveryPoints"] == 0
    assert described["CreatorRequestId"] == "req-1"
    assert described["EncryptionKeyArn"].startswith(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/")
    assert backup.list_tags(ResourceArn=arn)["Tags"] == {"env": "test"}
    names = [v["BackupVaultName"] for v in backup.list_backup_vaults()["BackupVaultList"]]
    assert name in names
    with raises("AlreadyExistsException"):
        backup.create_backup_vault(BackupVaultName=name)
    backup.delete_backup_vault(BackupVaultName=name)
    with raises("ResourceNotFoundException"):
        backup.describe_backup_vault(BackupVaultName=name)


def test_vault_with_a_key(backup: Client) -> None:
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
    name = _vault(backup, EncryptionKeyArn=key)
    assert backup.describe_backup_vault(BackupVaultName=name)["EncryptionKeyArn"] == key
    backup.delete_backup_vault(BackupVaultName=name)


def test_tags(backup: Client) -> None:
    name = _vault(backup)
    arn = backup.describe_backup_vault(BackupVaultName=name)["BackupVaultArn"]
    backup.tag_resource(ResourceArn=arn, Tags={"a": "1", "b": "2"})
    backup.untag_resource(ResourceArn=arn, TagKeyList=["a"])
    assert backup.list_tags(ResourceArn=arn)["Tags"] == {"b": "2"}
    with raises("ResourceNotFoundException"):
        backup.list_tags(ResourceArn=arn + "-missing")
    backup.delete_backup_vault(BackupVaultName=name)


# --- plans --------------------------------------------------------------------------------


def test_plan_lifecycle(backup: Client) -> None:
    vault = _vault(backup)
    document = _plan_document(
        vault,
        ScheduleExpression="cron(0 3 ? * * *)",
        Lifecycle={"DeleteAfterDays": 365},
        RecoveryPointTags={"kind": "daily"},
    )
    created = backup.create_backup_plan(BackupPlan=document, BackupPlanTags={"team": "db"})
    plan_id = created["BackupPlanId"]
    assert created["BackupPlanArn"] == f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-plan:{plan_id}"
    got = backup.get_backup_plan(BackupPlanId=plan_id)
    assert got["VersionId"] == created["VersionId"]
    rule = got["BackupPlan"]["Rules"][0]
    assert rule["RuleName"] == "daily"
    assert rule["TargetBackupVaultName"] == vault
    assert rule["ScheduleExpression"] == "cron(0 3 ? * * *)"
    assert rule["StartWindowMinutes"] == 480
    assert rule["CompletionWindowMinutes"] == 10080
    assert rule["ScheduleExpressionTimezone"] == "Etc/UTC"
    assert rule["Lifecycle"] == {"DeleteAfterDays": 365}
    assert rule["RecoveryPointTags"] == {"kind": "daily"}
    assert rule["RuleId"]
    assert backup.list_tags(ResourceArn=created["BackupPlanArn"])["Tags"] == {"team": "db"}

    updated = backup.update_backup_plan(
        BackupPlanId=plan_id,
        BackupPlan=_plan_document(vault, document["BackupPlanName"], StartWindowMinutes=60),
    )
    assert updated["VersionId"] != created["VersionId"]
    now = backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]["Rules"][0]
    assert now["StartWindowMinutes"] == 60
    assert now["RuleId"] == rule["RuleId"]
    old = backup.get_backup_plan(BackupPlanId=plan_id, VersionId=created["VersionId"])
    assert old["BackupPlan"]["Rules"][0]["StartWindowMinutes"] == 480
    versions = backup.list_backup_plan_versions(BackupPlanId=plan_id)["BackupPlanVersionsList"]
    assert len(versions) == 2

    listed = {p["BackupPlanId"]: p for p in backup.list_backup_plans()["BackupPlansList"]}
    assert listed[plan_id]["BackupPlanName"] == document["BackupPlanName"]

    deleted = backup.delete_backup_plan(BackupPlanId=plan_id)
    assert deleted["BackupPlanId"] == plan_id
    assert "DeletionDate" in deleted
    assert plan_id not in {p["BackupPlanId"] for p in backup.list_backup_plans()["BackupPlansList"]}
    # A deleted plan is gone (Terraform reads it so), its versions are still readable.
    with raises("ResourceNotFoundException", "Failed reading Backup plan with provided version"):
        backup.get_backup_plan(BackupPlanId=plan_id)
    last = backup.get_backup_plan(BackupPlanId=plan_id, VersionId=deleted["VersionId"])
    assert last["DeletionDate"]
    with raises("ResourceNotFoundException"):
        backup.delete_backup_plan(BackupPlanId=plan_id)
    backup.delete_backup_vault(BackupVaultName=vault)


def test_advanced_backup_settings(backup: Client) -> None:
    vault = _vault(backup)
    settings = [{"ResourceType": "EC2", "BackupOptions": {"WindowsVSS": "enabled"}}]
    document = {**_plan_document(vault), "AdvancedBackupSettings": settings}
    created = backup.create_backup_plan(BackupPlan=document)
    assert created["AdvancedBackupSettings"] == settings
    got = backup.get_backup_plan(BackupPlanId=created["BackupPlanId"])
    # Answered beside the plan document, never inside it (Terraform reads it there).
    assert got["AdvancedBackupSettings"] == settings
    assert "AdvancedBackupSettings" not in got["BackupPlan"]
    backup.delete_backup_plan(BackupPlanId=created["BackupPlanId"])
    backup.delete_backup_vault(BackupVaultName=vault)


def test_plan_errors(backup: Client) -> None:
    vault = _vault(backup)
    with raises("ResourceNotFoundException", "Failed reading Backup plan with provided version"):
        backup.get_backup_plan(BackupPlanId="00000000-0000-0000-0000-000000000000")
    document = _plan_document(vault)
    plan_id = backup.create_backup_plan(BackupPlan=document)["BackupPlanId"]
    with raises("AlreadyExistsException", "Backup plan with the same plan document already exists"):
        backup.create_backup_plan(BackupPlan=document)
    backup.delete_backup_plan(BackupPlanId=plan_id)
    backup.delete_backup_vault(BackupVaultName=vault)


# --- selections ---------------------------------------------------------------------------


def test_selection_lifecycle(backup: Client, table: TableFactory) -> None:
    vault = _vault(backup)
    plan_id = backup.create_backup_plan(BackupPlan=_plan_document(vault))["BackupPlanId"]
    name = table()
    table_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
    created = backup.create_backup_selection(
        BackupPlanId=plan_id,
        BackupSelection={"SelectionName": "tables", "IamRoleArn": ROLE, "Resources": [table_arn]},
    )
    selection_id = created["SelectionId"]
    got = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert got["BackupSelection"]["Resources"] == [table_arn]
    assert got["BackupSelection"]["IamRoleArn"] == ROLE
    assert got["BackupSelection"]["SelectionName"] == "tables"
    listed = backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
    assert [s["SelectionId"] for s in listed] == [selection_id]
    with raises(
        "InvalidRequestException",
        "Related backup plan selections must be deleted prior to backup plan deletion",
    ):
        backup.delete_backup_plan(BackupPlanId=plan_id)
    backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    with raises("ResourceNotFoundException"):
        backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    backup.delete_backup_plan(BackupPlanId=plan_id)
    backup.delete_backup_vault(BackupVaultName=vault)


# --- backup jobs --------------------------------------------------------------------------


def test_backup_job_makes_a_dynamodb_backup(
    backup: Client, dynamodb: Client, table: TableFactory
) -> None:
    vault = _vault(backup)
    name = table()
    for n in range(5):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": f"k{n}"}})
    table_arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
    started = backup.start_backup_job(BackupVaultName=vault, ResourceArn=table_arn, IamRoleArn=ROLE)
    job_id = started["BackupJobId"]
    point = started["RecoveryPointArn"]
    assert point.startswith(f"{table_arn}/backup/")
    deadline = time.monotonic() + 10
    while True:
        job = backup.describe_backup_job(BackupJobId=job_id)
        if job["State"] == "COMPLETED" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert job["State"] == "COMPLETED"
    assert job["ResourceType"] == "DynamoDB"
    assert job["BackupVaultName"] == vault
    # The recovery point is a real DynamoDB backup.
    described = dynamodb.describe_backup(BackupArn=point)["BackupDescription"]
    assert described["BackupDetails"]["BackupType"] == "AWS_BACKUP"
    assert described["SourceTableDetails"]["ItemCount"] == 5
    points = backup.list_recovery_points_by_backup_vault(BackupVaultName=vault)["RecoveryPoints"]
    assert [p["RecoveryPointArn"] for p in points] == [point]
    assert backup.describe_backup_vault(BackupVaultName=vault)["NumberOfRecoveryPoints"] == 1
    assert (
        backup.describe_recovery_point(BackupVaultName=vault, RecoveryPointArn=point)["Status"]
        == "COMPLETED"
    )
    jobs = backup.list_backup_jobs(ByBackupVaultName=vault)["BackupJobs"]
    assert [j["BackupJobId"] for j in jobs] == [job_id]
    with raises(
        "InvalidRequestException",
        "Backup vault cannot be deleted because it contains recovery points.",
    ) as info:
        backup.delete_backup_vault(BackupVaultName=vault)
    assert info.value.response["Code"] == "ERROR_9101"
    backup.delete_recovery_point(BackupVaultName=vault, RecoveryPointArn=point)
    with raises("BackupNotFoundException"):
        dynamodb.describe_backup(BackupArn=point)
    assert backup.describe_backup_job(BackupJobId=job_id)["State"] == "COMPLETED"
    backup.delete_backup_vault(BackupVaultName=vault)


def test_backup_job_errors(backup: Client) -> None:
    vault = _vault(backup)
    with raises("ResourceNotFoundException"):
        backup.start_backup_job(
            BackupVaultName=vault,
            ResourceArn=f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/no-such-table-x",
            IamRoleArn=ROLE,
        )
    with raises("InvalidParameterValueException"):
        backup.start_backup_job(
            BackupVaultName=vault,
            ResourceArn="arn:aws:s3:::bucket",
            IamRoleArn=ROLE,
        )
    with raises("ResourceNotFoundException"):
        backup.start_backup_job(
            BackupVaultName="no-such-vault",
            ResourceArn=f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/x",
            IamRoleArn=ROLE,
        )
    with raises("ResourceNotFoundException"):
        backup.describe_backup_job(BackupJobId="NOPE")
    backup.delete_backup_vault(BackupVaultName=vault)
