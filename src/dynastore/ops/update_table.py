"""UpdateTable: billing mode, provisioned, on-demand and warm throughput, deletion
protection, table class, streams, encryption, replicas (ops/replicas.py) and global
secondary indexes (GlobalSecondaryIndexUpdates: Create, Update, Delete).

As in DynamoDB, one call makes one kind of change (`check_combination`): deletion
protection, encryption, table class and warm throughput come alone; only BillingMode
combines (with throughput and GSI updates, a stream, or on-demand maximums). A created
GSI is backfilled in bounded chunks (engine/indexes.py): the first chunk runs before
the answer is sent, the rest in the background.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from dynastore.engine import indexes, quotas, replication, streams
from dynastore.engine.capacity import (
    check_decrease,
    check_on_demand,
    check_table_maximum,
    decreases_today,
)
from dynastore.engine.catalog import Catalog, IndexDef, TableDef
from dynastore.engine.engine import Engine
from dynastore.errors import (
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
    ValidationException,
)
from dynastore.ops import sse
from dynastore.ops.context import Request, Result
from dynastore.ops.create_table import (
    INVALID,
    MAX_GSI,
    MAX_PROJECTED,
    ON_DEMAND_WARM,
    WARM_UNITS,
    check_capacity,
    check_table_class,
    index_description,
    parse_gsi,
    raise_warm,
    warm_units,
)
from dynastore.ops.describe import table_description
from dynastore.ops.replicas import replica_updates
from dynastore.ops.tables import existing_table
from dynastore.server.protocol import RequestContext
from dynastore.storage.base import WriteTx
from dynastore.workers.backfill import kick

_GSI_UPDATES = "GlobalSecondaryIndexUpdates"
_ACTIONS = ("Update", "Create", "Delete")
_ONE_ONLINE_INDEX = (
    "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously "
    "per table"
)
_LATER = (
    "MultiRegionConsistency",
    "GlobalTableWitnessUpdates",
)
_REPLICAS = "ReplicaUpdates"
_ANY = (
    "ProvisionedThroughput",
    "BillingMode",
    "DeletionProtectionEnabled",
    "TableClass",
    "OnDemandThroughput",
    "WarmThroughput",
    "AttributeDefinitions",
    _GSI_UPDATES,
    "StreamSpecification",
    "SSESpecification",
    _REPLICAS,
    *_LATER,
)


def _apply_billing(table: TableDef, req: Request, now: float) -> bool:
    """Update billing mode / throughput in the description; True when the table changes."""
    desc = table.description
    current = desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    asked = req.get("BillingMode")
    mode = asked or current
    throughput = req.get("ProvisionedThroughput")
    if mode == "PAY_PER_REQUEST" and throughput:
        if asked:
            raise ValidationException(
                INVALID + "ProvisionedThroughput cannot be specified when BillingMode is "
                "PAY_PER_REQUEST"
            )
        raise ValidationException(
            INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
            "BillingMode is PAY_PER_REQUEST"
        )
    if asked == "PROVISIONED" and not throughput:
        raise ValidationException(
            INVALID + "ProvisionedThroughput must be specified when BillingMode is PROVISIONED"
        )
    changed: bool = mode != current
    if changed:
        desc["BillingModeSummary"] = _switched(desc, mode, now)
    if throughput:
        check_capacity(throughput)
        check_table_maximum(throughput, table.region)
        changed |= _set_throughput(desc["ProvisionedThroughput"], throughput, now, not changed)
        raise_warm(desc, warm_units(throughput))
    return changed


def _switched(desc: dict[str, Any], mode: str, now: float) -> dict[str, Any]:
    """Switch the description to billing `mode`; its new BillingModeSummary. On demand,
    the provisioned units read 0 and warm throughput is at least on-demand's; provisioned,
    the on-demand maximums go and the last switch to on demand stays on record."""
    summary: dict[str, Any] = {"BillingMode": mode}
    holders = [desc, *desc.get("GlobalSecondaryIndexes", [])]
    if mode == "PAY_PER_REQUEST":
        summary["LastUpdateToPayPerRequestDateTime"] = now
        for holder in holders:
            holder["ProvisionedThroughput"] = {
                **holder["ProvisionedThroughput"],
                "ReadCapacityUnits": 0,
                "WriteCapacityUnits": 0,
            }
            raise_warm(holder, ON_DEMAND_WARM)
        return summary
    last = desc.get("BillingModeSummary", {}).get("LastUpdateToPayPerRequestDateTime")
    if last is not None:
        summary["LastUpdateToPayPerRequestDateTime"] = last
    for holder in holders:
        holder.pop("OnDemandThroughput", None)
    return summary


def _set_throughput(
    current: dict[str, Any], wanted: dict[str, Any], now: float, must_change: bool
) -> bool:
    old_r, old_w = current["ReadCapacityUnits"], current["WriteCapacityUnits"]
    new_r, new_w = wanted["ReadCapacityUnits"], wanted["WriteCapacityUnits"]
    if (old_r, old_w) == (new_r, new_w):
        if must_change:
            raise ValidationException(
                "The provisioned throughput for the table will not change. The requested value "
                "equals the current value. Current ReadCapacityUnits provisioned for the table: "
                f"{old_r}. Requested ReadCapacityUnits: {new_r}. Current WriteCapacityUnits "
                f"provisioned for the table: {old_w}. Requested WriteCapacityUnits: {new_w}. "
                "Refer to the Amazon DynamoDB Developer Guide for current limits and how to "
                "request higher limits."
            )
        return False
    decrease = check_decrease(current, wanted, now)  # 4 a day, then one an hour
    if new_r > old_r or new_w > old_w:
        current["LastIncreaseDateTime"] = now
    if decrease:
        current["NumberOfDecreasesToday"] = decreases_today(current, now) + 1
        current["LastDecreaseDateTime"] = now
    current["ReadCapacityUnits"] = new_r
    current["WriteCapacityUnits"] = new_w
    return True


def _set_on_demand(table: TableDef, maximums: dict[str, Any]) -> dict[str, Any]:
    """Merge OnDemandThroughput maximums into an on-demand table; the merge as UpdateTable
    echoes it (a -1 clears a maximum: the description omits it)."""
    desc = table.description
    given = [n for n in ("MaxReadRequestUnits", "MaxWriteRequestUnits") if n in maximums]
    mode = desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    if mode == "PROVISIONED" and given:
        raise ValidationException(
            f"{INVALID}{given[0]} for OnDemandThroughput cannot be specified when the table "
            "BillingMode is PROVISIONED"
        )
    check_on_demand(maximums, table.region, clearing=True)
    return merge_on_demand(desc, maximums)


def merge_on_demand(holder: dict[str, Any], maximums: dict[str, Any]) -> dict[str, Any]:
    """Merge maximums into a table's or GSI's OnDemandThroughput, member by member; -1
    clears one (the struct goes when both are clear). Returns the merge, -1s included."""
    merged = {**holder.get("OnDemandThroughput", {}), **maximums}
    kept = {name: value for name, value in merged.items() if value != -1}
    if kept:
        holder["OnDemandThroughput"] = kept
    else:
        holder.pop("OnDemandThroughput", None)
    return merged


def update_warm(holder: dict[str, Any], given: dict[str, Any], target: str) -> None:
    """Apply a WarmThroughput update to a table or GSI (`target`: "table" or "index
    <name>"): it may only increase; a member not given keeps its value."""
    warm = holder.setdefault("WarmThroughput", {**ON_DEMAND_WARM, "Status": "ACTIVE"})
    for unit, _ in WARM_UNITS:
        if unit in given and given[unit] < warm.get(unit, 0):
            raise ValidationException(
                f"{INVALID}Requested {unit} for WarmThroughput for {target} is lower than "
                "current WarmThroughput, decreasing WarmThroughput is not supported"
            )
    warm.update({unit: given[unit] for unit, _ in WARM_UNITS if unit in given})


_ONLY = " must be the only operation in the request"
# Members that must be alone in an UpdateTable, in the order DynamoDB names them.
_EXCLUSIVE = (
    ("SSESpecification", "Server-Side Encryption modification" + _ONLY),
    ("TableClass", "TableClass modification" + _ONLY),
    ("DeletionProtectionEnabled", "DeletionProtection modification" + _ONLY),
)


def check_combination(req: Request) -> None:
    """UpdateTable makes one kind of change per call: the members that must come alone or
    may not come together (BillingMode combines with throughput, GSI updates, a stream or
    on-demand maximums). ReplicaUpdates has its own rule (ops/replicas.py)."""
    given = {k for k in _ANY if k != "AttributeDefinitions" and req.get(k) is not None}
    if _REPLICAS in given:
        return
    for member, text in _EXCLUSIVE:
        if member in given and len(given) > 1:
            raise ValidationException(INVALID + text)
    kinds = {kind for update in req.get(_GSI_UPDATES) or [] for kind in update if update[kind]}
    online = bool(kinds & {"Create", "Delete"})
    if "OnDemandThroughput" in given and given & {"StreamSpecification", "WarmThroughput"}:
        raise ValidationException(
            INVALID + "OnDemandThroughput can only be combined with BillingMode in an "
            "UpdateTable request"
        )
    if "WarmThroughput" in given and len(given) > 1:
        if "Create" in kinds:
            raise ValidationException(
                INVALID + "Create global secondary index cannot be specified when updating "
                "WarmThroughput"
            )
        raise ValidationException(INVALID + "WarmThroughput" + _ONLY)
    iops = "ProvisionedThroughput" in given
    if online and iops:
        raise ValidationException(
            INVALID + "You cannot create or delete index while updating table IOPS"
        )
    if online and "StreamSpecification" in given:
        raise ValidationException(
            INVALID + "You cannot create or delete index while changing stream status"
        )
    if "StreamSpecification" in given and (iops or req.get("BillingMode") == "PROVISIONED"):
        raise ValidationException(
            INVALID + "You cannot modify stream status while updating table IOPS"
        )


def handle(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    # An empty GlobalSecondaryIndexUpdates, or AttributeDefinitions (used only by a GSI
    # Create), changes nothing on its own.
    if not any(
        k in req and (k != _GSI_UPDATES or req[k]) for k in _ANY if k != "AttributeDefinitions"
    ):
        raise ValidationException(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
            "GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, "
            "MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, "
            "DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is "
            "required"
        )
    check_gsi_updates(req)
    streams.check_update_spec(req)
    later = [k for k in _LATER if req.get(k)]
    if later:
        raise ValidationException(f"{later[0]} is not supported by this server yet")
    check_combination(req)
    table = existing_table(engine, ctx, req["TableName"])
    _check_active(table)
    if req.get(_REPLICAS):
        return replica_updates(engine, ctx, table, req)
    _check_stream(table, req)
    check_table_class(req.get("TableClass"))
    encryption = sse.update_plan(engine, table, req.get("SSESpecification"))
    now = engine.clock()
    # The checks that read other tables, against the change as the cached definition
    # takes it; the change itself is made on the stored definition (engine/catalog.py).
    planned = table.copy()
    update = _Update(engine, req, now, encryption, engine.catalog.transition_deadline())
    update.edit(planned)
    account, region, limits = table.account, table.region, engine.settings.table_quotas
    quotas.check_account_capacity(
        engine.catalog,
        account,
        region,
        table.name,
        quotas.provisioned_units(planned.description),
        quotas.provisioned_units(table.description),
    )
    if update.changed and update.deadline:
        quotas.check_table_operation(engine.catalog, account, region, limits)
    table = engine.catalog.update(table, update)
    engine.throttle.forget(table)  # capacity, billing or indexes may have changed
    answer = table_description(engine, table)
    answer.pop("Tags", None)
    gsi = update.gsi
    if update.changed or gsi.created or gsi.deleted:
        answer["TableStatus"] = "UPDATING"
    update.shape_answer(answer)
    gsi.shape_answer(answer)
    # The first chunk now (a small table's index is ready at once), the rest later.
    if gsi.jobs and not indexes.run_chunk(engine.backend, engine.catalog, gsi.jobs[0]):
        kick(engine)
    return {"TableDescription": answer}


def _check_active(table: TableDef) -> None:
    if table.status != "ACTIVE":
        doing = {"CREATING": "created", "UPDATING": "updated", "DELETING": "deleted"}
        raise ResourceInUseException(
            "Attempt to change a resource which is still in use: Table is being "
            f"{doing.get(table.status, table.status.lower())}: {table.name}"
        )


def _check_stream(table: TableDef, req: Request) -> None:
    spec = req.get("StreamSpecification")
    if spec and not spec.get("StreamEnabled") and replication.is_global(table):
        raise ValidationException(
            INVALID + "Disabling Stream is not allowed for a Global Table replica."
        )


# --- GlobalSecondaryIndexUpdates ---------------------------------------------------------


def _billing_mode(table: TableDef) -> str:
    return str(table.description.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"))


def _action(update: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kind = next(k for k in _ACTIONS if update.get(k) is not None)
    return kind, update[kind]


def check_gsi_updates(req: Request) -> None:
    """The checks of GlobalSecondaryIndexUpdates that need no table."""
    updates = req.get(_GSI_UPDATES)
    if updates is None:
        return
    if not updates:
        raise ValidationException(INVALID + "List of GlobalSecondaryIndexUpdates is empty")
    seen: set[str] = set()
    for update in updates:
        present = [k for k in _ACTIONS if update.get(k) is not None]
        if not present:
            raise ValidationException(
                INVALID + "One of GlobalSecondaryIndexUpdate.Update, "
                "GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not "
                "be null"
            )
        if len(present) > 1:
            raise ValidationException(
                INVALID + "Only one global secondary index action is allowed per "
                "GlobalSecondaryIndexUpdate object"
            )
        name = update[present[0]]["IndexName"]
        if name in seen:
            raise ValidationException(
                INVALID + "Only one global secondary index update per index is allowed "
                f"simultaneously. Index: {name}"
            )
        seen.add(name)


@dataclass
class GsiChanges:
    """What GlobalSecondaryIndexUpdates did to a table definition, and what storage must
    do in the same transaction (index spaces, backfill records, deleted entries)."""

    created: list[tuple[IndexDef, dict[str, Any]]] = field(default_factory=list)
    deleted: list[tuple[int, IndexDef, dict[str, Any]]] = field(default_factory=list)
    updated: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> old entry
    jobs: list[indexes.Backfill] = field(default_factory=list)

    def apply(self, tx: WriteTx, table: TableDef, catalog: Catalog) -> None:
        for index, _ in self.created:
            placed = dataclasses.replace(index, space=catalog.allocate_space(tx))
            table.indexes = [placed if i is index else i for i in table.indexes]
            self.jobs.append(indexes.start_backfill(tx, table, placed))
        for _, index, _ in self.deleted:
            tx.delete_range(index.space, b"", None)
            indexes.cancel_backfill(tx, index)

    def shape_answer(self, answer: dict[str, Any]) -> None:
        """DynamoDB's echo: a new index CREATING without Backfilling yet, a deleted one
        DELETING, an updated one UPDATING with its throughput as it was."""
        entries: list[dict[str, Any]] = answer.get("GlobalSecondaryIndexes", [])
        for entry in entries:
            name = entry["IndexName"]
            if any(name == index.name for index, _ in self.created):
                entry["Backfilling"] = False
                entry.pop("WarmThroughput", None)
            elif name in self.updated:
                old = self.updated[name]
                entry["IndexStatus"] = "UPDATING"
                entry["ProvisionedThroughput"] = old["ProvisionedThroughput"]
        for position, _, old in self.deleted:
            gone = {**old, "IndexStatus": "DELETING"}
            gone.pop("Backfilling", None)
            entries.insert(min(position, len(entries)), gone)
        if entries:
            answer["GlobalSecondaryIndexes"] = entries


@dataclass
class _Update:
    """UpdateTable's change of a table definition (a `Catalog.update` change): `edit`
    checks the request against the definition and edits it, then the storage work goes
    in the transaction. `changed` (the table goes UPDATING), `gsi`, `switched` (billing
    mode), `warm` and `on_demand` (the maximums as echoed) tell the answer."""

    engine: Engine
    req: Request
    now: float
    encryption: sse.SsePlan | None
    deadline: float
    changed: bool = False
    gsi: GsiChanges = field(default_factory=GsiChanges)
    switched: bool = False
    warm: bool = False
    on_demand: dict[str, Any] | None = None

    def edit(self, table: TableDef) -> None:
        req = self.req
        _check_active(table)
        _check_stream(table, req)
        old_mode = _billing_mode(table)
        self.changed = _apply_billing(table, req, self.now)
        self.switched = _billing_mode(table) != old_mode
        desc = table.description
        if "DeletionProtectionEnabled" in req:
            desc["DeletionProtectionEnabled"] = bool(req["DeletionProtectionEnabled"])
        if req.get("TableClass"):
            old_class = desc.get("TableClassSummary", {}).get("TableClass", "STANDARD")
            if req["TableClass"] != old_class:
                desc["TableClassSummary"] = {
                    "TableClass": req["TableClass"],
                    "LastUpdateDateTime": self.now,
                }
                self.changed = True
        if "OnDemandThroughput" in req:
            self.on_demand = _set_on_demand(table, req["OnDemandThroughput"])
        self.warm = "WarmThroughput" in req
        if self.warm:
            update_warm(desc, req["WarmThroughput"], "table")
        self.gsi = GsiChanges()
        if _GSI_UPDATES in req:
            self.gsi = plan_gsi_updates(table, req, self.now, old_mode)
        if req.get("StreamSpecification"):
            self.changed = True

    def __call__(self, tx: WriteTx, table: TableDef) -> None:
        self.edit(table)
        if self.changed and self.deadline:
            table.description["TableStatus"] = "UPDATING"
            table.status_until = self.deadline
        catalog = self.engine.catalog
        self.gsi.apply(tx, table, catalog)
        if self.encryption is not None:
            sse.apply(self.engine, tx, table, self.encryption)
        if self.req.get("StreamSpecification"):
            streams.apply_update(tx, catalog, table, self.req["StreamSpecification"], self.now)

    def shape_answer(self, answer: dict[str, Any]) -> None:
        """DynamoDB's echo: a warm throughput change in progress, the on-demand maximums as
        merged (-1 for a cleared one), and a switched BillingModeSummary without the time
        DescribeTable adds."""
        if self.warm:
            answer["WarmThroughput"]["Status"] = "UPDATING"
        if self.on_demand is not None:
            answer["OnDemandThroughput"] = self.on_demand
        if self.switched:
            answer["BillingModeSummary"].pop("LastUpdateToPayPerRequestDateTime", None)


def plan_gsi_updates(table: TableDef, req: Request, now: float, old_mode: str) -> GsiChanges:
    """Check GlobalSecondaryIndexUpdates against the table and apply them to its
    definition; storage work is left to `GsiChanges.apply` inside the transaction."""
    updates: list[dict[str, Any]] = req[_GSI_UPDATES]
    actions = [_action(u) for u in updates]
    online = [kind for kind, _ in actions if kind != "Update"]
    if online:
        building = any(
            e.get("IndexStatus") in ("CREATING", "DELETING")
            for e in table.description.get("GlobalSecondaryIndexes", [])
        )
        if len(online) > 1 or building:
            raise LimitExceededException(_ONE_ONLINE_INDEX)
    mode = _billing_mode(table)
    if mode == "PROVISIONED" and old_mode != "PROVISIONED":
        given = {
            body["IndexName"]
            for kind, body in actions
            if kind == "Update" and body.get("ProvisionedThroughput")
        }
        missing = [i.name for i in table.indexes if i.kind == "GSI" and i.name not in given]
        if missing:
            raise ValidationException(
                INVALID + f"ProvisionedThroughput must be specified for index: {','.join(missing)}"
            )
    changes = GsiChanges()
    for kind, body in actions:
        if kind == "Create":
            _create(table, req, body, mode, changes)
        elif kind == "Delete":
            _delete(table, body["IndexName"], changes)
        else:
            _update(table, body, mode, now, changes)
    return changes


def _not_found(table: TableDef, name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(
        f"Requested resource not found: Index {name} for table {table.name}"
    )


def _gsi(table: TableDef, name: str, verb: str) -> IndexDef:
    index = table.index(name)
    if index is None:
        raise _not_found(table, name)
    if index.kind != "GSI":
        raise ValidationException(
            f"Cannot {verb} an index that is not a GlobalSecondaryIndex: {name}"
        )
    return index


def _create(
    table: TableDef, req: Request, body: dict[str, Any], mode: str, changes: GsiChanges
) -> None:
    name = body["IndexName"]
    if table.index(name) is not None:
        raise ValidationException("Attempting to create an index which already exists")
    given = req.get("AttributeDefinitions")
    if not given:
        raise ValidationException(
            INVALID + f"AttributeDefinitions is not specified for index: {name}"
        )
    desc = table.description
    defined = {d["AttributeName"]: d["AttributeType"] for d in given}
    defined.update({d["AttributeName"]: d["AttributeType"] for d in desc["AttributeDefinitions"]})
    throughput = body.get("ProvisionedThroughput")
    if mode == "PROVISIONED" and not throughput:
        raise ValidationException(
            INVALID + f"Both ReadCapacityUnits and WriteCapacityUnits must be specified for "
            f"index: {name}"
        )
    if mode == "PAY_PER_REQUEST" and throughput:
        raise ValidationException(
            INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified for "
            f"index: {name} when BillingMode is PAY_PER_REQUEST"
        )
    index = parse_gsi(body, defined, "", set())
    gsis = [i for i in table.indexes if i.kind == "GSI"]
    if len(gsis) >= MAX_GSI:
        raise LimitExceededException(
            "Subscriber limit exceeded: Number of global secondary indexes exceeds per-table "
            f"limit of {MAX_GSI}"
        )
    projected = sum(len(i.non_key) for i in table.indexes) + len(index.non_key)
    if projected > MAX_PROJECTED:
        raise ValidationException(
            INVALID + "Number of projected attributes in all indexes exceeds limit of 100"
        )
    entry = index_description(table.name, table.region, table.account, index, body, "CREATING")
    entry["Backfilling"] = True
    desc.setdefault("GlobalSecondaryIndexes", []).append(entry)
    known = {d["AttributeName"] for d in desc["AttributeDefinitions"]}
    for attr in (index.pk, index.sk):
        if attr is not None and attr.name not in known:
            desc["AttributeDefinitions"].append(
                {"AttributeName": attr.name, "AttributeType": attr.type}
            )
            known.add(attr.name)
    table.indexes.append(index)  # its storage space is allocated in the transaction
    changes.created.append((index, entry))


def _delete(table: TableDef, name: str, changes: GsiChanges) -> None:
    index = _gsi(table, name, "delete")
    desc = table.description
    entries: list[dict[str, Any]] = desc["GlobalSecondaryIndexes"]
    position = next(n for n, e in enumerate(entries) if e["IndexName"] == name)
    old = entries.pop(position)
    if not entries:
        del desc["GlobalSecondaryIndexes"]
    table.indexes = [i for i in table.indexes if i.name != name]
    used = {table.pk.name} | ({table.sk.name} if table.sk else set())
    for other in table.indexes:
        used |= {a.name for a in (other.pk, other.sk) if a is not None}
    # DynamoDB drops the definitions no key uses any more.
    desc["AttributeDefinitions"] = [
        d for d in desc["AttributeDefinitions"] if d["AttributeName"] in used
    ]
    changes.deleted.append((position, index, copy.deepcopy(old)))


def _update(
    table: TableDef, body: dict[str, Any], mode: str, now: float, changes: GsiChanges
) -> None:
    name = body["IndexName"]
    _gsi(table, name, "update")
    entry = indexes.gsi_description(table, name)
    assert entry is not None
    throughput = body.get("ProvisionedThroughput")
    if mode == "PAY_PER_REQUEST":
        if throughput or (not body.get("OnDemandThroughput") and not body.get("WarmThroughput")):
            raise ValidationException(
                INVALID + f"The only Updates for index: {name} when TableThroughputMode is "
                "PAY_PER_REQUEST can be to OnDemandThroughput, WarmThroughput"
            )
    elif not throughput and not body.get("WarmThroughput"):
        raise ValidationException(
            INVALID + "Both ReadCapacityUnits and WriteCapacityUnits must be specified for "
            f"index: {name}"
        )
    old = copy.deepcopy(entry)
    if throughput:
        check_capacity(throughput)
        check_table_maximum(throughput, table.region, name)
        current = entry["ProvisionedThroughput"]
        wanted = (throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"])
        if (current["ReadCapacityUnits"], current["WriteCapacityUnits"]) == wanted:
            raise ValidationException(
                f"The provisioned throughput for the index {name} will not change. The "
                "requested value equals the current value. Current ReadCapacityUnits "
                f"provisioned for index {name}: {current['ReadCapacityUnits']}. Requested "
                f"ReadCapacityUnits: {wanted[0]}. Current WriteCapacityUnits provisioned for "
                f"index {name}: {current['WriteCapacityUnits']}. Requested WriteCapacityUnits: "
                f"{wanted[1]}. Refer to the Amazon DynamoDB Developer Guide for current limits "
                "and how to request higher limits."
            )
        _set_throughput(current, throughput, now, must_change=False)
        raise_warm(entry, warm_units(throughput))
    if body.get("OnDemandThroughput"):
        check_on_demand(body["OnDemandThroughput"], table.region, name, clearing=True)
        merge_on_demand(entry, body["OnDemandThroughput"])
    if body.get("WarmThroughput"):
        update_warm(entry, body["WarmThroughput"], "index " + name)
    changes.updated[name] = old
