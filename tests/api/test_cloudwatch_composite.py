"""CloudWatch composite alarms with boto3, in each protocol (see cloudwatch_clients.py).

Children change state through SetAlarmState (their metrics have no data, so the alarm
worker leaves them alone); composite alarms follow in the same request.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.api.cloudwatch_clients import file_topic, metric_alarm
from tests.api.helpers import REGION, Client, raises, unique_name

ACCOUNT = "000000000000"
TRANSITIONED = re.compile(
    r"^(arn:aws:cloudwatch:\S+) transitioned to (ALARM|OK|INSUFFICIENT_DATA) at "
    r"[A-Z][a-z]+day \d\d [A-Z][a-z]+, \d{4} \d\d:\d\d:\d\d UTC$"
)


def _arn(name: str) -> str:
    return f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"


def _children(client: Client, register: Callable[[str], str], *states: str) -> list[str]:
    """Metric alarms in the given states."""
    prefix = unique_name()
    names = []
    for i, state in enumerate(states):
        name = register(f"{prefix}-child{i}")
        client.put_metric_alarm(**metric_alarm(name))
        client.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")
        names.append(name)
    return names


def _composite(client: Client, name: str) -> dict[str, Any]:
    found = client.describe_alarms(AlarmNames=[name], AlarmTypes=["CompositeAlarm"])
    assert found["MetricAlarms"] == []
    [alarm] = found["CompositeAlarms"]
    return dict(alarm)


def test_composite_alarm_lifecycle(cw: Client, alarms: Callable[[str], str]) -> None:
    first, second = _children(cw, alarms, "OK", "OK")
    name = alarms(f"{first}-parent")
    rule = f'ALARM("{first}") OR ALARM({_arn(second)})'
    cw.put_composite_alarm(
        AlarmName=name,
        AlarmRule=rule,
        AlarmDescription="either child",
        Tags=[{"Key": "team", "Value": "core"}],
    )
    cw.get_waiter("composite_alarm_exists").wait(AlarmNames=[name], AlarmTypes=["CompositeAlarm"])
    alarm = _composite(cw, name)
    assert alarm["AlarmArn"] == _arn(name)
    assert (alarm["AlarmRule"], alarm["AlarmDescription"]) == (rule, "either child")
    assert alarm["ActionsEnabled"] is True
    assert alarm["AlarmActions"] == alarm["OKActions"] == alarm["InsufficientDataActions"] == []
    assert alarm["StateValue"] == "OK"
    assert alarm["StateReason"] == f"{_arn(name)} was created and its alarm rule evaluates to OK"
    triggering = json.loads(alarm["StateReasonData"])["triggeringAlarms"]
    assert [(t["arn"], t["state"]["value"]) for t in triggering] == [
        (_arn(first), "OK"),
        (_arn(second), "OK"),
    ]
    assert cw.list_tags_for_resource(ResourceARN=_arn(name))["Tags"] == [
        {"Key": "team", "Value": "core"}
    ]
    # Without AlarmTypes, DescribeAlarms shows metric alarms only.
    assert cw.describe_alarms(AlarmNames=[name]) | {"ResponseMetadata": None} == {
        "MetricAlarms": [],
        "CompositeAlarms": [],
        "ResponseMetadata": None,
    }

    cw.set_alarm_state(AlarmName=second, StateValue="ALARM", StateReason="test")
    alarm = _composite(cw, name)
    assert alarm["StateValue"] == "ALARM"
    match = TRANSITIONED.match(alarm["StateReason"])
    assert match is not None and match.groups() == (_arn(second), "ALARM")
    [trigger] = json.loads(alarm["StateReasonData"])["triggeringAlarms"]
    assert (trigger["arn"], trigger["state"]["value"]) == (_arn(second), "ALARM")
    cw.set_alarm_state(AlarmName=second, StateValue="OK", StateReason="test")
    assert _composite(cw, name)["StateValue"] == "OK"

    # SetAlarmState on the composite alarm holds until a child changes state.
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="by hand")
    assert _composite(cw, name)["StateReason"] == "by hand"
    cw.set_alarm_state(AlarmName=first, StateValue="INSUFFICIENT_DATA", StateReason="test")
    assert _composite(cw, name)["StateValue"] == "OK"

    both = cw.describe_alarms(
        AlarmNamePrefix=first[: -len("-child0")], AlarmTypes=["CompositeAlarm", "MetricAlarm"]
    )
    assert [a["AlarmName"] for a in both["MetricAlarms"]] == [first, second]
    assert [a["AlarmName"] for a in both["CompositeAlarms"]] == [name]
    children = cw.describe_alarms(ChildrenOfAlarmName=name)
    assert [sorted(a) for a in children["MetricAlarms"]] == [
        ["AlarmArn", "AlarmName", "StateUpdatedTimestamp", "StateValue"]
    ] * 2
    assert [a["AlarmName"] for a in children["MetricAlarms"]] == [first, second]
    parents = cw.describe_alarms(ParentsOfAlarmName=first)
    assert parents["CompositeAlarms"] == [{"AlarmName": name, "AlarmArn": _arn(name)}]

    history = cw.describe_alarm_history(
        AlarmName=name, AlarmTypes=["CompositeAlarm"], ScanBy="TimestampAscending"
    )["AlarmHistoryItems"]
    assert {h["AlarmType"] for h in history} == {"CompositeAlarm"}
    assert [h["HistorySummary"] for h in history] == [
        f'Alarm "{name}" created',
        "Alarm updated from INSUFFICIENT_DATA to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK",
    ]
    assert cw.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"] == []

    with raises(
        "ValidationError", f"Cannot delete {first} as there are composite alarm(s) depending on it."
    ):
        cw.delete_alarms(AlarmNames=[first])
    with raises(
        "ValidationError",
        f"Cannot delete {first},{second} as there are composite alarm(s) depending on them.",
    ):
        cw.delete_alarms(AlarmNames=[first, second])

    cw.put_composite_alarm(AlarmName=name, AlarmRule="TRUE", ActionsEnabled=False)
    alarm = _composite(cw, name)
    assert (alarm["StateValue"], alarm["ActionsEnabled"]) == ("ALARM", False)
    assert alarm["StateReason"] == f"{_arn(name)} was updated and its alarm rule evaluates to ALARM"
    assert "AlarmDescription" not in alarm
    cw.delete_alarms(AlarmNames=[first, name])  # no composite alarm depends on first now
    assert cw.describe_alarms(AlarmNames=[first, name], AlarmTypes=["CompositeAlarm"]) | {
        "ResponseMetadata": None
    } == {"MetricAlarms": [], "CompositeAlarms": [], "ResponseMetadata": None}


def test_rule_language(cloudwatch: Client, alarms: Callable[[str], str]) -> None:
    up, down, unknown = _children(cloudwatch, alarms, "ALARM", "OK", "INSUFFICIENT_DATA")
    expected = {
        f"ALARM({up}) AND OK({down})": "ALARM",
        f"ALARM({up}) AND NOT OK({down})": "OK",
        f"NOT ALARM({up}) OR OK({down}) AND INSUFFICIENT_DATA({unknown})": "ALARM",
        f"(NOT ALARM({up}) OR OK({down})) AND ALARM({unknown})": "OK",
        f"TRUE AND NOT (FALSE OR ALARM({down}))": "ALARM",
        f"AT_LEAST(2, NOT OK, ({up}, {down}, {unknown}))": "ALARM",
        f"AT_LEAST(50%, ALARM, ({up}, {down}, {unknown}))": "OK",
    }
    prefix = unique_name()
    for i, (rule, state) in enumerate(expected.items()):
        name = alarms(f"{prefix}-{i}")
        cloudwatch.put_composite_alarm(AlarmName=name, AlarmRule=rule)
        assert _composite(cloudwatch, name)["StateValue"] == state, rule


def test_chains_and_actions(
    endpoint: str, cloudwatch: Client, alarms: Callable[[str], str], tmp_path: Path
) -> None:
    log = tmp_path / "notifications.jsonl"
    sns, topic = file_topic(endpoint, log)
    child, suppressor = _children(cloudwatch, alarms, "OK", "OK")
    middle = alarms(f"{child}-middle")
    cloudwatch.put_composite_alarm(AlarmName=middle, AlarmRule=f"ALARM({child})")
    top = alarms(f"{child}-top")
    cloudwatch.put_composite_alarm(
        AlarmName=top,
        AlarmRule=f"ALARM({middle})",
        AlarmActions=[topic],
        OKActions=[topic],
        ActionsSuppressor=suppressor,
        ActionsSuppressorWaitPeriod=60,
        ActionsSuppressorExtensionPeriod=60,
    )

    def messages(count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            lines = log.read_text().splitlines() if log.exists() else []
            if len(lines) >= count:
                break
            time.sleep(0.05)
        return [json.loads(json.loads(line)["Message"]) for line in lines]

    [created] = messages(1)  # INSUFFICIENT_DATA -> OK runs the OK actions
    assert (created["OldStateValue"], created["NewStateValue"]) == ("INSUFFICIENT_DATA", "OK")

    # One SetAlarmState moves the whole chain: child -> middle -> top.
    cloudwatch.set_alarm_state(AlarmName=child, StateValue="ALARM", StateReason="test")
    assert _composite(cloudwatch, middle)["StateValue"] == "ALARM"
    alarm = _composite(cloudwatch, top)
    assert alarm["StateValue"] == "ALARM"
    assert alarm["ActionsSuppressor"] == suppressor
    assert "ActionsSuppressedBy" not in alarm
    _, raised = messages(2)
    assert raised["AlarmName"] == top
    assert raised["AlarmRule"] == f"ALARM({middle})"
    assert raised["NewStateValue"] == "ALARM" and raised["OldStateValue"] == "OK"
    [trigger] = raised["TriggeringChildren"]
    assert (trigger["Arn"], trigger["State"]["Value"]) == (_arn(middle), "ALARM")
    history = cloudwatch.describe_alarm_history(
        AlarmName=top, AlarmTypes=["CompositeAlarm"], HistoryItemType="Action"
    )["AlarmHistoryItems"]
    assert history[0]["HistorySummary"] == f"Successfully executed action {topic}"

    # While the suppressor is in ALARM, the transitions' actions do not run.
    cloudwatch.set_alarm_state(AlarmName=suppressor, StateValue="ALARM", StateReason="test")
    cloudwatch.set_alarm_state(AlarmName=child, StateValue="OK", StateReason="test")
    alarm = _composite(cloudwatch, top)
    assert alarm["StateValue"] == "OK"
    assert alarm["ActionsSuppressedBy"] == "Alarm"
    assert alarm["ActionsSuppressedReason"] == "Actions suppressed by Alarm"
    time.sleep(0.3)
    assert len(messages(2)) == 2
    sns.delete_topic(TopicArn=topic)


def test_describe_alarms_pages_both_kinds(cloudwatch: Client, alarms: Callable[[str], str]) -> None:
    names = _children(cloudwatch, alarms, "OK", "OK", "OK")
    for i, child in enumerate(names):
        cloudwatch.put_composite_alarm(AlarmName=alarms(f"{child}-p{i}"), AlarmRule=f"OK({child})")
    prefix = names[0][: -len("-child0")]
    pages = cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=prefix,
        AlarmTypes=["MetricAlarm", "CompositeAlarm"],
        PaginationConfig={"PageSize": 2},
    )
    sizes = []
    shown = []
    for page in pages:
        sizes.append(len(page["MetricAlarms"]) + len(page["CompositeAlarms"]))
        shown += [a["AlarmName"] for a in page["MetricAlarms"] + page["CompositeAlarms"]]
    assert sizes == [2, 2, 2]
    assert sorted(shown) == sorted([*names, *(f"{c}-p{i}" for i, c in enumerate(names))])


def test_put_composite_alarm_errors(cloudwatch: Client, alarms: Callable[[str], str]) -> None:
    [child] = _children(cloudwatch, alarms, "OK")
    operand = "'(', 'NOT', AT_LEAST, TRUE or FALSE, ALARM, OK, or INSUFFICIENT_DATA"
    cases = {
        "()": f"Unsupported token ')' at char 1, must be: {operand}",
        "ALARM(Queue Oldest Age)": "Unsupported token 'Oldest' at char 12, must be: ')'",
        f"ALARM({child}) ALARM({child})": (
            f"Unsupported token 'ALARM' at char {len(child) + 8}, must be: AND or OR"
        ),
        "alarm(x)": f"Unsupported token 'alarm' at char 0, must be: {operand}",
        f"(OK({child})": f"Unsupported token '<EOF>' at char {len(child) + 5}, must be: AND, OR, "
        "or ')'",
    }
    for rule, detail in cases.items():
        with raises("ValidationError", f"Error in AlarmRule [{detail}]"):
            cloudwatch.put_composite_alarm(AlarmName=unique_name(), AlarmRule=rule)
    missing = unique_name()
    with raises(
        "ValidationError",
        f"Could not save the composite alarm as alarms [{missing}, {_arn(missing)}] in the "
        "alarm rule do not exist",
    ):
        cloudwatch.put_composite_alarm(
            AlarmName=unique_name(),
            AlarmRule=f"OK({child}) AND (ALARM({missing}) OR ALARM({_arn(missing)}))",
        )
    with raises("ValidationError", "Invalid arn syntax: topic"):
        cloudwatch.put_composite_alarm(
            AlarmName=unique_name(), AlarmRule=f"OK({child})", AlarmActions=["topic"]
        )
    with raises(
        "ValidationError",
        "ActionsSuppressorWaitPeriod is required when ActionsSuppressor is specified.",
    ):
        cloudwatch.put_composite_alarm(
            AlarmName=unique_name(), AlarmRule=f"OK({child})", ActionsSuppressor=child
        )
