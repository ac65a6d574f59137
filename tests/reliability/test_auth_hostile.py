"""Authentication under attack: a server with a credentials file (verify mode) against raw
requests signed by botocore's SigV4 signer and then tampered with by hand.

Every bad request must get AWS's error type and message and change nothing: a signed
PutItem whose body was swapped after signing must not write the swapped item. A request
signed for one account must never see another account's tables, by name, by ARN, by
stream ARN, in lists or in PartiQL. (tests/api/test_auth.py covers a known key, an
unknown key, a wrong secret and the basic isolation of DescribeTable / GetItem.)
"""

from __future__ import annotations

import datetime
import http.client
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.reliability.harness import DYNAMODB, JSON_10, STREAMS, Server

REGION = "us-east-1"
CREDENTIALS = """\
[alice]
aws_access_key_id = AKIAALICE
aws_secret_access_key = alice-secret
account_id = 111111111111

[bob]
aws_access_key_id = AKIABOB
aws_secret_access_key = bob-secret
account_id = 222222222222

[carol]
aws_access_key_id = ASIACAROL
aws_secret_access_key = carol-secret
aws_session_token = carol-token
account_id = 333333333333
"""
ALICE = Credentials("AKIAALICE", "alice-secret")
BOB = Credentials("AKIABOB", "bob-secret")
CAROL = Credentials("ASIACAROL", "carol-secret", "carol-token")
TABLE = "ledger"  # both alice and bob have a table of this name
ALICE_SECRET = "alice-private-value"

MISSING = ("MissingAuthenticationTokenException", "Request is missing Authentication Token")
BAD_TOKEN = ("UnrecognizedClientException", "The security token included in the request is invalid")
MISMATCH = "The request signature we calculated does not match the signature you provided."


@pytest.fixture(scope="module")
def server(module_workdir: Path) -> Iterator[Server]:
    work = module_workdir
    credentials = work / "credentials"
    credentials.write_text(CREDENTIALS)
    srv = Server(work, "--credentials-file", str(credentials))
    srv.start()
    try:
        for who, secret in ((ALICE, ALICE_SECRET), (BOB, "bob-value")):
            ok(
                srv,
                who,
                "CreateTable",
                {
                    "TableName": TABLE,
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "BillingMode": "PAY_PER_REQUEST",
                    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
                },
            )
            ok(
                srv,
                who,
                "PutItem",
                {"TableName": TABLE, "Item": {"pk": {"S": "k"}, "v": {"S": secret}}},
            )
        ok(
            srv,
            ALICE,
            "UpdateContinuousBackups",
            {
                "TableName": TABLE,
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            },
        )
        ok(srv, ALICE, "CreateBackup", {"TableName": TABLE, "BackupName": "alice-backup"})
        yield srv
    finally:
        srv.stop()


# --- signing and sending -------------------------------------------------------------------


def sign(
    server: Server,
    who: Credentials,
    operation: str,
    body: bytes,
    *,
    target_prefix: str = DYNAMODB,
    when: datetime.datetime | None = None,
    presign_expires: int | None = None,
    region: str = REGION,
) -> tuple[str, dict[str, str]]:
    """(path with query, headers) of a request signed now (or at `when`) by botocore."""
    request = AWSRequest(
        method="POST",
        url=server.url + "/",
        data=body,
        headers={"Content-Type": JSON_10, "X-Amz-Target": f"{target_prefix}.{operation}"},
    )
    signer: SigV4Auth = (
        SigV4Auth(who, "dynamodb", region)
        if presign_expires is None
        else _BodyPresigner(who, "dynamodb", region, expires=presign_expires)
    )
    if when is None:
        signer.add_auth(request)
    else:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("botocore.auth.get_current_datetime", lambda: when)
            signer.add_auth(request)
    parts = urlsplit(request.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path, {name: str(value) for name, value in request.headers.items()}


class _BodyPresigner(SigV4QueryAuth):  # type: ignore[misc]
    """Query-string (presigned) SigV4 over a JSON body.

    botocore's SigV4QueryAuth moves a POST body into the query string (it was written
    for the Query protocol); a DynamoDB request keeps its JSON body and signs its hash.
    """

    def _modify_request_before_signing(self, request: AWSRequest) -> None:
        body = request.data
        request.data = b""
        super()._modify_request_before_signing(request)
        request.data = body


def send(
    server: Server, path: str, headers: dict[str, str], body: bytes
) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    assert response.status < 500, data[:300]
    return response.status, json.loads(data) if data else {}


def call(
    server: Server, who: Credentials, operation: str, request: dict[str, Any], **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    body = json.dumps(request).encode()
    path, headers = sign(server, who, operation, body, **kwargs)
    return send(server, path, headers, body)


def ok(
    server: Server, who: Credentials, operation: str, request: dict[str, Any], **kw: Any
) -> dict[str, Any]:
    status, answer = call(server, who, operation, request, **kw)
    assert status == 200, answer
    return answer


def error(answer: dict[str, Any]) -> tuple[str, str]:
    message = answer.get("message", answer.get("Message", ""))
    return str(answer["__type"]).rpartition("#")[2], str(message)


def alice_item(server: Server) -> dict[str, Any]:
    return ok(server, ALICE, "GetItem", {"TableName": TABLE, "Key": {"pk": {"S": "k"}}})


LIST_TABLES = b"{}"


# --- missing and malformed ----------------------------------------------------------------


def test_missing_and_malformed_authorization(
    server: Server, numbers: Callable[[str], None]
) -> None:
    path, good = sign(server, ALICE, "ListTables", LIST_TABLES)
    auth = good["Authorization"]
    credential = auth.split("Credential=")[1].split(",")[0]
    signed_headers = auth.split("SignedHeaders=")[1].split(",")[0]
    cases: list[tuple[str, dict[str, str | None], str, str]] = [
        ("no Authorization", {"Authorization": None}, *MISSING),
        ("not AWS4", {"Authorization": "Bearer abc"}, *MISSING),
        ("empty", {"Authorization": ""}, *MISSING),
        (
            "no key=value pairs",
            {"Authorization": "AWS4-HMAC-SHA256 garbage"},
            "IncompleteSignatureException",
            "'garbage' not a valid key=value pair (missing equal-sign) in Authorization header: "
            "'AWS4-HMAC-SHA256 garbage'.",
        ),
        (
            "no Signature",
            {"Authorization": auth.split(", Signature=")[0]},
            "IncompleteSignatureException",
            "Authorization header requires 'Signature' parameter.",
        ),
        (
            "no date",
            {"X-Amz-Date": None},
            "IncompleteSignatureException",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        ),
        (
            "date not ISO-8601 basic",
            {"X-Amz-Date": "2024-01-01T00:00:00Z"},
            "IncompleteSignatureException",
            "Date must be in ISO-8601 'basic format'. Got '2024-01-01T00:00:00Z'.",
        ),
        (
            "SHA-1",
            {"Authorization": auth.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1", 1)},
            "IncompleteSignatureException",
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1' (only AWS4-HMAC-SHA256 for now). ",
        ),
        (
            "three-element credential",
            {"Authorization": auth.replace(credential, "AKIAALICE/20240101/us-east-1")},
            "IncompleteSignatureException",
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            "keyid/date/region/service/term, got 'AKIAALICE/20240101/us-east-1'",
        ),
        (
            "host not signed",
            {"Authorization": auth.replace(signed_headers, "content-type;x-amz-date", 1)},
            "InvalidSignatureException",
            "'Host' must be a 'SignedHeader' in the AWS Authorization.",
        ),
        (
            "scoped to s3",
            {"Authorization": auth.replace("/dynamodb/", "/s3/", 1)},
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'dynamodb'.",
        ),
        (
            "non-ASCII junk",
            {"Authorization": "AWS4-HMAC-SHA256 Credential=\xe9\xff, Signature=\xfe"},
            "IncompleteSignatureException",
            "",
        ),
        (
            "60 KB header",
            {"Authorization": "AWS4-HMAC-SHA256 Credential=" + "A" * 60_000},
            "IncompleteSignatureException",
            "",
        ),
    ]
    for name, changes, code, message in cases:
        headers = dict(good)
        for header, value in changes.items():
            if value is None:
                del headers[header]
            else:
                headers[header] = value
        status, answer = send(server, path, headers, LIST_TABLES)
        assert status == 400, name
        got_code, got_message = error(answer)
        assert got_code == code, (name, answer)
        assert got_message.startswith(message), (name, got_message)
    numbers(f"{len(cases)} missing or malformed Authorization headers refused with AWS's error")


# --- expiry and replay -------------------------------------------------------------------


def test_expired_and_future_signatures(server: Server) -> None:
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    body = LIST_TABLES
    # A replay within the 15-minute window is accepted (as AWS does) ...
    path, headers = sign(
        server, ALICE, "ListTables", body, when=now - datetime.timedelta(minutes=14)
    )
    assert send(server, path, headers, body)[0] == 200
    assert send(server, path, headers, body)[0] == 200
    # ... past it, refused.
    path, headers = sign(
        server, ALICE, "ListTables", body, when=now - datetime.timedelta(minutes=16)
    )
    status, answer = send(server, path, headers, body)
    code, message = error(answer)
    assert (status, code) == (400, "InvalidSignatureException")
    assert message.startswith(f"Signature expired: {headers['X-Amz-Date']} is now earlier than ")
    assert message.endswith(" - 15 min.)")
    path, headers = sign(
        server, ALICE, "ListTables", body, when=now + datetime.timedelta(minutes=16)
    )
    status, answer = send(server, path, headers, body)
    code, message = error(answer)
    assert (status, code) == (400, "InvalidSignatureException")
    assert message.startswith(
        f"Signature not yet current: {headers['X-Amz-Date']} is still later than "
    )


# --- wrongly signed ----------------------------------------------------------------------


def a_second_later(amz_date: str) -> str:
    moment = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    return (moment + datetime.timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")


def test_tampered_requests_are_refused_and_change_nothing(
    server: Server, numbers: Callable[[str], None]
) -> None:
    signed_body = json.dumps(
        {"TableName": TABLE, "Item": {"pk": {"S": "k"}, "v": {"S": ALICE_SECRET}}}
    ).encode()
    evil_body = json.dumps(
        {"TableName": TABLE, "Item": {"pk": {"S": "k"}, "v": {"S": "overwritten"}}}
    ).encode()
    path, good = sign(server, ALICE, "PutItem", signed_body)
    signature = good["Authorization"].rsplit("Signature=", 1)[1]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    cases: list[tuple[str, dict[str, str], bytes]] = [
        ("body swapped after signing", good, evil_body),
        (
            "signature digit flipped",
            {**good, "Authorization": good["Authorization"].replace(signature, flipped)},
            signed_body,
        ),
        ("target changed", {**good, "X-Amz-Target": f"{DYNAMODB}.DeleteItem"}, signed_body),
        (
            "date moved a second",
            {**good, "X-Amz-Date": a_second_later(good["X-Amz-Date"])},
            signed_body,
        ),
        (
            "signed for bob, key of alice",
            {**good, "Authorization": good["Authorization"].replace("AKIAALICE", "AKIABOB")},
            signed_body,
        ),
        ("payload hash header lies", {**good, "X-Amz-Content-SHA256": "0" * 64}, signed_body),
    ]
    for name, headers, body in cases:
        status, answer = send(server, path, headers, body)
        code, message = error(answer)
        assert (status, code) == (400, "InvalidSignatureException"), (name, answer)
        if name == "payload hash header lies":
            assert message == (
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            )
        else:
            assert message.startswith(MISMATCH), (name, message)
    # Streaming (chunk-signed) payloads exist only in S3: refused clearly.
    status, answer = send(
        server,
        path,
        {**good, "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
        signed_body,
    )
    assert status == 400 and "streaming, chunk-signed payload" in error(answer)[1]
    assert alice_item(server)["Item"]["v"]["S"] == ALICE_SECRET
    numbers(f"{len(cases) + 1} tampered signed requests refused; the data is unchanged")


def test_session_tokens(server: Server) -> None:
    assert call(server, CAROL, "ListTables", {})[0] == 200
    for name, who in (
        ("token missing", Credentials("ASIACAROL", "carol-secret")),
        ("token wrong", Credentials("ASIACAROL", "carol-secret", "not-carol-token")),
        ("token on a permanent key", Credentials("AKIAALICE", "alice-secret", "carol-token")),
    ):
        status, answer = call(server, who, "ListTables", {})
        assert (status, *error(answer)) == (400, *BAD_TOKEN), name


# --- presigned URLs ----------------------------------------------------------------------


def test_presigned_urls(server: Server) -> None:
    body = json.dumps({"TableName": TABLE, "Key": {"pk": {"S": "k"}}}).encode()
    path, headers = sign(server, ALICE, "GetItem", body, presign_expires=300)
    assert "X-Amz-Signature=" in path and "Authorization" not in headers
    status, answer = send(server, path, headers, body)
    assert status == 200 and answer["Item"]["v"]["S"] == ALICE_SECRET
    # Expired: signed 10 minutes ago for 60 seconds.
    when = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(minutes=10)
    path, headers = sign(server, ALICE, "GetItem", body, presign_expires=60, when=when)
    status, answer = send(server, path, headers, body)
    code, message = error(answer)
    assert (status, code) == (400, "InvalidSignatureException")
    assert message.startswith("Signature expired:") and message.endswith(" - 60 sec.)")
    # Tampered query, or query and header auth at once.
    path, headers = sign(server, ALICE, "GetItem", body, presign_expires=300)
    status, answer = send(
        server, path.replace("X-Amz-Expires=300", "X-Amz-Expires=299"), headers, body
    )
    assert (status, error(answer)[0]) == (400, "InvalidSignatureException")
    _, header_auth = sign(server, ALICE, "GetItem", body)
    status, answer = send(
        server, path, {**headers, "Authorization": header_auth["Authorization"]}, body
    )
    assert (status, *error(answer)) == (
        400,
        "InvalidSignatureException",
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
    )
    # A presigned request for bob's key with alice's body still reads bob's table only.
    path, headers = sign(server, BOB, "GetItem", body, presign_expires=300)
    status, answer = send(server, path, headers, body)
    assert status == 200 and answer["Item"]["v"]["S"] == "bob-value"


# --- accounts ----------------------------------------------------------------------------


def test_one_account_never_reaches_another(server: Server, numbers: Callable[[str], None]) -> None:
    """Bob tries every way in to alice's table; nothing he gets back holds her data."""
    alice_arn = ok(server, ALICE, "DescribeTable", {"TableName": TABLE})["Table"]["TableArn"]
    assert alice_arn.startswith("arn:aws:dynamodb:us-east-1:111111111111:table/")
    backup = ok(server, ALICE, "ListBackups", {})["BackupSummaries"][0]["BackupArn"]
    select = {"Statement": f'SELECT * FROM "{alice_arn}"'}
    key = {"pk": {"S": "k"}}
    attempts: list[tuple[str, dict[str, Any], str]] = [
        ("GetItem", {"TableName": alice_arn, "Key": key}, DYNAMODB),
        (
            "Query",
            {
                "TableName": alice_arn,
                "KeyConditionExpression": "pk = :k",
                "ExpressionAttributeValues": {":k": {"S": "k"}},
            },
            DYNAMODB,
        ),
        ("Scan", {"TableName": alice_arn}, DYNAMODB),
        ("BatchGetItem", {"RequestItems": {alice_arn: {"Keys": [key]}}}, DYNAMODB),
        (
            "TransactGetItems",
            {"TransactItems": [{"Get": {"TableName": alice_arn, "Key": key}}]},
            DYNAMODB,
        ),
        ("PutItem", {"TableName": alice_arn, "Item": {"pk": {"S": "bob-was-here"}}}, DYNAMODB),
        (
            "UpdateItem",
            {
                "TableName": alice_arn,
                "Key": key,
                "UpdateExpression": "SET v = :v",
                "ExpressionAttributeValues": {":v": {"S": "bob"}},
            },
            DYNAMODB,
        ),
        ("DeleteItem", {"TableName": alice_arn, "Key": key}, DYNAMODB),
        (
            "BatchWriteItem",
            {"RequestItems": {alice_arn: [{"DeleteRequest": {"Key": key}}]}},
            DYNAMODB,
        ),
        (
            "TransactWriteItems",
            {"TransactItems": [{"Delete": {"TableName": alice_arn, "Key": key}}]},
            DYNAMODB,
        ),
        ("DescribeTable", {"TableName": alice_arn}, DYNAMODB),
        ("UpdateTable", {"TableName": alice_arn, "DeletionProtectionEnabled": True}, DYNAMODB),
        ("DeleteTable", {"TableName": alice_arn}, DYNAMODB),
        ("DescribeContinuousBackups", {"TableName": alice_arn}, DYNAMODB),
        ("CreateBackup", {"TableName": alice_arn, "BackupName": "stolen"}, DYNAMODB),
        ("DescribeTimeToLive", {"TableName": alice_arn}, DYNAMODB),
        ("ExecuteStatement", select, DYNAMODB),
        ("BatchExecuteStatement", {"Statements": [select]}, DYNAMODB),
        ("ExecuteTransaction", {"TransactStatements": [select]}, DYNAMODB),
        (
            "UpdateTimeToLive",
            {
                "TableName": alice_arn,
                "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "x"},
            },
            DYNAMODB,
        ),
        (
            "UpdateContinuousBackups",
            {
                "TableName": alice_arn,
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": False},
            },
            DYNAMODB,
        ),
        ("DescribeContributorInsights", {"TableName": alice_arn}, DYNAMODB),
        ("ListBackups", {"TableName": alice_arn}, DYNAMODB),
        ("DescribeBackup", {"BackupArn": backup}, DYNAMODB),
        ("DeleteBackup", {"BackupArn": backup}, DYNAMODB),
        ("RestoreTableFromBackup", {"BackupArn": backup, "TargetTableName": "stolen"}, DYNAMODB),
        (
            "RestoreTableToPointInTime",
            {
                "SourceTableArn": alice_arn,
                "TargetTableName": "stolen",
                "UseLatestRestorableTime": True,
            },
            DYNAMODB,
        ),
    ]
    leaks = [leak for attempt in attempts if (leak := try_as_bob(server, alice_arn, *attempt))]
    assert not leaks, leaks
    # Bob's own view: his table, his item, his lists.
    assert ok(server, BOB, "ListTables", {})["TableNames"] == [TABLE]
    assert (
        ok(server, BOB, "GetItem", {"TableName": TABLE, "Key": key})["Item"]["v"]["S"]
        == "bob-value"
    )
    streams = ok(server, BOB, "ListStreams", {}, target_prefix=STREAMS)["Streams"]
    assert [s["StreamArn"] for s in streams if "111111111111" in s["StreamArn"]] == []
    assert all(
        "111111111111" not in b["BackupArn"]
        for b in ok(server, BOB, "ListBackups", {})["BackupSummaries"]
    )
    assert "stolen" not in ok(server, BOB, "ListTables", {})["TableNames"]
    # Alice's table, item and backup are as she left them.
    assert ok(server, ALICE, "DescribeBackup", {"BackupArn": backup})
    assert alice_item(server)["Item"] == {"pk": {"S": "k"}, "v": {"S": ALICE_SECRET}}
    described = ok(server, ALICE, "DescribeTable", {"TableName": TABLE})["Table"]
    assert described["TableStatus"] == "ACTIVE" and not described.get("DeletionProtectionEnabled")
    numbers(f"{len(attempts)} cross-account attempts on another account's table refused")


def try_as_bob(
    server: Server, alice_arn: str, operation: str, request: dict[str, Any], prefix: str
) -> str | None:
    """What went wrong when bob sent this request naming alice's resource, or None."""
    body = json.dumps(request).encode()
    path, headers = sign(server, BOB, operation, body, target_prefix=prefix)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    # BatchExecuteStatement answers 200 with an error per statement.
    batch_refused = operation == "BatchExecuteStatement" and b'"Error"' in data
    if not 400 <= response.status < 500 and not batch_refused:
        return f"{operation}: HTTP {response.status} {data[:200]!r}"
    if ALICE_SECRET.encode() in data or b"111111111111" in data.replace(alice_arn.encode(), b""):
        return f"{operation}: alice's data in {data[:200]!r}"
    return None


def test_tags_of_another_accounts_table_are_out_of_reach(server: Server) -> None:
    alice_arn = ok(server, ALICE, "DescribeTable", {"TableName": TABLE})["Table"]["TableArn"]
    attempts = [
        ("ListTagsOfResource", {"ResourceArn": alice_arn}, DYNAMODB),
        (
            "TagResource",
            {"ResourceArn": alice_arn, "Tags": [{"Key": "by", "Value": "bob"}]},
            DYNAMODB,
        ),
        ("UntagResource", {"ResourceArn": alice_arn, "TagKeys": ["by"]}, DYNAMODB),
    ]
    leaks = [leak for attempt in attempts if (leak := try_as_bob(server, alice_arn, *attempt))]
    assert not leaks, leaks


def test_streams_of_another_account_are_out_of_reach(server: Server) -> None:
    stream_arn = ok(server, ALICE, "DescribeTable", {"TableName": TABLE})["Table"][
        "LatestStreamArn"
    ]
    shards = ok(server, ALICE, "DescribeStream", {"StreamArn": stream_arn}, target_prefix=STREAMS)
    shard = shards["StreamDescription"]["Shards"][0]["ShardId"]
    position = {"StreamArn": stream_arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}
    alices_iterator = ok(server, ALICE, "GetShardIterator", position, target_prefix=STREAMS)
    attempts = [
        ("DescribeStream", {"StreamArn": stream_arn}, STREAMS),
        ("GetShardIterator", position, STREAMS),
        ("GetRecords", {"ShardIterator": alices_iterator["ShardIterator"]}, STREAMS),
    ]
    leaks = [leak for attempt in attempts if (leak := try_as_bob(server, stream_arn, *attempt))]
    assert not leaks, leaks
