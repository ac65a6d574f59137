"""Alarms: PutMetricAlarm, PutCompositeAlarm, DescribeAlarms(ForMetric), DeleteAlarms,
SetAlarmState, DescribeAlarmHistory, Enable/DisableAlarmActions and alarm tags.

An alarm is stored in DescribeAlarms' JSON form (store.py; composite alarms in
composite.py). A state change — from the alarm worker or SetAlarmState — is written with
its history item in one transaction, together with the state changes of the composite
alarms that depend on it (`composite.settle`); only after the commit are the alarms'
actions run (an SNS topic action publishes CloudWatch's notification JSON), each
recorded as an Action history item. A process that finds the state already changed by
another one does nothing, so an action runs once.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from dynastore.errors import (
    AwsError,
    CloudWatchResourceNotFound,
    InvalidFormat,
    InvalidNextToken,
    InvalidParameterCombination,
    InvalidParameterValue,
    MissingParameter,
    ResourceNotFound,
    ValidationException,
)
from dynastore.server.service import Request, RequestContext, Result
from dynastore.services import paging
from dynastore.services.cloudwatch import composite, evaluate, metrics, states, stats, store
from dynastore.services.cloudwatch.states import Transition, alarm_arn, public
from dynastore.services.tagging import TagList
from dynastore.storage.base import Backend, ReadTx, WriteTx

log = logging.getLogger("dynastore.cloudwatch")

# (account, region, topic ARN, subject, message) -> message id; raises AwsError on failure
Publish = Callable[[str, str, str, str, str], str]

_INVALID_TOKEN = "The service returned an invalid token."
_TREAT = ("breaching", "notBreaching", "ignore", "missing")
_RANGE_OPERATORS = (
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
)
_ALARM_TYPES = ["CompositeAlarm", "MetricAlarm"]
_CHILD_FIELDS = ("AlarmName", "AlarmArn", "StateValue", "StateUpdatedTimestamp")
_PARENT_FIELDS = ("AlarmName", "AlarmArn")
_NOT_WITH_FAMILY = ("AlarmNames", "AlarmNamePrefix", "StateValue", "ActionPrefix")
_STANDARD_ONLY = ("MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Period", "Unit")
_CONFIG_FIELDS = (
    "AlarmDescription",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Period",
    "Unit",
    "DatapointsToAlarm",
    "Threshold",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
)


def notification(transition: Transition) -> tuple[str, str]:
    """(subject, message) of CloudWatch's SNS notification for a state change."""
    alarm = transition.alarm
    region_name = states.REGION_NAMES.get(transition.region, transition.region)
    state = str(alarm["StateValue"])
    subject = f'{state}: "{alarm["AlarmName"]}" in {region_name}'
    if composite.is_composite(alarm):
        return subject[:100], orjson.dumps(composite.notification(transition)).decode()
    message: dict[str, Any] = {
        "AlarmName": alarm["AlarmName"],
        "AlarmDescription": alarm.get("AlarmDescription"),
        "AWSAccountId": transition.account,
        "AlarmConfigurationUpdatedTimestamp": evaluate.iso_millis(
            float(alarm["AlarmConfigurationUpdatedTimestamp"])
        ),
        "NewStateValue": state,
        "NewStateReason": alarm["StateReason"],
        "StateChangeTime": evaluate.iso_millis(float(alarm["StateUpdatedTimestamp"])),
        "Region": region_name,
        "AlarmArn": alarm["AlarmArn"],
        "OldStateValue": transition.old_state,
        "OKActions": alarm.get("OKActions", []),
        "AlarmActions": alarm.get("AlarmActions", []),
        "InsufficientDataActions": alarm.get("InsufficientDataActions", []),
        "Trigger": _trigger(alarm),
    }
    return subject[:100], orjson.dumps(message).decode()


def _trigger(alarm: Mapping[str, Any]) -> dict[str, Any]:
    trigger: dict[str, Any] = {}
    if alarm.get("Metrics"):
        trigger["Metrics"] = [_metric_query(q) for q in alarm["Metrics"]]
    else:
        trigger["MetricName"] = alarm.get("MetricName")
        trigger["Namespace"] = alarm.get("Namespace")
        if alarm.get("ExtendedStatistic"):
            trigger["StatisticType"] = "ExtendedStatistic"
            trigger["ExtendedStatistic"] = alarm["ExtendedStatistic"]
        else:
            trigger["StatisticType"] = "Statistic"
            trigger["Statistic"] = _upper_snake(str(alarm.get("Statistic") or ""))
        trigger["Unit"] = alarm.get("Unit")
        trigger["Dimensions"] = [
            {"value": d["Value"], "name": d["Name"]} for d in alarm.get("Dimensions", [])
        ]
        trigger["Period"] = alarm.get("Period")
    trigger["EvaluationPeriods"] = alarm.get("EvaluationPeriods")
    if alarm.get("DatapointsToAlarm"):
        trigger["DatapointsToAlarm"] = alarm["DatapointsToAlarm"]
    trigger["ComparisonOperator"] = alarm.get("ComparisonOperator")
    trigger["Threshold"] = float(alarm.get("Threshold") or 0.0)
    trigger["TreatMissingData"] = alarm.get("TreatMissingData", "")
    trigger["EvaluateLowSampleCountPercentile"] = alarm.get("EvaluateLowSampleCountPercentile", "")
    return trigger


def _metric_query(query: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": query["Id"], "ReturnData": query.get("ReturnData", True)}
    if query.get("Expression"):
        out["Expression"] = query["Expression"]
    if query.get("Label"):
        out["Label"] = query["Label"]
    stat = query.get("MetricStat")
    if stat is not None:
        metric = stat["Metric"]
        out["MetricStat"] = {
            "Metric": {
                "Dimensions": [
                    {"value": d["Value"], "name": d["Name"]} for d in metric.get("Dimensions", [])
                ],
                "MetricName": metric.get("MetricName"),
                "Namespace": metric.get("Namespace"),
            },
            "Period": stat["Period"],
            "Stat": stat["Stat"],
        }
    return out


def _upper_snake(name: str) -> str:
    out = "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(name))
    return out.upper()


class AlarmsApi:
    """The alarm operations; `publish` delivers SNS topic actions; `tags` answers
    TagResource, UntagResource and ListTagsForResource."""

    def __init__(self, backend: Backend, clock: Callable[[], float], publish: Publish) -> None:
        self._backend = backend
        self._clock = clock
        self._publish = publish
        self.tags = TagList(backend, self._tagged, _save_alarm, _check_tag_count, "ResourceARN")

    # --- actions -------------------------------------------------------------------------

    def run_actions(self, transition: Transition) -> None:
        """Run the actions of a committed state change and record them in the history."""
        alarm = transition.alarm
        if not alarm.get("ActionsEnabled", True) or alarm.get("ActionsSuppressedBy"):
            return
        state = str(alarm["StateValue"])
        field = {"OK": "OKActions", "ALARM": "AlarmActions"}.get(state, "InsufficientDataActions")
        actions = list(alarm.get(field) or [])
        if not actions:
            return
        subject, message = notification(transition)
        now = self._clock()
        records = []
        for action in actions:
            records.append(self._run(transition, action, subject, message))
        with self._backend.write() as tx:
            for summary, data in records:
                data["stateUpdateTimestamp"] = int(float(alarm["StateUpdatedTimestamp"]) * 1000)
                states.add_history(
                    tx, transition.account, transition.region, alarm, now, "Action", summary, data
                )

    def _run(
        self, transition: Transition, action: str, subject: str, message: str
    ) -> tuple[str, dict[str, Any]]:
        parts = action.split(":")
        if len(parts) >= 6 and parts[2] == "sns":
            try:
                message_id = self._publish(parts[4], parts[3], action, subject, message)
            except AwsError as error:
                log.warning(
                    "alarm %s: action %s failed: %s", transition.alarm["AlarmName"], action, error
                )
                return f"Failed to execute action {action}", {
                    "actionState": "Failed",
                    "notificationResource": action,
                    "error": error.message or error.type_name,
                }
            return f"Successfully executed action {action}", {
                "actionState": "Succeeded",
                "notificationResource": action,
                "publishedMessage": {"messageId": message_id},
            }
        return f"Failed to execute action {action}", {
            "actionState": "Failed",
            "notificationResource": action,
            "error": "This action is not supported by this server",
        }

    def act(self, transitions: list[Transition]) -> None:
        """Run the actions of committed state changes, once they are durable."""
        if transitions and self._backend.pending():
            self._backend.flush()  # the changes are durable before anyone is notified
        for transition in transitions:
            self.run_actions(transition)

    # --- PutMetricAlarm, PutCompositeAlarm -----------------------------------------------

    def put_metric_alarm(self, ctx: RequestContext, req: Request) -> Result:
        check_alarm(req)
        now = self._clock()
        with self._backend.write() as tx:
            old = store.get_alarm(tx, ctx.account, ctx.region, req["AlarmName"])
            alarm = _configured(ctx, req, old, now)
            _save_configuration(tx, ctx, alarm, old, now)
        return {}

    def put_composite_alarm(self, ctx: RequestContext, req: Request) -> Result:
        states.check_actions(req)
        now = self._clock()
        name = req["AlarmName"]
        with self._backend.write() as tx:
            composite.check_composite(tx, ctx.account, ctx.region, req)
            old = store.get_alarm(tx, ctx.account, ctx.region, name)
            alarm = composite.configured(ctx.account, ctx.region, req, old, now)
            _save_configuration(tx, ctx, alarm, old, now)
            transitions = composite.settle(tx, ctx.account, ctx.region, [], now, name)
        self.act(transitions)
        return {}

    # --- reads ---------------------------------------------------------------------------

    def describe_alarms(self, ctx: RequestContext, req: Request) -> Result:
        names = req.get("AlarmNames")
        prefix = req.get("AlarmNamePrefix")
        if names and prefix:
            raise InvalidParameterCombination(
                "AlarmNamePrefix and AlarmNames are mutually exclusive."
            )
        family = _family_parameter(req)
        types = req.get("AlarmTypes") or (_ALARM_TYPES if family else ["MetricAlarm"])
        state = req.get("StateValue")
        action_prefix = req.get("ActionPrefix")
        limit = int(req.get("MaxRecords") or 50)
        after = _name_token(req.get("NextToken"))
        found: list[dict[str, Any]] = []
        more = False
        with self._backend.read() as tx:
            candidates: Iterable[dict[str, Any]] = store.alarms(
                tx, ctx.account, ctx.region, prefix or ""
            )
            shown: tuple[str, ...] | None = None
            if family is not None:
                candidates, shown = self._family(tx, ctx, family, str(req[family]))
            for alarm in candidates:
                alarm_name = alarm["AlarmName"]
                if after is not None and alarm_name <= after:
                    continue
                if states.alarm_type(alarm) not in types:
                    continue
                if names and alarm_name not in names:
                    continue
                if state and alarm["StateValue"] != state:
                    continue
                if action_prefix and not _has_action(alarm, action_prefix):
                    continue
                if len(found) == limit:
                    more = True
                    break
                found.append(alarm)
        out: Result = {
            "MetricAlarms": [_shown(a, shown) for a in found if not composite.is_composite(a)],
            "CompositeAlarms": [_shown(a, shown) for a in found if composite.is_composite(a)],
        }
        if more:
            out["NextToken"] = _make_token(found[-1]["AlarmName"])
        return out

    def _family(
        self, tx: ReadTx, ctx: RequestContext, parameter: str, name: str
    ) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        """ChildrenOfAlarmName's or ParentsOfAlarmName's alarms (by name) and the fields
        DescribeAlarms shows of them."""
        if parameter == "ParentsOfAlarmName":
            return composite.parents(tx, ctx.account, ctx.region, name), _PARENT_FIELDS
        parent = store.get_alarm(tx, ctx.account, ctx.region, name)
        if parent is None or not composite.is_composite(parent):
            return [], _CHILD_FIELDS
        children = (
            store.get_alarm(tx, ctx.account, ctx.region, child)
            for child in sorted(composite.child_names(parent, ctx.account, ctx.region))
        )
        return [c for c in children if c is not None], _CHILD_FIELDS

    def describe_alarms_for_metric(self, ctx: RequestContext, req: Request) -> Result:
        dims = store.canonical_dims(req.get("Dimensions")) if "Dimensions" in req else None
        found = []
        with self._backend.read() as tx:
            for alarm in store.alarms(tx, ctx.account, ctx.region):
                if alarm.get("MetricName") != req["MetricName"]:
                    continue
                if alarm.get("Namespace") != req["Namespace"]:
                    continue
                if dims is not None and store.canonical_dims(alarm.get("Dimensions")) != dims:
                    continue
                if any(
                    req.get(k) is not None and alarm.get(k) != req[k]
                    for k in ("Statistic", "ExtendedStatistic", "Period", "Unit")
                ):
                    continue
                found.append(public(alarm))
        return {"MetricAlarms": found}

    def describe_alarm_history(self, ctx: RequestContext, req: Request) -> Result:
        start = float(req.get("StartDate") or 0.0)
        end = float(req["EndDate"]) if req.get("EndDate") is not None else float("inf")
        newest_first = (req.get("ScanBy") or "TimestampDescending") == "TimestampDescending"
        limit = int(req.get("MaxRecords") or 100)
        name = req.get("AlarmName")
        kind = req.get("HistoryItemType")
        types = req.get("AlarmTypes") or ["MetricAlarm"]
        after = _history_token(req.get("NextToken"))
        items: list[dict[str, Any]] = []
        next_token: str | None = None
        last = b""
        with self._backend.read() as tx:
            for key, item in store.history(tx, ctx.account, ctx.region, start, end, newest_first):
                if after is not None and (key >= after if newest_first else key <= after):
                    continue
                if name and item["AlarmName"] != name:
                    continue
                if kind and item["HistoryItemType"] != kind:
                    continue
                if item["AlarmType"] not in types:
                    continue
                if len(items) == limit:
                    next_token = base64.urlsafe_b64encode(last).decode()
                    break
                items.append(item)
                last = key
        out: Result = {"AlarmHistoryItems": items}
        if next_token is not None:
            out["NextToken"] = next_token
        return out

    # --- writes --------------------------------------------------------------------------

    def delete_alarms(self, ctx: RequestContext, req: Request) -> Result:
        names = list(req["AlarmNames"])
        with self._backend.write() as tx:
            held = [
                name
                for name in names
                if any(
                    p["AlarmName"] not in names
                    for p in composite.parents(tx, ctx.account, ctx.region, name)
                )
            ]
            if held:
                pronoun = "it" if len(held) == 1 else "them"
                raise ValidationException(
                    f"Cannot delete {','.join(held)} as there are composite alarm(s) "
                    f"depending on {pronoun}."
                )
            for name in names:
                store.delete_alarm(tx, ctx.account, ctx.region, name)
        return {}

    def set_alarm_state(self, ctx: RequestContext, req: Request) -> Result:
        data: dict[str, Any] | None = None
        raw = req.get("StateReasonData")
        if raw is not None:
            try:
                parsed = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise InvalidFormat("StateReasonData must be valid JSON") from None
            data = parsed if isinstance(parsed, dict) else None
        name = req["AlarmName"]
        now = self._clock()
        with self._backend.write() as tx:
            alarm = store.get_alarm(tx, ctx.account, ctx.region, name)
            if alarm is None:
                raise ResourceNotFound(f"Alarm {name} not found")
            transition = states.change_state(
                tx, ctx.account, ctx.region, alarm, req["StateValue"], req["StateReason"], data, now
            )
            transitions = [transition] if transition is not None else []
            if transitions:
                transitions += composite.settle(tx, ctx.account, ctx.region, [name], now)
        self.act(transitions)
        return {}

    def enable_alarm_actions(self, ctx: RequestContext, req: Request) -> Result:
        return self._actions(ctx, req["AlarmNames"], True)

    def disable_alarm_actions(self, ctx: RequestContext, req: Request) -> Result:
        return self._actions(ctx, req["AlarmNames"], False)

    def _actions(self, ctx: RequestContext, names: list[str], enabled: bool) -> Result:
        with self._backend.write() as tx:
            for name in names:
                alarm = store.get_alarm(tx, ctx.account, ctx.region, name)
                if alarm is not None and alarm.get("ActionsEnabled") != enabled:
                    alarm["ActionsEnabled"] = enabled
                    store.put_alarm(tx, ctx.account, ctx.region, alarm)
        return {}

    # --- tags ----------------------------------------------------------------------------

    def _tagged(self, tx: ReadTx, ctx: RequestContext, arn: str) -> dict[str, Any]:
        parts = arn.split(":", 6)
        if len(parts) < 7 or parts[0] != "arn" or parts[2] != "cloudwatch":
            raise InvalidParameterValue(f"Invalid ARN: {arn}")
        if parts[5] != "alarm":
            raise CloudWatchResourceNotFound(f"Resource {arn} not found")
        alarm = None
        if parts[4] == ctx.account and parts[3] == ctx.region:
            alarm = store.get_alarm(tx, ctx.account, ctx.region, parts[6])
        if alarm is None:
            raise CloudWatchResourceNotFound(f"Alarm {parts[6]} does not exist.")
        return alarm


def _save_alarm(tx: WriteTx, ctx: RequestContext, alarm: dict[str, Any]) -> None:
    store.put_alarm(tx, ctx.account, ctx.region, alarm)


def _check_tag_count(tags: dict[str, str]) -> None:
    if len(tags) > 50:
        raise InvalidParameterValue("The number of tags on the resource exceeds 50.")


# --- PutMetricAlarm's checks and the stored form ------------------------------------------


def check_alarm(req: Request) -> None:
    """PutMetricAlarm's rules beyond the model's (which the validator has checked)."""
    queries = req.get("Metrics")
    if queries:
        for name in (*_STANDARD_ONLY, "Dimensions"):
            if req.get(name):
                raise ValidationException(
                    f"The parameters Metrics and {name} are mutually exclusive and you have "
                    "specified both."
                )
        metrics.check_queries(queries, "Metrics")
        # an anomaly detection alarm's band (ThresholdMetricId) returns data beside the metric
        band = req.get("ThresholdMetricId")
        returned = [q for q in queries if q.get("ReturnData", True) and q["Id"] != band]
        if len(returned) != 1:
            raise ValidationException("Exactly one element of the metrics list should return data.")
        for i, query in enumerate(queries, 1):
            if query.get("Expression") and not query.get("Period") and len(queries) == 1:
                raise MissingParameter(f"The parameter Metrics.member.{i}.Period is required.")
    else:
        if not req.get("MetricName"):
            raise ValidationException("One of MetricName or Metrics must be specified.")
        if not req.get("Namespace"):
            raise MissingParameter("The parameter Namespace is required.")
        statistic, extended = req.get("Statistic"), req.get("ExtendedStatistic")
        if (statistic is None) == (extended is None):
            raise InvalidParameterCombination(
                "Exactly one of Statistic or ExtendedStatistic must be specified."
            )
        if extended is not None and not stats.is_extended(extended):
            raise InvalidParameterValue(
                f"The value {extended} for parameter ExtendedStatistic is not supported."
            )
        if req.get("Period") is None:
            raise MissingParameter("The parameter Period is required.")
        period = int(req["Period"])
        if period not in (10, 20, 30) and period % 60 != 0:
            raise ValidationException("Period must be 10, 20, 30 or a multiple of 60")
    for name in ("EvaluationPeriods", "ComparisonOperator"):
        if req.get(name) is None:
            raise MissingParameter(f"The parameter {name} is required.")
    if req["ComparisonOperator"] in _RANGE_OPERATORS and not req.get("ThresholdMetricId"):
        raise ValidationException(
            "ComparisonOperators for ranges require ThresholdMetricId to be set"
        )
    if req.get("Threshold") is None and not req.get("ThresholdMetricId"):
        raise MissingParameter("The parameter Threshold is required.")
    evaluations = int(req["EvaluationPeriods"])
    if int(req.get("DatapointsToAlarm") or evaluations) > evaluations:
        raise ValidationException(
            "DatapointsToAlarm must be less than or equal to EvaluationPeriods"
        )
    period = _alarm_period(req)
    hourly = period >= 3600
    span, limit, which = ("a week", 604800, ">=") if hourly else ("a day", 86400, "<")
    if period * evaluations > limit:
        raise ValidationException(
            f"Metrics cannot be checked across more than {span} (EvaluationPeriods * Period "
            f"must be <= {limit}) for alarms using period {which} 3600"
        )
    treat = req.get("TreatMissingData")
    if treat is not None and treat not in _TREAT:
        raise ValidationException(
            f"The value {treat} is not supported for TreatMissingData parameter. Supported "
            "values are [breaching, notBreaching, ignore, missing]."
        )
    low = req.get("EvaluateLowSampleCountPercentile")
    if low is not None and low not in ("evaluate", "ignore"):
        raise ValidationException(
            f"Option {low} is not supported. Supported options for parameter "
            "EvaluateLowSampleCountPercentile are evaluate and ignore."
        )
    states.check_actions(req)


def _alarm_period(req: Mapping[str, Any]) -> int:
    if req.get("Period"):
        return int(req["Period"])
    for query in req.get("Metrics") or []:
        if query.get("ReturnData", True):
            stat = query.get("MetricStat")
            if stat is not None:
                return int(stat["Period"])
            if query.get("Period"):
                return int(query["Period"])
    periods = [
        int(q["MetricStat"]["Period"]) for q in req.get("Metrics") or [] if q.get("MetricStat")
    ]
    return min(periods) if periods else 60


def alarm_period(alarm: Mapping[str, Any]) -> int:
    """The period an alarm evaluates (its own, or its returned query's)."""
    return _alarm_period(alarm)


def _configured(
    ctx: RequestContext, req: Request, old: dict[str, Any] | None, now: float
) -> dict[str, Any]:
    name = req["AlarmName"]
    alarm: dict[str, Any] = {
        "AlarmName": name,
        "AlarmArn": alarm_arn(ctx.account, ctx.region, name),
        "AlarmConfigurationUpdatedTimestamp": now,
        "ActionsEnabled": req.get("ActionsEnabled", True) is not False,
        "OKActions": list(req.get("OKActions") or []),
        "AlarmActions": list(req.get("AlarmActions") or []),
        "InsufficientDataActions": list(req.get("InsufficientDataActions") or []),
        "Dimensions": [] if req.get("Metrics") else list(req.get("Dimensions") or []),
        "EvaluationPeriods": int(req["EvaluationPeriods"]),
        "ComparisonOperator": req["ComparisonOperator"],
    }
    for field in _CONFIG_FIELDS:
        if req.get(field) is not None:
            alarm[field] = req[field]
    if "Threshold" in alarm:
        alarm["Threshold"] = float(alarm["Threshold"])
    if old is None:
        alarm.update(
            StateValue=evaluate.INSUFFICIENT,
            StateReason=states.INITIAL_REASON,
            StateUpdatedTimestamp=now,
            StateTransitionedTimestamp=now,
            Tags=list(req.get("Tags") or []),
        )
    else:
        # An update keeps the state (and ignores Tags: TagResource changes them).
        for field in (
            "StateValue",
            "StateReason",
            "StateReasonData",
            "StateUpdatedTimestamp",
            "StateTransitionedTimestamp",
            "Tags",
        ):
            if field in old:
                alarm[field] = old[field]
    return alarm


def _save_configuration(
    tx: WriteTx,
    ctx: RequestContext,
    alarm: dict[str, Any],
    old: Mapping[str, Any] | None,
    now: float,
) -> None:
    """Store a created or updated alarm with its ConfigurationUpdate history item."""
    name = alarm["AlarmName"]
    store.put_alarm(tx, ctx.account, ctx.region, alarm)
    data: dict[str, Any] = {"version": "1.0", "type": "Update" if old is not None else "Create"}
    if old is not None:
        data["updatedAlarm"] = public(alarm)
        data["originalUpdatedAlarm"] = public(old)
        summary = f'Alarm "{name}" updated'
    else:
        data["createdAlarm"] = public(alarm)
        summary = f'Alarm "{name}" created'
    states.add_history(
        tx, ctx.account, ctx.region, alarm, now, "ConfigurationUpdate", summary, data
    )


def _family_parameter(req: Request) -> str | None:
    """ChildrenOfAlarmName or ParentsOfAlarmName when given; with AlarmTypes, MaxRecords
    and NextToken only."""
    given = [p for p in ("ChildrenOfAlarmName", "ParentsOfAlarmName") if req.get(p)]
    if not given:
        return None
    others = given[1:] + [k for k in _NOT_WITH_FAMILY if req.get(k)]
    if others:
        raise ValidationException(
            f"{given[0]} cannot be combined with {others[0]}: only MaxRecords and NextToken "
            "can be specified with it."
        )
    return given[0]


def _shown(alarm: Mapping[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    if fields is None:
        return public(alarm)
    return {k: alarm[k] for k in fields if k in alarm}


def _has_action(alarm: Mapping[str, Any], prefix: str) -> bool:
    return any(
        action.startswith(prefix)
        for field in ("AlarmActions", "OKActions", "InsufficientDataActions")
        for action in alarm.get(field) or []
    )


def _make_token(name: str) -> str:
    return base64.urlsafe_b64encode(b"a" + name.encode()).decode()


def _name_token(text: Any) -> str | None:
    raw = paging.tagged(text, b"a", InvalidNextToken(_INVALID_TOKEN))
    return raw[1:].decode(errors="replace") if raw is not None else None


def _history_token(text: Any) -> bytes | None:
    return paging.tagged(text, b"H", InvalidNextToken(_INVALID_TOKEN))
