"""Crash safety: `kill -9` the server under load, restart it, and audit the store.

Writer threads put, delete, ADD-count, transact and batch-write against a table with a
GSI (projection ALL), a NEW_AND_OLD_IMAGES stream and point-in-time recovery, and record
every acknowledged write (a 200) and every write whose outcome is unknown (the server
died before answering). The server is killed by PID at a random moment, restarted on the
same data dir, and the audit checks after every restart:

- the store opens cleanly (the server answers, logs no error, SQLite's integrity_check);
- every acknowledged write is there (deletes: gone); an unknown one is all there or not;
- the GSI equals the table (a Scan of the index) and Query finds acknowledged items;
- no transaction is half applied: both its items or neither, and each account's balance
  equals the sum of the transfers whose items exist (so the balances sum to zero);
- counters lie between the acknowledged increments and those plus the unknown ones;
- the stream (read from TRIM_HORIZON) tells each item's story exactly: per key the
  images chain (each OldImage is the previous NewImage), the last image is the item (or
  a REMOVE when it is gone), and a counter at c has exactly c records;
- PITR stays enabled, and at the end a restore to the latest restorable time equals the
  table.

A second test kills the server while the TTL sweeper deletes expired items and while a
GSI is backfilled onto a table of thousands of items.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.reliability.harness import Api, ApiError, Json, Server, Unavailable

KILLS = int(os.environ.get("RELIABILITY_KILLS", "20"))
ACCOUNTS = 4
COUNTERS = 4
TABLE = "crash"
INDEX = "by_g"
STREAM_SPEC = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
SERVER_FLAGS = ("--ttl-delay", "0", "--ttl-interval", "0.2", "--stream-interval", "0.5")


def s(value: str) -> Json:
    return {"S": value}


def n(value: int) -> Json:
    return {"N": str(value)}


def create_indexed_table(api: Api, name: str, *, stream: bool = True, gsi: bool = True) -> str:
    """pk S; GSI `by_g` on g S (ALL); NEW_AND_OLD_IMAGES stream; returns the stream ARN."""
    request: Json = {
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if gsi:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": INDEX,
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    else:
        request["AttributeDefinitions"] = request["AttributeDefinitions"][:1]
    if stream:
        request["StreamSpecification"] = STREAM_SPEC
    api.call("CreateTable", request)
    return str(api.wait_active(name).get("LatestStreamArn", ""))


# --- the ledger of what was acknowledged ----------------------------------------------


@dataclass
class Ledger:
    """Every write attempted, acknowledged or of unknown outcome; shared by the writers."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    puts: dict[str, Json] = field(default_factory=dict)  # pk -> item, acknowledged
    put_unknown: dict[str, Json] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)  # acknowledged deletes
    delete_unknown: set[str] = field(default_factory=set)
    counter_acked: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    counter_unknown: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    counter_seen: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    tx_acked: set[str] = field(default_factory=set)
    tx_unknown: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    acked: int = 0

    def ack(self, count: int = 1) -> None:
        with self.lock:
            self.acked += count


Writer = Callable[[Api, Ledger, str, threading.Event], None]


def put_writer(api: Api, ledger: Ledger, tag: str, stop: threading.Event) -> None:
    """Unique puts; every fourth acknowledged put is then deleted."""
    i = 0
    while not stop.is_set():
        i += 1
        pk = f"p-{tag}-{i}"
        item = {"pk": s(pk), "g": s(f"g-{pk}"), "v": n(i), "pad": s("x" * random.randrange(300))}
        try:
            api.call("PutItem", {"TableName": TABLE, "Item": item})
        except Unavailable:
            ledger.put_unknown[pk] = item
            continue
        ledger.puts[pk] = item
        ledger.ack()
        if i % 4 == 0:
            try:
                api.call("DeleteItem", {"TableName": TABLE, "Key": {"pk": s(pk)}})
            except Unavailable:
                ledger.delete_unknown.add(pk)
                continue
            ledger.deleted.add(pk)
            ledger.ack()


def counter_writer(api: Api, ledger: Ledger, tag: str, stop: threading.Event) -> None:
    """ADD 1 to hot counters (the GSI key is set in the same update)."""
    while not stop.is_set():
        pk = f"ctr-{random.randrange(COUNTERS)}"
        request = {
            "TableName": TABLE,
            "Key": {"pk": s(pk)},
            "UpdateExpression": "ADD c :one SET g = :g",
            "ExpressionAttributeValues": {":one": n(1), ":g": s(f"g-{pk}")},
            "ReturnValues": "UPDATED_NEW",
        }
        try:
            answer = api.call("UpdateItem", request)
        except Unavailable:
            with ledger.lock:
                ledger.counter_unknown[pk] += 1
            continue
        with ledger.lock:
            ledger.counter_acked[pk] += 1
            seen = int(answer["Attributes"]["c"]["N"])
            ledger.counter_seen[pk] = max(ledger.counter_seen[pk], seen)
            ledger.acked += 1


def tx_writer(api: Api, ledger: Ledger, tag: str, stop: threading.Event) -> None:
    """Transfers: two new items naming the accounts, and -1/+1 on two account balances."""
    i = 0
    while not stop.is_set():
        i += 1
        tx = f"t-{tag}-{i}"
        source, target = random.sample(range(ACCOUNTS), 2)
        record = {"from": s(f"acct-{source}"), "to": s(f"acct-{target}")}
        actions: list[Json] = [
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": {"pk": s(f"{tx}#a"), "g": s(f"g-{tx}#a"), **record},
                }
            },
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": {"pk": s(f"{tx}#b"), "g": s(f"g-{tx}#b"), **record},
                }
            },
        ]
        for acct, delta in ((source, -1), (target, 1)):
            actions.append(
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"pk": s(f"acct-{acct}")},
                        "UpdateExpression": "ADD bal :d SET g = :g",
                        "ExpressionAttributeValues": {":d": n(delta), ":g": s(f"g-acct-{acct}")},
                    }
                }
            )
        try:
            api.call("TransactWriteItems", {"TransactItems": actions})
        except Unavailable:
            ledger.tx_unknown.add(tx)
            continue
        ledger.tx_acked.add(tx)
        ledger.ack(4)


def batch_writer(api: Api, ledger: Ledger, tag: str, stop: threading.Event) -> None:
    """BatchWriteItem of 5 to 25 new items; unprocessed ones count as not written."""
    i = 0
    while not stop.is_set():
        i += 1
        items = {
            f"b-{tag}-{i}-{j}": {
                "pk": s(f"b-{tag}-{i}-{j}"),
                "g": s(f"g-b-{tag}-{i}-{j}"),
                "j": n(j),
            }
            for j in range(random.randint(5, 25))
        }
        requests = [{"PutRequest": {"Item": item}} for item in items.values()]
        try:
            answer = api.call("BatchWriteItem", {"RequestItems": {TABLE: requests}})
        except Unavailable:
            ledger.put_unknown.update(items)
            continue
        unprocessed = {
            r["PutRequest"]["Item"]["pk"]["S"]
            for r in answer.get("UnprocessedItems", {}).get(TABLE, [])
        }
        for pk, item in items.items():
            if pk not in unprocessed:
                ledger.puts[pk] = item
        ledger.ack(len(items) - len(unprocessed))


WRITERS: tuple[Writer, ...] = (put_writer, counter_writer, tx_writer, batch_writer)


def run_writers(
    url: str, ledger: Ledger, round_no: int
) -> tuple[threading.Event, list[threading.Thread]]:
    stop = threading.Event()
    threads = []
    for number, writer in enumerate(WRITERS):

        def body(writer: Writer = writer, tag: str = f"{round_no}.{number}") -> None:
            api = Api(url, timeout=20)
            try:
                writer(api, ledger, tag, stop)
            except ApiError as exc:  # any answer but 200 is a bug here
                ledger.errors.append(f"{writer.__name__}: {exc}")
            finally:
                api.close()

        thread = threading.Thread(target=body, daemon=True)
        thread.start()
        threads.append(thread)
    return stop, threads


# --- the audit -------------------------------------------------------------------------


def seq(record: Json) -> int:
    return int(record["dynamodb"]["SequenceNumber"])


def audit_stream(records: list[Json], items: dict[str, Json]) -> dict[str, list[Json]]:
    """Per key, the images must chain and end in the item's current state."""
    numbers = [seq(r) for r in records]
    assert len(set(numbers)) == len(numbers), "duplicate stream sequence numbers"
    by_key: dict[str, list[Json]] = defaultdict(list)
    for record in sorted(records, key=seq):
        by_key[record["dynamodb"]["Keys"]["pk"]["S"]].append(record)
    for pk, chain in by_key.items():
        previous: Json | None = None
        for record in chain:
            image = record["dynamodb"]
            assert image.get("OldImage") == previous, f"{pk}: broken image chain at {record}"
            expected = {"INSERT": previous is None, "REMOVE": "NewImage" not in image}
            if record["eventName"] in expected:
                assert expected[record["eventName"]], f"{pk}: unexpected {record}"
            previous = image.get("NewImage")
        assert previous == items.get(pk), (
            f"{pk}: stream ends at {previous}, item is {items.get(pk)}"
        )
    missing = set(items) - set(by_key)
    assert not missing, f"items without stream records: {sorted(missing)[:10]}"
    return by_key


def audit(api: Api, ledger: Ledger, arn: str, *, queries: int = 30) -> int:
    """Check everything the ledger knows; returns the number of acknowledged writes checked."""
    assert not ledger.errors, ledger.errors
    items = {item["pk"]["S"]: item for item in api.scan(TABLE)}
    entries = {item["pk"]["S"]: item for item in api.scan(TABLE, INDEX)}
    assert entries == items, (
        f"GSI differs from table: only in table {sorted(set(items) - set(entries))[:5]}, "
        f"only in index {sorted(set(entries) - set(items))[:5]}"
    )
    checked = 0
    for pk, item in ledger.puts.items():
        if pk in ledger.deleted:
            assert pk not in items, f"acknowledged delete of {pk} lost"
        elif pk not in ledger.delete_unknown:
            assert items.get(pk) == item, f"acknowledged put of {pk} lost: {items.get(pk)}"
        checked += 1 + (pk in ledger.deleted)
    for pk, item in ledger.put_unknown.items():
        assert items.get(pk, item) == item, f"{pk} half written: {items[pk]}"
    present = sorted(set(ledger.puts) - ledger.deleted - ledger.delete_unknown)
    for pk in random.sample(present, min(queries, len(present))):
        found = api.call(
            "Query",
            {
                "TableName": TABLE,
                "IndexName": INDEX,
                "KeyConditionExpression": "g = :g",
                "ExpressionAttributeValues": {":g": s(f"g-{pk}")},
            },
        )["Items"]
        assert found == [ledger.puts[pk]], f"Query on the GSI for {pk}: {found}"
    for pk, acked in ledger.counter_acked.items():
        value = int(items[pk]["c"]["N"]) if pk in items else 0
        assert acked <= value <= acked + ledger.counter_unknown[pk], (pk, acked, value)
        assert value >= ledger.counter_seen[pk]
        checked += acked
    balances: dict[str, int] = defaultdict(int)
    for tx in ledger.tx_acked | ledger.tx_unknown:
        a, b = items.get(f"{tx}#a"), items.get(f"{tx}#b")
        assert (a is None) == (b is None), f"transaction {tx} half applied"
        if tx in ledger.tx_acked:
            assert a is not None, f"acknowledged transaction {tx} lost"
            checked += 4
        if a is not None:
            balances[a["from"]["S"]] -= 1
            balances[a["to"]["S"]] += 1
    for acct in range(ACCOUNTS):
        pk = f"acct-{acct}"
        stored = int(items[pk]["bal"]["N"]) if pk in items else 0
        assert stored == balances[pk], f"{pk}: balance {stored}, transfers say {balances[pk]}"
    by_key = audit_stream(api.stream_records(arn), items)
    for pk in ledger.counter_acked:
        count = int(items[pk]["c"]["N"]) if pk in items else 0
        assert len(by_key[pk]) == count, f"{pk}: {len(by_key[pk])} records, counter {count}"
    described = api.call("DescribeContinuousBackups", {"TableName": TABLE})
    pitr = described["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    return checked


def restart_and_check(server: Server) -> Api:
    server.start()
    server.assert_clean_log()
    server.integrity_check()
    return Api(server.url, timeout=60)


@pytest.fixture
def server(workdir: Path) -> Iterator[Server]:
    srv = Server(workdir, *SERVER_FLAGS)
    try:
        yield srv
    finally:
        srv.stop()


def test_kill9_under_load_loses_no_acknowledged_write(
    server: Server, numbers: Callable[[str], None]
) -> None:
    api = restart_and_check(server)
    arn = create_indexed_table(api, TABLE)
    api.call(
        "UpdateContinuousBackups",
        {
            "TableName": TABLE,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )
    ledger = Ledger()
    started = time.monotonic()
    for round_no in range(KILLS):
        stop, threads = run_writers(server.url, ledger, round_no)
        try:
            # Mostly mid-stream; now and then right away, while the writers connect.
            time.sleep(random.choice((0.05, random.uniform(0.3, 1.5), random.uniform(0.3, 1.5))))
            server.kill9()
        finally:
            stop.set()
        for thread in threads:
            thread.join(timeout=60)
        api.close()
        api = restart_and_check(server)
        audit(api, ledger, arn)
    checked = audit(api, ledger, arn, queries=200)
    # PITR: the latest restorable state is the table itself (nothing writes any more).
    time.sleep(2.5)
    api.call(
        "RestoreTableToPointInTime",
        {"SourceTableName": TABLE, "TargetTableName": "restored", "UseLatestRestorableTime": True},
    )
    api.wait_active("restored", timeout=180)
    assert {i["pk"]["S"]: i for i in api.scan("restored")} == {
        i["pk"]["S"]: i for i in api.scan(TABLE)
    }
    server.assert_clean_log()
    unknown = (
        len(ledger.put_unknown) + len(ledger.tx_unknown) + sum(ledger.counter_unknown.values())
    )
    numbers(
        f"{KILLS} kills survived, {ledger.acked} acknowledged writes, {checked} checked after "
        f"the last kill, {unknown} of unknown outcome checked all-or-nothing, "
        f"{time.monotonic() - started:.0f}s"
    )


# --- background work: the TTL sweeper and GSI backfills ------------------------------

TTL_TABLE = "expiring"
BIG_TABLE = "big"
BIG_ITEMS = 10000
DEAD_PER_ROUND = 1000
LIVE_PER_ROUND = 100
BACKGROUND_KILLS = 6


def load(api: Api, table: str, items: list[Json]) -> None:
    for start in range(0, len(items), 25):
        pending = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        while pending:
            answer = api.call("BatchWriteItem", {"RequestItems": {table: pending}})
            pending = answer.get("UnprocessedItems", {}).get(table, [])


def create_index(api: Api, table: str, name: str) -> None:
    api.call(
        "UpdateTable",
        {
            "TableName": table,
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
            ],
            "GlobalSecondaryIndexUpdates": [
                {
                    "Create": {
                        "IndexName": name,
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                }
            ],
        },
    )


def updater(url: str, acked: dict[str, str], stop: threading.Event, errors: list[str]) -> None:
    """Moves items of the big table to new GSI keys while backfills run."""
    api = Api(url, timeout=20)
    try:
        while not stop.is_set():
            pk = f"big-{random.randrange(BIG_ITEMS)}"
            g = f"moved-{random.randrange(10**9)}"
            try:
                api.call(
                    "UpdateItem",
                    {
                        "TableName": BIG_TABLE,
                        "Key": {"pk": s(pk)},
                        "UpdateExpression": "SET g = :g",
                        "ExpressionAttributeValues": {":g": s(g)},
                    },
                )
            except Unavailable:
                acked.pop(pk, None)  # unknown now: either value may be there
                continue
            acked[pk] = g
    except ApiError as exc:
        errors.append(str(exc))
    finally:
        api.close()


def count(api: Api, table: str, prefix: str) -> int:
    request: Json = {
        "TableName": table,
        "Select": "COUNT",
        "FilterExpression": "begins_with(pk, :p)",
        "ExpressionAttributeValues": {":p": s(prefix)},
    }
    total = 0
    while True:
        page = api.call("Scan", request)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def wait_swept(api: Api, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while count(api, TTL_TABLE, "dead-"):
        assert time.monotonic() < deadline, "the TTL sweeper did not finish"
        time.sleep(0.3)


def audit_background(api: Api, ttl_arn: str, moved: dict[str, str], rounds: int) -> tuple[int, int]:
    """TTL table: live items all there, expired ones gone only with a REMOVE record by the
    service, stream and GSI consistent; big table: acknowledged updates there, every ACTIVE
    index equal to the table. Returns (expired items swept, index entries checked)."""
    items = {i["pk"]["S"]: i for i in api.scan(TTL_TABLE)}
    entries = {i["pk"]["S"]: i for i in api.scan(TTL_TABLE, INDEX)}
    assert entries == items, "TTL table's GSI differs from the table"
    dead = {f"dead-{r}-{i}" for r in range(rounds) for i in range(DEAD_PER_ROUND)}
    live = {f"live-{r}-{i}" for r in range(rounds) for i in range(LIVE_PER_ROUND)}
    assert live <= set(items), f"live items deleted: {sorted(live - set(items))[:5]}"
    assert set(items) <= live | dead
    removed = dead - set(items)
    by_key = audit_stream(api.stream_records(ttl_arn), items)
    for pk in removed:
        last = by_key[pk][-1]
        assert last["eventName"] == "REMOVE", last
        assert last.get("userIdentity") == {
            "Type": "Service",
            "PrincipalId": "dynamodb.amazonaws.com",
        }, last
    big = {i["pk"]["S"]: i for i in api.scan(BIG_TABLE)}
    assert len(big) == BIG_ITEMS
    for pk, g in moved.items():
        assert big[pk]["g"]["S"] == g, f"acknowledged update of {pk} lost"
    indexed = 0
    desc = api.call("DescribeTable", {"TableName": BIG_TABLE})["Table"]
    for index in desc.get("GlobalSecondaryIndexes", []):
        if index["IndexStatus"] == "ACTIVE":
            name = index["IndexName"]
            assert {i["pk"]["S"]: i for i in api.scan(BIG_TABLE, name)} == big, name
            indexed += len(big)
    return len(removed), indexed


def test_kill9_during_ttl_sweep_and_gsi_backfill(
    server: Server, numbers: Callable[[str], None]
) -> None:
    api = restart_and_check(server)
    ttl_arn = create_indexed_table(api, TTL_TABLE)
    api.call(
        "UpdateTimeToLive",
        {
            "TableName": TTL_TABLE,
            "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "exp"},
        },
    )
    create_indexed_table(api, BIG_TABLE, stream=False, gsi=False)
    load(
        api,
        BIG_TABLE,
        [
            {"pk": s(f"big-{i}"), "g": s(f"g-{i % 97}"), "pad": s("y" * 200)}
            for i in range(BIG_ITEMS)
        ],
    )
    moved: dict[str, str] = {}
    errors: list[str] = []
    backfill_kills = sweep_kills = indexed = 0
    for round_no in range(BACKGROUND_KILLS):
        # New work each round, timed to overlap: expired items fall due at `due`
        # (--ttl-delay 0) and one more GSI starts backfilling just before; the kill lands
        # while both run (a sweep deletes 100 items per transaction, a backfill chunk
        # indexes up to 500).
        api.wait_active(BIG_TABLE, timeout=180)  # one index build at a time per table
        due = int(time.time()) + 2
        batch = [
            {"pk": s(f"{kind}-{round_no}-{i}"), "g": s(f"g-{kind}-{round_no}-{i}"), "exp": n(exp)}
            for i in range(DEAD_PER_ROUND)
            for kind, exp in (("dead", due), ("live", due + 3600))
            if kind == "dead" or i < LIVE_PER_ROUND
        ]
        stop = threading.Event()
        thread = threading.Thread(
            target=updater, args=(server.url, moved, stop, errors), daemon=True
        )
        thread.start()
        try:
            load(api, TTL_TABLE, batch)
            time.sleep(max(0.0, due - 0.2 - time.time()))
            create_index(api, BIG_TABLE, f"idx{round_no}")
            time.sleep(max(0.0, due + random.uniform(0.0, 0.3) - time.time()))
            desc = api.call("DescribeTable", {"TableName": BIG_TABLE})["Table"]
            backfill_kills += any(
                i["IndexStatus"] != "ACTIVE" for i in desc["GlobalSecondaryIndexes"]
            )
            sweep_kills += 0 < count(api, TTL_TABLE, f"dead-{round_no}-") < DEAD_PER_ROUND
            server.kill9()
        finally:
            stop.set()
        thread.join(timeout=60)
        assert not thread.is_alive() and not errors, errors
        api.close()
        api = restart_and_check(server)
        # The restarted sweeper finishes the round's expired items; the audit needs the
        # TTL table at rest (a Scan and a stream read are not one snapshot).
        wait_swept(api)
        swept, round_indexed = audit_background(api, ttl_arn, moved, round_no + 1)
        assert swept == (round_no + 1) * DEAD_PER_ROUND
        indexed += round_indexed
    # Let the backfills finish; then every index equals the table.
    api.wait_active(BIG_TABLE, timeout=180)
    swept, final_indexed = audit_background(api, ttl_arn, moved, BACKGROUND_KILLS)
    assert final_indexed == BACKGROUND_KILLS * BIG_ITEMS
    server.assert_clean_log()
    numbers(
        f"{BACKGROUND_KILLS} kills survived ({backfill_kills} during a GSI backfill, "
        f"{sweep_kills} during the TTL sweep), {indexed + final_indexed} index entries and "
        f"{swept} TTL deletions checked, {len(moved)} acknowledged concurrent updates checked"
    )


# --- backups and restores ----------------------------------------------------------------

FROZEN_TABLE = "frozen"
FROZEN_ITEMS = 8000
BACKUP_ROUNDS = 4


def wait_for(check: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout:.0f}s"
        time.sleep(0.3)


def test_kill9_during_backup_and_restore(server: Server, numbers: Callable[[str], None]) -> None:
    """A backup or restore under way at a crash is resumed by the restarted server and
    ends equal to its source (table and GSI)."""
    api = restart_and_check(server)
    create_indexed_table(api, FROZEN_TABLE, stream=False)
    load(
        api,
        FROZEN_TABLE,
        [
            {"pk": s(f"f-{i}"), "g": s(f"g-{i % 89}"), "pad": s("z" * 300)}
            for i in range(FROZEN_ITEMS)
        ],
    )
    source = {i["pk"]["S"]: i for i in api.scan(FROZEN_TABLE)}
    kills = midway = 0
    for round_no in range(BACKUP_ROUNDS):
        arn = api.call(
            "CreateBackup", {"TableName": FROZEN_TABLE, "BackupName": f"backup-{round_no}"}
        )["BackupDetails"]["BackupArn"]

        def backup_status(arn: str = arn, api: Api = api) -> str:
            answer = api.call("DescribeBackup", {"BackupArn": arn})
            return str(answer["BackupDescription"]["BackupDetails"]["BackupStatus"])

        # A backup of this table takes ~0.2 s, a restore ~0.5 s (2 busy cores).
        time.sleep(random.uniform(0.0, 0.05))
        midway += backup_status() == "CREATING"
        server.kill9()
        api.close()
        api = restart_and_check(server)
        kills += 1
        wait_for(
            lambda: backup_status() == "AVAILABLE", "a backup interrupted by a crash completes"
        )
        target = f"restored-{round_no}"
        api.call("RestoreTableFromBackup", {"TargetTableName": target, "BackupArn": arn})
        time.sleep(random.uniform(0.0, 0.15))
        status = api.call("DescribeTable", {"TableName": target})["Table"]["TableStatus"]
        midway += status == "CREATING"
        server.kill9()
        api.close()
        api = restart_and_check(server)
        kills += 1
        api.wait_active(target, timeout=120)
        assert {i["pk"]["S"]: i for i in api.scan(target)} == source
        assert {i["pk"]["S"]: i for i in api.scan(target, INDEX)} == source
    server.assert_clean_log()
    numbers(
        f"{kills} kills survived ({midway} while a backup or restore was under way), "
        f"{BACKUP_ROUNDS} restored tables of {FROZEN_ITEMS} items checked"
    )
