"""SigV4 authentication against a live server: verify mode, accept mode, accounts, regions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import own_server
from tests.api.helpers import aws_client

KEY_SCHEMA = [{"AttributeName": "pk", "KeyType": "HASH"}]
ATTRIBUTES = [{"AttributeName": "pk", "AttributeType": "S"}]

CREDENTIALS = """\
[alice]
aws_access_key_id = AKIAALICE
aws_secret_access_key = alice-secret
account_id = 111111111111

[bob]
aws_access_key_id = AKIABOB
aws_secret_access_key = bob-secret
account_id = 222222222222
"""


@pytest.fixture(scope="module")
def verify_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second server that checks signatures against a credentials file."""
    credentials = tmp_path_factory.mktemp("credentials") / "credentials"
    credentials.write_text(CREDENTIALS)
    work = tmp_path_factory.mktemp("auth")
    with own_server(work, "--credentials-file", str(credentials), auth=None) as url:
        yield url


def client(endpoint: str, key: str, secret: str, region: str = "us-east-1") -> object:
    return aws_client(endpoint, region=region, access_key=key, secret_key=secret)


def error_of(call: object, **kwargs: object) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)  # type: ignore[operator]
    err = info.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_verify_mode_accepts_a_known_key(verify_endpoint: str) -> None:
    alice = client(verify_endpoint, "AKIAALICE", "alice-secret")
    assert alice.list_tables()["TableNames"] == []  # type: ignore[attr-defined]


def test_verify_mode_rejects_an_unknown_key(verify_endpoint: str) -> None:
    stranger = client(verify_endpoint, "AKIASTRANGER", "whatever")
    code, message, status = error_of(stranger.list_tables)  # type: ignore[attr-defined]
    assert (code, message, status) == (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        400,
    )


def test_verify_mode_rejects_a_wrong_secret(verify_endpoint: str) -> None:
    forger = client(verify_endpoint, "AKIAALICE", "not-alices-secret")
    code, message, _ = error_of(forger.list_tables)  # type: ignore[attr-defined]
    assert code == "InvalidSignatureException"
    assert message.startswith(
        "The request signature we calculated does not match the signature you provided."
    )


def test_accounts_are_isolated(verify_endpoint: str) -> None:
    alice = client(verify_endpoint, "AKIAALICE", "alice-secret")
    bob = client(verify_endpoint, "AKIABOB", "bob-secret")
    alice.create_table(  # type: ignore[attr-defined]
        TableName="alice-only",
        KeySchema=KEY_SCHEMA,
        AttributeDefinitions=ATTRIBUTES,
        BillingMode="PAY_PER_REQUEST",
    )
    description = alice.describe_table(TableName="alice-only")["Table"]  # type: ignore[attr-defined]
    assert description["TableArn"] == "arn:aws:dynamodb:us-east-1:111111111111:table/alice-only"
    assert "alice-only" not in bob.list_tables()["TableNames"]  # type: ignore[attr-defined]
    code, _, _ = error_of(bob.describe_table, TableName="alice-only")  # type: ignore[attr-defined]
    assert code == "ResourceNotFoundException"
    code, _, _ = error_of(
        bob.get_item,  # type: ignore[attr-defined]
        TableName="arn:aws:dynamodb:us-east-1:111111111111:table/alice-only",
        Key={"pk": {"S": "x"}},
    )
    assert code in ("ResourceNotFoundException", "AccessDeniedException")


def test_regions_are_namespaces(endpoint: str) -> None:
    east = client(endpoint, "anykey", "anysecret", "us-east-1")
    west = client(endpoint, "anykey", "anysecret", "eu-west-1")
    west.create_table(  # type: ignore[attr-defined]
        TableName="west-only-table",
        KeySchema=KEY_SCHEMA,
        AttributeDefinitions=ATTRIBUTES,
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        arn = west.describe_table(TableName="west-only-table")["Table"]["TableArn"]  # type: ignore[attr-defined]
        assert arn.startswith("arn:aws:dynamodb:eu-west-1:")
        assert "west-only-table" not in east.list_tables()["TableNames"]  # type: ignore[attr-defined]
    finally:
        west.delete_table(TableName="west-only-table")  # type: ignore[attr-defined]


def test_accept_mode_takes_any_key(endpoint: str) -> None:
    anyone = client(endpoint, "AKIARANDOM", "garbage")
    assert "TableNames" in anyone.list_tables()  # type: ignore[attr-defined]
