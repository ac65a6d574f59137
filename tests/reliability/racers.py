"""The client script of the concurrency test: one racer's moves on the shared hot keys.

Run by threads of the test process and by threads of spawned processes (so it lives in
an importable module, not in the test). Each racer returns what the server acknowledged;
the test then checks that one serial order explains all of it.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from typing import Any

from tests.reliability.harness import Api, ApiError, Json

TABLE = "race"
COUNTERS = ("hot-0", "hot-1")
ACCOUNTS = 4
START_BALANCE = 6
CLAIMS = 20
BATCH_KEYS = 25

# Per racer.
INCREMENTS = 40
OPTIMISTIC_WINS = 6
TRANSFERS = 12
BATCHES = 4


def s(value: str) -> Json:
    return {"S": value}


def n(value: int) -> Json:
    return {"N": str(value)}


@dataclass
class Outcome:
    """What one racer was told."""

    racer: str
    increments: dict[str, list[int]] = field(default_factory=dict)  # key -> UPDATED_NEW c
    optimistic: list[int] = field(default_factory=list)  # versions this racer wrote
    conflicts: int = 0  # optimistic attempts refused
    claims: list[str] = field(default_factory=list)  # attribute_not_exists puts won
    transfers: list[tuple[int, int]] = field(default_factory=list)  # accepted (from, to)
    refused: int = 0  # transfers cancelled
    batch_writes: list[tuple[int, str]] = field(default_factory=list)  # (seq, key) acked
    errors: list[str] = field(default_factory=list)


def race(url: str, racer: str, seed: int) -> Outcome:
    """One racer's whole script, in a random order of moves."""
    rng = random.Random(seed)
    out = Outcome(racer)
    api = Api(url, timeout=60)
    moves = (
        ["inc"] * INCREMENTS
        + ["opt"] * OPTIMISTIC_WINS
        + ["claim"] * CLAIMS
        + ["transfer"] * TRANSFERS
        + ["batch"] * BATCHES
    )
    rng.shuffle(moves)
    claims = list(range(CLAIMS))
    rng.shuffle(claims)
    try:
        for number, move in enumerate(moves):
            if move == "inc":
                increment(api, out, rng.choice(COUNTERS))
            elif move == "opt":
                optimistic(api, out)
            elif move == "claim":
                claim(api, out, f"claim-{claims.pop()}")
            elif move == "transfer":
                source, target = rng.sample(range(ACCOUNTS), 2)
                transfer(api, out, source, target)
            else:
                batch(api, out, number)
    except ApiError as exc:
        out.errors.append(f"{racer}: {exc}")
    finally:
        api.close()
    return out


def increment(api: Api, out: Outcome, key: str) -> None:
    answer = api.call(
        "UpdateItem",
        {
            "TableName": TABLE,
            "Key": {"pk": s(key)},
            "UpdateExpression": "ADD c :one",
            "ExpressionAttributeValues": {":one": n(1)},
            "ReturnValues": "UPDATED_NEW",
        },
    )
    out.increments.setdefault(key, []).append(int(answer["Attributes"]["c"]["N"]))


def optimistic(api: Api, out: Outcome) -> None:
    """Read, then write version + 1 on condition the version did not move; retry until won."""
    while True:
        item = api.call(
            "GetItem", {"TableName": TABLE, "Key": {"pk": s("opt")}, "ConsistentRead": True}
        )["Item"]
        version = int(item["ver"]["N"])
        try:
            api.call(
                "UpdateItem",
                {
                    "TableName": TABLE,
                    "Key": {"pk": s("opt")},
                    "UpdateExpression": "SET ver = :new, #log = list_append(#log, :me)",
                    "ConditionExpression": "ver = :old",
                    "ExpressionAttributeNames": {"#log": "log"},
                    "ExpressionAttributeValues": {
                        ":new": n(version + 1),
                        ":old": n(version),
                        ":me": {"L": [s(out.racer)]},
                    },
                },
            )
        except ApiError as exc:
            if exc.code != "ConditionalCheckFailedException":
                raise
            out.conflicts += 1
            continue
        out.optimistic.append(version + 1)
        return


def claim(api: Api, out: Outcome, key: str) -> None:
    try:
        api.call(
            "PutItem",
            {
                "TableName": TABLE,
                "Item": {"pk": s(key), "owner": s(out.racer)},
                "ConditionExpression": "attribute_not_exists(pk)",
            },
        )
    except ApiError as exc:
        if exc.code != "ConditionalCheckFailedException":
            raise
        return
    out.claims.append(key)


def transfer(api: Api, out: Outcome, source: int, target: int) -> None:
    """Move one unit if the source has one; the transfer also counts on hot-0."""
    actions: list[Json] = [
        {
            "Update": {
                "TableName": TABLE,
                "Key": {"pk": s(f"acct-{source}")},
                "UpdateExpression": "ADD bal :minus",
                "ConditionExpression": "bal >= :one",
                "ExpressionAttributeValues": {":minus": n(-1), ":one": n(1)},
            }
        },
        {
            "Update": {
                "TableName": TABLE,
                "Key": {"pk": s(f"acct-{target}")},
                "UpdateExpression": "ADD bal :one",
                "ExpressionAttributeValues": {":one": n(1)},
            }
        },
        {
            "Update": {
                "TableName": TABLE,
                "Key": {"pk": s("hot-0")},
                "UpdateExpression": "ADD c :one",
                "ExpressionAttributeValues": {":one": n(1)},
            }
        },
    ]
    try:
        api.call("TransactWriteItems", {"TransactItems": actions})
    except ApiError as exc:
        if exc.code not in ("TransactionCanceledException", "TransactionConflictException"):
            raise
        out.refused += 1
        return
    out.transfers.append((source, target))


def batch(api: Api, out: Outcome, number: int) -> None:
    """25 puts on the same hot keys as every other racer; each item names its writer."""
    tag = f"{out.racer}:{number}"
    pending: list[Json] = [
        {"PutRequest": {"Item": {"pk": s(f"bhot-{k}"), "tag": s(tag), "copy": s(tag)}}}
        for k in range(BATCH_KEYS)
    ]
    while pending:
        answer = api.call("BatchWriteItem", {"RequestItems": {TABLE: pending}})
        left = answer.get("UnprocessedItems", {}).get(TABLE, [])
        left_keys = {r["PutRequest"]["Item"]["pk"]["S"] for r in left}
        for request in pending:
            key = request["PutRequest"]["Item"]["pk"]["S"]
            if key not in left_keys:
                out.batch_writes.append((number, key))
        pending = left


def race_threads(url: str, racers: list[str], seed: int) -> list[Outcome]:
    """Several racers in threads of this process, started together."""
    results: list[Outcome] = []
    gate = threading.Barrier(len(racers))

    def run(racer: str, index: int) -> None:
        gate.wait()
        results.append(race(url, racer, seed + index))

    threads = [threading.Thread(target=run, args=(r, i)) for i, r in enumerate(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def race_process(url: str, racers: list[str], seed: int, queue: Queue[Any], go: Any) -> None:
    """Entry point of a spawned racer process: says it is ready, waits for `go` (an
    Event) so all processes start together, and sends its outcomes back through `queue`."""
    queue.put("ready")
    go.wait()
    queue.put(race_threads(url, racers, seed))
