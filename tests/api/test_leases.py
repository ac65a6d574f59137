"""Two server processes on one PostgreSQL database run each background job once.

Both processes would sweep expired items every 0.2 s; with the TTL job's lease only one
of them does (each logs what it deleted, at debug level), and when that process dies
the other takes the job over.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import _stop
from tests.api.helpers import unique_name
from tests.api.test_multiprocess import Served, _client, serve
from tests.postgres_cluster import PostgresCluster

DELETED = re.compile(r"TTL sweeper deleted (\d+) expired items of table (\S+)")
ROUNDS = 5
PER_ROUND = 4


def _deleted(process: Served, table: str) -> int:
    """How many items of `table` this process's TTL sweeper says it deleted."""
    text = process.log.read_text(errors="replace")
    return sum(int(n) for n, name in DELETED.findall(text) if name == table)


@pytest.fixture
def processes(postgres_cluster: PostgresCluster, tmp_path: Path) -> Iterator[list[Served]]:
    database = postgres_cluster.create_database("leases")
    flags = ("--log-level", "debug", "--ttl-delay", "0", "--ttl-interval", "0.2")
    started: list[Served] = []
    try:
        for i in range(2):
            log = tmp_path / f"server{i}.stderr"
            started.append(serve(database, tmp_path / "data", log, *flags, "--lease-seconds", "3"))
        yield started
    finally:
        for process in started:
            _stop(process)


def _put_expired(url: str, table: str, start: int, count: int) -> None:
    client = _client("dynamodb", url)
    expired = str(int(time.time()) - 60)
    for i in range(start, start + count):
        client.put_item(TableName=table, Item={"pk": {"S": f"item{i}"}, "exp": {"N": expired}})


def _wait_until_swept(url: str, table: str) -> None:
    client = _client("dynamodb", url)
    deadline = time.monotonic() + 30
    while client.scan(TableName=table, ConsistentRead=True)["Count"]:
        assert time.monotonic() < deadline, "expired items were not deleted"
        time.sleep(0.1)


def test_ttl_sweeps_run_in_one_process_and_move_when_it_dies(processes: list[Served]) -> None:
    table = unique_name("leases")
    client = _client("dynamodb", processes[0].url)
    client.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    for round_ in range(ROUNDS):  # expired items keep arriving, through both processes
        _put_expired(processes[round_ % 2].url, table, round_ * PER_ROUND, PER_ROUND)
        time.sleep(0.5)
    _wait_until_swept(processes[1].url, table)
    counts = [_deleted(p, table) for p in processes]
    assert sorted(counts) == [0, ROUNDS * PER_ROUND], counts  # all by one process

    holder, survivor = (processes[0], processes[1]) if counts[0] else (processes[1], processes[0])
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    _put_expired(survivor.url, table, 1000, PER_ROUND)
    _wait_until_swept(survivor.url, table)
    assert _deleted(survivor, table) == PER_ROUND  # the job moved to the survivor
