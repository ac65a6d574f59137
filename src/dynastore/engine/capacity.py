"""Capacity units as DynamoDB counts them, and the ConsumedCapacity shapes it returns.

Writes cost one unit per started KB of the larger of the old and new item; reads one unit
per started 4 KB, half that when eventually consistent; transactional operations double.
"""

from __future__ import annotations

from typing import Any

from dynastore.engine.catalog import TableDef

KB = 1024


def write_units(size: int) -> float:
    return float(max(1, -(-size // KB)))


def read_units(size: int, consistent: bool) -> float:
    units = float(max(1, -(-size // (4 * KB))))
    return units if consistent else units / 2


def consumed(
    mode: str | None,
    table: TableDef,
    units: float,
    *,
    read: bool,
    index_units: dict[str, float] | None = None,
) -> dict[str, Any] | None:
    """The ConsumedCapacity entry for ReturnConsumedCapacity (None when NONE or absent)."""
    if mode not in ("TOTAL", "INDEXES"):
        return None
    per_index = index_units or {}
    total = units + sum(per_index.values())
    out: dict[str, Any] = {"TableName": table.name, "CapacityUnits": total}
    out["ReadCapacityUnits" if read else "WriteCapacityUnits"] = total
    if mode == "INDEXES":
        kind = "ReadCapacityUnits" if read else "WriteCapacityUnits"
        out["Table"] = {"CapacityUnits": units, kind: units}
        gsis = {n: u for n, u in per_index.items() if _kind(table, n) == "GSI"}
        lsis = {n: u for n, u in per_index.items() if _kind(table, n) == "LSI"}
        if gsis:
            out["GlobalSecondaryIndexes"] = {
                n: {"CapacityUnits": u, kind: u} for n, u in gsis.items()
            }
        if lsis:
            out["LocalSecondaryIndexes"] = {
                n: {"CapacityUnits": u, kind: u} for n, u in lsis.items()
            }
    return out


def _kind(table: TableDef, name: str) -> str | None:
    index = table.index(name)
    return index.kind if index else None
