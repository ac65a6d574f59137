"""End to end: DynamoDB metrics -> CloudWatch alarm -> SNS -> an HTTP subscriber.

A server of its own, with metrics flushed and alarms evaluated every 0.2 s and one
second of burst capacity, so a table provisioned at 1 WCU throttles after a couple of
writes and the whole chain runs in seconds. The subscriber is a plain HTTP server on
127.0.0.1 that confirms its subscription by fetching the SubscribeURL, as a real
endpoint would.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.cloudwatch_clients import default_client
from tests.api.conftest import own_server
from tests.api.helpers import Client, HttpEndpoint, confirm_subscription, unique_name, wait_active

FAST = (
    "--metrics-interval", "0.2", "--alarm-interval", "0.2", "--burst-seconds", "1",
    "--ttl-delay", "0", "--ttl-interval", "0.2",
)  # fmt: skip


@pytest.fixture(scope="module")
def fast_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with own_server(tmp_path_factory.mktemp("dynastore-fast"), *FAST) as url:
        yield url


class Subscriber(HttpEndpoint):
    """An HTTP endpoint that records SNS messages and confirms subscriptions."""

    def __init__(self) -> None:
        self.messages: list[tuple[dict[str, str], dict[str, Any]]] = []
        super().__init__("/notify")

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        message = json.loads(body)
        self.messages.append((headers, message))
        if message.get("Type") == "SubscriptionConfirmation":
            confirm_subscription(message)
        return 200

    def wait_for(
        self, wanted: Callable[[dict[str, Any]], bool], timeout: float = 20.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _, message in list(self.messages):
                if wanted(message):
                    return message
            time.sleep(0.05)
        raise AssertionError(f"no matching message; got {self.messages}")


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    sub = Subscriber()
    yield sub
    sub.close()


def _wait(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def _new_table(dynamodb: Client, **billing: Any) -> str:
    """An ACTIVE table keyed on pk (S), billed as `billing` says."""
    table = unique_name()
    dynamodb.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        **billing,
    )
    wait_active(dynamodb, table)
    return table


def _stats(cw: Client, metric: str, dims: list[dict[str, str]], stat: str = "Sum") -> float:
    now = datetime.datetime.now(datetime.UTC)
    answer = cw.get_metric_statistics(
        Namespace="AWS/DynamoDB",
        MetricName=metric,
        Dimensions=dims,
        StartTime=now - datetime.timedelta(minutes=10),
        EndTime=now + datetime.timedelta(minutes=1),
        Period=60,
        Statistics=[stat],
    )
    values = [float(p[stat]) for p in answer["Datapoints"]]
    if stat == "Maximum":
        return max(values, default=0.0)
    return sum(values)


def test_throttled_table_alarms_and_notifies_an_http_subscriber(
    fast_endpoint: str, subscriber: Subscriber
) -> None:
    dynamodb = default_client(fast_endpoint, "dynamodb")
    cloudwatch = default_client(fast_endpoint, "cloudwatch")
    sns = default_client(fast_endpoint, "sns")
    table = _new_table(
        dynamodb, ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
    )

    topic = sns.create_topic(Name=f"alarms-{table}")["TopicArn"]
    pending = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=subscriber.url)
    assert pending["SubscriptionArn"] == "pending confirmation"
    subscriber.wait_for(lambda m: m["Type"] == "SubscriptionConfirmation")
    _wait(
        lambda: sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0][
            "SubscriptionArn"
        ].startswith(topic)
    )

    dims = [{"Name": "TableName", "Value": table}]
    cloudwatch.put_metric_alarm(
        AlarmName=f"{table}-write-throttles",
        AlarmDescription="writes are throttled",
        Namespace="AWS/DynamoDB",
        MetricName="WriteThrottleEvents",
        Dimensions=dims,
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[topic],
    )

    throttled = 0
    for i in range(50):
        try:
            dynamodb.put_item(TableName=table, Item={"pk": {"S": str(i)}, "v": {"S": "x" * 900}})
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
            throttled += 1
            if throttled >= 3:
                break
    assert throttled >= 3

    _wait(lambda: _stats(cloudwatch, "WriteThrottleEvents", dims) >= 3)
    notification = subscriber.wait_for(
        lambda m: m["Type"] == "Notification" and '"NewStateValue":"ALARM"' in m["Message"]
    )
    assert notification["TopicArn"] == topic
    assert notification["Subject"] == (f'ALARM: "{table}-write-throttles" in US East (N. Virginia)')
    alarm = json.loads(notification["Message"])
    assert alarm["AlarmName"] == f"{table}-write-throttles"
    assert alarm["AlarmDescription"] == "writes are throttled"
    assert alarm["NewStateValue"] == "ALARM"
    assert alarm["OldStateValue"] in ("INSUFFICIENT_DATA", "OK")
    assert alarm["NewStateReason"].startswith("Threshold Crossed: 1 datapoint [")
    assert alarm["Region"] == "US East (N. Virginia)"
    assert alarm["AlarmActions"] == [topic]
    trigger = alarm["Trigger"]
    assert trigger["MetricName"] == "WriteThrottleEvents"
    assert trigger["Namespace"] == "AWS/DynamoDB"
    assert trigger["Statistic"] == "SUM"
    assert trigger["Dimensions"] == [{"value": table, "name": "TableName"}]
    assert trigger["ComparisonOperator"] == "GreaterThanThreshold"
    headers = next(h for h, m in subscriber.messages if m is notification)
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-topic-arn"] == topic

    state = cloudwatch.describe_alarms(AlarmNames=[f"{table}-write-throttles"])["MetricAlarms"]
    assert state[0]["StateValue"] == "ALARM"
    history = cloudwatch.describe_alarm_history(
        AlarmName=f"{table}-write-throttles", HistoryItemType="Action"
    )["AlarmHistoryItems"]
    assert any(h["HistorySummary"] == f"Successfully executed action {topic}" for h in history)
    dynamodb.delete_table(TableName=table)


def test_dynamodb_metrics_are_recorded(fast_endpoint: str) -> None:
    dynamodb = default_client(fast_endpoint, "dynamodb")
    cloudwatch = default_client(fast_endpoint, "cloudwatch")
    table = _new_table(
        dynamodb, ProvisionedThroughput={"ReadCapacityUnits": 50, "WriteCapacityUnits": 50}
    )
    for i in range(3):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": str(i)}})
    dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "1"}},
    )
    with pytest.raises(ClientError):
        dynamodb.put_item(
            TableName=table, Item={"pk": {"S": "1"}}, ConditionExpression="attribute_not_exists(pk)"
        )
    with pytest.raises(ClientError):
        dynamodb.get_item(TableName=table, Key={"pk": {"N": "1"}})  # wrong key type

    table_dims = [{"Name": "TableName", "Value": table}]
    put_dims = [{"Name": "Operation", "Value": "PutItem"}, *table_dims]
    query_dims = [{"Name": "Operation", "Value": "Query"}, *table_dims]
    _wait(lambda: _stats(cloudwatch, "ConditionalCheckFailedRequests", table_dims) == 1)
    assert _stats(cloudwatch, "SuccessfulRequestLatency", put_dims, "SampleCount") == 3
    assert _stats(cloudwatch, "ReturnedItemCount", query_dims) == 1
    # the failed GetItem came after the failed condition: it may be in a later flush
    _wait(lambda: _stats(cloudwatch, "UserErrors", []) >= 1)
    _wait(lambda: _stats(cloudwatch, "ConsumedWriteCapacityUnits", table_dims) >= 4)
    _wait(lambda: _stats(cloudwatch, "ProvisionedWriteCapacityUnits", table_dims, "Maximum") == 50)
    listed = cloudwatch.list_metrics(Namespace="AWS/DynamoDB", Dimensions=table_dims)["Metrics"]
    names = {m["MetricName"] for m in listed}
    assert {"ConsumedWriteCapacityUnits", "SuccessfulRequestLatency"} <= names
    dynamodb.delete_table(TableName=table)


def test_ttl_deletions_are_counted(fast_endpoint: str) -> None:
    dynamodb = default_client(fast_endpoint, "dynamodb")
    cloudwatch = default_client(fast_endpoint, "cloudwatch")
    table = _new_table(dynamodb, BillingMode="PAY_PER_REQUEST")
    dynamodb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    past = str(int(time.time()) - 60)
    for i in range(2):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": str(i)}, "expires": {"N": past}})
    dims = [{"Name": "TableName", "Value": table}]
    _wait(lambda: _stats(cloudwatch, "TimeToLiveDeletedItemCount", dims) == 2)
    dynamodb.delete_table(TableName=table)
