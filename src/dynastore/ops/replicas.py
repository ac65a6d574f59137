"""UpdateTable's ReplicaUpdates: adding and removing replicas of a global table (version
2019.11.21) in other regions of the same account.

A Create makes the replica table in its region through CreateTable's own path, with the
source's key schema, attribute definitions, indexes, billing, table class, stream and
encryption, and joins it to the group inside that table's creating transaction
(engine/replication.py); the first chunk of its initial copy runs before the answer, the
rest in the replication worker. A Delete takes the region out of the group, then deletes
its table as DeleteTable does. DynamoDB's conditions and messages apply: not the table's
own region, a provisioned table's writes must be auto scaled, a KMS key per replica for
a table encrypted with a customer managed key.
"""

from __future__ import annotations

import copy
from typing import Any

from dynastore.engine import replication
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.errors import ValidationException
from dynastore.ops import create_table
from dynastore.ops.context import Request, Result
from dynastore.ops.create_table import INVALID
from dynastore.ops.describe import table_description
from dynastore.ops.tables import delete_table
from dynastore.server.protocol import RequestContext
from dynastore.services.autoscaling.store import write_autoscaled
from dynastore.storage.base import WriteTx

LOCAL_REGION = (
    "Cannot add or delete the local region through ReplicaUpdates. Use CreateTable, "
    "DeleteTable, or UpdateTable as required."
)
NOT_FOUND = (
    "Replica specified in the Replica Update or Replica Delete action of the request was not found."
)
_ACTIONS = ("Create", "Update", "Delete")
_OVERRIDES = (
    "ProvisionedThroughputOverride",
    "OnDemandThroughputOverride",
    "GlobalSecondaryIndexes",
    "TableClassOverride",
)
_OTHER_UPDATES = (
    "ProvisionedThroughput",
    "BillingMode",
    "DeletionProtectionEnabled",
    "TableClass",
    "OnDemandThroughput",
    "WarmThroughput",
    "GlobalSecondaryIndexUpdates",
    "StreamSpecification",
    "SSESpecification",
)


def _billing_mode(table: TableDef) -> str:
    return str(table.description.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"))


def replica_updates(engine: Engine, ctx: RequestContext, table: TableDef, req: Request) -> Result:
    """Apply UpdateTable's ReplicaUpdates to an ACTIVE table."""
    others = [k for k in _OTHER_UPDATES if req.get(k)]
    if others:
        raise ValidationException(
            f"{INVALID}ReplicaUpdates cannot be combined with {others[0]} in one UpdateTable "
            "request"
        )
    for update in req["ReplicaUpdates"]:
        present = [k for k in _ACTIONS if update.get(k) is not None]
        if len(present) != 1:
            raise ValidationException(
                f"{INVALID}One of ReplicationGroupUpdate.Create, ReplicationGroupUpdate.Update, "
                "ReplicationGroupUpdate.Delete must be specified, and only one"
            )
        action: dict[str, Any] = update[present[0]]
        region = action["RegionName"]
        if region == table.region:
            raise ValidationException(LOCAL_REGION)
        current = engine.catalog.get(table.account, table.region, table.name)
        assert current is not None
        if present[0] == "Create":
            _create(engine, ctx, current, action)
        elif present[0] == "Delete":
            _delete(engine, ctx, current, region)
        else:
            _update(current, action)
    latest = engine.catalog.get(table.account, table.region, table.name)
    assert latest is not None
    answer = table_description(engine, latest)
    answer.pop("Tags", None)
    answer["TableStatus"] = "UPDATING"
    for entry in answer.get("Replicas", []):
        if entry["RegionName"] in [
            u.get("Create", {}).get("RegionName") for u in req["ReplicaUpdates"]
        ]:
            entry["ReplicaStatus"] = "CREATING"
    return {"TableDescription": answer}


def _unsupported(action: dict[str, Any]) -> None:
    given = [k for k in _OVERRIDES if action.get(k)]
    if given:
        raise ValidationException(
            f"{given[0]} of a replica is not supported by this server yet: replicas take the "
            "table's own settings"
        )


def _sse(
    engine: Engine, table: TableDef, action: dict[str, Any]
) -> tuple[dict[str, Any] | None, str | None]:
    """The replica's SSESpecification and the KMS key id its description shows."""
    given = action.get("KMSMasterKeyId")
    source = table.description.get("SSEDescription")
    if not source:
        if given:
            raise ValidationException(
                f"{INVALID}KMSMasterKeyId can only be specified for a replica of a table "
                "encrypted with a KMS key"
            )
        return None, None
    if given:
        return {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": given}, str(given)
    managed = engine.crypto.resolve(table.account, table.region, None)
    if source.get("KMSMasterKeyArn") == managed:
        return {"Enabled": True, "SSEType": "KMS"}, None
    raise ValidationException(f"{INVALID}KMSMasterKeyId must be specified for each replica.")


def _request(table: TableDef, sse: dict[str, Any] | None) -> Request:
    """The CreateTable request of a replica of `table`."""
    desc = table.description
    mode = _billing_mode(table)
    provisioned = mode == "PROVISIONED"

    def throughput(holder: dict[str, Any]) -> dict[str, int]:
        raw = holder["ProvisionedThroughput"]
        return {k: int(raw[k]) for k in ("ReadCapacityUnits", "WriteCapacityUnits")}

    req: Request = {
        "TableName": table.name,
        "AttributeDefinitions": copy.deepcopy(desc["AttributeDefinitions"]),
        "KeySchema": copy.deepcopy(desc["KeySchema"]),
        "BillingMode": mode,
        "StreamSpecification": {
            "StreamEnabled": True,
            "StreamViewType": replication.stream_view(table),
        },
    }
    if provisioned:
        req["ProvisionedThroughput"] = throughput(desc)
    gsis = []
    for entry in desc.get("GlobalSecondaryIndexes", []):
        if entry.get("IndexStatus") == "DELETING":
            continue
        gsi: dict[str, Any] = {
            "IndexName": entry["IndexName"],
            "KeySchema": copy.deepcopy(entry["KeySchema"]),
            "Projection": copy.deepcopy(entry["Projection"]),
        }
        if provisioned:
            gsi["ProvisionedThroughput"] = throughput(entry)
        if entry.get("OnDemandThroughput"):
            gsi["OnDemandThroughput"] = copy.deepcopy(entry["OnDemandThroughput"])
        gsis.append(gsi)
    if gsis:
        req["GlobalSecondaryIndexes"] = gsis
    lsis = [
        {
            "IndexName": entry["IndexName"],
            "KeySchema": copy.deepcopy(entry["KeySchema"]),
            "Projection": copy.deepcopy(entry["Projection"]),
        }
        for entry in desc.get("LocalSecondaryIndexes", [])
    ]
    if lsis:
        req["LocalSecondaryIndexes"] = lsis
    if desc.get("TableClassSummary", {}).get("TableClass"):
        req["TableClass"] = desc["TableClassSummary"]["TableClass"]
    if desc.get("OnDemandThroughput") and not provisioned:
        req["OnDemandThroughput"] = copy.deepcopy(desc["OnDemandThroughput"])
    if sse is not None:
        req["SSESpecification"] = sse
    return req


def _create(engine: Engine, ctx: RequestContext, table: TableDef, action: dict[str, Any]) -> None:
    region = action["RegionName"]
    _unsupported(action)
    if region in replication.members(table) or (
        engine.catalog.get(table.account, region, table.name) is not None
    ):
        raise ValidationException(
            f"{INVALID}Failed to create a the new replica of table with name: '{table.name}' "
            "because one or more replicas already existed as tables."
        )
    if _billing_mode(table) == "PROVISIONED":
        with engine.backend.read() as tx:
            scaled = write_autoscaled(tx, table.account, table.region, table.name)
        if not scaled:
            raise ValidationException(
                "Table write capacity should either be Pay-Per-Request or AutoScaled."
            )
    sse, kms = _sse(engine, table, action)
    now = engine.clock()
    target = RequestContext(ctx.request_id, ctx.account, region, ctx.access_key)

    def join(tx: WriteTx, replica: TableDef) -> None:
        source = engine.catalog.read(tx, table.account, table.region, table.name)
        assert source is not None
        replication.prepare_source(tx, engine.catalog, source, now)
        replication.join(tx, engine.catalog, source, replica, kms)

    try:
        replica, _ = create_table.create(engine, target, _request(table, sse), on_create=join)
    except Exception:
        engine.catalog.forget(table)
        engine.catalog.forget(TableDef(table.account, region, table.name, 0, table.pk, None, {}))
        raise
    with engine.backend.write() as tx:  # a small table's replica is ready at once
        replication.copy_chunk(tx, engine.catalog, replica.space)


def _delete(engine: Engine, ctx: RequestContext, table: TableDef, region: str) -> None:
    if region not in replication.members(table):
        raise ValidationException(NOT_FOUND)
    replica = engine.catalog.get(table.account, region, table.name)
    if replica is not None and replica.description.get("DeletionProtectionEnabled"):
        raise ValidationException(
            "Resource cannot be deleted as it is currently protected against deletion. "
            "Disable deletion protection first."
        )
    try:
        with engine.backend.write() as tx:
            source = engine.catalog.read(tx, table.account, table.region, table.name)
            assert source is not None
            leaving = replication.leave(tx, engine.catalog, source, region)
    except Exception:
        engine.catalog.forget(table)
        raise
    if leaving is not None:
        target = RequestContext(ctx.request_id, ctx.account, region, ctx.access_key)
        delete_table(engine, target, {"TableName": table.name})


def _update(table: TableDef, action: dict[str, Any]) -> None:
    if action["RegionName"] not in replication.members(table):
        raise ValidationException(NOT_FOUND)
    _unsupported(action)
    if action.get("KMSMasterKeyId"):
        raise ValidationException(
            "Changing a replica's KMSMasterKeyId is not supported by this server yet"
        )
