"""Server processes sharing a store enforce a provisioned table's rate together.

Each process counts the live processes (their member rows, engine/leases.py) and admits
its share of the rate and burst, so clients writing through both processes as fast as
they can get about the table's rate in all, not twice it: once with `--workers 2` on
one SQLite file, once with two servers (two "hosts") on one PostgreSQL database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import _stop
from tests.api.helpers import unique_name
from tests.api.test_multiprocess import Served, _client, serve
from tests.postgres_cluster import PostgresCluster

WCU = 5
SECONDS = 3.0  # of writing as fast as the clients can
CLIENTS = 3  # per server URL (each its own connection)
# Short leases (a step every 2/3 s) and one second of burst credit (the minimum).
FLAGS = ("--log-level", "info", "--lease-seconds", "2", "--burst-seconds", "1")
SHARED = "server processes sharing the store: "


def _logged(servers: list[Served]) -> str:
    return "".join(server.log.read_text(errors="replace") for server in servers)


def _wait_until_shared(servers: list[Served], logs: int) -> None:
    """Until `logs` lines say two processes count each other."""
    deadline = time.monotonic() + 20
    while _logged(servers).count(SHARED + "2") < logs:
        assert time.monotonic() < deadline, "the processes did not see each other"
        time.sleep(0.1)


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[list[Served]]:
    """`dynastore serve --workers 2` on one SQLite file: one URL, two processes."""
    database = f"sqlite:///{tmp_path / 'store.db'}"
    server = serve(
        database, tmp_path / "data", tmp_path / "server.stderr", "--workers", "2", *FLAGS
    )
    try:
        _wait_until_shared([server], 2)
        yield [server]
    finally:
        _stop(server)


@pytest.fixture
def two_hosts(postgres_cluster: PostgresCluster, tmp_path: Path) -> Iterator[list[Served]]:
    """Two servers on one PostgreSQL database: two URLs."""
    database = postgres_cluster.create_database("shared_capacity")
    servers: list[Served] = []
    try:
        for i in range(2):
            log = tmp_path / f"server{i}.stderr"
            servers.append(serve(database, tmp_path / "data", log, *FLAGS))
        _wait_until_shared(servers, 2)
        yield servers
    finally:
        for server in servers:
            _stop(server)


def _accepted_writes(urls: list[str]) -> tuple[int, int]:
    """Create a WCU-provisioned table, write to it through every URL from CLIENTS
    threads each for SECONDS; returns (accepted, throttled)."""
    table = unique_name("shared")
    client = _client("dynamodb", urls[0])
    client.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": WCU},
    )
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 0.2})
    time.sleep(0.3)  # every process has re-read the catalog
    counts = {"accepted": 0, "throttled": 0}
    lock = threading.Lock()
    errors: list[BaseException] = []
    start = time.monotonic()

    def write(url: str, worker: int) -> None:
        writer = _client("dynamodb", url)
        n = 0
        while time.monotonic() - start < SECONDS:
            n += 1
            try:
                writer.put_item(TableName=table, Item={"pk": {"S": f"{url}/{worker}/{n}"}})
                outcome = "accepted"
            except ClientError as err:
                if err.response["Error"]["Code"] != "ProvisionedThroughputExceededException":
                    errors.append(err)
                    return
                outcome = "throttled"
            with lock:
                counts[outcome] += 1

    threads = [
        threading.Thread(target=write, args=(url, i)) for url in urls for i in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return counts["accepted"], counts["throttled"]


def _check(servers: list[Served]) -> None:
    """About the table's rate and burst in all: WCU * (SECONDS + 1). (Each process alone
    would admit that much, so two without sharing twice that.)"""
    accepted, throttled = _accepted_writes([server.url for server in servers])
    logged = _logged(servers)
    assert throttled > 0
    assert WCU * SECONDS * 0.6 <= accepted <= WCU * (SECONDS + 1) + 2, (accepted, logged)


def test_workers_of_one_server_share_the_rate(two_workers: list[Served]) -> None:
    _check(two_workers)


def test_servers_on_one_database_share_the_rate(two_hosts: list[Served]) -> None:
    _check(two_hosts)
