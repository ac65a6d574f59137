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
    return desc

