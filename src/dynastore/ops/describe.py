"""TableDescription as DynamoDB answers it: the stored description plus live figures."""

from __future__ import annotations

import copy
from typing import Any

from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine


def table_description(engine: Engine, table: TableDef) -> dict[str, Any]:
    """The description with ItemCount / TableSizeBytes (and per index) filled in."""
    desc = copy.deepcopy(table.description)
    desc.pop("Tags", None)
    count, size = space_stats(engine, table.space)
    desc["ItemCount"] = count
    desc["TableSizeBytes"] = size
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for entry in desc.get(kind, []):
            index = table.index(entry["IndexName"])
            if index is not None:
                icount, isize = space_stats(engine, index.space)
                entry["ItemCount"] = icount
                entry["IndexSizeBytes"] = isize
    return desc


def space_stats(engine: Engine, space: int) -> tuple[int, int]:
    """Item count and stored bytes of one space (DynamoDB refreshes these periodically;
    here they are exact)."""
    count = size = 0
    with engine.backend.read() as tx:
        for _, value in tx.range(space, b"", None):
            count += 1
            size += len(value)
    return count, size
