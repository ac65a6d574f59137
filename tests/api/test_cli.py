"""The AWS CLI against the server: `aws --endpoint-url ... dynamodb <command>` works end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.api.helpers import ACCESS_KEY, REGION, SECRET_KEY, Client, unique_name, wait_active


@pytest.fixture
def aws(endpoint: str, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `aws --endpoint-url <endpoint> dynamodb ...` with throwaway credentials."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_PAGER": "",
    }
    env.pop("AWS_PROFILE", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "awscli", "--endpoint-url", endpoint, "--output", "json"]
        return subprocess.run(
            [*command, "dynamodb", *args], env=env, capture_output=True, text=True, timeout=120
        )

    return run


def ok(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else {}


@pytest.fixture
def cli_table(
    aws: Callable[..., subprocess.CompletedProcess[str]],
    dynamodb: Client,
    cleanup: Callable[[str], str],
) -> str:
    name = cleanup(unique_name("cli"))
    out = ok(
        aws(
            "create-table",
            "--table-name",
            name,
            "--attribute-definitions",
            "AttributeName=pk,AttributeType=S",
            "--key-schema",
            "AttributeName=pk,KeyType=HASH",
            "--billing-mode",
            "PAY_PER_REQUEST",
        )
    )
    assert out["TableDescription"]["TableName"] == name
    wait_active(dynamodb, name)
    return name


def test_create_wait_and_describe(
    aws: Callable[..., subprocess.CompletedProcess[str]], cli_table: str
) -> None:
    ok(aws("wait", "table-exists", "--table-name", cli_table))
    table = ok(aws("describe-table", "--table-name", cli_table))["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]


def test_put_and_get_item(
    aws: Callable[..., subprocess.CompletedProcess[str]], cli_table: str
) -> None:
    item = {"pk": {"S": "a"}, "n": {"N": "1.50"}, "tags": {"SS": ["x"]}}
    ok(aws("put-item", "--table-name", cli_table, "--item", json.dumps(item)))
    got = ok(
        aws(
            "get-item",
            "--table-name",
            cli_table,
            "--key",
            '{"pk": {"S": "a"}}',
            "--consistent-read",
        )
    )
    assert got["Item"] == {"pk": {"S": "a"}, "n": {"N": "1.5"}, "tags": {"SS": ["x"]}}


def test_update_item_with_expression(
    aws: Callable[..., subprocess.CompletedProcess[str]], cli_table: str
) -> None:
    out = ok(
        aws(
            "update-item",
            "--table-name",
            cli_table,
            "--key",
            '{"pk": {"S": "c"}}',
            "--update-expression",
            "SET hits = if_not_exists(hits, :z) + :one",
            "--expression-attribute-values",
            '{":z": {"N": "0"}, ":one": {"N": "1"}}',
            "--return-values",
            "ALL_NEW",
        )
    )
    assert out["Attributes"] == {"pk": {"S": "c"}, "hits": {"N": "1"}}


def test_delete_item_and_missing_get(
    aws: Callable[..., subprocess.CompletedProcess[str]], cli_table: str
) -> None:
    ok(aws("put-item", "--table-name", cli_table, "--item", '{"pk": {"S": "d"}}'))
    ok(aws("delete-item", "--table-name", cli_table, "--key", '{"pk": {"S": "d"}}'))
    got = ok(aws("get-item", "--table-name", cli_table, "--key", '{"pk": {"S": "d"}}'))
    assert "Item" not in got


def test_list_tables(aws: Callable[..., subprocess.CompletedProcess[str]], cli_table: str) -> None:
    names = ok(aws("list-tables"))["TableNames"]
    assert cli_table in names


def test_conditional_failure_exit_code(
    aws: Callable[..., subprocess.CompletedProcess[str]], cli_table: str
) -> None:
    ok(aws("put-item", "--table-name", cli_table, "--item", '{"pk": {"S": "e"}}'))
    result = aws(
        "put-item",
        "--table-name",
        cli_table,
        "--item",
        '{"pk": {"S": "e"}}',
        "--condition-expression",
        "attribute_not_exists(pk)",
    )
    assert result.returncode != 0
    assert "ConditionalCheckFailedException" in result.stderr


def test_error_for_missing_table(aws: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    result = aws("get-item", "--table-name", unique_name("missing"), "--key", '{"pk": {"S": "a"}}')
    assert result.returncode != 0
    assert "ResourceNotFoundException" in result.stderr
    assert "Requested resource not found" in result.stderr


def test_delete_table(
    aws: Callable[..., subprocess.CompletedProcess[str]], dynamodb: Client, cli_table: str
) -> None:
    out = ok(aws("delete-table", "--table-name", cli_table))
    assert out["TableDescription"]["TableStatus"] == "DELETING"
