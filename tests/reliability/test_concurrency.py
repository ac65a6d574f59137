"""Concurrency: racers in threads and in processes on the same hot keys; one serial order
must explain everything they were told.

Every racer (tests/reliability/racers.py) mixes, in its own random order: ADD 1 on two hot
counters (UPDATED_NEW), optimistic read-then-conditional-write on one item, puts with
attribute_not_exists on 20 keys every racer also claims, transfers between four
accounts (a TransactWriteItems that refuses to overdraw and also counts on a hot
counter), and 25-item BatchWriteItems on the same 25 keys. The checks:

- counters are exact, and the values UpdateItem returned are distinct: increment k of a
  counter saw k, as a serial order would;
- the optimistic version equals the number of wins, its log lists each win once;
- each claimed key has exactly one winner, and the item names it;
- balances equal the start plus the accepted transfers, none is negative;
- every batch item is whole (one writer's put, not a mix) and was acknowledged;
- the stream (NEW_AND_OLD_IMAGES) shows each counter going 1, 2, 3, ... and the
  optimistic version going 1, 2, 3, ... in sequence-number order: the commit order is
  the serial order the answers imply.

Once with one server process, once with `--workers 2` (two processes, one SQLite file).
"""

from __future__ import annotations

import multiprocessing
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.reliability import racers
from tests.reliability.harness import Api, Json, Server
from tests.reliability.racers import TABLE, Outcome, n, s

THREADS = 6
PROCESSES = 2
THREADS_PER_PROCESS = 3


@pytest.fixture(params=[1, 2], ids=["workers1", "workers2"])
def server(request: pytest.FixtureRequest, workdir: Path) -> Iterator[Server]:
    srv = Server(workdir, "--workers", str(request.param))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def setup_table(api: Api) -> str:
    api.call(
        "CreateTable",
        {
            "TableName": TABLE,
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        },
    )
    arn = str(api.wait_active(TABLE)["LatestStreamArn"])
    api.call(
        "PutItem", {"TableName": TABLE, "Item": {"pk": s("opt"), "ver": n(0), "log": {"L": []}}}
    )
    for acct in range(racers.ACCOUNTS):
        api.call(
            "PutItem",
            {"TableName": TABLE, "Item": {"pk": s(f"acct-{acct}"), "bal": n(racers.START_BALANCE)}},
        )
    return arn


def run_race(url: str, seed: int) -> list[Outcome]:
    """THREADS racers here and PROCESSES processes of THREADS_PER_PROCESS racers each."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    go = context.Event()
    processes = [
        context.Process(
            target=racers.race_process,
            args=(
                url,
                [f"p{p}t{t}" for t in range(THREADS_PER_PROCESS)],
                seed + 100 * (p + 1),
                queue,
                go,
            ),
        )
        for p in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        assert queue.get(timeout=120) == "ready"
    go.set()
    outcomes = racers.race_threads(url, [f"t{t}" for t in range(THREADS)], seed)
    for _ in processes:
        outcomes += queue.get(timeout=300)
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return outcomes


def check_serial(api: Api, arn: str, outcomes: list[Outcome]) -> dict[str, int]:
    errors = [e for o in outcomes for e in o.errors]
    assert not errors, errors
    items = {i["pk"]["S"]: i for i in api.scan(TABLE)}
    checked: dict[str, int] = Counter()

    # Counters: exact, and every UPDATED_NEW value seen once (transfers add to hot-0 too).
    transfers = [t for o in outcomes for t in o.transfers]
    for key in racers.COUNTERS:
        seen = sorted(v for o in outcomes for v in o.increments.get(key, []))
        extra = len(transfers) if key == "hot-0" else 0
        total = int(items[key]["c"]["N"])
        assert total == len(seen) + extra, f"{key}: {total} != {len(seen)} + {extra}"
        assert len(set(seen)) == len(seen), f"{key}: two increments saw the same value"
        assert set(seen) <= set(range(1, total + 1))
        checked["counter increments"] += len(seen) + extra

    # Optimistic concurrency: no lost update.
    wins = sorted(v for o in outcomes for v in o.optimistic)
    assert wins == list(range(1, len(wins) + 1)), "two racers won the same version"
    opt = items["opt"]
    assert int(opt["ver"]["N"]) == len(wins)
    log = Counter(entry["S"] for entry in opt["log"]["L"])
    assert log == Counter({o.racer: len(o.optimistic) for o in outcomes if o.optimistic})
    checked["optimistic writes"] += len(wins)

    # attribute_not_exists: exactly one winner per key.
    winners: dict[str, list[str]] = defaultdict(list)
    for outcome in outcomes:
        for key in outcome.claims:
            winners[key].append(outcome.racer)
    for k in range(racers.CLAIMS):
        key = f"claim-{k}"
        assert len(winners[key]) == 1, f"{key} won by {winners[key]}"
        assert items[key]["owner"]["S"] == winners[key][0]
    checked["conditional puts"] += racers.CLAIMS * len(outcomes)

    # Transactions: balances follow the accepted transfers.
    balance = {f"acct-{a}": racers.START_BALANCE for a in range(racers.ACCOUNTS)}
    for source, target in transfers:
        balance[f"acct-{source}"] -= 1
        balance[f"acct-{target}"] += 1
    for acct, expected in balance.items():
        assert int(items[acct]["bal"]["N"]) == expected, acct
        assert expected >= 0
    checked["transfers accepted"] += len(transfers)
    checked["transfers refused"] += sum(o.refused for o in outcomes)

    # Batch writes: every item is one acknowledged put, whole.
    acked = {(o.racer, number, key) for o in outcomes for number, key in o.batch_writes}
    for k in range(racers.BATCH_KEYS):
        item = items[f"bhot-{k}"]
        tag = item["tag"]["S"]
        assert item["copy"]["S"] == tag
        racer, _, number = tag.rpartition(":")
        assert (racer, int(number), f"bhot-{k}") in acked
    checked["batch puts"] += len(acked)

    # The stream: in sequence-number order each counter counts 1, 2, 3, ...
    records = sorted(api.stream_records(arn), key=lambda r: int(r["dynamodb"]["SequenceNumber"]))
    history: dict[str, list[Json]] = defaultdict(list)
    for record in records:
        history[record["dynamodb"]["Keys"]["pk"]["S"]].append(record["dynamodb"].get("NewImage"))
    for key in racers.COUNTERS:
        values = [int(image["c"]["N"]) for image in history[key]]
        assert values == list(range(1, len(values) + 1)), f"{key}: stream order {values[:20]}"
    versions = [int(image["ver"]["N"]) for image in history["opt"]]
    assert versions == list(range(len(versions))), f"opt: stream order {versions[:20]}"
    for acct in balance:
        assert int(history[acct][-1]["bal"]["N"]) == balance[acct]
    checked["stream records"] += len(records)
    return checked


def test_racing_clients_equal_a_serial_order(
    server: Server, numbers: Callable[[str], None]
) -> None:
    workers = int(server.flags[1])
    if workers > 1:
        assert len(server.children()) >= workers  # + multiprocessing's resource tracker
    api = Api(server.url, timeout=60)
    arn = setup_table(api)
    seed = random.randrange(10**6)
    started = time.monotonic()
    outcomes = run_race(server.url, seed)
    elapsed = time.monotonic() - started
    checked = check_serial(api, arn, outcomes)
    server.assert_clean_log()
    conflicts = sum(o.conflicts for o in outcomes)
    summary = ", ".join(f"{count} {what}" for what, count in checked.items())
    numbers(
        f"{len(outcomes)} racers ({THREADS} threads + {PROCESSES} processes) on {workers} "
        f"server process(es), seed {seed}, {elapsed:.0f}s: {summary}, "
        f"{conflicts} optimistic conflicts retried"
    )
