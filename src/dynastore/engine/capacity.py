"""Capacity units as DynamoDB counts them, the ConsumedCapacity shapes it returns, and
the capacity settings CreateTable / UpdateTable accept.

Writes cost one unit per started KB of the larger of the old and new item; reads one unit
per started 4 KB, half that when eventually consistent; transactional operations double.
Enforcement (token buckets) is engine/throttle.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from dynastore.engine.catalog import TableDef
from dynastore.engine.values import Item, item_size
from dynastore.errors import LimitExceededException, ValidationException

KB = 1024


def write_units(size: int) -> float:
    return float(max(1, -(-size // KB)))


def item_write_units(item: Item | None) -> float:
    """Write units of one version of an item (None: absent, still one unit). An item's
    DynamoDB size never exceeds its DynamoDB-JSON text, so a text of 1 KB or less is one
    unit without measuring the item (a fifth of the cost on the write path)."""
    if item is None or len(orjson.dumps(item)) <= KB:
        return 1.0
    return write_units(item_size(item))


def read_units(size: int, consistent: bool) -> float:
    units = float(max(1, -(-size // (4 * KB))))
    return units if consistent else units / 2


def stored_read_units(raw: bytes | None, consistent: bool) -> float:
    """Read units of a stored item (None: absent) from its bytes. An item's DynamoDB size
    never exceeds the DynamoDB-JSON text it is stored as, so a record of 4 KB or less costs
    one unit without being parsed."""
    if raw is None:
        return read_units(0, consistent)
    if len(raw) <= 4 * KB:
        return read_units(1, consistent)
    return read_units(item_size(orjson.loads(raw)), consistent)


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
    if mode == "INDEXES":
        out["Table"] = {"CapacityUnits": units}
        gsis = {n: u for n, u in per_index.items() if _kind(table, n) == "GSI"}
        lsis = {n: u for n, u in per_index.items() if _kind(table, n) == "LSI"}
        if gsis:
            out["GlobalSecondaryIndexes"] = {n: {"CapacityUnits": u} for n, u in gsis.items()}
        if lsis:
            out["LocalSecondaryIndexes"] = {n: {"CapacityUnits": u} for n, u in lsis.items()}
    return out


def _kind(table: TableDef, name: str) -> str | None:
    index = table.index(name)
    return index.kind if index else None


# --- capacity settings as CreateTable / UpdateTable check them ------------------------

TABLE_MAX_UNITS = 40000  # DescribeLimits' TableMaxReadCapacityUnits / ...WriteCapacityUnits
FREE_DECREASES_PER_DAY = 4  # then one decrease per hour until the UTC day ends
DECREASE_INTERVAL = 3600
_DAY = 86400
_UNITS = ("ReadCapacityUnits", "WriteCapacityUnits")
_MAXIMA = ("MaxReadRequestUnits", "MaxWriteRequestUnits")


def check_table_maximum(throughput: dict[str, Any], region: str, index: str | None = None) -> None:
    """Provisioned units above the per-table (per-index) maximum: LimitExceededException."""
    for name in _UNITS:
        value = throughput.get(name)
        if value is None or value <= TABLE_MAX_UNITS:
            continue
        if index is None:
            raise LimitExceededException(
                f"The requested {name}, {value}, is above the per table maximum for the account "
                f"in {region}. Per table maximum: {TABLE_MAX_UNITS}."
            )
        raise LimitExceededException(
            f"The requested {name} for index {index}, {value}, is above the per index maximum "
            f"for the account in {region}. Per index maximum: {TABLE_MAX_UNITS}."
        )


def decreases_today(throughput: dict[str, Any], now: float) -> int:
    """NumberOfDecreasesToday as of `now`: the count restarts each UTC day."""
    last = throughput.get("LastDecreaseDateTime")
    if last is None or int(last // _DAY) != int(now // _DAY):
        return 0
    return int(throughput.get("NumberOfDecreasesToday", 0))


def check_decrease(throughput: dict[str, Any], wanted: dict[str, Any], now: float) -> bool:
    """Whether `wanted` lowers either unit; raise DynamoDB's LimitExceededException when
    today's decreases are used up (4 free, then one per hour until the UTC day ends)."""
    lowers = any(
        wanted.get(name) is not None and wanted[name] < throughput.get(name, 0) for name in _UNITS
    )
    if not lowers:
        return False
    count = decreases_today(throughput, now)
    last = float(throughput.get("LastDecreaseDateTime") or 0.0)
    if count < FREE_DECREASES_PER_DAY or now - last >= DECREASE_INTERVAL:
        return True
    next_day = (int(last // _DAY) + 1) * _DAY
    allowed = min(last + DECREASE_INTERVAL, next_day)
    raise LimitExceededException(
        "Subscriber limit exceeded: Provisioned throughput decreases are limited within a "
        f"given UTC day. After the first {FREE_DECREASES_PER_DAY} decreases, each subsequent "
        f"decrease in the same UTC day can be performed at most once every {DECREASE_INTERVAL} "
        f"seconds. Number of decreases today: {count}. Last decrease at {_utc_text(last)}. "
        f"Next decrease can be made at {_utc_text(allowed)}."
    )


def _utc_text(moment: float) -> str:
    """DynamoDB's long date: 'Friday, October 9, 2026 at 12:00:00 AM Coordinated Universal Time'."""
    at = datetime.fromtimestamp(moment, tz=UTC)
    hour = at.hour % 12 or 12
    return (
        f"{at:%A}, {at:%B} {at.day}, {at.year} at {hour}:{at:%M:%S} {at:%p} "
        "Coordinated Universal Time"
    )


def check_on_demand(
    maximums: dict[str, Any], region: str, index: str | None = None, *, clearing: bool = False
) -> None:
    """OnDemandThroughput maximums: positive (or -1 to clear, on UpdateTable) and at most
    the table maximum."""
    target = "table" if index is None else f"index : {index}"
    for name in _MAXIMA:
        value = maximums.get(name)
        if value is None or (clearing and value == -1):
            continue
        if value < 1:
            raise ValidationException(
                "One or more parameter values were invalid: Requested "
                f"{name} for OnDemandThroughput for {target} is outside of valid range"
            )
        if value > TABLE_MAX_UNITS:
            which = "TableMaxReadCapacityUnits" if "Read" in name else "TableMaxWriteCapacityUnits"
            raise LimitExceededException(
                f"Subscriber limit exceeded: Requested {name} for OnDemandThroughput for "
                f"{target} exceeds {which} of the account in region {region}"
            )
