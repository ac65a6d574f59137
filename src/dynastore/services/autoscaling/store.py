"""Application Auto Scaling's records: scalable targets, scaling policies, activities.

Layout of AUTOSCALING_SPACE (stored on disk — do not reorder or change). ``s(x)`` is the
prefix-free, order-preserving string encoding of engine/keys.py; ``scope`` is
``s(account) s(region) s(namespace)``; ``dim`` is ``s(resource id) s(dimension)``.

- ``T scope dim``: a scalable target, DescribeScalableTargets' JSON form plus ``Tags``
  and ``state`` (the worker's cooldown bookkeeping: last scale-out / scale-in times).
- ``P scope dim s(policy name)``: a scaling policy in DescribeScalingPolicies' form.
- ``A scope dim ms id``: a scaling activity (``ms``: its start, 8-byte big-endian
  milliseconds), DescribeScalingActivities' form.
- ``N s(target ARN)``: the key of the target an ARN names (tagging).

Listing order is key order: targets and policies by resource id, then dimension (then
policy name); activities newest first (read in reverse).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from dynastore.engine import spaces
from dynastore.engine.keys import decode_key_value, encode_key_value, prefix_end
from dynastore.storage.base import ReadTx, WriteTx

AUTOSCALING_SPACE = spaces.AUTOSCALING
ACTIVITIES_KEPT = 100  # per target, newest first (AWS keeps six weeks of them)

Record = dict[str, Any]


def _s(text: str) -> bytes:
    return encode_key_value({"S": text})


@dataclass(frozen=True, slots=True)
class TargetKey:
    """What identifies a scalable target."""

    account: str
    region: str
    namespace: str
    resource_id: str
    dimension: str

    @property
    def scope(self) -> bytes:
        return scope(self.account, self.region, self.namespace)

    @property
    def dim(self) -> bytes:
        return _s(self.resource_id) + _s(self.dimension)

    def target(self) -> bytes:
        return b"T" + self.scope + self.dim

    def policy(self, name: str) -> bytes:
        return b"P" + self.scope + self.dim + _s(name)

    def policies(self) -> bytes:
        return b"P" + self.scope + self.dim

    def activities(self) -> bytes:
        return b"A" + self.scope + self.dim

    @classmethod
    def of(cls, account: str, region: str, record: Record) -> TargetKey:
        return cls(
            account,
            region,
            str(record["ServiceNamespace"]),
            str(record["ResourceId"]),
            str(record["ScalableDimension"]),
        )


def scope(account: str, region: str, namespace: str) -> bytes:
    return _s(account) + _s(region) + _s(namespace)


def _load(raw: bytes | None) -> Record | None:
    return orjson.loads(raw) if raw is not None else None


# --- targets -------------------------------------------------------------------------------


def get_target(tx: ReadTx, key: TargetKey) -> Record | None:
    return _load(tx.get(AUTOSCALING_SPACE, key.target()))


def put_target(tx: WriteTx, key: TargetKey, record: Record) -> None:
    tx.put(AUTOSCALING_SPACE, key.target(), orjson.dumps(record))
    tx.put(AUTOSCALING_SPACE, b"N" + _s(str(record["ScalableTargetARN"])), key.target())


def delete_target(tx: WriteTx, key: TargetKey, record: Record) -> None:
    """The target, its policies and its activities."""
    tx.delete(AUTOSCALING_SPACE, key.target())
    tx.delete(AUTOSCALING_SPACE, b"N" + _s(str(record["ScalableTargetARN"])))
    for prefix in (key.policies(), key.activities()):
        tx.delete_range(AUTOSCALING_SPACE, prefix, prefix_end(prefix))


def target_by_arn(tx: ReadTx, arn: str) -> tuple[bytes, Record] | None:
    """(storage key, record) of the target an ARN names."""
    stored = tx.get(AUTOSCALING_SPACE, b"N" + _s(arn))
    if stored is None:
        return None
    record = _load(tx.get(AUTOSCALING_SPACE, stored))
    return (stored, record) if record is not None else None


def put_record(tx: WriteTx, stored: bytes, record: Record) -> None:
    """Store a record back at the storage key `target_by_arn` gave (tagging)."""
    tx.put(AUTOSCALING_SPACE, stored, orjson.dumps(record))


def targets(tx: ReadTx, account: str, region: str, namespace: str) -> Iterator[Record]:
    prefix = b"T" + scope(account, region, namespace)
    for _, raw in tx.range(AUTOSCALING_SPACE, prefix, prefix_end(prefix)):
        yield orjson.loads(raw)


def all_targets(tx: ReadTx) -> Iterator[tuple[str, str, Record]]:
    """(account, region, record) of every target of every namespace (the worker)."""
    for key, raw in tx.range(AUTOSCALING_SPACE, b"T", b"U"):
        account, region = _scope_of(key[1:])
        yield account, region, orjson.loads(raw)


def _scope_of(encoded: bytes) -> tuple[str, str]:
    account, at = decode_key_value(encoded, 0, "S")
    region, _ = decode_key_value(encoded, at, "S")
    return str(account["S"]), str(region["S"])


# --- policies ------------------------------------------------------------------------------


def get_policy(tx: ReadTx, key: TargetKey, name: str) -> Record | None:
    return _load(tx.get(AUTOSCALING_SPACE, key.policy(name)))


def put_policy(tx: WriteTx, key: TargetKey, record: Record) -> None:
    tx.put(AUTOSCALING_SPACE, key.policy(str(record["PolicyName"])), orjson.dumps(record))


def delete_policy(tx: WriteTx, key: TargetKey, name: str) -> None:
    tx.delete(AUTOSCALING_SPACE, key.policy(name))


def policies_of(tx: ReadTx, key: TargetKey) -> list[Record]:
    prefix = key.policies()
    return [orjson.loads(raw) for _, raw in tx.range(AUTOSCALING_SPACE, prefix, prefix_end(prefix))]


def policies(tx: ReadTx, account: str, region: str, namespace: str) -> Iterator[Record]:
    prefix = b"P" + scope(account, region, namespace)
    for _, raw in tx.range(AUTOSCALING_SPACE, prefix, prefix_end(prefix)):
        yield orjson.loads(raw)


# --- activities ----------------------------------------------------------------------------


def add_activity(tx: WriteTx, key: TargetKey, record: Record, start_ms: int) -> None:
    """Record an activity; the target keeps its newest ACTIVITIES_KEPT."""
    prefix = key.activities()
    tx.put(
        AUTOSCALING_SPACE,
        prefix + start_ms.to_bytes(8, "big") + str(record["ActivityId"]).encode(),
        orjson.dumps(record),
    )
    old = list(tx.range(AUTOSCALING_SPACE, prefix, prefix_end(prefix), reverse=True))
    for stale, _ in old[ACTIVITIES_KEPT:]:
        tx.delete(AUTOSCALING_SPACE, stale)


def activities(
    tx: ReadTx, account: str, region: str, namespace: str, key: TargetKey | None = None
) -> list[Record]:
    """Activities of one target, or of a whole namespace, newest first."""
    if key is not None:
        prefix = key.activities()
        return [
            orjson.loads(raw)
            for _, raw in tx.range(AUTOSCALING_SPACE, prefix, prefix_end(prefix), reverse=True)
        ]
    prefix = b"A" + scope(account, region, namespace)
    found = [
        orjson.loads(raw) for _, raw in tx.range(AUTOSCALING_SPACE, prefix, prefix_end(prefix))
    ]
    found.sort(key=lambda r: -float(r["StartTime"]))
    return found


# --- what DynamoDB asks ----------------------------------------------------------------------


def write_autoscaled(tx: ReadTx, account: str, region: str, table: str) -> bool:
    """Whether a table's write capacity has a scalable target with a scaling policy
    (DynamoDB's condition for a provisioned table to get replicas)."""
    key = TargetKey(
        account, region, "dynamodb", f"table/{table}", "dynamodb:table:WriteCapacityUnits"
    )
    return get_target(tx, key) is not None and bool(policies_of(tx, key))
