"""Account quotas: tables per account and Region, table operations in flight, and the
provisioned throughput one account may reserve in a Region (DescribeLimits).

DynamoDB's defaults: 2,500 tables; 500 tables CREATING, UPDATING or DELETING at once, of
which 250 creations of tables with secondary indexes; 80,000 read and 80,000 write
capacity units provisioned over all of an account's tables and GSIs, 40,000 of each
for any one table or GSI (`capacity.TABLE_MAX_UNITS`, checked by capacity.py). On-demand
tables are not counted against the account's units: their ceiling is the per-table
maximum, enforced on traffic by throttle.py.

The checks count the catalog when a table operation asks (CreateTable, UpdateTable,
DeleteTable, restores, new replicas): a control-plane call, rare next to the scan of one
account's tables. Concurrent creations in several processes may both pass, as a soft
quota allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dynastore.engine.capacity import TABLE_MAX_UNITS
from dynastore.engine.catalog import Catalog, TableDef
from dynastore.errors import LimitExceededException

DEFAULT_TABLE_LIMIT = 2500
DEFAULT_TABLE_OPERATIONS = 500
ACCOUNT_MAX_UNITS = 80000  # DescribeLimits' AccountMaxRead/WriteCapacityUnits

_SUBSCRIBER = "Subscriber limit exceeded: "
_IN_FLIGHT = ("CREATING", "UPDATING", "DELETING")
_UNITS = ("ReadCapacityUnits", "WriteCapacityUnits")


@dataclass(frozen=True, slots=True)
class TableQuotas:
    """The table quotas of every account and Region (configurable: `table_limit`...)."""

    tables: int = DEFAULT_TABLE_LIMIT
    operations: int = DEFAULT_TABLE_OPERATIONS  # half of them for indexed creations


def describe_limits() -> dict[str, int]:
    """DescribeLimits' answer."""
    return {
        "AccountMaxReadCapacityUnits": ACCOUNT_MAX_UNITS,
        "AccountMaxWriteCapacityUnits": ACCOUNT_MAX_UNITS,
        "TableMaxReadCapacityUnits": TABLE_MAX_UNITS,
        "TableMaxWriteCapacityUnits": TABLE_MAX_UNITS,
    }


def _tables(catalog: Catalog, account: str, region: str) -> list[TableDef]:
    found = (catalog.get(account, region, name) for name in catalog.names(account, region))
    return [table for table in found if table is not None]


def _check_operations(tables: Iterable[TableDef], quotas: TableQuotas) -> None:
    if sum(1 for table in tables if table.status in _IN_FLIGHT) >= quotas.operations:
        raise LimitExceededException(
            f"{_SUBSCRIBER}Only {quotas.operations} tables can be created, updated, or deleted "
            "simultaneously"
        )


def check_new_table(
    catalog: Catalog, account: str, region: str, quotas: TableQuotas, indexed: bool
) -> None:
    """Room for one more table (with secondary indexes when `indexed`)."""
    tables = _tables(catalog, account, region)
    if len(tables) >= quotas.tables:
        raise LimitExceededException(
            f"{_SUBSCRIBER}There is a limit of {quotas.tables} tables per subscriber"
        )
    _check_operations(tables, quotas)
    if indexed:
        creating = sum(1 for t in tables if t.status == "CREATING" and t.indexes)
        if creating >= quotas.operations // 2:
            raise LimitExceededException(
                f"{_SUBSCRIBER}You have exceeded the maximum number of indexed tables that can "
                "be created simultaneously"
            )


def check_table_operation(catalog: Catalog, account: str, region: str, quotas: TableQuotas) -> None:
    """Room for one more table to go UPDATING or DELETING."""
    _check_operations(_tables(catalog, account, region), quotas)


def provisioned_units(desc: Mapping[str, Any]) -> tuple[int, int]:
    """Read and write units a table reserves: its own and its GSIs' (0 when on-demand)."""
    mode = desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    if mode != "PROVISIONED":
        return 0, 0
    totals = [0, 0]
    for entry in (desc, *desc.get("GlobalSecondaryIndexes", [])):
        throughput = entry.get("ProvisionedThroughput") or {}
        for i, name in enumerate(_UNITS):
            totals[i] += int(throughput.get(name) or 0)
    return totals[0], totals[1]


def check_account_capacity(
    catalog: Catalog,
    account: str,
    region: str,
    name: str,
    requested: tuple[int, int],
    current: tuple[int, int] = (0, 0),
) -> None:
    """A table (`name`) that now reserves `current` units and asks for `requested`: the
    account's provisioned total in the Region must stay within ACCOUNT_MAX_UNITS."""
    if requested[0] <= current[0] and requested[1] <= current[1]:
        return  # nothing grows
    others = [0, 0]
    for table in _tables(catalog, account, region):
        if table.name != name and table.status != "DELETING":
            units = provisioned_units(table.description)
            others[0] += units[0]
            others[1] += units[1]
    for i, unit in enumerate(_UNITS):
        if requested[i] > current[i] and others[i] + requested[i] > ACCOUNT_MAX_UNITS:
            raise LimitExceededException(
                f"This request would have caused the {unit} limit to be exceeded for the "
                f"account in {region}. Current {unit} reserved by the account: "
                f"{others[i] + current[i]}. Limit: {ACCOUNT_MAX_UNITS}. Requested: {requested[i]}"
            )
