"""CreateTable: DynamoDB's semantic checks after the shared shape validation, then the catalog."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

from dynastore.engine import quotas, streams
from dynastore.engine.capacity import check_on_demand, check_table_maximum
from dynastore.engine.catalog import IndexDef, KeyAttr, TableDef, table_arn
from dynastore.engine.engine import Engine
from dynastore.engine.expr.resolve import java_set_order
from dynastore.errors import ResourceInUseException, ValidationException
from dynastore.ops import sse
from dynastore.ops.context import Request, Result, table_ref
from dynastore.ops.describe import in_order
from dynastore.ops.shapes import TABLE_NAME_MIN
from dynastore.ops.tags import check_tags
from dynastore.server.protocol import RequestContext
from dynastore.storage.base import WriteTx

INVALID = "One or more parameter values were invalid: "
MAX_GSI = 20
MAX_LSI = 5
MAX_PROJECTED = 100
MAX_CAPACITY = 1_000_000_000_000
# A new on-demand table's or GSI's WarmThroughput; a provisioned one's is its capacity.
ON_DEMAND_WARM = {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000}
WARM_UNITS = (
    ("ReadUnitsPerSecond", "ReadCapacityUnits"),
    ("WriteUnitsPerSecond", "WriteCapacityUnits"),
)
_ON_DEMAND_INITIAL = (
    "initial throughput for OnDemand. See: https://docs.aws.amazon.com/amazondynamodb/latest/"
    "developerguide/on-demand-capacity-mode.html#on-demand-capacity-mode-initial"
)


def _invalid(text: str) -> ValidationException:
    return ValidationException(INVALID + text)


def check_billing(req: Request) -> str:
    """Validate BillingMode against ProvisionedThroughput; return the effective mode."""
    mode = req.get("BillingMode") or "PROVISIONED"
    throughput = req.get("ProvisionedThroughput")
    if mode == "PAY_PER_REQUEST":
        if throughput:
            raise _invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
                "BillingMode is PAY_PER_REQUEST"
            )
        return mode
    if not throughput:
        raise _invalid(
            "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode "
            "is PROVISIONED"
        )
    check_capacity(throughput)
    return mode


def check_capacity(throughput: dict[str, Any]) -> None:
    for name in ("ReadCapacityUnits", "WriteCapacityUnits"):
        if throughput[name] > MAX_CAPACITY:
            raise ValidationException(f"Given value {throughput[name]} for {name} is out of bounds")


def _key_schema(
    schema: list[dict[str, str]], defined: dict[str, str]
) -> tuple[KeyAttr, KeyAttr | None]:
    names = [k["AttributeName"] for k in schema]
    if any(n not in defined for n in names):
        raise _invalid(
            "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(names)}], AttributeDefinitions: [{', '.join(defined)}]"
        )
    if len(names) == 2 and names[0] == names[1]:
        raise ValidationException(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        )
    if schema[0]["KeyType"] != "HASH":
        raise ValidationException(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
        )
    if len(schema) == 2 and schema[1]["KeyType"] != "RANGE":
        raise ValidationException(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
        )
    pk = KeyAttr(names[0], defined[names[0]])
    sk = KeyAttr(names[1], defined[names[1]]) if len(names) == 2 else None
    return pk, sk


def _projection(index: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    projection = index["Projection"]
    kind = projection.get("ProjectionType")
    if kind is None:
        raise _invalid("Unknown ProjectionType: null")
    non_key = projection.get("NonKeyAttributes")
    if non_key and kind != "INCLUDE":
        raise _invalid(f"ProjectionType is {kind}, but NonKeyAttributes is specified")
    if kind == "INCLUDE" and not non_key:
        raise _invalid("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
    seen: set[str] = set()
    for name in non_key or ():
        if name in seen:
            raise _invalid("Duplicate element in NonKeyAttributes: " + name)
        seen.add(name)
    return kind, tuple(non_key or ())


def parse_indexes(
    req: Request, defined: dict[str, str], pk: KeyAttr, sk: KeyAttr | None, mode: str
) -> list[tuple[IndexDef, dict[str, Any]]]:
    """Check the request's LSIs and GSIs; return (definition without space, raw) pairs."""
    out: list[tuple[IndexDef, dict[str, Any]]] = []
    seen: set[str] = set()
    lsis = req.get("LocalSecondaryIndexes")
    if lsis is not None:
        if not lsis:
            raise _invalid("List of LocalSecondaryIndexes is empty")
        if sk is None:
            raise _invalid(
                "Table KeySchema does not have a range key, which is required when specifying "
                "a LocalSecondaryIndex"
            )
        for raw in lsis:
            ipk, isk = _key_schema(raw["KeySchema"], defined)
            if isk is None:
                raise _invalid(
                    "Index KeySchema does not have a range key for index: " + raw["IndexName"]
                )
            if ipk.name != pk.name:
                raise _invalid(
                    "Index KeySchema does not have the same leading hash key as table KeySchema "
                    f"for index: {raw['IndexName']}. index hash key: {ipk.name}, "
                    f"table hash key: {pk.name}"
                )
            kind, non_key = _projection(raw)
            if raw["IndexName"] in seen:
                raise _invalid("Duplicate index name: " + raw["IndexName"])
            seen.add(raw["IndexName"])
            out.append((IndexDef(raw["IndexName"], "LSI", 0, ipk, isk, kind, non_key), raw))
        if len(lsis) > MAX_LSI:
            raise _invalid("Number of LocalSecondaryIndexes exceeds per-table limit of 5")
    gsis = req.get("GlobalSecondaryIndexes")
    if gsis is not None:
        if not gsis:
            raise _invalid("List of GlobalSecondaryIndexes is empty")
        for raw in gsis:
            out.append((parse_gsi(raw, defined, mode, seen), raw))
        if len(gsis) > MAX_GSI:
            raise _invalid("GlobalSecondaryIndex count exceeds the per-table limit of 20")
    # Summed over the indexes: one attribute projected into two indexes counts twice.
    if sum(len(index.non_key) for index, _ in out) > MAX_PROJECTED:
        raise _invalid("Number of projected attributes in all indexes exceeds limit of 100")
    return out


def parse_gsi(raw: dict[str, Any], defined: dict[str, str], mode: str, seen: set[str]) -> IndexDef:
    """Check one GSI definition (CreateTable or UpdateTable's Create)."""
    ipk, isk = _key_schema(raw["KeySchema"], defined)
    kind, non_key = _projection(raw)
    name = raw["IndexName"]
    throughput = raw.get("ProvisionedThroughput")
    if mode == "PAY_PER_REQUEST" and throughput:
        raise _invalid(
            f"ProvisionedThroughput should not be specified for index: {name} when "
            "BillingMode is PAY_PER_REQUEST"
        )
    if mode == "PROVISIONED" and not throughput:
        raise _invalid(f"ProvisionedThroughput is not specified for index: {name}")
    if throughput:
        check_capacity(throughput)
    if name in seen:
        raise _invalid("Duplicate index name: " + name)
    seen.add(name)
    return IndexDef(name, "GSI", 0, ipk, isk, kind, non_key)


def _throughput(raw: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": (raw or {}).get("ReadCapacityUnits", 0),
        "WriteCapacityUnits": (raw or {}).get("WriteCapacityUnits", 0),
    }


def new_warm(
    given: dict[str, Any] | None, throughput: dict[str, Any] | None, target: str
) -> dict[str, Any]:
    """The WarmThroughput of a new table or GSI (`target`: "table" or "index <name>"): the
    requested units, by default and at least the on-demand initial throughput or, when
    `throughput` is given (provisioned), its capacity units."""
    warm: dict[str, Any] = {}
    for unit, capacity in WARM_UNITS:
        floor = throughput[capacity] if throughput else ON_DEMAND_WARM[unit]
        value = (given or {}).get(unit)
        if value is not None and value < floor:
            lower = f"{capacity} of ProvisionedThroughput" if throughput else _ON_DEMAND_INITIAL
            raise _invalid(
                f"Requested {unit} for WarmThroughput for {target} is lower than {lower}"
            )
        warm[unit] = floor if value is None else value
    warm["Status"] = "ACTIVE"
    return warm


def raise_warm(holder: dict[str, Any], floor: dict[str, Any]) -> None:
    """Raise a table's or GSI's WarmThroughput to at least `floor` (in its units): it
    tracks the highest throughput ever provisioned and never decreases by itself."""
    warm = holder.setdefault("WarmThroughput", {**ON_DEMAND_WARM, "Status": "ACTIVE"})
    for unit, _ in WARM_UNITS:
        warm[unit] = max(int(warm.get(unit, 0)), int(floor[unit]))


def warm_units(throughput: dict[str, Any]) -> dict[str, Any]:
    """ProvisionedThroughput capacity units as WarmThroughput units."""
    return {unit: throughput[capacity] for unit, capacity in WARM_UNITS}


def index_description(
    table: str, region: str, account: str, index: IndexDef, raw: dict[str, Any], status: str
) -> dict[str, Any]:
    """The IndexDescription entry of a new index."""
    entry: dict[str, Any] = {
        "IndexName": index.name,
        "KeySchema": raw["KeySchema"],
        "Projection": raw["Projection"],
        "IndexSizeBytes": 0,
        "ItemCount": 0,
        "IndexArn": f"{table_arn(region, account, table)}/index/{index.name}",
    }
    if index.kind == "GSI":
        entry["IndexStatus"] = status
        entry["ProvisionedThroughput"] = _throughput(raw.get("ProvisionedThroughput"))
        if "OnDemandThroughput" in raw:
            entry["OnDemandThroughput"] = raw["OnDemandThroughput"]
        warm = gsi_warm(raw)
        warm["Status"] = status  # ACTIVE with the index (ops/describe.py)
        entry["WarmThroughput"] = warm
    return entry


def gsi_warm(raw: dict[str, Any]) -> dict[str, Any]:
    """A new GSI's WarmThroughput (its ProvisionedThroughput is there when provisioned)."""
    target = "index " + raw["IndexName"]
    return new_warm(raw.get("WarmThroughput"), raw.get("ProvisionedThroughput"), target)


def handle(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    missing = [
        f"Value null at '{member}' failed to satisfy constraint: Member must not be null"
        for name, member in (
            ("AttributeDefinitions", "attributeDefinitions"),
            ("KeySchema", "keySchema"),
        )
        if req.get(name) is None
    ]
    if missing:
        count = len(missing)
        raise ValidationException(
            f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(missing)
        )
    if req.get("BillingMode") == "PROVISIONED":
        # The default mode: a table created PROVISIONED has no BillingModeSummary.
        req = {k: v for k, v in req.items() if k != "BillingMode"}
    _, desc = create(engine, ctx, req)
    return {"TableDescription": _answer(desc, req)}


def _answer(desc: dict[str, Any], req: Request) -> dict[str, Any]:
    """CreateTable's TableDescription: DescribeTable adds WarmThroughput (unless the
    request set it, then being applied) and LastUpdateToPayPerRequestDateTime later."""
    answer = in_order(copy.deepcopy(desc))
    answer.pop("Tags", None)
    answer.get("BillingModeSummary", {}).pop("LastUpdateToPayPerRequestDateTime", None)
    for gsi in answer.get("GlobalSecondaryIndexes", []):
        gsi.pop("WarmThroughput", None)
    if "WarmThroughput" in req:
        answer["WarmThroughput"]["Status"] = "UPDATING"
    else:
        answer.pop("WarmThroughput", None)
    return answer


def _definitions(req: Request) -> dict[str, str]:
    """AttributeDefinitions as name -> type; a name defined twice is refused."""
    defined: dict[str, str] = {}
    for definition in req["AttributeDefinitions"]:
        name = definition["AttributeName"]
        if name in defined:
            raise ValidationException(f"Attribute Name is duplicated: {name}")
        defined[name] = definition["AttributeType"]
    return defined


def _check_all_used(req: Request, defined: dict[str, str]) -> None:
    """Every definition is a key of the table or of an index. Checked before the indexes
    themselves (their own undefined keys are theirs to report)."""
    schemas = [req["KeySchema"]] + [
        raw.get("KeySchema") or []
        for kind in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes")
        for raw in req.get(kind) or []
    ]
    used = list(dict.fromkeys(k["AttributeName"] for schema in schemas for k in schema))
    if set(defined) == set(used) or not set(used) <= set(defined):
        return
    if len(schemas) == 1:
        raise _invalid(
            "Number of attributes in KeySchema does not exactly match number of attributes "
            "defined in AttributeDefinitions"
        )
    raise _invalid(
        f"Some AttributeDefinitions are not used. AttributeDefinitions: [{', '.join(defined)}], "
        f"keys used: [{', '.join(java_set_order(used, len(used)))}]"
    )


def create(
    engine: Engine,
    ctx: RequestContext,
    req: Request,
    on_create: Callable[[WriteTx, TableDef], None] | None = None,
) -> tuple[TableDef, dict[str, Any]]:
    """Check a CreateTable request and create the table: (stored definition, the
    description to answer). `on_create` runs in the creating transaction (restores
    make the table theirs there)."""
    account, region, name = table_ref(ctx, req["TableName"])
    if len(name) < TABLE_NAME_MIN:
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at 'tableName' failed to satisfy "
            f"constraint: Member must have length greater than or equal to {TABLE_NAME_MIN}"
        )
    mode = check_billing(req)
    defined = _definitions(req)
    schema = req["KeySchema"]
    if len(schema) > len(defined):
        raise ValidationException("Invalid KeySchema: Some index key attribute have no definition")
    pk, sk = _key_schema(schema, defined)
    _check_all_used(req, defined)
    indexes = parse_indexes(req, defined, pk, sk, mode)
    check_table_class(req.get("TableClass"))
    stream_view = streams.create_spec(req.get("StreamSpecification"))
    check_capacity_limits(req, mode, region)
    throughput = req.get("ProvisionedThroughput")
    provisioned = throughput if mode == "PROVISIONED" else None
    warm = new_warm(req.get("WarmThroughput"), provisioned, "table")
    tags = check_tags(req.get("Tags") or [])
    existing = engine.catalog.get(account, region, name)
    if existing is not None:
        if existing.status == "CREATING":
            raise ResourceInUseException(
                "Attempt to change a resource which is still in use: Table is being created: "
                + name
            )
        raise ResourceInUseException(f"Table already exists: {name}")
    catalog, limits = engine.catalog, engine.settings.table_quotas
    quotas.check_new_table(catalog, account, region, limits, indexed=bool(indexes))
    requested = quotas.provisioned_units(
        {
            "BillingModeSummary": {"BillingMode": mode},
            "ProvisionedThroughput": req.get("ProvisionedThroughput"),
            "GlobalSecondaryIndexes": req.get("GlobalSecondaryIndexes") or [],
        }
    )
    quotas.check_account_capacity(catalog, account, region, name, requested)
    encryption = sse.create_plan(engine, account, region, req.get("SSESpecification"))
    now = engine.clock()
    deadline = engine.catalog.transition_deadline()
    status = "CREATING"
    arn = table_arn(region, account, name)
    desc: dict[str, Any] = {
        "AttributeDefinitions": req["AttributeDefinitions"],
        "TableName": name,
        "KeySchema": schema,
        "TableStatus": status,
        "CreationDateTime": now,
        "ProvisionedThroughput": _throughput(throughput),
        "TableSizeBytes": 0,
        "ItemCount": 0,
        "TableArn": arn,
        "TableId": str(uuid.uuid4()),
        "DeletionProtectionEnabled": bool(req.get("DeletionProtectionEnabled", False)),
    }
    if req.get("BillingMode"):
        desc["BillingModeSummary"] = {"BillingMode": mode}
        if mode == "PAY_PER_REQUEST":
            desc["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"] = now
    if req.get("TableClass"):
        desc["TableClassSummary"] = {"TableClass": req["TableClass"]}
    if "OnDemandThroughput" in req:
        desc["OnDemandThroughput"] = req["OnDemandThroughput"]
    desc["WarmThroughput"] = warm
    with engine.backend.write() as tx:
        space = engine.catalog.allocate_space(tx)
        defs: list[IndexDef] = []
        for index, raw in indexes:
            index_space = engine.catalog.allocate_space(tx)
            defs.append(
                IndexDef(
                    index.name,
                    index.kind,
                    index_space,
                    index.pk,
                    index.sk,
                    index.projection,
                    index.non_key,
                )
            )
            key = "GlobalSecondaryIndexes" if index.kind == "GSI" else "LocalSecondaryIndexes"
            desc.setdefault(key, []).append(
                index_description(name, region, account, index, raw, status)
            )
        table = TableDef(account, region, name, space, pk, sk, desc, defs, deadline)
        if encryption is not None:
            sse.apply(engine, tx, table, encryption)  # sets desc["SSEDescription"]
        if stream_view is not None:
            streams.enable(tx, engine.catalog, table, stream_view, now)
        if not deadline:
            table.description = _activated(desc)
        table.description["Tags"] = tags
        engine.catalog.create(tx, table)
        if on_create is not None:
            on_create(tx, table)
    return table, desc


def _activated(desc: dict[str, Any]) -> dict[str, Any]:
    """The stored copy of a table whose creation completes at once."""
    stored = copy.deepcopy(desc)
    stored["TableStatus"] = "ACTIVE"
    for gsi in stored.get("GlobalSecondaryIndexes", []):
        gsi["IndexStatus"] = gsi["WarmThroughput"]["Status"] = "ACTIVE"
    return stored


def check_table_class(table_class: str | None) -> None:
    if table_class is not None and table_class not in ("STANDARD", "STANDARD_INFREQUENT_ACCESS"):
        raise ValidationException(
            "Invalid table-class parameter provided. Please try again with a valid "
            "table-class value: [STANDARD, STANDARD_INFREQUENT_ACCESS]."
        )


def check_capacity_limits(req: Request, mode: str, region: str) -> None:
    """The account maxima on provisioned units and on-demand maximums (DescribeLimits'),
    and the GSIs' WarmThroughput."""
    throughput = req.get("ProvisionedThroughput")
    if mode == "PROVISIONED" and throughput:
        check_table_maximum(throughput, region)
    _check_maximums(req, mode, region, None)
    for raw in req.get("GlobalSecondaryIndexes") or []:
        if raw.get("ProvisionedThroughput"):
            check_table_maximum(raw["ProvisionedThroughput"], region, raw["IndexName"])
        _check_maximums(raw, mode, region, raw["IndexName"])
        gsi_warm(raw)


def _check_maximums(holder: dict[str, Any], mode: str, region: str, index: str | None) -> None:
    """The OnDemandThroughput of a new table (`index` None) or GSI: on demand only."""
    maximums = holder.get("OnDemandThroughput") or {}
    present = [n for n in ("MaxReadRequestUnits", "MaxWriteRequestUnits") if n in maximums]
    if mode == "PROVISIONED" and present:
        target = "" if index is None else f"for index: {index} "
        raise _invalid(
            f"{present[0]} for OnDemandThroughput {target}cannot be specified when table "
            "BillingMode is PROVISIONED."
        )
    check_on_demand(maximums, region, index)
