"""CloudWatch clients for the API tests, one per protocol botocore's model lists.

Current SDKs speak Smithy RPC v2 CBOR or JSON 1.0 to CloudWatch, older ones and the
Terraform provider the Query protocol; `protocol_client` builds a boto3 client pinned
to one of them (botocore's own model with only its ``protocol`` changed).
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.loaders import Loader

from tests.api.helpers import Client, aws_client

PROTOCOLS = ("smithy-rpc-v2-cbor", "json", "query")


def pinned_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A botocore data directory per protocol, holding CloudWatch's model pinned to it."""
    base = Loader().load_service_model("cloudwatch", "service-2")
    out = {}
    for protocol in PROTOCOLS:
        root = tmp_path_factory.mktemp(protocol.replace("-", ""))
        folder = root / "cloudwatch" / base["metadata"]["apiVersion"]
        folder.mkdir(parents=True)
        model = copy.deepcopy(base)
        model["metadata"]["protocol"] = protocol
        model["metadata"]["protocols"] = [protocol]
        (folder / "service-2.json").write_text(json.dumps(model))
        out[protocol] = root
    return out


def protocol_client(endpoint: str, models: dict[str, Path], protocol: str) -> Client:
    """A CloudWatch client speaking `protocol` (its model from `pinned_models`)."""
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(models[protocol]))
    client = aws_client(endpoint, "cloudwatch", session=boto3.Session(botocore_session=session))
    assert client.meta.service_model.protocol == protocol
    return client


def default_client(endpoint: str, service: str = "cloudwatch", **options: Any) -> Client:
    """A client as boto3 builds it by default (`options` go to its Config)."""
    return aws_client(endpoint, service, **options)


def metric_alarm(name: str, **extra: Any) -> dict[str, Any]:
    """PutMetricAlarm's parameters for an alarm the alarm worker leaves alone."""
    params: dict[str, Any] = {
        "AlarmName": name,
        "Namespace": "App",
        "MetricName": "Errors",
        "Dimensions": [{"Name": "Service", "Value": "api"}],
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 2,
        "DatapointsToAlarm": 1,
        "Threshold": 5.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "ignore",  # no data: the alarm worker leaves the state alone
    }
    params.update(extra)
    return params


def file_topic(endpoint: str, log: Path) -> tuple[Client, str]:
    """(SNS client, topic ARN) of a new topic whose messages are appended to `log`."""
    sns = default_client(endpoint, "sns")
    topic: str = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:12]}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="file", Endpoint=f"file://{log}")
    return sns, topic
