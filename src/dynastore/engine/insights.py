"""Contributor Insights: the most accessed and most throttled keys of a table or GSI.

Design note. For a table or GSI with insights ENABLED, DynamoDB keeps up to four
CloudWatch Contributor Insights rules (docs: "CloudWatch contributor insights for
DynamoDB: How it works"), named ``DynamoDBContributorInsights-<kind>-<table>-<ms>``:

- PKC / SKC: most accessed partition keys / partition+sort keys;
- PKT / SKT: most throttled partition keys / partition+sort keys.

The SK rules exist only when the table or index has a sort key, and the THROTTLED_KEYS
mode keeps only the throttle rules. Each rule here is a `RuleCounter`: one dict of
key -> count per minute, for a bounded number of minutes. A minute's dict is bounded
too: when it reaches twice `keys_per_minute` entries the smallest half is dropped, so
memory stays bounded under any key cardinality and each event costs amortised O(1);
the counts of the heavy hitters (what a top-N report shows) are exact unless a key was
dropped and came back within one minute. Reports merge the minutes of a window.

Everything is in memory, per process: the CloudWatch side (a later issue) reads it
through `Insights.rules()` and `Insights.report()`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dynastore.engine.values import AttrValue

RULE_PREFIX = "DynamoDBContributorInsights"
ACCESSED_AND_THROTTLED = "ACCESSED_AND_THROTTLED_KEYS"
THROTTLED_ONLY = "THROTTLED_KEYS"
MODES = (ACCESSED_AND_THROTTLED, THROTTLED_ONLY)
# DynamoDB lists the rules in this order (PKC, SKC, PKT, SKT).
RULE_KINDS = ("PKC", "SKC", "PKT", "SKT")
DEFAULT_RETENTION_MINUTES = 180
DEFAULT_KEYS_PER_MINUTE = 100


# Where a table's insights settings live in its stored description (per table: key "",
# per GSI: its name). ops/describe.py strips the member from DescribeTable's answer.
SETTINGS_FIELD = "ContributorInsights"


@dataclass(frozen=True, slots=True)
class Setting:
    """The stored insights setting of a table or GSI.

    `enabled` is the target; the status is ENABLING / DISABLING until `until` passes.
    `rule_ms` is the creation time that names the rules (kept across mode changes).
    """

    enabled: bool
    mode: str
    rule_ms: int
    until: float
    updated: float

    def status(self, now: float) -> str:
        if self.enabled:
            return "ENABLING" if now < self.until else "ENABLED"
        return "DISABLING" if now < self.until else "DISABLED"

    def to_json(self) -> dict[str, Any]:
        return {
            "Enabled": self.enabled,
            "Mode": self.mode,
            "RuleMs": self.rule_ms,
            "Until": self.until,
            "Updated": self.updated,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Setting:
        return cls(raw["Enabled"], raw["Mode"], raw["RuleMs"], raw["Until"], raw["Updated"])


def setting(description: dict[str, Any], index: str | None) -> Setting | None:
    """The stored setting of a table (index None) or GSI, or None when never configured."""
    raw = description.get(SETTINGS_FIELD, {}).get(index or "")
    return Setting.from_json(raw) if raw is not None else None


def rule_names(table: str, created_ms: int, has_sort_key: bool, mode: str) -> list[str]:
    """The rule names DynamoDB creates for one table or GSI (GSI rules carry the table name)."""
    return [f"{RULE_PREFIX}-{kind}-{table}-{created_ms}" for kind in _kinds(has_sort_key, mode)]


def _kinds(has_sort_key: bool, mode: str) -> tuple[str, ...]:
    kinds = RULE_KINDS if mode == ACCESSED_AND_THROTTLED else ("PKT", "SKT")
    return kinds if has_sort_key else tuple(k for k in kinds if k.startswith("PK"))


def key_text(value: AttrValue) -> str:
    """A key value as Contributor Insights shows it: the scalar's text (B: base64)."""
    for text in value.values():
        return str(text)
    return ""


@dataclass(frozen=True, slots=True)
class Contributor:
    """One key in a report: its total over the window and its per-minute counts."""

    keys: tuple[str, ...]
    value: float
    datapoints: tuple[tuple[int, float], ...]  # (minute start, epoch seconds; count)


@dataclass(frozen=True, slots=True)
class Report:
    """Top contributors of one rule over [start, end)."""

    rule: str
    contributors: tuple[Contributor, ...]
    aggregate_value: float  # all events in the window, not just the top ones
    unique_contributors: int  # approximate (bounded minutes forget rare keys)


class RuleCounter:
    """Per-minute counts of one rule's contributors, bounded in minutes and keys."""

    __slots__ = ("_cap", "_minutes", "_retention", "_totals", "kind", "name")

    def __init__(self, name: str, kind: str, retention_minutes: int, keys_per_minute: int):
        self.name = name
        self.kind = kind
        self._retention = retention_minutes
        self._cap = keys_per_minute
        self._minutes: dict[int, dict[tuple[str, ...], float]] = {}
        self._totals: dict[int, float] = {}  # all events per minute, pruned keys included

    def add(self, minute: int, keys: tuple[str, ...], amount: float = 1.0) -> None:
        counts = self._minutes.get(minute)
        if counts is None:
            counts = self._minutes[minute] = {}
            self._totals[minute] = 0.0
            self._expire(minute)
        counts[keys] = counts.get(keys, 0.0) + amount
        self._totals[minute] += amount
        if len(counts) >= 2 * self._cap:
            kept = heapq.nlargest(self._cap, counts.items(), key=lambda kv: kv[1])
            counts.clear()
            counts.update(kept)

    def _expire(self, minute: int) -> None:
        oldest = minute - self._retention
        for old in [m for m in self._minutes if m <= oldest]:
            del self._minutes[old]
            del self._totals[old]

    def report(self, start: float, end: float, limit: int) -> Report:
        """The `limit` largest contributors over minutes starting in [start, end)."""
        first, last = int(start // 60), int(-(-end // 60))
        minutes = sorted(m for m in self._minutes if first <= m < last)
        totals: dict[tuple[str, ...], float] = {}
        for minute in minutes:
            for keys, count in self._minutes[minute].items():
                totals[keys] = totals.get(keys, 0.0) + count
        top = heapq.nlargest(limit, totals.items(), key=lambda kv: (kv[1], kv[0]))
        contributors = tuple(
            Contributor(
                keys,
                value,
                tuple(
                    (minute * 60, self._minutes[minute][keys])
                    for minute in minutes
                    if keys in self._minutes[minute]
                ),
            )
            for keys, value in top
        )
        aggregate = sum(self._totals[m] for m in minutes)
        return Report(self.name, contributors, aggregate, len(totals))


class Tracker:
    """The rules of one table or GSI while its insights are ENABLED."""

    __slots__ = ("_pk", "_pkt", "_sk", "_skt", "created_ms", "mode", "rules")

    def __init__(self, created_ms: int, mode: str, counters: dict[str, RuleCounter]) -> None:
        self.created_ms = created_ms
        self.mode = mode
        self.rules = {counter.name: counter for counter in counters.values()}
        self._pk = counters.get("PKC")
        self._sk = counters.get("SKC")
        self._pkt = counters.get("PKT")
        self._skt = counters.get("SKT")

    def accessed(self, minute: int, pk: AttrValue, sk: AttrValue | None) -> None:
        """One access of an item (or partition) by key."""
        if self._pk is None:
            return  # THROTTLED_KEYS mode
        pk_text = key_text(pk)
        self._pk.add(minute, (pk_text,))
        if self._sk is not None and sk is not None:
            self._sk.add(minute, (pk_text, key_text(sk)))

    def throttled(self, minute: int, pk: AttrValue, sk: AttrValue | None) -> None:
        """One throttled access of an item by key."""
        pk_text = key_text(pk)
        if self._pkt is not None:
            self._pkt.add(minute, (pk_text,))
        if self._skt is not None and sk is not None:
            self._skt.add(minute, (pk_text, key_text(sk)))


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A live rule, as CloudWatch's DescribeInsightRules would list it."""

    name: str
    kind: str
    account: str
    region: str
    table: str
    index: str | None


class Insights:
    """Every tracker of one Engine, keyed by (account, region, table, index or "")."""

    def __init__(
        self,
        clock: Callable[[], float],
        retention_minutes: int = DEFAULT_RETENTION_MINUTES,
        keys_per_minute: int = DEFAULT_KEYS_PER_MINUTE,
    ) -> None:
        self._clock = clock
        self._retention = retention_minutes
        self._keys_per_minute = keys_per_minute
        self._trackers: dict[tuple[str, str, str, str], Tracker] = {}

    def tracker(
        self,
        account: str,
        region: str,
        table: str,
        index: str | None,
        created_ms: int,
        mode: str,
        has_sort_key: bool,
    ) -> Tracker:
        """The tracker of a resource's current rules; a new one when the rules changed."""
        key = (account, region, table, index or "")
        found = self._trackers.get(key)
        if found is not None and (found.created_ms, found.mode) == (created_ms, mode):
            return found
        # A mode change keeps the surviving rules (and their counts), as DynamoDB does.
        kept = {} if found is None or found.created_ms != created_ms else found.rules
        counters = {}
        for kind, name in zip(
            _kinds(has_sort_key, mode),
            rule_names(table, created_ms, has_sort_key, mode),
            strict=True,
        ):
            counters[kind] = kept.get(name) or RuleCounter(
                name, kind, self._retention, self._keys_per_minute
            )
        tracker = self._trackers[key] = Tracker(created_ms, mode, counters)
        return tracker

    def drop(self, account: str, region: str, table: str, index: str | None) -> None:
        """Forget a resource's rules (insights disabled, table or index deleted)."""
        self._trackers.pop((account, region, table, index or ""), None)

    def rules(self, account: str | None = None, region: str | None = None) -> list[RuleInfo]:
        """The live rules, optionally of one account and region."""
        out = []
        for (acct, reg, table, index), tracker in self._trackers.items():
            if (account is None or acct == account) and (region is None or reg == region):
                for name, counter in tracker.rules.items():
                    out.append(RuleInfo(name, counter.kind, acct, reg, table, index or None))
        return out

    def report(self, rule: str, start: float, end: float, limit: int = 10) -> Report | None:
        """Top `limit` contributors of a rule over [start, end) (epoch seconds); None: no rule."""
        for tracker in self._trackers.values():
            counter = tracker.rules.get(rule)
            if counter is not None:
                return counter.report(start, end, limit)
        return None

    def minute(self) -> int:
        return int(self._clock() // 60)
