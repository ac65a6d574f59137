"""README's examples run as written (endpoint and table name substituted)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.api.helpers import unique_name

README = Path(__file__).parents[2] / "README.md"


def _block(language: str, after: str) -> str:
    text = README.read_text()
    start = text.index(after)
    match = re.search(rf"```{language}\n(.*?)```", text[start:], re.S)
    assert match, f"no {language} block after {after!r}"
    return match.group(1)


def _adapt(code: str, endpoint: str, table: str) -> str:
    return code.replace("http://127.0.0.1:8000", endpoint).replace('"jobs"', f'"{table}"')


def test_boto3_example(endpoint: str) -> None:
    table = unique_name()
    code = _adapt(_block("python", "### boto3"), endpoint, table)
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    ddb = namespace["ddb"]
    item = ddb.get_item(TableName=table, Key={"jobId": {"S": "j1"}})["Item"]  # type: ignore[attr-defined]
    assert item == {"jobId": {"S": "j1"}, "status": {"S": "queued"}}
    ddb.delete_table(TableName=table)  # type: ignore[attr-defined]


def test_aws_cli_example(endpoint: str) -> None:
    aws = subprocess.run(["aws", "--version"], capture_output=True, check=False)
    if aws.returncode != 0:
        pytest.fail("the AWS CLI is a test dependency (pip install awscli)")
    table = unique_name()
    script = _block("sh", "### AWS CLI").replace("http://127.0.0.1:8000", endpoint)
    script = script.replace("--table-name jobs", f"--table-name {shlex.quote(table)}")
    env = {**os.environ, "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert '"queued"' in result.stdout  # get-item and query
    assert '"Count": 1' in result.stdout  # query
    assert '"AttributeName": "expiresAt"' in result.stdout  # update-time-to-live
    assert result.stdout.splitlines()[-1] == "ACTIVE"  # describe-table
