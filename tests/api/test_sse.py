"""DynamoDB encryption at rest with KMS keys (SSESpecification), end to end with boto3.

These tests run their own server (its data directory is needed to look at the bytes on
disk and to restart it), so they are skipped against an external endpoint.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import ENDPOINT_ENV, own_server
from tests.api.helpers import (
    REGION,
    Client,
    attr,
    aws_client,
    create_table,
    error_of,
    index_spec,
    unique_name,
)

ACCOUNT = "000000000000"
SECRET = "TOP-SECRET-PAYLOAD-7f3a9c"
MASTER_KEY_ENV = "DYNASTORE_MASTER_KEY"


@dataclass(frozen=True)
class Server:
    """A running dynastore process on a data directory of its own."""

    data_dir: Path
    endpoint: str

    def client(self, name: str) -> Client:
        return aws_client(self.endpoint, name)

    def stored_bytes(self) -> bytes:
        """Everything SQLite keeps on disk (database file and write-ahead log)."""
        return b"".join(
            path.read_bytes() for path in self.data_dir.iterdir() if "dynastore.db" in path.name
        )


@contextlib.contextmanager
def running(data_dir: Path, master_key: str | None = None) -> Iterator[Server]:
    """A server on `data_dir`, given `master_key` by the environment (else none there)."""
    with own_server(data_dir, env={MASTER_KEY_ENV: master_key}) as url:
        yield Server(data_dir, url)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if os.environ.get(ENDPOINT_ENV):
        pytest.skip("needs its own server (bytes on disk, restarts)")
    with running(tmp_path_factory.mktemp("sse")) as instance:
        yield instance


@pytest.fixture(scope="module")
def dynamodb(server: Server) -> Client:
    return server.client("dynamodb")


@pytest.fixture(scope="module")
def kms(server: Server) -> Client:
    return server.client("kms")


@pytest.fixture
def key(kms: Client) -> str:
    key_id: str = kms.create_key(Description="table key")["KeyMetadata"]["KeyId"]
    return key_id


MakeTable = Callable[..., str]


@pytest.fixture
def make_table(dynamodb: Client) -> MakeTable:
    def make(sse: dict[str, Any] | None = None, **extra: Any) -> str:
        if sse is not None:
            extra["SSESpecification"] = sse
        return create_table(
            dynamodb,
            unique_name("sse"),
            range_key=True,
            AttributeDefinitions=[attr("pk"), attr("sk"), attr("g")],
            GlobalSecondaryIndexes=[index_spec("by-g", "g")],
            **extra,
        )

    return make


def item(n: int, secret: str = SECRET, number: str = "12345.678") -> dict[str, Any]:
    return {
        "pk": {"S": "p"},
        "sk": {"S": f"s{n}"},
        "g": {"S": "group"},
        "secret": {"S": secret},
        "nested": {"M": {"deep": {"L": [{"S": secret + "-deep"}, {"N": number}]}}},
        "blob": {"B": secret.encode()},
    }


def key_arn(key_id: str) -> str:
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}"


def read_everything(dynamodb: Client, name: str) -> list[Any]:
    """The table's items through every read path."""
    key = {"pk": {"S": "p"}, "sk": {"S": "s1"}}
    return [
        dynamodb.get_item(TableName=name, Key=key)["Item"],
        dynamodb.query(
            TableName=name,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
        )["Items"],
        dynamodb.query(
            TableName=name,
            IndexName="by-g",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "group"}},
        )["Items"],
        dynamodb.scan(TableName=name)["Items"],
        dynamodb.batch_get_item(RequestItems={name: {"Keys": [key]}})["Responses"][name],
        dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": name, "Key": key}}])[
            "Responses"
        ],
        dynamodb.execute_statement(Statement=f"SELECT * FROM \"{name}\" WHERE pk = 'p'")["Items"],
    ]


# --- descriptions ----------------------------------------------------------------------------


def test_customer_managed_key(dynamodb: Client, make_table: MakeTable, key: str) -> None:
    name = make_table({"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key})
    expected = {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": key_arn(key)}
    assert dynamodb.describe_table(TableName=name)["Table"]["SSEDescription"] == expected


@pytest.mark.parametrize("form", ["alias", "alias-arn", "key-arn"])
def test_key_named_any_way(
    dynamodb: Client, kms: Client, make_table: MakeTable, key: str, form: str
) -> None:
    alias = f"alias/{unique_name('k')}"
    kms.create_alias(AliasName=alias, TargetKeyId=key)
    given = {
        "alias": alias,
        "alias-arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:{alias}",
        "key-arn": key_arn(key),
    }[form]
    name = make_table({"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": given})
    sse = dynamodb.describe_table(TableName=name)["Table"]["SSEDescription"]
    assert sse["KMSMasterKeyArn"] == key_arn(key)


def test_aws_managed_key_by_default(dynamodb: Client, kms: Client, make_table: MakeTable) -> None:
    answer = make_table({"Enabled": True})
    sse = dynamodb.describe_table(TableName=answer)["Table"]["SSEDescription"]
    managed = kms.describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]
    assert managed["KeyManager"] == "AWS"
    assert sse == {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": managed["Arn"]}


def test_owned_key_has_no_description(dynamodb: Client, make_table: MakeTable) -> None:
    for sse in (None, {"Enabled": False}):
        name = make_table(sse)
        assert "SSEDescription" not in dynamodb.describe_table(TableName=name)["Table"]


def test_bad_specifications(dynamodb: Client, make_table: MakeTable) -> None:
    with pytest.raises(ClientError) as info:
        make_table({"Enabled": True, "SSEType": "AES256"})
    assert error_of(info)[0] == "ValidationException"
    with pytest.raises(ClientError) as info:
        make_table({"Enabled": True, "KMSMasterKeyId": "alias/aws/dynamodb"})
    assert error_of(info) == (
        "ValidationException",
        "SSEType KMS is required if KMSMasterKeyId is specified",
    )
    missing = "1234abcd-12ab-34cd-56ef-1234567890ab"
    with pytest.raises(ClientError) as info:
        make_table({"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": missing})
    code, message = error_of(info)
    assert code == "AccessDeniedException"
    assert message.startswith("KMS key access denied error: ")
    assert "NotFoundException" in message


# --- the bytes on disk -------------------------------------------------------------------------


def test_items_are_encrypted_on_disk(
    server: Server, dynamodb: Client, make_table: MakeTable, key: str
) -> None:
    encrypted = make_table(
        {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key},
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    plain = make_table()
    for n in (1, 2):
        dynamodb.put_item(TableName=encrypted, Item=item(n))
    dynamodb.put_item(TableName=plain, Item=item(1, "PLAIN-CONTROL-VALUE-51c2", "999.5"))
    dynamodb.update_item(
        TableName=encrypted,
        Key={"pk": {"S": "p"}, "sk": {"S": "s2"}},
        UpdateExpression="SET extra = :e",
        ExpressionAttributeValues={":e": {"S": SECRET + "-updated"}},
    )
    stored = server.stored_bytes()
    assert b"PLAIN-CONTROL-VALUE-51c2" in stored  # the check can see plaintext
    assert SECRET.encode() not in stored
    assert b"12345.678" not in stored
    for answer in read_everything(dynamodb, encrypted):
        first = answer if isinstance(answer, dict) else answer[0]
        first = first.get("Item", first)
        assert first["secret"] == {"S": SECRET}
        assert first["blob"] == {"B": SECRET.encode()}


def test_item_sizes_are_plaintext_sizes(dynamodb: Client, make_table: MakeTable, key: str) -> None:
    encrypted = make_table({"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key})
    plain = make_table()
    for name in (encrypted, plain):
        dynamodb.put_item(TableName=name, Item=item(1))
    sizes = [
        dynamodb.describe_table(TableName=name)["Table"]["TableSizeBytes"]
        for name in (encrypted, plain)
    ]
    assert sizes[0] == sizes[1]
    units = [
        dynamodb.get_item(
            TableName=name,
            Key={"pk": {"S": "p"}, "sk": {"S": "s1"}},
            ReturnConsumedCapacity="TOTAL",
        )["ConsumedCapacity"]["CapacityUnits"]
        for name in (encrypted, plain)
    ]
    assert units[0] == units[1]


# --- key states -------------------------------------------------------------------------------


def assert_inaccessible(dynamodb: Client, name: str, kms_error: str) -> None:
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "INACCESSIBLE_ENCRYPTION_CREDENTIALS"
    assert "InaccessibleEncryptionDateTime" in table["SSEDescription"]
    key = {"pk": {"S": "p"}, "sk": {"S": "s1"}}
    calls: list[Callable[[], Any]] = [
        lambda: dynamodb.get_item(TableName=name, Key=key),
        lambda: dynamodb.scan(TableName=name),
        lambda: dynamodb.put_item(TableName=name, Item=item(3)),
        lambda: dynamodb.query(
            TableName=name,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
        ),
    ]
    for call in calls:
        with pytest.raises(ClientError) as info:
            call()
        code, message = error_of(info)
        assert code == "AccessDeniedException"
        assert message.startswith(
            f"KMS key access denied error: com.amazonaws.services.kms.model.{kms_error}: "
        )


def assert_accessible(dynamodb: Client, name: str) -> None:
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert "InaccessibleEncryptionDateTime" not in table.get("SSEDescription", {})
    got = dynamodb.get_item(TableName=name, Key={"pk": {"S": "p"}, "sk": {"S": "s1"}})
    assert got["Item"]["secret"] == {"S": SECRET}


def assert_key_guards(dynamodb: Client, kms: Client, name: str, key_id: str) -> None:
    """Disabling `key_id` makes the table inaccessible; enabling it again gives it back."""
    kms.disable_key(KeyId=key_id)
    assert_inaccessible(dynamodb, name, "DisabledException")
    kms.enable_key(KeyId=key_id)
    assert_accessible(dynamodb, name)


@pytest.fixture
def encrypted(dynamodb: Client, make_table: MakeTable, key: str) -> str:
    """A table encrypted with `key`, holding item(1)."""
    name = make_table({"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key})
    dynamodb.put_item(TableName=name, Item=item(1))
    return name


def test_disabled_key_makes_the_table_inaccessible(
    dynamodb: Client, kms: Client, encrypted: str, key: str
) -> None:
    assert_key_guards(dynamodb, kms, encrypted, key)


def test_key_pending_deletion(dynamodb: Client, kms: Client, encrypted: str, key: str) -> None:
    name = encrypted
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    assert_inaccessible(dynamodb, name, "KMSInvalidStateException")
    kms.cancel_key_deletion(KeyId=key)
    assert_inaccessible(dynamodb, name, "DisabledException")
    kms.enable_key(KeyId=key)
    assert_accessible(dynamodb, name)


def test_a_disabled_key_cannot_encrypt_a_new_table(
    make_table: MakeTable, kms: Client, key: str
) -> None:
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError) as info:
        make_table({"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key})
    code, message = error_of(info)
    assert code == "AccessDeniedException" and "DisabledException" in message


# --- UpdateTable --------------------------------------------------------------------------------


def test_update_table_changes_the_key(
    dynamodb: Client, kms: Client, encrypted: str, key: str
) -> None:
    name = encrypted
    new_key = kms.create_key()["KeyMetadata"]["KeyId"]
    spec = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": new_key}
    answer = dynamodb.update_table(TableName=name, SSESpecification=spec)
    assert answer["TableDescription"]["SSEDescription"]["KMSMasterKeyArn"] == key_arn(new_key)
    with pytest.raises(ClientError) as info:
        dynamodb.update_table(TableName=name, SSESpecification=spec)
    assert error_of(info)[0] == "ValidationException"
    kms.disable_key(KeyId=key)  # the old key no longer protects anything
    assert_accessible(dynamodb, name)
    assert_key_guards(dynamodb, kms, name, new_key)


def test_update_table_back_to_the_owned_key(
    dynamodb: Client, kms: Client, encrypted: str, key: str
) -> None:
    name = encrypted
    dynamodb.update_table(TableName=name, SSESpecification={"Enabled": False})
    assert "SSEDescription" not in dynamodb.describe_table(TableName=name)["Table"]
    kms.disable_key(KeyId=key)
    assert_accessible(dynamodb, name)
    with pytest.raises(ClientError) as info:
        dynamodb.update_table(TableName=name, SSESpecification={"Enabled": False})
    assert error_of(info)[0] == "ValidationException"


def test_update_table_turns_kms_on(
    server: Server, dynamodb: Client, kms: Client, make_table: MakeTable, key: str
) -> None:
    name = make_table()
    dynamodb.put_item(TableName=name, Item=item(1, "WRITTEN-BEFORE-SSE-9e1"))
    spec = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}
    dynamodb.update_table(TableName=name, SSESpecification=spec)
    dynamodb.put_item(TableName=name, Item=item(2, "WRITTEN-AFTER-SSE-4b7"))
    assert b"WRITTEN-AFTER-SSE-4b7" not in server.stored_bytes()
    items = dynamodb.scan(TableName=name)["Items"]
    secrets = sorted(i["secret"]["S"] for i in items)
    assert secrets == ["WRITTEN-AFTER-SSE-4b7", "WRITTEN-BEFORE-SSE-9e1"]


# --- the master key ------------------------------------------------------------------------------


def test_master_key_file_and_restart(tmp_path: Path) -> None:
    if os.environ.get(ENDPOINT_ENV):
        pytest.skip("needs its own server")
    data = tmp_path / "data"
    data.mkdir()
    with running(data) as first:
        client = first.client("dynamodb")
        kms = first.client("kms")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        name = create_table(
            client,
            unique_name("sse"),
            SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_id},
        )
        client.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"S": SECRET}})
        ciphertext = kms.encrypt(KeyId=key_id, Plaintext=b"kept")["CiphertextBlob"]
    master = data / "master.key"
    assert master.stat().st_mode & 0o777 == 0o600
    with running(data) as second:
        got = second.client("dynamodb").get_item(TableName=name, Key={"pk": {"S": "a"}})
        assert got["Item"]["v"] == {"S": SECRET}
        assert second.client("kms").decrypt(CiphertextBlob=ciphertext)["Plaintext"] == b"kept"
    # The same key given by the environment works; another key is refused at start-up.
    with running(data, master.read_text().strip()):
        pass
    with (
        pytest.raises(pytest.fail.Exception, match="master key does not match"),
        running(data, "A" * 43 + "="),
    ):
        pass
