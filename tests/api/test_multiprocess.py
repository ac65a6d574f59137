"""Three server processes on one PostgreSQL database keep DynamoDB's guarantees.

Three clients, each talking to a different process, race optimistic (conditional)
increments, atomic counters and TransactWriteItems transfers on the same items. No
update may be lost, no condition may be bypassed, and the table's stream must list every
change once, with sequence numbers unique and ordered per key in commit order. A server
whose KMS master key is not the store's refuses to start.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.api.conftest import _free_port, _stop, _wait_for_server
from tests.api.helpers import ACCESS_KEY, REGION, SECRET_KEY, Client, unique_name
from tests.api.test_streams import LambdaConsumer
from tests.postgres_cluster import PostgresCluster

PROCESSES = 3
ROUNDS = 25
START_BALANCE = PROCESSES * ROUNDS - 5  # so exactly 5 transfers must be refused
NEW_AND_OLD = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def _client(service: str, endpoint: str) -> Client:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(region_name=REGION, retries={"max_attempts": 0}, read_timeout=60),
    )


@pytest.fixture(scope="module")
def endpoints(
    postgres_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    """PROCESSES servers, one database, one data directory (shared KMS master key)."""
    database = postgres_cluster.create_database("multiprocess")
    work = tmp_path_factory.mktemp("multiprocess")
    procs: list[Served] = []
    try:
        for i in range(PROCESSES):
            # One at a time: the first creates the schema and the data directory's keys.
            flags = ("--stream-interval", "0.2", "--stream-shard-records", "40")
            procs.append(serve(database, work / "data", work / f"server{i}.stderr", *flags))
        yield [proc.url for proc in procs]
    finally:
        for proc in procs:
            _stop(proc)


class Served(subprocess.Popen[bytes]):
    """A server process, the URL it answers on and the file of its stderr."""

    url = ""
    log = Path()


def serve_command(database: str, data: Path, *flags: str) -> tuple[int, list[str]]:
    """A `dynastore serve` command on `database` and a free port (`flags` come last, and
    win): (port, command)."""
    port = _free_port()
    return port, [
        sys.executable, "-m", "dynastore", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--database", database, "--data-dir", str(data), "--auth", "accept",
        "--log-level", "warning", *flags,
    ]  # fmt: skip


def serve(
    database: str, data: Path, log: Path, *flags: str, env: dict[str, str] | None = None
) -> Served:
    """Start a server on `database`, its stderr in `log`; returns once it answers."""
    port, command = serve_command(database, data, *flags)
    with log.open("wb") as stderr:
        proc = Served(command, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
    proc.url, proc.log = f"http://127.0.0.1:{port}", log
    _wait_for_server(proc, port, log)
    return proc


def _n(item: dict[str, Any], name: str) -> int:
    return int(item[name]["N"])


def _race(endpoints: list[str], table: str) -> dict[str, int]:
    """Each client works through its own server process; returns the outcome counts."""
    counts = {"refused": 0, "transferred": 0, "retries": 0}
    lock = threading.Lock()

    def work(index: int) -> None:
        client = _client("dynamodb", endpoints[index])
        for _ in range(ROUNDS):
            _optimistic_increment(client, table, counts, lock)
            client.update_item(
                TableName=table,
                Key={"pk": {"S": "hits"}},
                UpdateExpression="ADD n :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
            _transfer(client, table, index, counts, lock)

    _in_parallel(work)
    return counts


def _in_parallel(work: Callable[[int], None]) -> None:
    """`work(index)` for each process index, in threads of their own; fails on any error."""
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            work(index)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(PROCESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def _optimistic_increment(
    client: Client, table: str, counts: dict[str, int], lock: threading.Lock
) -> None:
    """Read n, write n + 1 only if n is unchanged; retry on a lost race."""
    while True:
        item = client.get_item(
            TableName=table, Key={"pk": {"S": "counter"}}, ConsistentRead=True
        ).get("Item")
        old = _n(item, "n") if item else 0
        try:
            client.put_item(
                TableName=table,
                Item={"pk": {"S": "counter"}, "n": {"N": str(old + 1)}},
                ConditionExpression="attribute_not_exists(n) OR n = :old",
                ExpressionAttributeValues={":old": {"N": str(old)}},
            )
            return
        except ClientError as err:
            if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            with lock:
                counts["retries"] += 1


def _transfer(
    client: Client, table: str, index: int, counts: dict[str, int], lock: threading.Lock
) -> None:
    """Move 1 from a to b if a has it, and count the transfer on the client's item."""
    while True:
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": table,
                            "Key": {"pk": {"S": "a"}},
                            "UpdateExpression": "SET n = n - :one",
                            "ConditionExpression": "n >= :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                    {
                        "Update": {
                            "TableName": table,
                            "Key": {"pk": {"S": "b"}},
                            "UpdateExpression": "ADD n :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                    {
                        "Update": {
                            "TableName": table,
                            "Key": {"pk": {"S": f"client{index}"}},
                            "UpdateExpression": "ADD n :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                ]
            )
            outcome = "transferred"
        except ClientError as err:
            code = err.response["Error"]["Code"]
            reasons = [r.get("Code") for r in err.response.get("CancellationReasons", [])]
            if code == "TransactionCanceledException" and "ConditionalCheckFailed" in reasons:
                outcome = "refused"
            elif code in ("TransactionCanceledException", "TransactionConflictException"):
                with lock:
                    counts["retries"] += 1
                continue  # a conflict with a concurrent transaction: DynamoDB says retry
            else:
                raise
        with lock:
            counts[outcome] += 1
        return


def test_three_processes_lose_no_update(endpoints: list[str]) -> None:
    dynamodb = _client("dynamodb", endpoints[0])
    table = unique_name()
    dynamodb.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification=NEW_AND_OLD,
    )
    for url in endpoints:  # every process sees the new table (shared catalog)
        deadline = time.monotonic() + 10
        while _client("dynamodb", url).describe_table(TableName=table)["Table"][
            "TableStatus"
        ] != "ACTIVE" and (time.monotonic() < deadline):
            time.sleep(0.1)
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": str(START_BALANCE)}})

    counts = _race(endpoints, table)

    total = PROCESSES * ROUNDS
    items = {
        item["pk"]["S"]: _n(item, "n")
        for url in endpoints
        for item in _client("dynamodb", url).scan(TableName=table, ConsistentRead=True)["Items"]
    }
    assert items["counter"] == total  # every successful conditional write counted once
    assert items["hits"] == total
    assert counts["transferred"] == START_BALANCE
    assert counts["refused"] == total - START_BALANCE
    assert items["a"] == 0  # never below zero: the condition held across processes
    assert items["b"] == START_BALANCE
    assert sum(items[f"client{i}"] for i in range(PROCESSES)) == START_BALANCE
    _check_stream(endpoints, table, items, counts)


def _check_stream(
    endpoints: list[str], table: str, items: dict[str, int], counts: dict[str, int]
) -> None:
    """Every change once, sequence numbers unique and increasing per key, images in order."""
    total = PROCESSES * ROUNDS
    expected = 1 + 2 * total + 3 * counts["transferred"]  # a's first put, then the race
    arn = _client("dynamodb", endpoints[0]).describe_table(TableName=table)["Table"][
        "LatestStreamArn"
    ]
    consumer = LambdaConsumer(_client("dynamodbstreams", endpoints[1]), arn)
    deadline = time.monotonic() + 20
    while len(consumer.records) < expected and time.monotonic() < deadline:
        consumer.poll()
        time.sleep(0.1)
    records = consumer.records
    assert len(records) == expected
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert len(set(numbers)) == len(numbers)
    per_key: dict[str, list[tuple[int, int | None, int]]] = {}
    for number, record in zip(numbers, records, strict=True):
        data = record["dynamodb"]
        old = data.get("OldImage")
        per_key.setdefault(data["Keys"]["pk"]["S"], []).append(
            (number, _n(old, "n") if old else None, _n(data["NewImage"], "n"))
        )
    for pk, changes in per_key.items():
        assert [c[0] for c in changes] == sorted(c[0] for c in changes), pk
        # Each change starts from the image the previous one left: nothing lost between.
        for before, after in itertools.pairwise(changes):
            assert after[1] == before[2], pk
        assert changes[-1][2] == items[pk], pk
    assert [c[2] for c in per_key["counter"]] == list(range(1, total + 1))
    assert [c[2] for c in per_key["hits"]] == list(range(1, total + 1))


def test_processes_share_one_catalog(endpoints: list[str]) -> None:
    """A table created through one process is described, listed and deleted by others."""
    name = unique_name()
    first, second, third = (_client("dynamodb", url) for url in endpoints)
    first.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    second.put_item(TableName=name, Item={"pk": {"S": "x"}})
    assert name in third.list_tables()["TableNames"]
    assert third.get_item(TableName=name, Key={"pk": {"S": "x"}})["Item"] == {"pk": {"S": "x"}}
    third.delete_table(TableName=name)
    deadline = time.monotonic() + 10
    while name in first.list_tables()["TableNames"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert name not in first.list_tables()["TableNames"]
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        second.put_item(TableName=name, Item={"pk": {"S": "y"}})


def test_concurrent_catalog_changes_through_three_processes_all_land(
    endpoints: list[str],
) -> None:
    """Tags from every process at once, with TTL, point-in-time recovery and throughput
    changed in between, each through another process: no change is lost."""
    name = unique_name()
    clients = [_client("dynamodb", url) for url in endpoints]
    arn = clients[0].create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableArn"]
    for client in clients:
        client.describe_table(TableName=name)  # cached by every process
    tags = 8
    changes: list[Callable[[Client], object]] = [
        lambda c: c.update_table(
            TableName=name,
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 3},
        ),
        lambda c: c.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
        ),
        lambda c: c.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        ),
    ]

    def work(index: int) -> None:
        for n in range(tags):
            if n == tags // 2:
                changes[index](clients[index])
            tag = {"Key": f"p{index}-{n}", "Value": "v"}
            clients[index].tag_resource(ResourceArn=arn, Tags=[tag])

    _in_parallel(work)
    wanted = {f"p{i}-{n}" for i in range(PROCESSES) for n in range(tags)}
    for client in clients:
        assert {t["Key"] for t in client.list_tags_of_resource(ResourceArn=arn)["Tags"]} == wanted
        table = client.describe_table(TableName=name)["Table"]
        assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
        ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl["TimeToLiveStatus"] == "ENABLED"
        pitr = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_a_host_with_another_master_key_refuses_to_start(
    postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    """Two hosts, one database: a server whose data directory made its own master.key is
    refused at start-up with a message; given the first host's key, it starts."""
    database = postgres_cluster.create_database("masterkey")
    env = {k: v for k, v in os.environ.items() if k != "DYNASTORE_MASTER_KEY"}
    _stop(serve(database, tmp_path / "host1", tmp_path / "host1.stderr", env=env))
    _, command = serve_command(database, tmp_path / "host2")
    refused = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert refused.returncode == 1
    assert "Error: the KMS master key does not match this store" in refused.stderr
    assert "Every server sharing a database must use the master key" in refused.stderr
    assert "Traceback" not in refused.stderr
    key = (tmp_path / "host1" / "master.key").read_text().strip()
    env["DYNASTORE_MASTER_KEY"] = key
    _stop(serve(database, tmp_path / "host2", tmp_path / "host2.stderr", env=env))
