"""DynamoDB encryption at rest with KMS keys (SSESpecification), end to end with boto3.

These tests run their own server (its data directory is needed to look at the bytes on
disk and to restart it), so they are skipped against an external endpoint.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.api.conftest import ENDPOINT_ENV, _free_port, _stop, _wait_for_server
from tests.api.helpers import ACCESS_KEY, REGION, SECRET_KEY, Client, unique_name

ACCOUNT = "000000000000"
SECRET = "TOP-SECRET-PAYLOAD-7f3a9c"


class Server:
    """A dynastore process on a data directory of its own."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.endpoint = ""

    def start(self, env: dict[str, str] | None = None) -> None:
        port = _free_port()
        stderr = self.data_dir.parent / f"server-{port}.stderr"
        command = [
            sys.executable, "-m", "dynastore", "serve",
            "--host", "127.0.0.1", "--port", str(port),
            "--data-dir", str(self.data_dir),
            "--auth", "accept", "--log-level", "warning",
        ]  # fmt: skip
        environment = {k: v for k, v in os.environ.items() if k != "DYNASTORE_MASTER_KEY"}
        environment.update(env or {})
        with stderr.open("wb") as handle:
            self.proc = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=handle, env=environment
            )
        _wait_for_server(self.proc, port, stderr)
        self.endpoint = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None

    def client(self, name: str) -> Client:
        return boto3.client(
            name,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(retries={"max_attempts": 0}),
        )

    def stored_bytes(self) -> bytes:
        """Everything SQLite keeps on disk (database file and write-ahead log)."""
        return b"".join(
            path.read_bytes() for path in self.data_dir.iterdir() if "dynastore.db" in path.name
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if os.environ.get(ENDPOINT_ENV):
        pytest.skip("needs its own server (bytes on disk, restarts)")
    work = tmp_path_factory.mktemp("sse")
    instance = Server(work / "data")
    instance.data_dir.mkdir()
    instance.start()
    yield instance
    instance.stop()


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
        name = unique_name("sse")
        params: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
            ],
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "by-g",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            **extra,
        }
        if sse is not None:
            params["SSESpecification"] = sse
        dynamodb.create_table(**params)
        return name

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


def error_of(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = info.value.response["Error"]
    return error["Code"], error.get("Message", "")


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
    calls = [
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


def test_disabled_key_makes_the_table_inaccessible(
    dynamodb: Client, kms: Client, make_table: MakeTable, key: str
) -> None:
    name = make_table({"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key})
    dynamodb.put_item(TableName=name, Item=item(1))
    kms.disable_key(KeyId=key)
    assert_inaccessible(dynamodb, name, "DisabledException")
    kms.enable_key(KeyId=key)
    assert_accessible(dynamodb, name)


def test_key_pending_deletion(
    dynamodb: Client, kms: Client, make_table: MakeTable, key: str
) -> None:
    name = make_table({"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key})
    dynamodb.put_item(TableName=name, Item=item(1))
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
    dynamodb: Client, kms: Client, make_table: MakeTable, key: str
) -> None:
    name = make_table({"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key})
    dynamodb.put_item(TableName=name, Item=item(1))
    new_key = kms.create_key()["KeyMetadata"]["KeyId"]
    spec = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": new_key}
    answer = dynamodb.update_table(TableName=name, SSESpecification=spec)
    assert answer["TableDescription"]["SSEDescription"]["KMSMasterKeyArn"] == key_arn(new_key)
    with pytest.raises(ClientError) as info:
        dynamodb.update_table(TableName=name, SSESpecification=spec)
    assert error_of(info)[0] == "ValidationException"
    kms.disable_key(KeyId=key)  # the old key no longer protects anything
    assert_accessible(dynamodb, name)
    kms.disable_key(KeyId=new_key)
    assert_inaccessible(dynamodb, name, "DisabledException")
    kms.enable_key(KeyId=new_key)
    assert_accessible(dynamodb, name)


def test_update_table_back_to_the_owned_key(
    dynamodb: Client, kms: Client, make_table: MakeTable, key: str
) -> None:
    name = make_table({"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key})
    dynamodb.put_item(TableName=name, Item=item(1))
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
    first = Server(data)
    first.start()
    try:
        client = first.client("dynamodb")
        kms = first.client("kms")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        name = unique_name("sse")
        client.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_id},
        )
        client.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"S": SECRET}})
        ciphertext = kms.encrypt(KeyId=key_id, Plaintext=b"kept")["CiphertextBlob"]
    finally:
        first.stop()
    master = data / "master.key"
    assert master.stat().st_mode & 0o777 == 0o600
    second = Server(data)
    second.start()
    try:
        got = second.client("dynamodb").get_item(TableName=name, Key={"pk": {"S": "a"}})
        assert got["Item"]["v"] == {"S": SECRET}
        assert second.client("kms").decrypt(CiphertextBlob=ciphertext)["Plaintext"] == b"kept"
    finally:
        second.stop()
    # The same key given by the environment works; another key is refused at start-up.
    third = Server(data)
    third.start({"DYNASTORE_MASTER_KEY": master.read_text().strip()})
    third.stop()
    wrong = Server(data)
    with pytest.raises(pytest.fail.Exception, match="master key does not match"):
        wrong.start({"DYNASTORE_MASTER_KEY": "A" * 43 + "="})
    wrong.stop()
