"""REST-JSON (AWS Backup's protocol): routing by method and URI template, as botocore sends."""

from __future__ import annotations

import datetime
from typing import Any

from dynastore.errors import AwsError
from dynastore.server.rest import compile_template
from dynastore.services.base import model_service
from tests.unit.botocore_wire import call, dispatcher, model, recorder

WHEN = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)


class ResourceNotFoundException(AwsError):
    status = 404


def backup(**handlers: Any) -> Any:
    return dispatcher([model_service("backup", handlers)])


def test_labels_query_strings_and_bodies() -> None:
    calls, handler = recorder()
    handler.result = {"BackupVaultName": "v", "CreationDate": WHEN.timestamp()}
    target = backup(CreateBackupVault=handler, ListBackupVaults=handler)
    params = {"BackupVaultName": "vault-1", "BackupVaultTags": {"a": "b"}}
    answer = call(target, model("backup"), "CreateBackupVault", params, "rest-json")
    assert answer.status == 200, answer.body
    assert answer.parsed["CreationDate"] == WHEN
    assert calls[-1][1] == params
    handler.result = {"BackupVaultList": [], "NextToken": "n"}
    listed = call(target, model("backup"), "ListBackupVaults", {"MaxResults": 5}, "rest-json")
    assert listed.parsed["NextToken"] == "n"
    assert calls[-1][1] == {"MaxResults": 5}


def test_arn_labels_are_percent_decoded() -> None:
    calls, handler = recorder()
    handler.result = {"Tags": {"k": "v"}}
    arn = "arn:aws:backup:us-east-1:123456789012:backup-vault:v/x"
    answer = call(
        backup(ListTags=handler), model("backup"), "ListTags", {"ResourceArn": arn}, "rest-json"
    )
    assert answer.parsed["Tags"] == {"k": "v"}
    assert calls[0][1] == {"ResourceArn": arn}


def test_errors() -> None:
    _, handler = recorder()
    handler.error = ResourceNotFoundException("no vault")
    answer = call(
        backup(DescribeBackupVault=handler),
        model("backup"),
        "DescribeBackupVault",
        {"BackupVaultName": "v"},
        "rest-json",
    )
    assert answer.status == 404
    assert answer.code == "ResourceNotFoundException"
    assert answer.message == "no vault"


def test_templates() -> None:
    pattern, labels, _ = compile_template("/backup-vaults/{backupVaultName}/recovery-points/")
    match = pattern.fullmatch("/backup-vaults/v1/recovery-points/")
    assert match is not None and match.groups() == ("v1",) and labels == ("backupVaultName",)
    assert pattern.fullmatch("/backup-vaults/v1/recovery-points") is not None
    greedy, _, _ = compile_template("/objects/{Key+}")
    found = greedy.fullmatch("/objects/a/b/c")
    assert found is not None and found.groups() == ("a/b/c",)
