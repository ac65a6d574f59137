"""Alarm states and history, shared by metric and composite alarms.

A state change and its history item are written in one transaction (`change_state`);
the `Transition` it returns is acted on (alarm actions) after the commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from dynastore.errors import ValidationException
from dynastore.services.cloudwatch import store
from dynastore.storage.base import WriteTx

INITIAL_REASON = "Unchecked: Initial alarm creation"
REGION_NAMES: Mapping[str, str] = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "af-south-1": "Africa (Cape Town)",
    "ap-east-1": "Asia Pacific (Hong Kong)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-3": "Asia Pacific (Osaka)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "ca-central-1": "Canada (Central)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)",
    "eu-north-1": "EU (Stockholm)",
    "eu-south-1": "EU (Milan)",
    "me-south-1": "Middle East (Bahrain)",
    "sa-east-1": "South America (Sao Paulo)",
}


def alarm_type(alarm: Mapping[str, Any]) -> str:
    """CompositeAlarm or MetricAlarm."""
    return "CompositeAlarm" if "AlarmRule" in alarm else "MetricAlarm"


def alarm_arn(account: str, region: str, name: str) -> str:
    return f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"


def public(alarm: Mapping[str, Any]) -> dict[str, Any]:
    """An alarm as DescribeAlarms shows it (without its tags)."""
    return {k: v for k, v in alarm.items() if k != "Tags"}


@dataclass(frozen=True, slots=True)
class Transition:
    """A committed state change whose actions are still to run."""

    account: str
    region: str
    alarm: dict[str, Any]
    old_state: str


def change_state(
    tx: WriteTx,
    account: str,
    region: str,
    alarm: dict[str, Any],
    state: str,
    reason: str,
    data: Mapping[str, Any] | None,
    now: float,
) -> Transition | None:
    """Write a new state and its history item; the Transition to act on after commit."""
    old = str(alarm["StateValue"])
    old_reason = str(alarm.get("StateReason", ""))
    alarm["StateReason"] = reason
    if data is not None:
        alarm["StateReasonData"] = orjson.dumps(data).decode()
    else:
        alarm.pop("StateReasonData", None)
    alarm["StateUpdatedTimestamp"] = now
    if old == state:
        store.put_alarm(tx, account, region, alarm)
        return None
    alarm["StateValue"] = state
    alarm["StateTransitionedTimestamp"] = now
    store.put_alarm(tx, account, region, alarm)
    new_state: dict[str, Any] = {"stateValue": state, "stateReason": reason}
    if data is not None:
        new_state["stateReasonData"] = data
    item = {
        "version": "1.0",
        "oldState": {"stateValue": old, "stateReason": old_reason},
        "newState": new_state,
    }
    add_history(
        tx, account, region, alarm, now, "StateUpdate", f"Alarm updated from {old} to {state}", item
    )
    return Transition(account, region, dict(alarm), old)


def add_history(
    tx: WriteTx,
    account: str,
    region: str,
    alarm: Mapping[str, Any],
    now: float,
    kind: str,
    summary: str,
    data: Mapping[str, Any],
) -> None:
    store.add_history(
        tx,
        account,
        region,
        {
            "AlarmName": alarm["AlarmName"],
            "AlarmType": alarm_type(alarm),
            "Timestamp": now,
            "HistoryItemType": kind,
            "HistorySummary": summary,
            "HistoryData": orjson.dumps(data).decode(),
        },
    )


def check_actions(req: Mapping[str, Any]) -> None:
    """The alarm actions of a PutMetricAlarm or PutCompositeAlarm are ARNs."""
    for field in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        for action in req.get(field) or []:
            if not action.startswith("arn:") or len(action.split(":")) < 6:
                raise ValidationException(f"Invalid arn syntax: {action}")
