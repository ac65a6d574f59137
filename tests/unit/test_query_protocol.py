"""The Query protocol: forms decoded by shape, XML answers and errors, as botocore sees them."""

from __future__ import annotations

import base64
import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from botocore.serialize import create_serializer

from dynastore.errors import AwsError, InvalidParameterValue, ValidationException
from dynastore.server.query import decode, parameter_tree
from dynastore.server.service import RequestContext
from dynastore.services.base import model_service
from tests.unit.botocore_wire import ACCOUNT, REGION, call, dispatcher, model, recorder, signed

WHEN = datetime.datetime(2024, 5, 1, 12, 30, 15, tzinfo=datetime.UTC)


def decoded(service: str, operation: str, params: dict[str, Any]) -> Any:
    """Serialize `params` as botocore does, then decode the form back."""
    op = model(service).operation_model(operation)
    request = create_serializer("query", include_validation=False).serialize_to_request(params, op)
    pairs = list(request["body"].items())
    # What travels is the url-encoded form; decode what the server would parse.
    pairs = parse_qsl(urlencode(pairs), keep_blank_values=True)
    return decode(op.input_shape, parameter_tree(pairs))


def test_scalars_lists_of_structures_and_integers() -> None:
    params = {
        "RoleArn": "arn:aws:iam::123456789012:role/demo",
        "RoleSessionName": "session one",
        "DurationSeconds": 900,
        "Tags": [{"Key": "team", "Value": "a&b"}, {"Key": "env", "Value": "prod"}],
        "TransitiveTagKeys": ["team"],
        "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnly"}],
    }
    assert decoded("sts", "AssumeRole", params) == params


def test_maps_of_structures_and_blobs() -> None:
    params = {
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
        "Message": "hello + world = 100%",
        "MessageAttributes": {
            "color": {"DataType": "String", "StringValue": "blue"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
        },
    }
    out = decoded("sns", "Publish", params)
    assert out["Message"] == params["Message"]
    assert out["MessageAttributes"]["color"] == {"DataType": "String", "StringValue": "blue"}
    raw = out["MessageAttributes"]["raw"]
    assert base64.b64decode(raw["BinaryValue"]) == b"\x00\x01\xff"


def test_string_maps() -> None:
    params = {"Name": "t", "Attributes": {"DisplayName": "x", "Policy": "{}"}, "Tags": []}
    assert decoded("sns", "CreateTopic", params) == params


def test_timestamps_doubles_and_nested_lists() -> None:
    params = {
        "Namespace": "App",
        "MetricData": [
            {
                "MetricName": "Latency",
                "Dimensions": [{"Name": "TableName", "Value": "t"}],
                "Timestamp": WHEN,
                "Value": 1.5,
                "Values": [1.0, 2.25],
                "Counts": [3.0, 4.0],
                "Unit": "Milliseconds",
                "StorageResolution": 60,
            }
        ],
    }
    out = decoded("cloudwatch", "PutMetricData", params)
    datum = out["MetricData"][0]
    assert datum["Timestamp"] == WHEN.timestamp()
    assert datum["Value"] == 1.5 and datum["Values"] == [1.0, 2.25]
    assert datum["Dimensions"] == [{"Name": "TableName", "Value": "t"}]
    assert datum["StorageResolution"] == 60


def test_booleans_and_empty_lists() -> None:
    params = {
        "AlarmName": "a",
        "ActionsEnabled": False,
        "AlarmActions": [],
        "EvaluationPeriods": 1,
        "Threshold": 0.5,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    assert decoded("cloudwatch", "PutMetricAlarm", params) == params


def test_malformed_number() -> None:
    shape = model("sts").operation_model("AssumeRole").input_shape
    with pytest.raises(ValidationException, match="DurationSeconds"):
        decode(shape, parameter_tree([("DurationSeconds", "soon")]))


# --- through the Dispatcher ------------------------------------------------------------


def sts_target(handler: Any) -> Any:
    return dispatcher([model_service("sts", {"GetCallerIdentity": handler, "AssumeRole": handler})])


def test_answer_parses_as_boto3_parses_it() -> None:
    calls, handler = recorder()
    handler.result = {"UserId": "AKID", "Account": ACCOUNT, "Arn": "arn:aws:iam::1:user/<x>&"}
    answer = call(sts_target(handler), model("sts"), "GetCallerIdentity", {}, "query")
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/xml"
    assert answer.parsed["Arn"] == "arn:aws:iam::1:user/<x>&"
    assert answer.parsed["ResponseMetadata"]["RequestId"] == answer.headers["x-amzn-requestid"]
    ctx, request = calls[0]
    assert isinstance(ctx, RequestContext)
    assert (ctx.account, ctx.region, ctx.access_key) == (ACCOUNT, REGION, "AKIDTEST")
    assert request == {}


def test_timestamps_and_structures_in_answers() -> None:
    calls, handler = recorder()
    handler.result = {
        "Credentials": {
            "AccessKeyId": "ASIA",
            "SecretAccessKey": "s",
            "SessionToken": "t",
            "Expiration": WHEN.timestamp(),
        },
        "AssumedRoleUser": {"AssumedRoleId": "AROA:s", "Arn": "arn:aws:sts::1:assumed-role/r/s"},
        "PackedPolicySize": 6,
    }
    params = {"RoleArn": "arn:aws:iam::123456789012:role/demo", "RoleSessionName": "s1"}
    answer = call(sts_target(handler), model("sts"), "AssumeRole", params, "query")
    assert answer.parsed["Credentials"]["Expiration"] == WHEN
    assert answer.parsed["PackedPolicySize"] == 6
    assert calls[0][1] == params


def test_lists_and_booleans_in_answers() -> None:
    calls, handler = recorder()
    handler.result = {
        "MetricAlarms": [
            {
                "AlarmName": "a",
                "ActionsEnabled": True,
                "AlarmActions": ["arn:1", "arn:2"],
                "Threshold": 2.5,
                "StateUpdatedTimestamp": WHEN,
                "Dimensions": [{"Name": "TableName", "Value": "t"}],
            }
        ]
    }
    target = dispatcher(
        [model_service("cloudwatch", {"DescribeAlarms": handler}, protocols=["query"])]
    )
    answer = call(target, model("cloudwatch"), "DescribeAlarms", {"AlarmNames": ["a"]}, "query")
    alarm = answer.parsed["MetricAlarms"][0]
    assert alarm["ActionsEnabled"] is True
    assert alarm["AlarmActions"] == ["arn:1", "arn:2"]
    assert alarm["Threshold"] == 2.5
    assert alarm["StateUpdatedTimestamp"] == WHEN
    assert calls[0][1] == {"AlarmNames": ["a"]}


def test_modeled_error_has_its_query_code() -> None:
    _, handler = recorder()
    handler.error = InvalidParameterValue("The value <1> & more is bad")
    target = dispatcher(
        [model_service("cloudwatch", {"DescribeAlarms": handler}, protocols=["query"])]
    )
    answer = call(target, model("cloudwatch"), "DescribeAlarms", {}, "query")
    assert answer.status == 400
    assert answer.code == "InvalidParameterValue"
    assert answer.message == "The value <1> & more is bad"
    assert answer.parsed["Error"]["Type"] == "Sender"
    assert b"<ErrorResponse" in answer.body and b"<RequestId>" in answer.body


def test_validation_errors_are_validation_error() -> None:
    _, handler = recorder()
    params = {"RoleArn": "short", "RoleSessionName": "s1"}
    answer = call(sts_target(handler), model("sts"), "AssumeRole", params, "query")
    assert answer.status == 400
    assert answer.code == "ValidationError"
    assert "at 'roleArn' failed to satisfy constraint" in answer.message


def test_server_errors_are_receiver_faults() -> None:
    class Boom(AwsError):
        status = 503

    _, handler = recorder()
    handler.error = Boom("later")
    answer = call(sts_target(handler), model("sts"), "GetCallerIdentity", {}, "query")
    assert answer.status == 503
    assert answer.parsed["Error"]["Type"] == "Receiver"


def test_unknown_action() -> None:
    _, handler = recorder()
    target = sts_target(handler)
    method, path, query, headers, body = signed(model("sts"), "GetCallerIdentity", {}, "query")
    body = body.replace(b"GetCallerIdentity", b"GetNothing")
    headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    status, _, payload = target.handle(method, path, query, headers, body)
    assert status == 400
    assert b"<Code>InvalidAction</Code>" in payload
    assert b"Could not find operation GetNothing for version 2011-06-15" in payload


def test_missing_action() -> None:
    _, handler = recorder()
    method, path, query, headers, _ = signed(model("sts"), "GetCallerIdentity", {}, "query")
    status, _, payload = sts_target(handler).handle(method, path, query, headers, b"Version=1")
    assert status == 400
    assert b"<Code>MissingAction</Code>" in payload


def test_unsigned_request_is_refused_in_xml() -> None:
    _, handler = recorder()
    headers = {"content-type": "application/x-www-form-urlencoded"}
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    status, _, payload = sts_target(handler).handle("POST", "/", "", headers, body)
    assert status == 403
    assert b"<Code>MissingAuthenticationToken</Code>" in payload


def test_get_with_a_query_string() -> None:
    calls, handler = recorder()
    handler.result = {"UserId": "u", "Account": ACCOUNT, "Arn": "a"}
    method, path, _, headers, body = signed(model("sts"), "GetCallerIdentity", {}, "query")
    # Same credentials, parameters moved to the query string (auth mode accept).
    status, _, payload = sts_target(handler).handle("GET", path, body.decode(), headers, b"")
    assert status == 200, payload
    assert b"<Account>123456789012</Account>" in payload
    assert method == "POST" and calls


def test_form_for_a_service_without_query_is_not_routed() -> None:
    # Signed for "dynamodb": no Query service of that signing name.
    _, handler = recorder()
    method, path, query, headers, body = signed(model("sts"), "GetCallerIdentity", {}, "query")
    headers["authorization"] = headers["authorization"].replace("/sts/", "/dynamodb/")
    status, _, payload = sts_target(handler).handle(method, path, query, headers, body)
    assert status == 404
    assert b"UnknownOperationException" in payload
