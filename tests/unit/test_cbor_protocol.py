"""Smithy RPC v2 CBOR (CloudWatch in botocore), and JSON for a Query-born service."""

from __future__ import annotations

import base64
import datetime
from typing import Any

import cbor2

from dynastore.errors import InvalidParameterValue, ResourceNotFound
from dynastore.server.cbor import from_json_form, parse_path, to_json_form
from dynastore.services.base import model_service
from tests.unit.botocore_wire import call, dispatcher, model, recorder, signed

WHEN = datetime.datetime(2024, 5, 1, 12, 30, 15, tzinfo=datetime.UTC)
CBOR = "smithy-rpc-v2-cbor"


def cloudwatch(**handlers: Any) -> Any:
    return dispatcher([model_service("cloudwatch", handlers)])


def test_requests_arrive_in_json_form() -> None:
    calls, handler = recorder()
    params = {
        "Namespace": "App",
        "MetricData": [
            {
                "MetricName": "Latency",
                "Dimensions": [{"Name": "TableName", "Value": "t"}],
                "Timestamp": WHEN,
                "Values": [1.0, 2.5],
                "Counts": [1.0, 3.0],
            }
        ],
    }
    answer = call(
        cloudwatch(PutMetricData=handler), model("cloudwatch"), "PutMetricData", params, CBOR
    )
    assert answer.status == 200, answer.body
    assert answer.headers["smithy-protocol"] == "rpc-v2-cbor"
    assert answer.headers["content-type"] == "application/cbor"
    request = calls[0][1]
    datum = request["MetricData"][0]
    assert datum["Timestamp"] == WHEN.timestamp()
    assert datum["Values"] == [1.0, 2.5]
    assert datum["Dimensions"] == [{"Name": "TableName", "Value": "t"}]


def test_answers_parse_as_boto3_parses_them() -> None:
    _, handler = recorder()
    handler.result = {
        "MetricDataResults": [
            {
                "Id": "m1",
                "Label": "Latency",
                "Timestamps": [WHEN.timestamp(), WHEN],
                "Values": [1, 2.5],
                "StatusCode": "Complete",
            }
        ],
        "Messages": [],
    }
    params = {
        "MetricDataQueries": [{"Id": "m1", "Expression": "SUM(METRICS())"}],
        "StartTime": WHEN,
        "EndTime": WHEN,
    }
    answer = call(
        cloudwatch(GetMetricData=handler), model("cloudwatch"), "GetMetricData", params, CBOR
    )
    result = answer.parsed["MetricDataResults"][0]
    assert result["Timestamps"] == [WHEN, WHEN]
    assert result["Values"] == [1.0, 2.5]
    assert answer.parsed["ResponseMetadata"]["RequestId"] == answer.headers["x-amzn-requestid"]


def test_blobs_travel_as_byte_strings() -> None:
    _, handler = recorder()
    handler.result = {"MetricWidgetImage": base64.b64encode(b"\x89PNG").decode()}
    answer = call(
        cloudwatch(GetMetricWidgetImage=handler),
        model("cloudwatch"),
        "GetMetricWidgetImage",
        {"MetricWidget": "{}"},
        CBOR,
    )
    assert answer.parsed["MetricWidgetImage"] == b"\x89PNG"


def test_errors_carry_type_and_the_query_code() -> None:
    _, handler = recorder()
    handler.error = InvalidParameterValue("bad value")
    answer = call(cloudwatch(PutMetricData=handler), model("cloudwatch"), "PutMetricData",
                  {"Namespace": "A", "MetricData": [{"MetricName": "m"}]}, CBOR)  # fmt: skip
    assert answer.status == 400
    body = cbor2.loads(answer.body)
    assert body["__type"] == "InvalidParameterValueException"
    assert body["message"] == "bad value"
    assert answer.headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"
    assert answer.code == "InvalidParameterValue"
    assert answer.message == "bad value"


def test_not_found_status() -> None:
    _, handler = recorder()
    handler.error = ResourceNotFound("no such alarm")
    answer = call(
        cloudwatch(DescribeAlarms=handler), model("cloudwatch"), "DescribeAlarms", {}, CBOR
    )
    assert answer.status == 404
    assert answer.code == "ResourceNotFound"


def test_validation_errors() -> None:
    _, handler = recorder()
    answer = call(cloudwatch(PutMetricData=handler), model("cloudwatch"), "PutMetricData",
                  {"Namespace": "", "MetricData": []}, CBOR)  # fmt: skip
    assert answer.status == 400
    assert answer.code == "ValidationError"
    assert "failed to satisfy constraint" in answer.message


def test_unknown_operation_is_404() -> None:
    _, handler = recorder()
    target = cloudwatch(PutMetricData=handler)
    method, path, query, headers, body = signed(
        model("cloudwatch"), "PutMetricData", {"Namespace": "A", "MetricData": []}, CBOR
    )
    for bad in (path.replace("PutMetricData", "Nope"), path.replace("Granite", "Basalt")):
        status, raw, payload = target.handle(method, bad, query, headers, body)
        assert status == 404
        assert cbor2.loads(payload)["__type"] == "UnknownOperationException"
        assert (b"smithy-protocol", b"rpc-v2-cbor") in raw


def test_malformed_body() -> None:
    _, handler = recorder()
    method, path, query, headers, _ = signed(
        model("cloudwatch"), "PutMetricData", {"Namespace": "A", "MetricData": []}, CBOR
    )
    status, _, payload = cloudwatch(PutMetricData=handler).handle(
        method, path, query, headers, b"\xff\x00garbage"
    )
    assert status == 400
    assert cbor2.loads(payload)["__type"] == "SerializationException"


def test_json_protocol_of_a_query_compatible_service() -> None:
    _, handler = recorder()
    handler.error = InvalidParameterValue("bad")
    answer = call(cloudwatch(PutMetricData=handler), model("cloudwatch"), "PutMetricData",
                  {"Namespace": "A", "MetricData": [{"MetricName": "m"}]}, "json")  # fmt: skip
    assert answer.status == 400
    assert answer.code == "InvalidParameterValue"
    assert answer.headers["content-type"] == "application/x-amz-json-1.0"


def test_shape_walk_helpers() -> None:
    shape = model("cloudwatch").operation_model("GetMetricData").output_shape
    out = from_json_form(
        shape, {"MetricDataResults": [{"Id": "a", "Timestamps": [0], "Values": [1]}]}
    )
    stamp = out["MetricDataResults"][0]["Timestamps"][0]
    assert isinstance(stamp, cbor2.CBORTag) and stamp.tag == 1
    assert out["MetricDataResults"][0]["Values"] == [1.0]
    back = to_json_form(shape, {"MetricDataResults": [{"Timestamps": [WHEN], "Bogus": 1}]})
    assert back == {"MetricDataResults": [{"Timestamps": [WHEN.timestamp()]}]}
    assert parse_path("/service/S/operation/Op") == ("S", "Op")
    assert parse_path("/service/S/op/Op") is None
