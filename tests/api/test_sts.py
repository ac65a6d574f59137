"""STS over the Query protocol, with boto3's sts client (which speaks Query)."""

from __future__ import annotations

import datetime
import http.client
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.api.conftest import own_server
from tests.api.helpers import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    Client,
    aws_client,
    create_table,
)

ACCOUNT = "000000000000"  # the server's default account in accept mode
ALICE_ACCOUNT = "111111111111"
CREDENTIALS = f"""\
[alice]
aws_access_key_id = AKIASTSALICE
aws_secret_access_key = alice-secret
account_id = {ALICE_ACCOUNT}
"""
ROLE = f"arn:aws:iam::{ALICE_ACCOUNT}:role/app/Writer"
BAD_TOKEN = "The security token included in the request is invalid"


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
    assert "TableNames" in session_client(endpoint, "dynamodb", credentials).list_tables(Limit=1)
    # ... and they name the assumed role.
    identity = session_client(endpoint, "sts", credentials).get_caller_identity()
    assert (identity["Arn"], identity["UserId"]) == (user["Arn"], user["AssumedRoleId"])
    assert identity["Account"] == "123456789012"
    info = sts.get_access_key_info(AccessKeyId=credentials["AccessKeyId"])
    assert info["Account"] == "123456789012"


def test_assume_role_validation(endpoint: str) -> None:
    client = aws_client(endpoint, "sts", parameter_validation=False)
    role = "arn:aws:iam::123456789012:role/r"
    cases: list[tuple[dict[str, Any], str]] = [
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


# --- temporary credentials under --auth verify ------------------------------------------


def session_client(
    endpoint: str, service: str, credentials: Mapping[str, Any], token: str | None = ""
) -> Client:
    """A client signing with AssumeRole's `credentials`; `token` replaces their session
    token ("": theirs, None: none)."""
    client: Client = boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"] if token == "" else token,
        config=Config(retries={"max_attempts": 0}),
    )
    return client


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


@pytest.fixture(scope="module")
def verify_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """A server checking signatures against a credentials file: (URL, data dir, file)."""
    credentials = tmp_path_factory.mktemp("sts-credentials") / "credentials"
    credentials.write_text(CREDENTIALS)
    work = tmp_path_factory.mktemp("sts-verify")
    with own_server(work, "--credentials-file", str(credentials), auth=None) as url:
        yield url, work, credentials


@pytest.fixture(scope="module")
def role_session(verify_server: tuple[str, Path, Path]) -> dict[str, Any]:
    """AssumeRole's answer to alice, on the verifying server."""
    alice = aws_client(
        verify_server[0], "sts", access_key="AKIASTSALICE", secret_key="alice-secret"
    )
    answer: dict[str, Any] = alice.assume_role(RoleArn=ROLE, RoleSessionName="ci-job")
    return answer


def test_session_credentials_are_verified(
    verify_server: tuple[str, Path, Path], role_session: dict[str, Any]
) -> None:
    endpoint = verify_server[0]
    dynamodb = session_client(endpoint, "dynamodb", role_session["Credentials"])
    name = create_table(dynamodb)  # CreateTable signed by the session
    try:
        arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
        assert arn.startswith(f"arn:aws:dynamodb:{REGION}:{ALICE_ACCOUNT}:")  # the role's
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}})
        assert dynamodb.get_item(TableName=name, Key={"pk": {"S": "a"}})["Item"]
        assert name in dynamodb.list_tables()["TableNames"]
    finally:
        dynamodb.delete_table(TableName=name)


def test_session_caller_identity(
    verify_server: tuple[str, Path, Path], role_session: dict[str, Any]
) -> None:
    sts = session_client(verify_server[0], "sts", role_session["Credentials"])
    identity = sts.get_caller_identity()
    user = role_session["AssumedRoleUser"]
    assert identity["Arn"] == f"arn:aws:sts::{ALICE_ACCOUNT}:assumed-role/Writer/ci-job"
    assert identity["Arn"] == user["Arn"]
    assert identity["UserId"] == user["AssumedRoleId"]
    assert identity["UserId"].startswith("AROA") and identity["UserId"].endswith(":ci-job")
    assert identity["Account"] == ALICE_ACCOUNT
    # A session may assume a role in turn (role chaining).
    chained = sts.assume_role(RoleArn=ROLE, RoleSessionName="chained")
    again = session_client(verify_server[0], "sts", chained["Credentials"])
    assert again.get_caller_identity()["Arn"].endswith("/Writer/chained")


def test_session_token_must_match(
    verify_server: tuple[str, Path, Path], role_session: dict[str, Any]
) -> None:
    credentials = role_session["Credentials"]
    for token in ("not-the-session-token", None):
        dynamodb = session_client(verify_server[0], "dynamodb", credentials, token)
        assert error_of(dynamodb.list_tables) == ("UnrecognizedClientException", BAD_TOKEN)
    sts = session_client(verify_server[0], "sts", credentials, "wrong")
    code, message = error_of(sts.get_caller_identity)
    assert code == "InvalidClientTokenId" and message.startswith(BAD_TOKEN)


def test_session_needs_the_session_secret(
    verify_server: tuple[str, Path, Path], role_session: dict[str, Any]
) -> None:
    forged = {**role_session["Credentials"], "SecretAccessKey": "not-the-secret"}
    code, _ = error_of(session_client(verify_server[0], "dynamodb", forged).list_tables)
    assert code == "InvalidSignatureException"


def test_unknown_temporary_key(verify_server: tuple[str, Path, Path]) -> None:
    unknown = {"AccessKeyId": "ASIAUNKNOWNKEY000000", "SecretAccessKey": "s", "SessionToken": "t"}
    dynamodb = session_client(verify_server[0], "dynamodb", unknown)
    assert error_of(dynamodb.list_tables) == (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )


def test_assume_role_needs_valid_credentials(verify_server: tuple[str, Path, Path]) -> None:
    stranger = aws_client(verify_server[0], "sts", access_key="AKIASTRANGER", secret_key="x")
    code, _ = error_of(stranger.assume_role, RoleArn=ROLE, RoleSessionName="s1")
    assert code == "InvalidClientTokenId"


def test_assume_role_stays_in_the_callers_account(verify_server: tuple[str, Path, Path]) -> None:
    alice = aws_client(
        verify_server[0], "sts", access_key="AKIASTSALICE", secret_key="alice-secret"
    )
    other = "arn:aws:iam::222222222222:role/Admin"
    code, message = error_of(alice.assume_role, RoleArn=other, RoleSessionName="s1")
    assert code == "AccessDenied"
    assert message == (
        f"User: arn:aws:iam::{ALICE_ACCOUNT}:user/AKIASTSALICE is not authorized to perform: "
        f"sts:AssumeRole on resource: {other}"
    )


def test_sessions_are_shared_by_processes(
    verify_server: tuple[str, Path, Path], role_session: dict[str, Any]
) -> None:
    """Another server process on the same store accepts the session issued by the first."""
    _, work, credentials = verify_server
    with own_server(work, "--credentials-file", str(credentials), auth=None) as second:
        sts = session_client(second, "sts", role_session["Credentials"])
        assert sts.get_caller_identity()["Arn"] == role_session["AssumedRoleUser"]["Arn"]
        dynamodb = session_client(second, "dynamodb", role_session["Credentials"])
        assert "TableNames" in dynamodb.list_tables()
        wrong = session_client(second, "dynamodb", role_session["Credentials"], "wrong")
        assert error_of(wrong.list_tables)[0] == "UnrecognizedClientException"
