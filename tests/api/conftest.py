"""Fixtures for the black-box API suite: a live server, boto3 clients, throwaway tables.

Point the suite at any running DynamoDB-compatible endpoint with
DYNASTORE_TEST_ENDPOINT=http://127.0.0.1:4567; otherwise one dynastore server is
started per test session (per xdist worker) on a free port and stopped at the end.
DYNASTORE_TEST_DATABASE=postgresql://... makes that server use this database
(tests/run_api_postgres.py runs the suite so against a throwaway PostgreSQL cluster).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.cloudwatch_clients import (
    PROTOCOLS,
    default_client,
    pinned_models,
    protocol_client,
)
from tests.api.helpers import (
    Client,
    TableFactory,
    aws_client,
    create_table,
    seed,
    unique_name,
)
from tests.postgres_cluster import postgres_cluster

__all__ = ["postgres_cluster"]  # the throwaway cluster fixture (test_multiprocess.py)

ENDPOINT_ENV = "DYNASTORE_TEST_ENDPOINT"
DATABASE_ENV = "DYNASTORE_TEST_DATABASE"
STARTUP_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()  # SIGTERM to this PID only
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the server under test."""
    configured = os.environ.get(ENDPOINT_ENV)
    if configured:
        yield configured.rstrip("/")
        return
    flags = [
        # TTL and streams at test speed (test_ttl.py, test_streams.py)
        "--ttl-delay", "1", "--ttl-interval", "0.2", "--ttl-change-window", "2",
        "--stream-interval", "0.2", "--stream-shard-records", "20",
    ]  # fmt: skip
    if os.environ.get(DATABASE_ENV):
        flags += ["--database", os.environ[DATABASE_ENV]]
    with own_server(tmp_path_factory.mktemp("dynastore"), *flags) as url:
        yield url


def _wait_for_server(proc: subprocess.Popen[bytes], port: int, stderr_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"dynastore exited with {proc.returncode} before answering:\n"
                + stderr_path.read_text(errors="replace"),
                pytrace=False,
            )
        if _port_answers(port):
            return
        time.sleep(0.1)
    _stop(proc)
    pytest.fail(
        f"dynastore did not answer on port {port} within {STARTUP_TIMEOUT:.0f}s:\n"
        + stderr_path.read_text(errors="replace"),
        pytrace=False,
    )


@contextlib.contextmanager
def own_server(
    work: Path,
    *flags: str,
    auth: str | None = "accept",
    env: Mapping[str, str | None] | None = None,
) -> Iterator[str]:
    """A server of a test module's own on data directory `work`, with extra `flags`;
    yields its URL. `auth` is its --auth mode (None: the server's default, verify when
    the flags name a credentials file); `env` changes its environment (None unsets)."""
    port = _free_port()
    stderr_path = work / "server.stderr"
    command = [
        sys.executable, "-m", "dynastore", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--data-dir", str(work), "--log-level", "warning", *flags,
    ]  # fmt: skip
    if auth is not None:
        command += ["--auth", auth]
    environment = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, env=environment)
    try:
        _wait_for_server(proc, port, stderr_path)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


def _client(endpoint: str, *, validate: bool) -> Client:
    return aws_client(endpoint, parameter_validation=validate, connect_timeout=10, read_timeout=60)


@pytest.fixture(scope="session")
def dynamodb(endpoint: str) -> Client:
    """A boto3 DynamoDB client as a user would build it (region us-east-1, no retries)."""
    return _client(endpoint, validate=True)


@pytest.fixture(scope="session")
def unchecked(endpoint: str) -> Client:
    """The same client with botocore's parameter validation off, to reach server checks."""
    return _client(endpoint, validate=False)


def _drop_table(client: Client, name: str) -> None:
    """Delete a test table, lifting deletion protection if a test turned it on."""
    for _ in range(50):
        try:
            client.delete_table(TableName=name)
            return
        except ClientError as err:
            code = err.response["Error"]["Code"]
            if code == "ResourceNotFoundException":
                return
            if code == "ValidationException":  # deletion protection is on
                client.update_table(TableName=name, DeletionProtectionEnabled=False)
            elif code != "ResourceInUseException":  # still CREATING/UPDATING: retry
                raise
        time.sleep(0.2)


@contextlib.contextmanager
def dropped_after(client: Client) -> Iterator[Callable[[str], str]]:
    """Register table names of `client` to delete on leaving; registering returns the name."""
    names: list[str] = []

    def register(name: str) -> str:
        names.append(name)
        return name

    yield register
    for name in names:
        _drop_table(client, name)


@pytest.fixture
def cleanup(dynamodb: Client) -> Iterator[Callable[[str], str]]:
    """Register a table name to be deleted after the test; returns the name."""
    with dropped_after(dynamodb) as register:
        yield register


@pytest.fixture
def table(dynamodb: Client, cleanup: Callable[[str], str]) -> TableFactory:
    """Create a uniquely named ACTIVE table (pk S [+ sk S], on-demand unless overridden).

    Keyword arguments are passed to CreateTable and override the defaults, e.g.
    `table(BillingMode="PROVISIONED", ProvisionedThroughput={...})`.
    """

    def make(range_key: bool = False, **create: Any) -> str:
        name = cleanup(create.pop("TableName", unique_name()))
        return create_table(dynamodb, name, range_key, **create)

    return make


@pytest.fixture
def seeded(request: pytest.FixtureRequest, dynamodb: Client, table: TableFactory) -> str:
    """A new table holding the requesting test module's ``ITEM``."""
    name = table()
    seed(dynamodb, name, request.module.ITEM)
    return name


# --- CloudWatch (test_cloudwatch*.py) ------------------------------------------------------


@pytest.fixture(scope="session")
def cloudwatch_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return pinned_models(tmp_path_factory)


@pytest.fixture(params=PROTOCOLS)
def cw(request: pytest.FixtureRequest, endpoint: str, cloudwatch_models: dict[str, Path]) -> Client:
    """A CloudWatch client in each protocol in turn (CBOR, JSON 1.0, Query)."""
    return protocol_client(endpoint, cloudwatch_models, request.param)


@pytest.fixture(scope="session")
def cloudwatch(endpoint: str) -> Client:
    """The CloudWatch client as boto3 builds it by default."""
    return default_client(endpoint)


@pytest.fixture
def alarms(cloudwatch: Client) -> Iterator[Callable[[str], str]]:
    """Register CloudWatch alarm names to delete after the test (the last first, so
    composite alarms go before their children)."""
    names: list[str] = []

    def register(name: str) -> str:
        names.append(name)
        return name

    yield register
    for name in reversed(names):
        cloudwatch.delete_alarms(AlarmNames=[name])
