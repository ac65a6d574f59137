"""KMS (JSON 1.1) with boto3's kms client: keys, aliases, states, tags, real encryption."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.helpers import REGION, Client, aws_client, error_of, raw_request

ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def kms(endpoint: str) -> Client:
    return aws_client(endpoint, "kms")


@pytest.fixture
def key(kms: Client) -> Iterator[str]:
    key_id: str = kms.create_key(Description="test key")["KeyMetadata"]["KeyId"]
    yield key_id
    state = kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"]
    if state != "PendingDeletion":
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)


def arn(key_id: str) -> str:
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}"


def unique_alias() -> str:
    return f"alias/test-{uuid.uuid4().hex[:12]}"


# --- keys ---------------------------------------------------------------------------------


def test_create_key_metadata(kms: Client) -> None:
    meta = kms.create_key(Description="d", Tags=[{"TagKey": "k", "TagValue": "v"}])["KeyMetadata"]
    assert meta["Arn"] == arn(meta["KeyId"])
    assert meta["AWSAccountId"] == ACCOUNT
    assert meta["Enabled"] is True and meta["KeyState"] == "Enabled"
    assert meta["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert meta["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert meta["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert meta["KeyManager"] == "CUSTOMER" and meta["Origin"] == "AWS_KMS"
    assert kms.describe_key(KeyId=meta["Arn"])["KeyMetadata"] == meta
    tags = kms.list_resource_tags(KeyId=meta["KeyId"])["Tags"]
    assert tags == [{"TagKey": "k", "TagValue": "v"}]
    kms.schedule_key_deletion(KeyId=meta["KeyId"], PendingWindowInDays=7)


def test_asymmetric_keys_are_not_supported(kms: Client) -> None:
    with pytest.raises(ClientError) as info:
        kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    assert error_of(info)[0] == "UnsupportedOperationException"


def test_list_keys_pages(kms: Client, key: str) -> None:
    found: list[str] = []
    marker = None
    while True:
        page = kms.list_keys(Limit=1, **({"Marker": marker} if marker else {}))
        assert len(page["Keys"]) <= 1
        found += [k["KeyId"] for k in page["Keys"]]
        if not page["Truncated"]:
            break
        marker = page["NextMarker"]
    assert key in found
    entry = next(k for k in kms.list_keys()["Keys"] if k["KeyId"] == key)
    assert entry["KeyArn"] == arn(key)


def test_not_found_messages(kms: Client) -> None:
    missing = "1234abcd-12ab-34cd-56ef-1234567890ab"
    with pytest.raises(ClientError) as info:
        kms.describe_key(KeyId=missing)
    assert error_of(info) == ("NotFoundException", f"Key '{arn(missing)}' does not exist")
    with pytest.raises(ClientError) as info:
        kms.describe_key(KeyId="alias/nothing-here")
    alias_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/nothing-here"
    assert error_of(info) == ("NotFoundException", f"Alias {alias_arn} is not found.")
    with pytest.raises(ClientError) as info:
        kms.describe_key(KeyId="not-a-key")
    assert error_of(info)[0] == "NotFoundException"


def test_error_wire_shape(endpoint: str) -> None:
    body = json.dumps({"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"})
    resp = raw_request(
        endpoint,
        body,
        target="TrentService.DescribeKey",
        content_type="application/x-amz-json-1.1",
    )
    assert resp.status == 400
    assert resp.headers["content-type"] == "application/x-amz-json-1.1"
    assert json.loads(resp.body)["__type"] == "NotFoundException"


def test_update_description(kms: Client, key: str) -> None:
    kms.update_key_description(KeyId=key, Description="new")
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["Description"] == "new"


# --- states -------------------------------------------------------------------------------


def test_disable_and_enable(kms: Client, key: str) -> None:
    kms.disable_key(KeyId=key)
    meta = kms.describe_key(KeyId=key)["KeyMetadata"]
    assert (meta["Enabled"], meta["KeyState"]) == (False, "Disabled")
    with pytest.raises(ClientError) as info:
        kms.encrypt(KeyId=key, Plaintext=b"x")
    assert error_of(info) == ("DisabledException", f"{arn(key)} is disabled.")
    kms.enable_key(KeyId=key)
    assert kms.encrypt(KeyId=key, Plaintext=b"x")["KeyId"] == arn(key)


def test_schedule_and_cancel_deletion(kms: Client, key: str) -> None:
    for days in (6, 31):
        with pytest.raises(ClientError) as info:
            kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=days)
        assert error_of(info)[0] == "ValidationException"
    out = kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    assert out["KeyId"] == arn(key)
    assert out["KeyState"] == "PendingDeletion" and out["PendingWindowInDays"] == 7
    meta = kms.describe_key(KeyId=key)["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion" and "DeletionDate" in meta
    # Only a multi-Region primary key waiting for its replicas shows the window.
    assert "PendingDeletionWindowInDays" not in meta
    with pytest.raises(ClientError) as info:
        kms.encrypt(KeyId=key, Plaintext=b"x")
    assert error_of(info) == ("KMSInvalidStateException", f"{arn(key)} is pending deletion.")
    for call in (kms.enable_key, kms.disable_key):
        with pytest.raises(ClientError) as info:
            call(KeyId=key)
        assert error_of(info)[0] == "KMSInvalidStateException"
    assert kms.cancel_key_deletion(KeyId=key)["KeyId"] == arn(key)
    meta = kms.describe_key(KeyId=key)["KeyMetadata"]
    assert meta["KeyState"] == "Disabled" and "DeletionDate" not in meta
    with pytest.raises(ClientError) as info:
        kms.cancel_key_deletion(KeyId=key)
    assert error_of(info)[0] == "KMSInvalidStateException"


def test_pending_deletion_rotation_and_policy(kms: Client, key: str) -> None:
    kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=90)
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    status = kms.get_key_rotation_status(KeyId=key)  # false while pending deletion
    assert status["KeyRotationEnabled"] is False and "RotationPeriodInDays" not in status
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    kms.put_key_policy(KeyId=key, Policy=policy)  # allowed in every key state
    assert kms.get_key_policy(KeyId=key)["Policy"] == policy
    kms.cancel_key_deletion(KeyId=key)
    status = kms.get_key_rotation_status(KeyId=key)  # restored
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 90


def test_rotation(kms: Client, key: str) -> None:
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is False
    kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=180)
    status = kms.get_key_rotation_status(KeyId=key)
    assert status["KeyRotationEnabled"] is True
    assert status["RotationPeriodInDays"] == 180
    assert "NextRotationDate" in status
    kms.disable_key_rotation(KeyId=key)
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is False
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError) as info:
        kms.enable_key_rotation(KeyId=key)
    assert error_of(info)[0] == "DisabledException"


# --- policies and tags ---------------------------------------------------------------------


def test_key_policy(kms: Client, key: str) -> None:
    text = kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]
    assert text.startswith('{\n  "Version" : "2012-10-17",\n  "Id" : "key-default-1",\n')
    statement = json.loads(text)["Statement"][0]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    new = json.dumps({"Version": "2012-10-17", "Statement": []})
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=new)
    assert kms.get_key_policy(KeyId=key)["Policy"] == new
    assert kms.list_key_policies(KeyId=key)["PolicyNames"] == ["default"]
    with pytest.raises(ClientError) as info:
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy="{not json")
    assert error_of(info)[0] == "MalformedPolicyDocumentException"


def test_tags(kms: Client, key: str) -> None:
    kms.tag_resource(
        KeyId=key, Tags=[{"TagKey": "a", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"}]
    )
    kms.tag_resource(KeyId=key, Tags=[{"TagKey": "a", "TagValue": "3"}])
    tags = kms.list_resource_tags(KeyId=key)["Tags"]
    assert sorted((t["TagKey"], t["TagValue"]) for t in tags) == [("a", "3"), ("b", "2")]
    kms.untag_resource(KeyId=key, TagKeys=["a"])
    assert kms.list_resource_tags(KeyId=key)["Tags"] == [{"TagKey": "b", "TagValue": "2"}]
    with pytest.raises(ClientError) as info:
        kms.tag_resource(KeyId=key, Tags=[{"TagKey": "aws:x", "TagValue": "1"}])
    assert error_of(info)[0] == "TagException"


# --- aliases ---------------------------------------------------------------------------------


def test_aliases(kms: Client, key: str) -> None:
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    name = unique_alias()
    kms.create_alias(AliasName=name, TargetKeyId=key)
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == key
    alias_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:{name}"
    assert kms.describe_key(KeyId=alias_arn)["KeyMetadata"]["KeyId"] == key
    listed = kms.list_aliases(KeyId=key)["Aliases"]
    assert [(a["AliasName"], a["AliasArn"], a["TargetKeyId"]) for a in listed] == [
        (name, alias_arn, key)
    ]
    with pytest.raises(ClientError) as info:
        kms.create_alias(AliasName=name, TargetKeyId=other)
    assert error_of(info) == (
        "AlreadyExistsException",
        f"An alias with the name {alias_arn} already exists",
    )
    kms.update_alias(AliasName=name, TargetKeyId=other)
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == other
    kms.delete_alias(AliasName=name)
    with pytest.raises(ClientError) as info:
        kms.delete_alias(AliasName=name)
    assert error_of(info) == ("NotFoundException", f"Alias {alias_arn} is not found.")
    with pytest.raises(ClientError) as info:
        kms.update_alias(AliasName=name, TargetKeyId=other)
    assert error_of(info)[0] == "NotFoundException"
    kms.schedule_key_deletion(KeyId=other, PendingWindowInDays=7)


def test_alias_rules(kms: Client, key: str) -> None:
    with pytest.raises(ClientError) as info:
        kms.create_alias(AliasName="alias/aws/mine", TargetKeyId=key)
    assert error_of(info)[0] == "NotAuthorizedException"
    name = unique_alias()
    kms.create_alias(AliasName=name, TargetKeyId=key)
    with pytest.raises(ClientError) as info:
        kms.create_alias(AliasName=unique_alias(), TargetKeyId=name)
    assert error_of(info)[0] == "ValidationException"
    with pytest.raises(ClientError) as info:
        kms.create_alias(AliasName="alias/a:b", TargetKeyId=key)
    assert error_of(info) == (
        "ValidationException",
        "alias/a:b contains invalid characters for an alias",
    )
    kms.delete_alias(AliasName=name)


@pytest.mark.parametrize(
    "call",
    [
        lambda kms, key_id: kms.get_key_policy(KeyId=key_id),
        lambda kms, key_id: kms.get_key_rotation_status(KeyId=key_id),
        lambda kms, key_id: kms.enable_key_rotation(KeyId=key_id),
        lambda kms, key_id: kms.disable_key(KeyId=key_id),
        lambda kms, key_id: kms.list_resource_tags(KeyId=key_id),
        lambda kms, key_id: kms.list_aliases(KeyId=key_id),
        lambda kms, key_id: kms.schedule_key_deletion(KeyId=key_id),
    ],
)
def test_key_only_operations_refuse_aliases(kms: Client, key: str, call: Any) -> None:
    name = unique_alias()
    kms.create_alias(AliasName=name, TargetKeyId=key)
    with pytest.raises(ClientError) as info:
        call(kms, name)
    assert error_of(info) == ("NotFoundException", f"Invalid keyId {name}")
    with pytest.raises(ClientError) as info:
        call(kms, f"arn:aws:kms:{REGION}:{ACCOUNT}:{name}")
    assert error_of(info) == (
        "InvalidArnException",
        "Key Aliases are not supported for this operation.",
    )
    kms.delete_alias(AliasName=name)


def test_aws_managed_dynamodb_key(kms: Client) -> None:
    meta = kms.describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS"
    assert meta["Description"].startswith("Default key that protects my DynamoDB data")
    again = kms.describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]
    assert again["KeyId"] == meta["KeyId"]
    names = [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    assert "alias/aws/dynamodb" in names
    assert kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"] is True


# --- cryptography ----------------------------------------------------------------------------


def test_encrypt_decrypt(kms: Client, key: str) -> None:
    context = {"purpose": "test", "table": "t"}
    blob = kms.encrypt(KeyId=key, Plaintext=b"secret \x00 bytes", EncryptionContext=context)
    ciphertext = blob["CiphertextBlob"]
    assert b"secret" not in ciphertext
    assert blob["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    out = kms.decrypt(CiphertextBlob=ciphertext, EncryptionContext=context)
    assert out["Plaintext"] == b"secret \x00 bytes"
    assert out["KeyId"] == arn(key)
    second = kms.encrypt(KeyId=key, Plaintext=b"secret \x00 bytes", EncryptionContext=context)
    assert second["CiphertextBlob"] != ciphertext  # a fresh nonce every time
    with pytest.raises(ClientError) as info:
        kms.decrypt(CiphertextBlob=ciphertext, EncryptionContext={"purpose": "other"})
    assert error_of(info)[0] == "InvalidCiphertextException"
    with pytest.raises(ClientError) as info:
        kms.decrypt(CiphertextBlob=ciphertext)
    assert error_of(info)[0] == "InvalidCiphertextException"
    tampered = bytearray(ciphertext)
    tampered[-1] ^= 1
    with pytest.raises(ClientError) as info:
        kms.decrypt(CiphertextBlob=bytes(tampered), EncryptionContext=context)
    assert error_of(info)[0] == "InvalidCiphertextException"
    with pytest.raises(ClientError) as info:
        kms.decrypt(CiphertextBlob=b"garbage" * 10)
    assert error_of(info)[0] == "InvalidCiphertextException"


def test_decrypt_with_the_wrong_key(kms: Client, key: str) -> None:
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    ciphertext = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as info:
        kms.decrypt(CiphertextBlob=ciphertext, KeyId=other)
    assert error_of(info)[0] == "IncorrectKeyException"
    assert kms.decrypt(CiphertextBlob=ciphertext, KeyId=key)["Plaintext"] == b"x"
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError) as info:
        kms.decrypt(CiphertextBlob=ciphertext)
    assert error_of(info)[0] == "DisabledException"
    kms.schedule_key_deletion(KeyId=other, PendingWindowInDays=7)


def test_data_keys(kms: Client, key: str) -> None:
    out = kms.generate_data_key(KeyId=key, KeySpec="AES_256", EncryptionContext={"a": "b"})
    assert len(out["Plaintext"]) == 32
    back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"a": "b"})
    assert back["Plaintext"] == out["Plaintext"]
    short = kms.generate_data_key(KeyId=key, NumberOfBytes=16)
    assert len(short["Plaintext"]) == 16
    bare = kms.generate_data_key_without_plaintext(KeyId=key, KeySpec="AES_128")
    assert "Plaintext" not in bare
    assert len(kms.decrypt(CiphertextBlob=bare["CiphertextBlob"])["Plaintext"]) == 16
    with pytest.raises(ClientError) as info:
        kms.generate_data_key(KeyId=key)
    assert error_of(info) == (
        "ValidationException",
        "Please specify either number of bytes or key spec.",
    )


def test_re_encrypt_and_random(kms: Client, key: str) -> None:
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    ciphertext = kms.encrypt(KeyId=key, Plaintext=b"moving")["CiphertextBlob"]
    moved = kms.re_encrypt(CiphertextBlob=ciphertext, DestinationKeyId=other)
    assert moved["SourceKeyId"] == arn(key) and moved["KeyId"] == arn(other)
    assert kms.decrypt(CiphertextBlob=moved["CiphertextBlob"])["Plaintext"] == b"moving"
    assert len(kms.generate_random(NumberOfBytes=24)["Plaintext"]) == 24
    kms.schedule_key_deletion(KeyId=other, PendingWindowInDays=7)


def test_plaintext_limit(endpoint: str) -> None:
    client = aws_client(endpoint, "kms", parameter_validation=False)
    with pytest.raises(ClientError) as info:
        client.encrypt(KeyId="alias/aws/dynamodb", Plaintext=b"x" * 4097)
    code, message = error_of(info)
    assert code == "ValidationException"
    assert "at 'plaintext' failed to satisfy constraint" in message
