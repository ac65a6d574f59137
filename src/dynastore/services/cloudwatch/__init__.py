"""CloudWatch: metrics, metric math, metric and composite alarms, on the server's one port.

Spoken in the three protocols botocore's model lists: Smithy RPC v2 CBOR (current
SDKs), JSON 1.0 (``X-Amz-Target: GraniteServiceVersion20100801.*``) and Query (older
SDKs, the Terraform provider). DynamoDB's own metrics arrive under AWS/DynamoDB from
engine/metrics.py through the metrics worker; alarms are evaluated by the alarm worker.
"""

from __future__ import annotations

from collections.abc import Callable

from dynastore.server.service import Handler, Service
from dynastore.services.base import model_service
from dynastore.services.cloudwatch.alarms import AlarmsApi, Publish
from dynastore.services.cloudwatch.metrics import MetricsApi
from dynastore.storage.base import Backend


def cloudwatch_apis(
    backend: Backend, clock: Callable[[], float], publish: Publish
) -> tuple[MetricsApi, AlarmsApi]:
    return MetricsApi(backend, clock), AlarmsApi(backend, clock, publish)


def cloudwatch_service(metrics: MetricsApi, alarms: AlarmsApi) -> Service:
    """The CloudWatch service over the two APIs."""
    operations: dict[str, Handler] = {
        "PutMetricData": metrics.put_metric_data,
        "GetMetricStatistics": metrics.get_metric_statistics,
        "GetMetricData": metrics.get_metric_data,
        "ListMetrics": metrics.list_metrics,
        "PutMetricAlarm": alarms.put_metric_alarm,
        "PutCompositeAlarm": alarms.put_composite_alarm,
        "DescribeAlarms": alarms.describe_alarms,
        "DescribeAlarmsForMetric": alarms.describe_alarms_for_metric,
        "DeleteAlarms": alarms.delete_alarms,
        "SetAlarmState": alarms.set_alarm_state,
        "DescribeAlarmHistory": alarms.describe_alarm_history,
        "EnableAlarmActions": alarms.enable_alarm_actions,
        "DisableAlarmActions": alarms.disable_alarm_actions,
        "TagResource": alarms.tags.tag_resource,
        "UntagResource": alarms.tags.untag_resource,
        "ListTagsForResource": alarms.tags.list_tags_for_resource,
    }
    return model_service("cloudwatch", operations)
