"""CloudWatch with boto3, in each protocol botocore's model lists.

Current SDKs speak Smithy RPC v2 CBOR or JSON 1.0 to CloudWatch, older ones and the
Terraform provider the Query protocol; the ``cw`` fixture builds a boto3 client pinned
to each in turn (botocore's own model with only its ``protocol`` changed). Error cases
use the default client.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.cloudwatch_clients import default_client, file_topic, metric_alarm
from tests.api.helpers import REGION, Client, fails, unique_name

UTC = datetime.UTC


def _now() -> datetime.datetime:
    return datetime.datetime.now(UTC)


@pytest.fixture(scope="module")
def unchecked(endpoint: str) -> Client:
    return default_client(endpoint, parameter_validation=False)


def _window(minutes: int = 10) -> dict[str, datetime.datetime]:
    now = _now()
    return {
        "StartTime": now - datetime.timedelta(minutes=minutes),
        "EndTime": now + datetime.timedelta(minutes=1),
    }


# --- metrics -------------------------------------------------------------------------


def test_put_metric_data_and_get_statistics(cw: Client) -> None:
    namespace = unique_name()
    dims = [{"Name": "Service", "Value": "api"}]
    cw.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "Latency", "Dimensions": dims, "Value": 10, "Unit": "Milliseconds"},
            {
                "MetricName": "Latency",
                "Dimensions": dims,
                "Values": [20, 40],
                "Counts": [1, 2],
                "Unit": "Milliseconds",
            },
            {
                "MetricName": "Latency",
                "Dimensions": dims,
                "StatisticValues": {"SampleCount": 2, "Sum": 6, "Minimum": 1, "Maximum": 5},
                "Unit": "Milliseconds",
            },
            {"MetricName": "Latency", "Dimensions": dims, "Value": 1000, "Unit": "Seconds"},
        ],
    )
    answer = cw.get_metric_statistics(
        Namespace=namespace,
        MetricName="Latency",
        Dimensions=dims,
        Period=3600,
        Statistics=["SampleCount", "Sum", "Average", "Minimum", "Maximum"],
        Unit="Milliseconds",
        **_window(),
    )
    assert answer["Label"] == "Latency"
    [point] = answer["Datapoints"]
    assert point["Unit"] == "Milliseconds"
    assert (point["SampleCount"], point["Sum"], point["Minimum"], point["Maximum"]) == (
        6.0,
        116.0,
        1.0,
        40.0,
    )
    assert point["Average"] == pytest.approx(116 / 6)
    by_unit = cw.get_metric_statistics(
        Namespace=namespace,
        MetricName="Latency",
        Dimensions=dims,
        Period=3600,
        Statistics=["Sum"],
        ExtendedStatistics=["p50"],
        **_window(),
    )["Datapoints"]
    assert sorted(p["Unit"] for p in by_unit) == ["Milliseconds", "Seconds"]
    seconds = next(p for p in by_unit if p["Unit"] == "Seconds")
    assert seconds["ExtendedStatistics"] == {"p50": 1000.0}
    other_dims = cw.get_metric_statistics(
        Namespace=namespace, MetricName="Latency", Period=60, Statistics=["Sum"], **_window()
    )
    assert other_dims["Datapoints"] == []  # dimensions must match exactly


def test_get_metric_data_with_math(cw: Client) -> None:
    namespace = unique_name()
    stamp = _now() - datetime.timedelta(minutes=2)
    cw.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "Reads", "Value": 3, "Timestamp": stamp},
            {"MetricName": "Writes", "Value": 4, "Timestamp": stamp},
        ],
    )

    def stat(name: str) -> dict[str, Any]:
        return {
            "Metric": {"Namespace": namespace, "MetricName": name},
            "Period": 60,
            "Stat": "Sum",
        }

    answer = cw.get_metric_data(
        MetricDataQueries=[
            {"Id": "reads", "MetricStat": stat("Reads")},
            {"Id": "writes", "MetricStat": stat("Writes"), "ReturnData": False},
            {"Id": "total", "Expression": "reads + writes", "Label": "All"},
            {"Id": "scaled", "Expression": "SUM([reads, writes]) * 2 - 1"},
        ],
        ScanBy="TimestampAscending",
        **_window(),
    )
    results = {r["Id"]: r for r in answer["MetricDataResults"]}
    assert set(results) == {"reads", "total", "scaled"}
    assert results["reads"]["Label"] == "Reads"
    assert results["reads"]["Values"] == [3.0]
    assert results["reads"]["StatusCode"] == "Complete"
    assert results["total"]["Label"] == "All"
    assert results["total"]["Values"] == [7.0]
    assert results["scaled"]["Values"] == [13.0]
    minute = stamp.replace(second=0, microsecond=0)
    assert results["total"]["Timestamps"] == [minute]


def test_list_metrics(cw: Client) -> None:
    namespace = unique_name()
    cw.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "A", "Value": 1, "Dimensions": [{"Name": "Host", "Value": "h1"}]},
            {"MetricName": "A", "Value": 1, "Dimensions": [{"Name": "Host", "Value": "h2"}]},
            {"MetricName": "B", "Value": 1},
        ],
    )
    listed = cw.list_metrics(Namespace=namespace)["Metrics"]
    assert len(listed) == 3
    assert {m["MetricName"] for m in listed} == {"A", "B"}
    only_h2 = cw.list_metrics(Namespace=namespace, Dimensions=[{"Name": "Host", "Value": "h2"}])
    assert only_h2["Metrics"] == [
        {"Namespace": namespace, "MetricName": "A", "Dimensions": [{"Name": "Host", "Value": "h2"}]}
    ]
    with_host = cw.list_metrics(Namespace=namespace, Dimensions=[{"Name": "Host"}])["Metrics"]
    assert len(with_host) == 2
    named = cw.list_metrics(Namespace=namespace, MetricName="B", RecentlyActive="PT3H")
    assert [m["MetricName"] for m in named["Metrics"]] == ["B"]


def test_get_metric_data_pages(cw: Client) -> None:
    namespace = unique_name()
    start = (_now() - datetime.timedelta(minutes=8)).replace(second=0, microsecond=0)
    minutes = [start + datetime.timedelta(minutes=i) for i in range(5)]
    cw.put_metric_data(
        Namespace=namespace,
        MetricData=[{"MetricName": "A", "Value": i, "Timestamp": m} for i, m in enumerate(minutes)]
        + [{"MetricName": "B", "Value": 10 + i, "Timestamp": minutes[i]} for i in range(3)],
    )
    queries = [
        {
            "Id": name.lower(),
            "MetricStat": {
                "Metric": {"Namespace": namespace, "MetricName": name},
                "Period": 60,
                "Stat": "Sum",
            },
        }
        for name in ("A", "B")
    ]
    window = {"StartTime": start, "EndTime": _now() + datetime.timedelta(minutes=1)}
    asked = {"MetricDataQueries": queries, "ScanBy": "TimestampAscending", **window}

    def summary(page: dict[str, Any]) -> list[tuple[str, list[float], str]]:
        return [(r["Id"], r["Values"], r["StatusCode"]) for r in page["MetricDataResults"]]

    first = cw.get_metric_data(MaxDatapoints=3, **asked)
    assert summary(first) == [("a", [0.0, 1.0, 2.0], "PartialData")]
    assert first["MetricDataResults"][0]["Timestamps"] == minutes[:3]
    second = cw.get_metric_data(MaxDatapoints=3, NextToken=first["NextToken"], **asked)
    assert summary(second) == [("a", [3.0, 4.0], "Complete"), ("b", [10.0], "PartialData")]
    third = cw.get_metric_data(MaxDatapoints=3, NextToken=second["NextToken"], **asked)
    assert summary(third) == [("b", [11.0, 12.0], "Complete")]
    assert "NextToken" not in third

    newest_first = cw.get_metric_data(MetricDataQueries=queries, MaxDatapoints=4, **window)
    assert summary(newest_first) == [("a", [4.0, 3.0, 2.0, 1.0], "PartialData")]
    whole = cw.get_metric_data(MetricDataQueries=queries, **window)
    assert summary(whole) == [("a", [4.0, 3.0, 2.0, 1.0, 0.0], "Complete"),
                              ("b", [12.0, 11.0, 10.0], "Complete")]  # fmt: skip

    # botocore's paginator follows NextToken, MaxDatapoints being its page size.
    pages = cw.get_paginator("get_metric_data").paginate(PaginationConfig={"PageSize": 2}, **asked)
    values: dict[str, list[float]] = {}
    for page in pages:
        for result in page["MetricDataResults"]:
            values.setdefault(result["Id"], []).extend(result["Values"])
    assert values == {"a": [0.0, 1.0, 2.0, 3.0, 4.0], "b": [10.0, 11.0, 12.0]}

    with pytest.raises(ClientError) as raised:
        cw.get_metric_data(NextToken="bm90IGEgdG9rZW4=", **asked)
    assert raised.value.response["Error"]["Code"] == "InvalidNextToken"
    with pytest.raises(ClientError) as raised:  # a token of another request
        cw.get_metric_data(MetricDataQueries=queries[:1], NextToken=first["NextToken"], **window)
    assert raised.value.response["Error"]["Code"] == "InvalidNextToken"


def test_list_metrics_pages(endpoint: str) -> None:
    # Over 10 KB: botocore sends the PutMetricData body gzip-compressed.
    cloudwatch = default_client(endpoint)
    namespace = unique_name()
    names = [f"m{i:03d}" for i in range(501)]
    cloudwatch.put_metric_data(
        Namespace=namespace, MetricData=[{"MetricName": n, "Value": 1} for n in names]
    )
    first = cloudwatch.list_metrics(Namespace=namespace)
    assert [m["MetricName"] for m in first["Metrics"]] == names[:500]
    rest = cloudwatch.list_metrics(Namespace=namespace, NextToken=first["NextToken"])
    assert [m["MetricName"] for m in rest["Metrics"]] == names[500:]
    assert "NextToken" not in rest
    pages = cloudwatch.get_paginator("list_metrics").paginate(Namespace=namespace)
    assert [m["MetricName"] for m in pages.build_full_result()["Metrics"]] == names


# --- alarms ----------------------------------------------------------------------------


def test_alarm_lifecycle(cw: Client, alarms: Callable[[str], str]) -> None:
    name = alarms(unique_name())
    topic = f"arn:aws:sns:{REGION}:000000000000:nowhere"
    cw.put_metric_alarm(
        **metric_alarm(name, AlarmActions=[topic]), Tags=[{"Key": "team", "Value": "core"}]
    )
    [alarm] = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert alarm["AlarmArn"] == f"arn:aws:cloudwatch:{REGION}:000000000000:alarm:{name}"
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["StateReason"] == "Unchecked: Initial alarm creation"
    assert alarm["ActionsEnabled"] is True
    assert alarm["AlarmActions"] == [topic]
    assert alarm["OKActions"] == []
    assert alarm["Dimensions"] == [{"Name": "Service", "Value": "api"}]
    assert (alarm["Threshold"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (
        5.0,
        2,
        1,
    )
    assert isinstance(alarm["AlarmConfigurationUpdatedTimestamp"], datetime.datetime)
    assert cw.describe_alarms(AlarmNamePrefix=name)["MetricAlarms"][0]["AlarmName"] == name
    assert name in [a["AlarmName"] for a in cw.describe_alarms(ActionPrefix=topic)["MetricAlarms"]]

    for_metric = cw.describe_alarms_for_metric(
        Namespace="App",
        MetricName="Errors",
        Dimensions=[{"Name": "Service", "Value": "api"}],
        Statistic="Sum",
    )["MetricAlarms"]
    assert name in [a["AlarmName"] for a in for_metric]
    assert cw.describe_alarms_for_metric(Namespace="App", MetricName="Errors", Statistic="Average")[
        "MetricAlarms"
    ] == [] or name not in [
        a["AlarmName"]
        for a in cw.describe_alarms_for_metric(
            Namespace="App", MetricName="Errors", Statistic="Average"
        )["MetricAlarms"]
    ]

    assert cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"] == [
        {"Key": "team", "Value": "core"}
    ]
    cw.tag_resource(ResourceARN=alarm["AlarmArn"], Tags=[{"Key": "env", "Value": "dev"}])
    cw.untag_resource(ResourceARN=alarm["AlarmArn"], TagKeys=["team"])
    assert cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"] == [
        {"Key": "env", "Value": "dev"}
    ]

    cw.disable_alarm_actions(AlarmNames=[name])
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["ActionsEnabled"] is False
    cw.set_alarm_state(
        AlarmName=name, StateValue="ALARM", StateReason="testing", StateReasonData='{"a": 1}'
    )
    [alarm] = cw.describe_alarms(AlarmNames=[name], StateValue="ALARM")["MetricAlarms"]
    assert alarm["StateReason"] == "testing"
    assert json.loads(alarm["StateReasonData"]) == {"a": 1}
    cw.enable_alarm_actions(AlarmNames=[name])
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["ActionsEnabled"] is True

    cw.put_metric_alarm(**metric_alarm(name, Threshold=7.0))  # an update keeps the state
    [alarm] = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert (alarm["Threshold"], alarm["StateValue"]) == (7.0, "ALARM")

    history = cw.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"]
    kinds = [(h["HistoryItemType"], h["HistorySummary"]) for h in history]
    assert kinds[-1] == ("ConfigurationUpdate", f'Alarm "{name}" created')
    assert ("StateUpdate", "Alarm updated from INSUFFICIENT_DATA to ALARM") in kinds
    assert kinds[0] == ("ConfigurationUpdate", f'Alarm "{name}" updated')
    updates = cw.describe_alarm_history(
        AlarmName=name, HistoryItemType="StateUpdate", ScanBy="TimestampAscending"
    )["AlarmHistoryItems"]
    data = json.loads(updates[0]["HistoryData"])
    assert data["oldState"]["stateValue"] == "INSUFFICIENT_DATA"
    assert data["newState"] == {
        "stateValue": "ALARM",
        "stateReason": "testing",
        "stateReasonData": {"a": 1},
    }
    first = cw.describe_alarm_history(AlarmName=name, MaxRecords=1)
    assert len(first["AlarmHistoryItems"]) == 1 and "NextToken" in first
    second = cw.describe_alarm_history(AlarmName=name, MaxRecords=1, NextToken=first["NextToken"])
    assert second["AlarmHistoryItems"] == history[1:2]

    cw.delete_alarms(AlarmNames=[name])
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []


def test_describe_alarms_pages(cloudwatch: Client, alarms: Callable[[str], str]) -> None:
    prefix = unique_name()
    for i in range(3):
        cloudwatch.put_metric_alarm(**metric_alarm(alarms(f"{prefix}-{i}")))
    first = cloudwatch.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=2)
    assert [a["AlarmName"] for a in first["MetricAlarms"]] == [f"{prefix}-0", f"{prefix}-1"]
    rest = cloudwatch.describe_alarms(AlarmNamePrefix=prefix, NextToken=first["NextToken"])
    assert [a["AlarmName"] for a in rest["MetricAlarms"]] == [f"{prefix}-2"]
    assert "NextToken" not in rest


def test_metric_math_alarm(cloudwatch: Client, alarms: Callable[[str], str]) -> None:
    name = alarms(unique_name())
    metric = {"Namespace": "App", "MetricName": "Errors"}
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        Metrics=[
            {"Id": "m1", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"},
             "ReturnData": False},
            {"Id": "e1", "Expression": "m1 * 100", "Label": "Errors x100", "ReturnData": True},
        ],
    )  # fmt: skip
    [alarm] = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert [m["Id"] for m in alarm["Metrics"]] == ["m1", "e1"]
    assert "MetricName" not in alarm


def test_set_alarm_state_notifies_the_alarm_actions(
    endpoint: str, cloudwatch: Client, alarms: Callable[[str], str], tmp_path: Path
) -> None:
    log = tmp_path / "notifications.jsonl"
    sns, topic = file_topic(endpoint, log)
    name = alarms(unique_name())
    cloudwatch.put_metric_alarm(**metric_alarm(name, OKActions=[topic], AlarmActions=[topic]))
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="all good")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (log.exists() and log.read_text()):
        time.sleep(0.05)
    envelope = json.loads(log.read_text().splitlines()[0])
    assert envelope["Type"] == "Notification"
    assert envelope["Subject"] == f'OK: "{name}" in US East (N. Virginia)'
    message = json.loads(envelope["Message"])
    assert message["NewStateValue"] == "OK"
    assert message["NewStateReason"] == "all good"
    assert message["OKActions"] == [topic]
    assert message["Trigger"]["Period"] == 60
    assert message["Trigger"]["EvaluationPeriods"] == 2
    assert message["Trigger"]["Threshold"] == 5.0
    history = cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType="Action")
    assert history["AlarmHistoryItems"][0]["HistorySummary"] == (
        f"Successfully executed action {topic}"
    )
    sns.delete_topic(TopicArn=topic)


def test_anomaly_detection_and_extended_statistic_alarms(
    cloudwatch: Client, alarms: Callable[[str], str]
) -> None:
    name = alarms(unique_name())
    metric = {"Namespace": "App", "MetricName": "Latency"}
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        EvaluationPeriods=3,
        ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold",
        ThresholdMetricId="band",
        Metrics=[  # the metric and its band both return data (the band's by default)
            {"Id": "m1", "MetricStat": {"Metric": metric, "Period": 300, "Stat": "Average"},
             "ReturnData": True},
            {"Id": "band", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)"},
        ],
    )  # fmt: skip
    [alarm] = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert alarm["ThresholdMetricId"] == "band"
    assert "Threshold" not in alarm
    trimmed = alarms(unique_name())
    params = metric_alarm(trimmed, ExtendedStatistic="tm99")
    del params["Statistic"]
    cloudwatch.put_metric_alarm(**params)
    [alarm] = cloudwatch.describe_alarms(AlarmNames=[trimmed])["MetricAlarms"]
    assert alarm["ExtendedStatistic"] == "tm99" and "Statistic" not in alarm


def test_extended_statistics(cw: Client) -> None:
    namespace = unique_name()
    stamp = _now() - datetime.timedelta(minutes=2)
    values = [float(v) for v in range(1, 11)]
    cw.put_metric_data(
        Namespace=namespace,
        MetricData=[{"MetricName": "Latency", "Values": values, "Timestamp": stamp}],
    )
    wanted = {
        "tm90": 5.0,  # the mean of the lowest 90%
        "TM(10%:90%)": 5.5,
        "IQM": 5.5,
        "tc90": 9.0,
        "ts90": 45.0,
        "wm80": 5.2,  # 9 and 10 counted as 8
        "TM(2:5)": 4.0,  # values above 2, up to 5
        "PR(:3)": 30.0,  # the percentage of values up to 3
        "p50": 5.0,
    }
    queries = [
        {
            "Id": f"q{i}",
            "MetricStat": {
                "Metric": {"Namespace": namespace, "MetricName": "Latency"},
                "Period": 60,
                "Stat": stat,
            },
        }
        for i, stat in enumerate(wanted)
    ]
    answer = cw.get_metric_data(MetricDataQueries=queries, **_window())
    found = {r["Id"]: r["Values"] for r in answer["MetricDataResults"]}
    assert found == {f"q{i}": [value] for i, value in enumerate(wanted.values())}
    fails(
        lambda: cw.get_metric_data(
            MetricDataQueries=[dict(queries[0], MetricStat={**queries[0]["MetricStat"],
                                                            "Stat": "TM(90%:10%)"})],
            **_window(),
        ),
        "ValidationError",
        "The value TM(90%:10%) for parameter MetricDataQueries.member.1.MetricStat.Stat is "
        "invalid.",
    )  # fmt: skip


def test_high_resolution_periods(cw: Client) -> None:
    namespace = unique_name()
    stamp = _now() - datetime.timedelta(minutes=1)
    cw.put_metric_data(
        Namespace=namespace,
        MetricData=[{"MetricName": "Hits", "Value": 2, "Timestamp": stamp, "StorageResolution": 1}],
    )
    answer = cw.get_metric_statistics(
        Namespace=namespace, MetricName="Hits", Period=20, Statistics=["Sum"], **_window()
    )  # 1, 5, 10, 20 and 30 seconds are high-resolution periods
    assert [p["Sum"] for p in answer["Datapoints"]] == [2.0]


# --- errors ------------------------------------------------------------------------------


def test_put_metric_data_errors(cloudwatch: Client) -> None:
    fails(
        lambda: cloudwatch.put_metric_data(
            Namespace="AWS/Custom", MetricData=[{"MetricName": "m", "Value": 1}]
        ),
        "InvalidParameterValue",
        "The value AWS/Custom for parameter Namespace is invalid.",
    )  # fmt: skip
    fails(
        lambda: cloudwatch.put_metric_data(
            Namespace="N", MetricData=[{"MetricName": "m", "Value": 1, "Values": [1]}]
        ),
        "InvalidParameterCombination",
        "The parameters MetricData.member.1.Value and MetricData.member.1.Values are mutually "
        "exclusive and you have specified both.",
    )
    old = _now() - datetime.timedelta(days=15)
    fails(
        lambda: cloudwatch.put_metric_data(
            Namespace="N", MetricData=[{"MetricName": "m", "Value": 1, "Timestamp": old}]
        ),
        "InvalidParameterValue",
    )


def test_get_metric_statistics_errors(cloudwatch: Client) -> None:
    now = _now()

    def stats(**params: Any) -> Any:
        base: dict[str, Any] = {
            "Namespace": "N",
            "MetricName": "m",
            "StartTime": now - datetime.timedelta(hours=1),
            "EndTime": now,
            "Period": 60,
            "Statistics": ["Sum"],
        }
        base.update(params)
        return cloudwatch.get_metric_statistics(**base)

    fails(
        lambda: stats(StartTime=now, EndTime=now),
        "InvalidParameterValue",
        "The parameter StartTime must not equal parameter EndTime.",
    )
    fails(
        lambda: stats(StartTime=now, EndTime=now - datetime.timedelta(minutes=5)),
        "InvalidParameterValue",
        "The parameter StartTime must be less than the parameter EndTime.",
    )
    fails(
        lambda: stats(StartTime=now - datetime.timedelta(days=2)),
        "InvalidParameterCombination",
        "You have requested up to 2881 datapoints, which exceeds the limit of 1440. You may "
        "reduce the datapoints requested by increasing Period, or decreasing the time range.",
    )
    fails(
        lambda: cloudwatch.get_metric_statistics(
            Namespace="N", MetricName="m", StartTime=now - datetime.timedelta(hours=1),
            EndTime=now, Period=60,
        ),
        "InvalidParameterCombination",
        "Must specify either Statistics or ExtendedStatistics",
    )  # fmt: skip
    fails(lambda: stats(Period=61), "InvalidParameterValue")


def test_get_metric_data_errors(cloudwatch: Client) -> None:
    now = _now()
    query = {
        "Id": "m1",
        "MetricStat": {
            "Metric": {"Namespace": "N", "MetricName": "m"},
            "Period": 60,
            "Stat": "Sum",
        },
    }
    fails(
        lambda: cloudwatch.get_metric_data(MetricDataQueries=[query], StartTime=now, EndTime=now),
        "ValidationError",
        "The parameter StartTime must not equal parameter EndTime.\n",
    )
    window = _window()
    fails(
        lambda: cloudwatch.get_metric_data(
            MetricDataQueries=[query, {"Id": "e1", "Expression": "m1 +"}], **window
        ),
        "ValidationError",
    )
    fails(
        lambda: cloudwatch.get_metric_data(MetricDataQueries=[{"Id": "m1"}], **window),
        "ValidationError",
        "The parameter MetricDataQueries.member.1.MetricStat is required.\n",
    )
    fails(
        lambda: cloudwatch.get_metric_data(MetricDataQueries=[query, query], **window),
        "ValidationError",
    )


def test_put_metric_alarm_errors(cloudwatch: Client, unchecked: Client) -> None:
    name = unique_name()
    fails(
        lambda: cloudwatch.put_metric_alarm(**metric_alarm(name, Period=45)),
        "ValidationError",
        "Period must be 10, 20, 30 or a multiple of 60",
    )
    fails(
        lambda: cloudwatch.put_metric_alarm(**metric_alarm(name, DatapointsToAlarm=3)),
        "ValidationError",
        "DatapointsToAlarm must be less than or equal to EvaluationPeriods",
    )
    fails(
        lambda: cloudwatch.put_metric_alarm(
            **metric_alarm(name, Period=3000, EvaluationPeriods=30)
        ),
        "ValidationError",
        "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be "
        "<= 86400) for alarms using period < 3600",
    )
    fails(
        lambda: cloudwatch.put_metric_alarm(
            **metric_alarm(name, Period=86400, EvaluationPeriods=8)
        ),
        "ValidationError",
        "Metrics cannot be checked across more than a week (EvaluationPeriods * Period must be "
        "<= 604800) for alarms using period >= 3600",
    )
    fails(
        lambda: cloudwatch.put_metric_alarm(
            **metric_alarm(name, ComparisonOperator="GreaterThanUpperThreshold")
        ),
        "ValidationError",
        "ComparisonOperators for ranges require ThresholdMetricId to be set",
    )
    fails(
        lambda: cloudwatch.put_metric_alarm(**metric_alarm(name, TreatMissingData="sometimes")),
        "ValidationError",
        "The value sometimes is not supported for TreatMissingData parameter. Supported values "
        "are [breaching, notBreaching, ignore, missing].",
    )
    fails(
        lambda: cloudwatch.put_metric_alarm(**metric_alarm(name, ExtendedStatistic="p99")),
        "InvalidParameterCombination",
    )
    fails(
        lambda: unchecked.put_metric_alarm(**metric_alarm(name, EvaluationPeriods=0)),
        "ValidationError",
        "1 validation error detected: Value '0' at 'evaluationPeriods' failed to satisfy "
        "constraint: Member must have value greater than or equal to 1",
    )
    assert cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []


def test_alarm_errors(cloudwatch: Client, alarms: Callable[[str], str]) -> None:
    missing = unique_name()
    fails(
        lambda: cloudwatch.set_alarm_state(AlarmName=missing, StateValue="OK", StateReason="x"),
        "ResourceNotFound",
        f"Alarm {missing} not found",
        404,
    )
    name = alarms(unique_name())
    cloudwatch.put_metric_alarm(**metric_alarm(name))
    fails(
        lambda: cloudwatch.set_alarm_state(
            AlarmName=name, StateValue="OK", StateReason="x", StateReasonData="{not json"
        ),
        "InvalidFormat",
    )
    arn = f"arn:aws:cloudwatch:{REGION}:000000000000:alarm:{missing}"
    fails(
        lambda: cloudwatch.tag_resource(ResourceARN=arn, Tags=[{"Key": "a", "Value": "b"}]),
        "ResourceNotFoundException",
        status=404,
    )
    fails(
        lambda: cloudwatch.list_tags_for_resource(ResourceARN="nonsense"), "InvalidParameterValue"
    )
    fails(lambda: cloudwatch.describe_alarms(NextToken="bogus"), "InvalidNextToken")
