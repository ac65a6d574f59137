"""SSESpecification of CreateTable and UpdateTable (encryption at rest with KMS).

A table is encrypted with the AWS owned key unless its SSESpecification says
``Enabled: true``: then with a KMS key, ``KMSMasterKeyId`` (id, ARN, alias name or alias
ARN) or else the account's AWS managed key ``alias/aws/dynamodb`` (created on first use).
The key is resolved before the table's write transaction (creating the managed key is a
write of its own); `enable` then sets up the table's data key inside it (engine/crypto.py
does the encryption). DescribeTable shows ``SSEDescription`` (Status ENABLED, SSEType KMS,
KMSMasterKeyArn) only for KMS encryption, as DynamoDB does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dynastore.engine.catalog import TableDef
from dynastore.engine.crypto import access_denied
from dynastore.engine.engine import Engine
from dynastore.errors import KmsError, ValidationException
from dynastore.storage.base import WriteTx


@dataclass(frozen=True, slots=True)
class SsePlan:
    """What a request asks for: a KMS key's ARN, or None for the AWS owned key."""

    key_arn: str | None


def _kms_key(engine: Engine, account: str, region: str, spec: dict[str, Any]) -> str:
    sse_type = spec.get("SSEType") or "KMS"
    if sse_type != "KMS":
        raise ValidationException("Invalid request provided: The only valid SSEType is KMS")
    try:
        return engine.crypto.resolve(account, region, spec.get("KMSMasterKeyId"))
    except KmsError as error:
        raise access_denied(error) from None


def _check(spec: dict[str, Any]) -> None:
    if spec.get("KMSMasterKeyId") is not None and spec.get("SSEType") is None:
        raise ValidationException("SSEType KMS is required if KMSMasterKeyId is specified")


def create_plan(
    engine: Engine, account: str, region: str, spec: dict[str, Any] | None
) -> SsePlan | None:
    """CreateTable: the KMS key to use, or None (the AWS owned key)."""
    if not spec or not spec.get("Enabled"):
        return None
    _check(spec)
    return SsePlan(_kms_key(engine, account, region, spec))


def update_plan(engine: Engine, table: TableDef, spec: dict[str, Any] | None) -> SsePlan | None:
    """UpdateTable: the change asked for, or None when the request has no SSESpecification."""
    if not spec:
        return None
    current = table.description.get("SSEDescription", {}).get("KMSMasterKeyArn")
    if not spec.get("Enabled"):
        if current is None:
            raise ValidationException("Table is already encrypted by default")
        return SsePlan(None)
    _check(spec)
    arn = _kms_key(engine, table.account, table.region, spec)
    if arn == current:
        raise ValidationException("Table is already encrypted by given KMSMasterKeyId")
    return SsePlan(arn)


def apply(engine: Engine, tx: WriteTx, table: TableDef, plan: SsePlan) -> None:
    """Inside the table's write transaction: (re)key the table and its description."""
    try:
        if plan.key_arn is None:
            engine.crypto.disable(tx, table)
            table.description.pop("SSEDescription", None)
        else:
            table.description["SSEDescription"] = engine.crypto.enable(tx, table, plan.key_arn)
    except KmsError as error:
        raise access_denied(error) from None
