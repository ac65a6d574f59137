"""AWS Backup's records: vaults, plans (with their versions), selections, backup jobs.

Layout of AWS_BACKUP_SPACE (stored on disk — do not reorder or change). ``s(x)`` is the
prefix-free, order-preserving string encoding of engine/keys.py; ``scope`` is
``s(account) s(region)``.

- ``V scope s(vault name)``: a vault, DescribeBackupVault's JSON form plus ``Tags``.
- ``P scope s(plan id)``: a plan: GetBackupPlan's JSON form plus ``Tags`` and
  ``Versions`` (every earlier version's GetBackupPlan form, oldest first).
- ``S scope s(plan id) s(selection id)``: a selection, GetBackupSelection's form.
- ``J scope s(job id)``: a backup job, DescribeBackupJob's form plus ``Source`` (the
  DynamoDB backup it made: account, region, table, backup id).
- ``N s(arn)``: the record key of a taggable resource (vault, plan) by its ARN.

Listing order is key order: vaults by name, plans and jobs by id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from dynastore.engine import spaces
from dynastore.engine.keys import encode_key_value, prefix_end
from dynastore.storage.base import ReadTx, WriteTx

AWS_BACKUP_SPACE = spaces.AWS_BACKUP

Record = dict[str, Any]


def _s(text: str) -> bytes:
    return encode_key_value({"S": text})


def scope(account: str, region: str) -> bytes:
    return _s(account) + _s(region)


def vault_key(account: str, region: str, name: str) -> bytes:
    return b"V" + scope(account, region) + _s(name)


def plan_key(account: str, region: str, plan_id: str) -> bytes:
    return b"P" + scope(account, region) + _s(plan_id)


def selection_key(account: str, region: str, plan_id: str, selection_id: str) -> bytes:
    return b"S" + scope(account, region) + _s(plan_id) + _s(selection_id)


def selections_prefix(account: str, region: str, plan_id: str) -> bytes:
    return b"S" + scope(account, region) + _s(plan_id)


def job_key(account: str, region: str, job_id: str) -> bytes:
    return b"J" + scope(account, region) + _s(job_id)


def get(tx: ReadTx, key: bytes) -> Record | None:
    raw = tx.get(AWS_BACKUP_SPACE, key)
    return orjson.loads(raw) if raw is not None else None


def put(tx: WriteTx, key: bytes, record: Record, arn: str | None = None) -> None:
    """Store a record; `arn` also indexes it for tagging."""
    tx.put(AWS_BACKUP_SPACE, key, orjson.dumps(record))
    if arn is not None:
        tx.put(AWS_BACKUP_SPACE, b"N" + _s(arn), key)


def delete(tx: WriteTx, key: bytes, arn: str | None = None) -> None:
    tx.delete(AWS_BACKUP_SPACE, key)
    if arn is not None:
        tx.delete(AWS_BACKUP_SPACE, b"N" + _s(arn))


def by_arn(tx: ReadTx, arn: str) -> tuple[bytes, Record] | None:
    """(record key, record) of the vault or live plan an ARN names (tagging)."""
    key = tx.get(AWS_BACKUP_SPACE, b"N" + _s(arn))
    if key is None:
        return None
    record = get(tx, key)
    return (key, record) if record is not None and not record.get("DeletionDate") else None


def listing(tx: ReadTx, kind: bytes, account: str, region: str) -> Iterator[Record]:
    """Every record of one kind (V, P, J) in one account and region, in key order."""
    prefix = kind + scope(account, region)
    for _, raw in tx.range(AWS_BACKUP_SPACE, prefix, prefix_end(prefix)):
        yield orjson.loads(raw)


def selections(tx: ReadTx, account: str, region: str, plan_id: str) -> list[Record]:
    prefix = selections_prefix(account, region, plan_id)
    return [orjson.loads(raw) for _, raw in tx.range(AWS_BACKUP_SPACE, prefix, prefix_end(prefix))]
