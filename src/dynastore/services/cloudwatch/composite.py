"""Composite alarms: PutCompositeAlarm's checks and stored form, and their evaluation.

A composite alarm is stored beside the metric alarms (store.py ``A`` keys) in
DescribeAlarms' CompositeAlarm form; its ``AlarmRule`` (rules.py) tells them apart. It
is created in INSUFFICIENT_DATA and evaluated at once (ALARM when its rule is true, else
OK: "<ARN> was created and its alarm rule evaluates to OK"); after that it is evaluated
only when one of its children changes state ("<child ARN> transitioned to ALARM at
Friday 22 July, 2022 15:57:45 UTC", the children in StateReasonData's
``triggeringAlarms``) or when its configuration is updated, so a state set with
SetAlarmState stays until then, as CloudWatch documents. `settle` does this in the
transaction that changed the children, parents after children, so a chain of composite
alarms settles in one transaction; composite alarms on a cycle of rules (and those
depending on one) are not evaluated.

ActionsSuppressor: while the suppressor alarm is in ALARM, a transition's actions do not
run and the alarm shows ActionsSuppressedBy "Alarm". The wait and extension periods are
stored and shown but not applied.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from dynastore.errors import ValidationException
from dynastore.services.cloudwatch import evaluate, rules, states, store
from dynastore.services.cloudwatch.states import Transition
from dynastore.storage.base import ReadTx, WriteTx

_SUPPRESSOR_PERIODS = ("ActionsSuppressorWaitPeriod", "ActionsSuppressorExtensionPeriod")
_KEPT = (
    "StateValue",
    "StateReason",
    "StateReasonData",
    "StateUpdatedTimestamp",
    "StateTransitionedTimestamp",
    "ActionsSuppressedBy",
    "ActionsSuppressedReason",
    "Tags",
)


def is_composite(alarm: Mapping[str, Any]) -> bool:
    return "AlarmRule" in alarm


def child_names(alarm: Mapping[str, Any], account: str, region: str) -> list[str]:
    """The names of the alarms a composite alarm's rule refers to in its region."""
    found = []
    for reference in rules.children(rules.parse(str(alarm["AlarmRule"]))):
        name = rules.alarm_name(reference, account, region)
        if name is not None and name not in found:
            found.append(name)
    return found


def check_composite(tx: ReadTx, account: str, region: str, req: Mapping[str, Any]) -> None:
    """PutCompositeAlarm's rules beyond the model's: the rule parses, its alarms exist."""
    missing = []
    for reference in rules.children(rules.parse(req["AlarmRule"])):
        name = rules.alarm_name(reference, account, region)
        if name is None or store.get_alarm(tx, account, region, name) is None:
            missing.append(reference)
    if missing:
        raise ValidationException(
            f"Could not save the composite alarm as alarms [{', '.join(missing)}] in the "
            "alarm rule do not exist"
        )
    if req.get("ActionsSuppressor"):
        for name in _SUPPRESSOR_PERIODS:
            if req.get(name) is None:
                raise ValidationException(
                    f"{name} is required when ActionsSuppressor is specified."
                )


def configured(
    account: str,
    region: str,
    req: Mapping[str, Any],
    old: Mapping[str, Any] | None,
    now: float,
) -> dict[str, Any]:
    """The stored form of a composite alarm; an update keeps the state and the tags."""
    name = str(req["AlarmName"])
    alarm: dict[str, Any] = {
        "ActionsEnabled": req.get("ActionsEnabled", True) is not False,
        "AlarmActions": list(req.get("AlarmActions") or []),
        "AlarmArn": states.alarm_arn(account, region, name),
        "AlarmConfigurationUpdatedTimestamp": now,
    }
    if req.get("AlarmDescription") is not None:
        alarm["AlarmDescription"] = req["AlarmDescription"]
    alarm.update(
        AlarmName=name,
        AlarmRule=req["AlarmRule"],
        InsufficientDataActions=list(req.get("InsufficientDataActions") or []),
        OKActions=list(req.get("OKActions") or []),
    )
    if old is None:
        alarm.update(
            StateReason=states.INITIAL_REASON,
            StateUpdatedTimestamp=now,
            StateValue=evaluate.INSUFFICIENT,
            StateTransitionedTimestamp=now,
            Tags=list(req.get("Tags") or []),
        )
    else:
        alarm.update({k: old[k] for k in _KEPT if k in old})
    if req.get("ActionsSuppressor"):
        alarm["ActionsSuppressor"] = req["ActionsSuppressor"]
        for field in _SUPPRESSOR_PERIODS:
            alarm[field] = int(req[field])
    return alarm


def settle(
    tx: WriteTx,
    account: str,
    region: str,
    changed: Iterable[str],
    now: float,
    configured_now: str | None = None,
) -> list[Transition]:
    """Re-evaluate the composite alarms that depend (through any chain of composite
    alarms) on the alarms named `changed`, and `configured_now` (just created or
    updated) itself; the transitions, written in `tx`, whose actions are to run."""
    alarms = {str(a["AlarmName"]): a for a in store.alarms(tx, account, region)}
    composites = {name: a for name, a in alarms.items() if is_composite(a)}
    if not composites:
        return []
    kids = {name: child_names(a, account, region) for name, a in composites.items()}
    dirty = set(changed)
    transitions = []
    for name in _evaluation_order(kids):
        fresh = name == configured_now
        if not fresh and dirty.isdisjoint(kids[name]):
            continue
        alarm = composites[name]
        value = rules.evaluate(
            rules.parse(str(alarm["AlarmRule"])),
            lambda ref: _state(alarms, rules.alarm_name(ref, account, region)),
        )
        state = evaluate.ALARM if value else evaluate.OK
        if state == alarm["StateValue"]:
            continue
        if fresh:
            triggers = [alarms[k] for k in kids[name] if k in alarms]
            verb = "updated" if alarm["StateReason"] != states.INITIAL_REASON else "created"
            reason = f"{alarm['AlarmArn']} was {verb} and its alarm rule evaluates to {state}"
        else:
            triggers = [alarms[k] for k in kids[name] if k in dirty and k in alarms]
            reason = _transitioned(triggers[0])
        data = {"triggeringAlarms": [_trigger(t) for t in triggers]}
        _suppress(alarm, alarms, account, region)
        transition = states.change_state(tx, account, region, alarm, state, reason, data, now)
        if transition is not None:
            transitions.append(transition)
            dirty.add(name)
    return transitions


def parents(tx: ReadTx, account: str, region: str, name: str) -> list[dict[str, Any]]:
    """The composite alarms whose rules refer to the alarm `name`."""
    return [
        alarm
        for alarm in store.alarms(tx, account, region)
        if is_composite(alarm) and name in child_names(alarm, account, region)
    ]


def notification(transition: Transition) -> dict[str, Any]:
    """The message CloudWatch publishes to SNS for a composite alarm's state change."""
    alarm = transition.alarm
    data = orjson.loads(alarm.get("StateReasonData") or "{}")
    return {
        "AlarmName": alarm["AlarmName"],
        "AlarmDescription": alarm.get("AlarmDescription"),
        "AWSAccountId": transition.account,
        "AlarmConfigurationUpdatedTimestamp": evaluate.iso_millis(
            float(alarm["AlarmConfigurationUpdatedTimestamp"])
        ),
        "NewStateValue": alarm["StateValue"],
        "NewStateReason": alarm["StateReason"],
        "StateChangeTime": evaluate.iso_millis(float(alarm["StateUpdatedTimestamp"])),
        "Region": states.REGION_NAMES.get(transition.region, transition.region),
        "AlarmArn": alarm["AlarmArn"],
        "OldStateValue": transition.old_state,
        "OKActions": alarm.get("OKActions", []),
        "AlarmActions": alarm.get("AlarmActions", []),
        "InsufficientDataActions": alarm.get("InsufficientDataActions", []),
        "AlarmRule": alarm["AlarmRule"],
        "TriggeringChildren": [
            {
                "Arn": c["arn"],
                "State": {"Value": c["state"]["value"], "Timestamp": c["state"]["timestamp"]},
            }
            for c in data.get("triggeringAlarms", [])
        ],
    }


def _state(alarms: Mapping[str, Mapping[str, Any]], name: str | None) -> str:
    alarm = alarms.get(name) if name is not None else None
    return str(alarm["StateValue"]) if alarm is not None else evaluate.INSUFFICIENT


def _evaluation_order(kids: Mapping[str, list[str]]) -> list[str]:
    """Composite alarms children first, leaving out those on or behind a rule cycle."""
    order: list[str] = []
    status: dict[str, bool | None] = {}  # None: being visited; True: ordered; False: cyclic

    def visit(name: str) -> bool:
        if name not in kids:
            return True  # a metric alarm
        if name in status:
            return bool(status[name])
        status[name] = None
        sound = all([visit(child) for child in kids[name]])
        status[name] = sound
        if sound:
            order.append(name)
        return sound

    for name in kids:
        visit(name)
    return order


def _transitioned(child: Mapping[str, Any]) -> str:
    at = datetime.datetime.fromtimestamp(float(child["StateTransitionedTimestamp"]), datetime.UTC)
    return (
        f"{child['AlarmArn']} transitioned to {child['StateValue']} at "
        f"{at.strftime('%A %d %B, %Y %H:%M:%S')} UTC"
    )


def _trigger(child: Mapping[str, Any]) -> dict[str, Any]:
    stamp = evaluate.iso_millis(float(child["StateTransitionedTimestamp"]))
    return {"arn": child["AlarmArn"], "state": {"value": child["StateValue"], "timestamp": stamp}}


def _suppress(
    alarm: dict[str, Any], alarms: Mapping[str, Mapping[str, Any]], account: str, region: str
) -> None:
    """Mark the alarm's coming transition suppressed while its suppressor is in ALARM."""
    alarm.pop("ActionsSuppressedBy", None)
    alarm.pop("ActionsSuppressedReason", None)
    suppressor = alarm.get("ActionsSuppressor")
    if not suppressor:
        return
    name = rules.alarm_name(str(suppressor), account, region)
    if _state(alarms, name) == evaluate.ALARM:
        alarm["ActionsSuppressedBy"] = "Alarm"
        alarm["ActionsSuppressedReason"] = "Actions suppressed by Alarm"
