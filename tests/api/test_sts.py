"""STS over the Query protocol, with boto3's sts client (which speaks Query)."""

from __future__ import annotations

import datetime
import http.client
import urllib.parse
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.api.helpers import ACCESS_KEY, REGION, SECRET_KEY, Client, aws_client

ACCOUNT = "000000000000"  # the server's default account in accept mode


@pytest.fixture(scope="module")
def sts(endpoint: str) -> Client:
    return aws_client(endpoint, "sts")


def test_get_caller_identity(sts: Client) -> None:
    identity = sts.get_caller_identity()
    assert identity["Account"] == ACCOUNT
    assert identity["UserId"] == ACCESS_KEY
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{ACCESS_KEY}"
    assert identity["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "text/xml"


def test_the_caller_is_named_after_its_access_key(endpoint: str) -> None:
    identity = aws_client(endpoint, "sts", access_key="AKIAOTHERUSER").get_caller_identity()
    assert identity["Arn"].endswith(":user/AKIAOTHERUSER")


def test_get_access_key_info(sts: Client) -> None:
    assert sts.get_access_key_info(AccessKeyId="AKIAIOSFODNN7EXAMPLE")["Account"] == ACCOUNT


def test_assume_role(endpoint: str, sts: Client) -> None:
    role = "arn:aws:iam::123456789012:role/service/Deployer"
    before = datetime.datetime.now(datetime.UTC)
    out = sts.assume_role(RoleArn=role, RoleSessionName="deploy@ci", DurationSeconds=900)
    user = out["AssumedRoleUser"]
    assert user["Arn"] == "arn:aws:sts::123456789012:assumed-role/Deployer/deploy@ci"
    role_id, session = user["AssumedRoleId"].split(":")
    assert session == "deploy@ci" and role_id.startswith("AROA") and len(role_id) == 21
    again = sts.assume_role(RoleArn=role, RoleSessionName="other")["AssumedRoleUser"]
    assert again["AssumedRoleId"] == f"{role_id}:other"  # one role, one unique id
    credentials = out["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and len(credentials["AccessKeyId"]) == 20
    lifetime = credentials["Expiration"] - before
    assert datetime.timedelta(seconds=890) < lifetime < datetime.timedelta(seconds=910)
    # The temporary credentials work against this server (it accepts any key here).
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    assert "TableNames" in dynamodb.list_tables(Limit=1)


def test_assume_role_validation(endpoint: str) -> None:
    client = aws_client(endpoint, "sts", parameter_validation=False)
    role = "arn:aws:iam::123456789012:role/r"
    cases = [
        ({"RoleArn": "not-a-role-arn-at-all-x", "RoleSessionName": "s1"}, "is invalid"),
        ({"RoleArn": role, "RoleSessionName": "a b"}, "at 'roleSessionName' failed"),
        ({"RoleArn": role, "RoleSessionName": "s1", "DurationSeconds": 899}, "durationSeconds"),
        ({"RoleArn": role, "RoleSessionName": "s1", "DurationSeconds": 43201}, "durationSeconds"),
    ]
    for params, text in cases:
        with pytest.raises(ClientError) as info:
            client.assume_role(**params)
        error = info.value.response["Error"]
        assert error["Code"] == "ValidationError", params
        assert text in error["Message"], params


def test_unsupported_action(sts: Client) -> None:
    with pytest.raises(ClientError) as info:
        sts.get_session_token()
    error = info.value.response["Error"]
    assert error["Code"] == "InvalidAction"
    assert error["Message"] == "Could not find operation GetSessionToken for version 2011-06-15"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_validation_error(endpoint: str) -> None:
    client = aws_client(endpoint, "sts", parameter_validation=False)
    with pytest.raises(ClientError) as info:
        client.get_access_key_info(AccessKeyId="short")
    error: dict[str, Any] = dict(info.value.response["Error"])
    assert error["Code"] == "ValidationError"
    assert error["Type"] == "Sender"
    assert "at 'accessKeyId' failed to satisfy constraint" in error["Message"]


def test_presigned_get(endpoint: str) -> None:
    # What `aws eks get-token` and Vault do: a presigned GET of GetCallerIdentity.
    url = f"{endpoint}/?Action=GetCallerIdentity&Version=2011-06-15"
    request = AWSRequest(method="GET", url=url)
    SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY), "sts", REGION, 60).add_auth(request)
    parsed = urllib.parse.urlsplit(str(request.url))
    conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=30)
    try:
        conn.request("GET", f"{parsed.path}?{parsed.query}")
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 200, body
    assert f"<Account>{ACCOUNT}</Account>".encode() in body
    assert b"<GetCallerIdentityResponse xmlns=" in body
