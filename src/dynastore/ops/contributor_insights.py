"""UpdateContributorInsights, DescribeContributorInsights and ListContributorInsights.

The setting of the table and of each GSI is stored in the table's description (see
engine/insights.py: `Setting`), so every process agrees on it; the counts themselves
are in memory, in the Engine's Throttle and Insights. ENABLING and DISABLING last the
server's table status delay (DynamoDB: 1-16 s and about 2 s). Behaviour recorded against
DynamoDB: re-enabling with the same mode and disabling what is off are no-ops that echo
the settled status; an ENABLE without a mode means ACCESSED_AND_THROTTLED_KEYS; a mode
change keeps the rule names; ListContributorInsights leaves out DISABLED entries.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.engine.insights import (
    ACCESSED_AND_THROTTLED,
    SETTINGS_FIELD,
    Setting,
    rule_names,
    setting,
)
from dynastore.errors import ResourceNotFoundException, ValidationException
from dynastore.ops.context import Request, Result
from dynastore.ops.tables import existing_table
from dynastore.server.protocol import RequestContext
from dynastore.storage.base import WriteTx

DEFAULT_PAGE = 100
_NOT_VALID = "Table or Index is not in a valid state to update Key Access Insights: "


def _gsi(table: TableDef, name: str | None) -> dict[str, Any] | None:
    """The GSI's description entry (None for the table); DynamoDB's error when unknown."""
    if name is None:
        return None
    for entry in table.description.get("GlobalSecondaryIndexes", []):
        if entry["IndexName"] == name:
            gsi: dict[str, Any] = entry
            return gsi
    raise ResourceNotFoundException(
        f"Requested resource not found: Index: {name} not found for table: {table.name}"
    )


def _has_sort_key(table: TableDef, index: str | None) -> bool:
    found = table.index(index) if index is not None else None
    return (found.sk if found is not None else table.sk) is not None


def _rule_ms(table: TableDef, now: float) -> int:
    """A creation time in ms that no other rule of this table uses (rule names embed it)."""
    taken = {raw["RuleMs"] for raw in table.description.get(SETTINGS_FIELD, {}).values()}
    ms = int(now * 1000)
    while ms in taken:
        ms += 1
    return ms


def update_contributor_insights(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    table = existing_table(engine, ctx, req["TableName"])
    index = req.get("IndexName")
    enable = req["ContributorInsightsAction"] == "ENABLE"
    mode = req.get("ContributorInsightsMode") or ACCESSED_AND_THROTTLED
    now = engine.clock()
    until = engine.catalog.transition_deadline() or now
    if _changed(table, index, enable, mode, now, until) is None:
        current = setting(table.description, index)  # a no-op echoes the settled status
        status = current.status(now) if current is not None else "DISABLED"
        return _answer(table, index, status, current.mode if current is not None else None)

    def change(tx: WriteTx, table: TableDef) -> None:
        changed = _changed(table, index, enable, mode, now, until)
        if changed is not None:
            table.description.setdefault(SETTINGS_FIELD, {})[index or ""] = changed.to_json()

    table = engine.catalog.update(table, change)
    if not enable:
        engine.insights.drop(table.account, table.region, table.name, index)
    engine.throttle.forget(table)
    stored = setting(table.description, index)
    return _answer(
        table, index, "ENABLING" if enable else "DISABLING", stored.mode if stored else None
    )


def _changed(
    table: TableDef, index: str | None, enable: bool, mode: str, now: float, until: float
) -> Setting | None:
    """The table's or index's new setting after DynamoDB's checks; None: nothing changes."""
    gsi = _gsi(table, index)
    current = setting(table.description, index)
    if not enable:
        if current is None or not current.enabled:
            return None
        return Setting(False, current.mode, current.rule_ms, until, now)
    if table.status in ("CREATING", "DELETING"):
        raise ValidationException(
            _NOT_VALID + "TableStatus must be ACTIVE to enable ContributorInsights."
        )
    if gsi is not None and gsi.get("IndexStatus", "ACTIVE") != "ACTIVE":
        raise ValidationException(
            _NOT_VALID + "IndexStatus must be ACTIVE to enable ContributorInsights."
        )
    if current is not None and current.enabled and current.mode == mode:
        return None
    rule_ms = current.rule_ms if current is not None and current.enabled else 0
    return Setting(True, mode, rule_ms or _rule_ms(table, now), until, now)


def _answer(table: TableDef, index: str | None, status: str, mode: str | None) -> Result:
    out: dict[str, Any] = {"TableName": table.name}
    if index is not None:
        out["IndexName"] = index
    out["ContributorInsightsStatus"] = status
    if mode is not None:
        out["ContributorInsightsMode"] = mode
    return out


def describe_contributor_insights(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    table = existing_table(engine, ctx, req["TableName"])
    index = req.get("IndexName")
    _gsi(table, index)
    out: dict[str, Any] = {"TableName": table.name}
    if index is not None:
        out["IndexName"] = index
    current = setting(table.description, index)
    if current is None:
        out["ContributorInsightsStatus"] = "DISABLED"
        return out
    now = engine.clock()
    status = current.status(now)
    if status == "ENABLED":
        out["ContributorInsightsRuleList"] = rule_names(
            table.name, current.rule_ms, _has_sort_key(table, index), current.mode
        )
    out["ContributorInsightsStatus"] = status
    out["LastUpdateDateTime"] = current.until if now >= current.until else current.updated
    out["ContributorInsightsMode"] = current.mode
    return out


def list_contributor_insights(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    name = req.get("TableName")
    if name is not None:
        tables = [existing_table(engine, ctx, name)]
    else:
        tables = []
        for table_name in engine.catalog.names(ctx.account, ctx.region):
            found = engine.catalog.get(ctx.account, ctx.region, table_name)
            if found is not None:
                tables.append(found)
    now = engine.clock()
    summaries: list[tuple[str, str, dict[str, Any]]] = []
    for table in tables:
        gsis = table.description.get("GlobalSecondaryIndexes", [])
        indexes: list[str | None] = [None, *sorted(g["IndexName"] for g in gsis)]
        for index in indexes:
            current = setting(table.description, index)
            if current is None or current.status(now) == "DISABLED":
                continue
            entry: dict[str, Any] = {"TableName": table.name}
            if index is not None:
                entry["IndexName"] = index
            entry["ContributorInsightsStatus"] = current.status(now)
            entry["ContributorInsightsMode"] = current.mode
            summaries.append((table.name, index or "", entry))
    limit = req.get("MaxResults") or DEFAULT_PAGE
    start = 0
    token = req.get("NextToken")
    if token is not None:
        position = _decode(token)
        start = next((i for i, s in enumerate(summaries) if s[:2] >= position), len(summaries))
    chosen = summaries[start : start + limit]
    out: dict[str, Any] = {"ContributorInsightsSummaries": [s[2] for s in chosen]}
    if start + limit < len(summaries):
        following = summaries[start + limit]
        out["NextToken"] = base64.b64encode(orjson.dumps(following[:2])).decode()
    return out


def _decode(token: str) -> tuple[str, str]:
    """The (table, index) a NextToken resumes at."""
    try:
        table, index = orjson.loads(base64.b64decode(token, validate=True))
        return str(table), str(index)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise ValidationException(
            f"Invalid Request: Provided nextToken is invalid: {token}"
        ) from None
