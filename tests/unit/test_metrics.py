"""DynamoDB metrics, CloudWatch statistics, metric math, alarm evaluation and SNS delivery
pieces, without a server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from dynastore.engine import metrics
from dynastore.engine.engine import Engine, EngineSettings
from dynastore.engine.metrics import MetricsRecorder, ThrottleDeltas
from dynastore.errors import (
    InvalidParameterCombination,
    InvalidParameterValue,
    MissingParameter,
)
from dynastore.server.service import RequestContext
from dynastore.services.cloudwatch import evaluate, expressions, stats, store
from dynastore.services.cloudwatch.alarms import AlarmsApi
from dynastore.services.cloudwatch.evaluate import Point
from dynastore.services.cloudwatch.metrics import MetricsApi
from dynastore.services.cloudwatch.store import Sample, Stat
from dynastore.services.sns import filters
from dynastore.services.sns.delivery import Delivery, Job, RetryPolicy
from dynastore.storage.sqlite import SqliteBackend
from dynastore.workers.alarms import AlarmWorker
from dynastore.workers.metrics import MetricsWorker
from tests.unit.clock import Clock

ACCOUNT, REGION = "000000000000", "us-east-1"
CTX = RequestContext("req", ACCOUNT, REGION, "key")
NOW = 1_800_000_000.0  # a whole minute
TABLE_T = (("TableName", "t"),)
PUT_T = (("Operation", "PutItem"), ("TableName", "t"))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    backend = SqliteBackend(str(tmp_path / "store.db"), checkpoint_interval=None)
    eng = Engine(backend, EngineSettings(), clock=Clock(NOW))
    yield eng
    eng.close()


def _stat(recorder: MetricsRecorder, metric: str, dims: metrics.Dimensions) -> list[float]:
    pending, _ = recorder.drain()
    return pending[(ACCOUNT, REGION, metric, dims, int(NOW // 60))]


# --- the recorder ------------------------------------------------------------------------


def test_recorder_keeps_statistic_sets_and_restores_them() -> None:
    recorder = MetricsRecorder(Clock(NOW))
    dims = metrics.table_dims("t")
    for value in (3.0, 1.0, 5.0):
        recorder.add(ACCOUNT, REGION, "M", dims, value)
    pending, hists = recorder.drain()
    assert pending == {(ACCOUNT, REGION, "M", dims, int(NOW // 60)): [3.0, 9.0, 1.0, 5.0]}
    assert recorder.drain() == ({}, {})
    recorder.add(ACCOUNT, REGION, "M", dims, 10.0)
    recorder.restore(pending, hists)
    assert _stat(recorder, "M", dims) == [4.0, 19.0, 1.0, 10.0]


def test_success_records_latency_with_a_histogram_and_returned_items() -> None:
    recorder = MetricsRecorder(Clock(NOW))
    body = b'{"Items":[{"pk":{"S":"a"}}],"Count":1,"ScannedCount":3}'
    recorder.succeeded(ACCOUNT, REGION, "Query", {"TableName": "t"}, body, 0.0123)
    pending, hists = recorder.drain()
    minute = int(NOW // 60)
    dims = (("Operation", "Query"), ("TableName", "t"))
    latency = pending[(ACCOUNT, REGION, "SuccessfulRequestLatency", dims, minute)]
    assert latency[0] == 1.0 and latency[1] == pytest.approx(12.3)
    assert hists[(ACCOUNT, REGION, "SuccessfulRequestLatency", dims, minute)] == {12.3: 1.0}
    assert pending[(ACCOUNT, REGION, "ReturnedItemCount", dims, minute)] == [1.0, 1.0, 1.0, 1.0]


def test_control_plane_operations_have_no_latency_metric() -> None:
    recorder = MetricsRecorder(Clock(NOW))
    recorder.succeeded(ACCOUNT, REGION, "CreateTable", {"TableName": "t"}, {}, 0.01)
    assert recorder.drain() == ({}, {})


def test_unprocessed_batch_items_are_throttled_requests() -> None:
    recorder = MetricsRecorder(Clock(NOW))
    req: dict[str, Any] = {"RequestItems": {"a": [], "arn:aws:dynamodb:us-east-1:0:table/b": []}}
    result: dict[str, Any] = {"UnprocessedItems": {"arn:aws:dynamodb:us-east-1:0:table/b": [{}]}}
    recorder.succeeded(ACCOUNT, REGION, "BatchWriteItem", req, result, 0.001)
    dims = (("Operation", "BatchWriteItem"), ("TableName", "b"))
    assert _stat(recorder, "ThrottledRequests", dims)[1] == 1.0


@pytest.mark.parametrize(
    ("error", "status", "metric", "dims"),
    [
        ("ConditionalCheckFailedException", 400, "ConditionalCheckFailedRequests", TABLE_T),
        ("ProvisionedThroughputExceededException", 400, "ThrottledRequests", PUT_T),
        ("ValidationException", 400, "UserErrors", ()),
        ("ResourceNotFoundException", 400, "UserErrors", ()),
        ("InternalServerError", 500, "SystemErrors", PUT_T),
        (None, 500, "SystemErrors", PUT_T),
    ],
)  # fmt: skip
def test_failures_feed_their_metric(
    error: str | None, status: int, metric: str, dims: metrics.Dimensions
) -> None:
    recorder = MetricsRecorder(Clock(NOW))
    recorder.failed(ACCOUNT, REGION, "PutItem", {"TableName": "t"}, error, status)
    pending, _ = recorder.drain()
    assert list(pending) == [(ACCOUNT, REGION, metric, dims, int(NOW // 60))]


def test_tables_of_requests() -> None:
    assert metrics.tables_of({"TableName": "arn:aws:dynamodb:r:1:table/x"}) == ["x"]
    assert metrics.tables_of({"RequestItems": {"a": {}, "b": {}}}) == ["a", "b"]
    transact = {"TransactItems": [{"Put": {"TableName": "a"}}, {"Update": {"TableName": "a"}}]}
    assert metrics.tables_of(transact) == ["a"]
    assert metrics.tables_of({"TableName": 5}) == []


@pytest.mark.parametrize(
    ("body", "count"),
    [
        (b'{"Items":[],"Count":0,"ScannedCount":0}', 0),
        (b'{"Count":42,"ScannedCount":50}', 42),
        (b'{"Items":[{"Count":{"L":[]}}],"Count":7,"ScannedCount":7}', 7),
        (b'{"Items":[{"a":{"S":"],\\"Count\\":9"}}],"Count":1,"ScannedCount":1}', 1),
        (b"{}", None),
    ],
)
def test_returned_count_of_encoded_answers(body: bytes, count: int | None) -> None:
    assert metrics.returned_count(body) == count
    assert metrics.returned_count({"Count": 3}) == 3


class FakeCounters:
    def __init__(self) -> None:
        self.sums: dict[int, dict[str, float]] = {}

    def resources(self) -> list[tuple[str, str, str, str | None]]:
        return [(ACCOUNT, REGION, "t", None)]

    def metrics(
        self,
        account: str,
        region: str,
        table: str,
        index: str | None = None,
        start: float = 0.0,
        end: float = float("inf"),
    ) -> list[tuple[int, dict[str, float]]]:
        return [(m, dict(s)) for m, s in sorted(self.sums.items()) if start <= m < end]


def test_throttle_deltas_pass_only_increments() -> None:
    source = FakeCounters()
    recorder = MetricsRecorder(Clock(NOW))
    deltas = ThrottleDeltas()
    minute = int(NOW // 60) * 60
    source.sums[minute] = {"WriteThrottleEvents": 3.0, "ThrottledRequests": 3.0}
    deltas.collect(source, recorder, NOW)
    source.sums[minute]["WriteThrottleEvents"] = 5.0
    deltas.collect(source, recorder, NOW + 1)
    deltas.collect(source, recorder, NOW + 2)
    pending, _ = recorder.drain()
    key = (ACCOUNT, REGION, "WriteThrottleEvents", (("TableName", "t"),), minute // 60)
    assert pending == {key: [5.0, 5.0, 1.0, 1.0]}  # ThrottledRequests comes from ops


def test_provisioned_gauges() -> None:
    desc = {
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 1},
        "GlobalSecondaryIndexes": [
            {"IndexName": "g",
             "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 3}}
        ],
    }  # fmt: skip
    on_demand = {"BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}}
    found = {
        (m, d): v
        for _, _, m, d, v in metrics.provisioned_gauges(
            [(ACCOUNT, REGION, "t", desc), (ACCOUNT, REGION, "o", on_demand)]
        )
    }
    assert found[("ProvisionedWriteCapacityUnits", (("TableName", "t"),))] == 1.0
    gsi = (("GlobalSecondaryIndexName", "g"), ("TableName", "t"))
    assert found[("ProvisionedReadCapacityUnits", gsi)] == 3.0
    assert found[("AccountProvisionedReadCapacityUtilization", ())] == pytest.approx(0.01)
    assert not any(d == (("TableName", "o"),) for _, d in found)


# --- statistics and metric math ----------------------------------------------------------


def test_statistics_and_percentiles() -> None:
    stat = Stat.of_values([1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 97.0])
    assert stats.value(stat, "SampleCount") == 100.0
    assert stats.value(stat, "Average") == pytest.approx(3.94)
    assert stats.value(stat, "p50") == 4.0
    assert stats.value(stat, "p1") == 1.0
    assert stats.value(stat, "p100") == 4.0
    assert stats.value(Stat(2.0, 3.0, 1.0, 2.0, None), "p90") is None
    assert stats.is_statistic("p99.9") and not stats.is_statistic("p101")


def test_aggregate_into_periods_by_unit() -> None:
    buckets = [
        (0, "Count", Stat.of_values([1.0], [1.0])),
        (60, "Count", Stat.of_values([2.0], [1.0])),
        (120, "Count", Stat.of_values([4.0], [1.0])),
        (60, "Bytes", Stat.of_values([8.0], [1.0])),
    ]
    out = stats.aggregate(buckets, 0, 120, None)
    assert {k: v.total for k, v in out.items()} == {
        (0, "Count"): 3.0,
        (120, "Count"): 4.0,
        (0, "Bytes"): 8.0,
    }
    assert list(stats.aggregate(buckets, 0, 120, "Bytes")) == [(0, "Bytes")]


def _eval(text: str, series: dict[str, dict[int, float]]) -> Any:
    evaluator = expressions.Evaluator(series.__getitem__, sorted(series), [0, 60, 120])
    return evaluator.evaluate(expressions.parse(text))


def test_metric_math() -> None:
    m1 = {0: 1.0, 60: 2.0, 120: 3.0}
    m2 = {0: 10.0, 60: 0.0}
    series = {"m1": m1, "m2": m2}
    assert _eval("m1 + m2 * 2", series) == {0: 21.0, 60: 2.0}
    assert _eval("-(m1 - 1) / 2", series) == {0: -0.0, 60: -0.5, 120: -1.0}
    assert _eval("m1 / m2", series) == {0: 0.1}  # division by zero leaves no point
    assert _eval("SUM([m1, m2])", series) == {0: 11.0, 60: 2.0, 120: 3.0}
    assert _eval("SUM(METRICS())", series) == {0: 11.0, 60: 2.0, 120: 3.0}
    assert _eval("SUM(m1)", series) == 6.0
    assert _eval("MAX(m1) ^ 2", series) == 9.0
    assert _eval("FILL(m2, 7)", series) == {0: 10.0, 60: 0.0, 120: 7.0}
    assert _eval("RATE(m1)", series) == {60: 1 / 60, 120: 1 / 60}
    assert _eval("abs(-3)", series) == 3.0
    for bad in ("m1 +", "SUM(", "NOPE(m1)", "m1 $ 2", "[m1, m2] + [m1]"):
        with pytest.raises(expressions.ExpressionError):
            _eval(bad, series)
    assert expressions.references(expressions.parse("m1 + SUM(METRICS())")) == {"m1", "*"}


# --- alarm evaluation --------------------------------------------------------------------


def _alarm(**extra: Any) -> dict[str, Any]:
    alarm: dict[str, Any] = {
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 5.0,
        "EvaluationPeriods": 3,
        "Statistic": "Sum",
        "Period": 60,
    }
    alarm.update(extra)
    return alarm


def _points(*values: float | None) -> list[Point]:
    return [Point(i * 60, v, 1.0 if v is not None else 0.0) for i, v in enumerate(values)]


def test_m_out_of_n_alarms() -> None:
    two_of_three = _alarm(DatapointsToAlarm=2)
    outcome = evaluate.evaluate(two_of_three, _points(9, 1, 9), NOW)
    assert outcome is not None and outcome.state == "ALARM"
    assert outcome.reason == (
        "Threshold Crossed: 3 out of the last 3 datapoints [9.0 (01/01/70 00:02:00), 1.0 "
        "(01/01/70 00:01:00), 9.0 (01/01/70 00:00:00)] were greater than the threshold (5.0) "
        "(minimum 2 datapoints for OK -> ALARM transition)."
    )
    assert outcome.data["recentDatapoints"] == [9.0, 1.0, 9.0]
    outcome = evaluate.evaluate(two_of_three, _points(1, 1, 9), NOW)
    assert outcome is not None and outcome.state == "OK"
    single = evaluate.evaluate(_alarm(EvaluationPeriods=1), _points(6), NOW)
    assert single is not None and single.reason == (
        "Threshold Crossed: 1 datapoint [6.0 (01/01/70 00:00:00)] was greater than the "
        "threshold (5.0)."
    )


@pytest.mark.parametrize(
    ("treat", "values", "state"),
    [
        ("missing", (None, None, None), "INSUFFICIENT_DATA"),
        ("ignore", (None, None, None), None),
        ("breaching", (None, None, None), "ALARM"),
        ("notBreaching", (None, None, None), "OK"),
        ("breaching", (None, 9, None), "ALARM"),
        ("notBreaching", (None, 9, None), "OK"),
        ("missing", (None, 9, 9), None),  # 2 of 3 known breaching, one unknown: undecided
        ("missing", (None, 1, 1), "OK"),
    ],
)
def test_treat_missing_data(
    treat: str, values: tuple[float | None, ...], state: str | None
) -> None:
    outcome = evaluate.evaluate(_alarm(TreatMissingData=treat), _points(*values), NOW)
    assert (outcome.state if outcome else None) == state


def test_insufficient_data_reason() -> None:
    outcome = evaluate.evaluate(_alarm(EvaluationPeriods=1), _points(None), NOW)
    assert outcome is not None and outcome.reason == (
        "Insufficient Data: no datapoints were received for 1 period and 1 missing datapoint "
        "was treated as [Missing]."
    )


# --- storage, the metrics worker and the alarm worker -------------------------------------


def test_samples_merge_and_gauges_replace(engine: Engine) -> None:
    dims = (("A", "b"),)

    def sample(value: float, replace: bool = False) -> Sample:
        return Sample("N", "m", dims, 60, "Count", Stat.of_values([value], [1.0]), replace)

    with engine.backend.write() as tx:
        store.put_samples(tx, ACCOUNT, REGION, [sample(1.0), sample(2.0)])
        store.put_samples(tx, ACCOUNT, REGION, [sample(3.0)])
    with engine.backend.read() as rtx:
        [(stamp, unit, stat)] = list(
            store.read_buckets(rtx, ACCOUNT, REGION, "N", "m", dims, 0, 120)
        )
        listed = [e for _, e in store.metric_entries(rtx, ACCOUNT, REGION, "N")]
    assert (stamp, unit, stat.count, stat.total) == (60, "Count", 3.0, 6.0)
    assert listed == [{"n": "N", "m": "m", "d": [["A", "b"]], "t": 60}]
    with engine.backend.write() as tx:
        store.put_samples(tx, ACCOUNT, REGION, [sample(9.0, True)])
    with engine.backend.read() as rtx:
        [(_, _, stat)] = list(store.read_buckets(rtx, ACCOUNT, REGION, "N", "m", dims, 0, 120))
    assert stat.total == 9.0


def test_metrics_worker_flushes_to_cloudwatch(engine: Engine) -> None:
    engine.metrics.failed(ACCOUNT, REGION, "GetItem", {}, "ValidationException", 400)
    engine.metrics.failed(ACCOUNT, REGION, "GetItem", {}, "ValidationException", 400)
    worker = MetricsWorker(engine)
    worker.run_once()
    api = MetricsApi(engine.backend, engine.clock)
    answer = api.get_metric_statistics(
        CTX,
        {
            "Namespace": "AWS/DynamoDB",
            "MetricName": "UserErrors",
            "StartTime": NOW - 600,
            "EndTime": NOW + 60,
            "Period": 60,
            "Statistics": ["Sum"],
        },
    )
    assert answer["Datapoints"] == [{"Timestamp": NOW, "Unit": "Count", "Sum": 2.0}]
    listed = api.list_metrics(CTX, {"Namespace": "AWS/DynamoDB"})["Metrics"]
    assert listed == [{"Namespace": "AWS/DynamoDB", "MetricName": "UserErrors", "Dimensions": []}]


def _busy_alarm(
    engine: Engine, published: list[tuple[str, ...]], **extra: Any
) -> tuple[AlarmsApi, Clock]:
    """Alarms whose SNS actions land in `published`, and the alarm "busy" on App Load
    (ALARM at 10 or more in one minute); the clock."""

    def publish(account: str, region: str, arn: str, subject: str, message: str) -> str:
        published.append((arn, subject, message))
        return "message-1"

    clock = engine.clock
    assert isinstance(clock, Clock)
    alarms = AlarmsApi(engine.backend, clock, publish)
    alarm = {
        "AlarmName": "busy",
        "Namespace": "App",
        "MetricName": "Load",
        "Statistic": "Maximum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 10.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    }
    alarms.put_metric_alarm(CTX, {**alarm, **extra})
    return alarms, clock


def test_alarm_worker_changes_state_and_notifies(engine: Engine) -> None:
    published: list[tuple[str, ...]] = []
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
    alarms, clock = _busy_alarm(engine, published, AlarmActions=[topic])
    api = MetricsApi(engine.backend, clock)
    worker = AlarmWorker(engine.backend, clock, alarms)
    worker.run_once()
    assert published == []  # INSUFFICIENT_DATA stays
    clock.now += 5
    api.put_metric_data(
        CTX, {"Namespace": "App", "MetricData": [{"MetricName": "Load", "Value": 12}]}
    )
    worker.run_once()
    [(arn, subject, message)] = published
    assert arn == topic
    assert subject == 'ALARM: "busy" in US East (N. Virginia)'
    body = orjson.loads(message)
    assert body["NewStateValue"] == "ALARM" and body["OldStateValue"] == "INSUFFICIENT_DATA"
    assert body["Trigger"]["Statistic"] == "MAXIMUM"
    assert body["Trigger"]["Dimensions"] == []
    alarm = alarms.describe_alarms(CTX, {})["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM"
    history = alarms.describe_alarm_history(CTX, {"AlarmName": "busy"})["AlarmHistoryItems"]
    assert [h["HistoryItemType"] for h in history] == [
        "Action",
        "StateUpdate",
        "ConfigurationUpdate",
    ]
    worker.run_once()
    assert len(published) == 1  # no change, no second notification


def test_alarm_worker_settles_composite_alarms(engine: Engine) -> None:
    published: list[tuple[str, ...]] = []
    alarms, clock = _busy_alarm(engine, published)
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
    alarms.put_composite_alarm(
        CTX, {"AlarmName": "parent", "AlarmRule": "ALARM(busy)", "AlarmActions": [topic]}
    )
    alarms.put_composite_alarm(CTX, {"AlarmName": "grandparent", "AlarmRule": "ALARM(parent)"})
    # Two composite alarms on a cycle of rules, and one depending on them: not evaluated.
    alarms.put_composite_alarm(CTX, {"AlarmName": "loop1", "AlarmRule": "ALARM(busy)"})
    alarms.put_composite_alarm(CTX, {"AlarmName": "loop2", "AlarmRule": "ALARM(loop1)"})
    alarms.put_composite_alarm(
        CTX, {"AlarmName": "loop1", "AlarmRule": "ALARM(busy) OR ALARM(loop2)"}
    )
    alarms.put_composite_alarm(CTX, {"AlarmName": "behind", "AlarmRule": "OK(loop1)"})

    def states() -> dict[str, str]:
        found = alarms.describe_alarms(CTX, {"AlarmTypes": ["CompositeAlarm", "MetricAlarm"]})
        return {
            a["AlarmName"]: a["StateValue"]
            for a in found["MetricAlarms"] + found["CompositeAlarms"]
        }

    assert states() == {
        "behind": "INSUFFICIENT_DATA",  # created behind the cycle: never evaluated
        "busy": "INSUFFICIENT_DATA",
        "grandparent": "OK",
        "loop1": "OK",  # evaluated when created or updated, not when its children change
        "loop2": "OK",
        "parent": "OK",
    }
    clock.now += 5
    MetricsApi(engine.backend, clock).put_metric_data(
        CTX, {"Namespace": "App", "MetricData": [{"MetricName": "Load", "Value": 12}]}
    )
    AlarmWorker(engine.backend, clock, alarms).run_once()
    assert states() == {
        "behind": "INSUFFICIENT_DATA",
        "busy": "ALARM",
        "grandparent": "ALARM",
        "loop1": "OK",
        "loop2": "OK",
        "parent": "ALARM",
    }
    assert [subject for _, subject, _ in published] == ['ALARM: "parent" in US East (N. Virginia)']


@pytest.mark.parametrize(
    ("datum", "error", "message"),
    [
        ({"MetricName": "m"}, MissingParameter,
         "The parameter MetricData.member.1.Value is required."),
        ({"MetricName": "m", "Value": 1, "Values": [1]}, InvalidParameterCombination,
         "The parameters MetricData.member.1.Value and MetricData.member.1.Values are mutually "
         "exclusive and you have specified both."),
        ({"MetricName": "m", "Values": [1, 2], "Counts": [1]}, InvalidParameterValue,
         "The parameters MetricData.member.1.Values and MetricData.member.1.Counts must be of "
         "the same size."),
        ({"MetricName": "m", "Value": float("nan")}, InvalidParameterValue,
         "The value nan for parameter MetricData.member.1.Value is invalid."),
        ({"MetricName": "m", "Value": 1, "Timestamp": NOW - 15 * 86400}, InvalidParameterValue,
         "The parameter MetricData.member.1.Timestamp must specify a time no more than two "
         "weeks in the past and no more than two hours in the future."),
    ],
)  # fmt: skip
def test_put_metric_data_checks(
    engine: Engine, datum: dict[str, Any], error: type[Exception], message: str
) -> None:
    api = MetricsApi(engine.backend, engine.clock)
    with pytest.raises(error) as raised:
        api.put_metric_data(CTX, {"Namespace": "N", "MetricData": [datum]})
    assert str(raised.value) == message
    with pytest.raises(InvalidParameterValue, match="The value AWS/X for parameter Namespace"):
        api.put_metric_data(CTX, {"Namespace": "AWS/X", "MetricData": [datum]})


# --- SNS delivery and filter policies -------------------------------------------------------


def test_delivery_retries_with_the_policy_delays() -> None:
    attempts: list[float] = []
    done = threading.Event()

    def sender(job: Job) -> bool:
        attempts.append(time.monotonic())
        if len(attempts) == 3:
            done.set()
            return True
        return False

    delivery = Delivery(sender)
    policy = RetryPolicy(retries=3, min_delay=0.05, max_delay=0.05)
    delivery.submit(Job("http", "http://x", b"{}", {}, policy))
    assert done.wait(5)
    delivery.stop()
    assert len(attempts) == 3 and delivery.delivered == 1
    assert attempts[1] - attempts[0] >= 0.04


def test_delivery_gives_up_after_the_retries() -> None:
    delivery = Delivery(lambda job: False)
    delivery.submit(Job("http", "http://x", b"{}", {}, RetryPolicy(retries=1, min_delay=0.0)))
    deadline = time.monotonic() + 5
    while delivery.failed == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    delivery.stop()
    assert delivery.failed == 1


def test_retry_policy_from_delivery_policies() -> None:
    text = '{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":9,"numRetries":5,"backoffFunction":"linear"}}}'  # noqa: E501
    policy = RetryPolicy.of(None, "not json", text)
    assert (policy.retries, policy.delay(1), policy.delay(5)) == (5, 1.0, 9.0)
    assert RetryPolicy.of(None) == RetryPolicy()


def test_file_delivery_appends_lines(tmp_path: Path) -> None:
    from dynastore.services.sns.delivery import send

    target = tmp_path / "messages.jsonl"
    assert send(Job("file", f"file://{target}", b'{"a":1}', {}))
    assert send(Job("file", f"file://{target}", b'{"a":2}\n', {}))
    assert target.read_text() == '{"a":1}\n{"a":2}\n'


def test_filter_policies() -> None:
    values = filters.attribute_values(
        {
            "color": {"DataType": "String", "StringValue": "red"},
            "size": {"DataType": "Number", "StringValue": "12"},
            "tags": {"DataType": "String.Array", "StringValue": '["a", "b"]'},
        }
    )
    assert filters.matches({"color": ["red", "blue"]}, values)
    assert not filters.matches({"color": ["blue"]}, values)
    assert filters.matches({"size": [{"numeric": [">", 10, "<=", 12]}]}, values)
    assert filters.matches({"tags": ["b"], "color": [{"prefix": "r"}]}, values)
    assert filters.matches({"missing": [{"exists": False}]}, values)
    assert not filters.matches({"color": [{"anything-but": ["red"]}]}, values)
    assert filters.matches({"a": {"b": [1]}}, {"a": {"b": 1}})
