"""TableDescription as DynamoDB answers it: the stored description plus live figures."""

from __future__ import annotations

import copy
from typing import Any

from dynastore.engine import replication
from dynastore.engine.capacity import decreases_today
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.engine.insights import SETTINGS_FIELD

# Kept in the stored description for their own operations, never in DescribeTable's answer.
HIDDEN = frozenset(("Tags", "StreamTags", SETTINGS_FIELD))


def table_description(engine: Engine, table: TableDef) -> dict[str, Any]:
    """The description with ItemCount / TableSizeBytes (and per index) filled in."""
    desc = copy.deepcopy({k: v for k, v in table.description.items() if k not in HIDDEN})
    now = engine.clock()
    count, size = engine.backend.stats(table.space)
    desc["ItemCount"] = count
    desc["TableSizeBytes"] = size
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for entry in desc.get(kind, []):
            index = table.index(entry["IndexName"])
            if index is not None:
                icount, isize = engine.backend.stats(index.space)
                entry["ItemCount"] = icount
                entry["IndexSizeBytes"] = isize
    for entry in desc.get("GlobalSecondaryIndexes", []):
        # Warm throughput changes are instant here: a GSI's is ready when the index is.
        warm = entry.get("WarmThroughput")
        if warm and entry.get("IndexStatus") == "ACTIVE":
            warm["Status"] = "ACTIVE"
    # NumberOfDecreasesToday restarts every UTC day, whenever the table was last updated.
    for holder in (desc, *desc.get("GlobalSecondaryIndexes", [])):
        throughput = holder.get("ProvisionedThroughput")
        if throughput and "NumberOfDecreasesToday" in throughput:
            throughput["NumberOfDecreasesToday"] = decreases_today(throughput, now)
    in_order(desc)
    engine.crypto.describe(table, desc)  # INACCESSIBLE_ENCRYPTION_CREDENTIALS
    if replication.is_global(table):
        desc["GlobalTableVersion"] = replication.VERSION
        desc["Replicas"] = replication.replica_descriptions(table)
    return desc


def in_order(desc: dict[str, Any]) -> dict[str, Any]:
    """Put a description's lists in DynamoDB's order (returned): AttributeDefinitions and
    NonKeyAttributes by name, whatever the order they were given in."""
    definitions: list[dict[str, Any]] = desc.get("AttributeDefinitions", [])
    definitions.sort(key=lambda d: _java_order(d["AttributeName"]))
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for entry in desc.get(kind, []):
            names = entry.get("Projection", {}).get("NonKeyAttributes")
            if names:
                names.sort(key=_java_order)
    return desc


def _java_order(name: str) -> bytes:
    """Java's String order: by UTF-16 code units."""
    return name.encode("utf-16-be", "surrogatepass")
