"""DeleteTable: the DELETING answer, the waiters, and what is gone afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.api.conftest import own_server
from tests.api.helpers import (
    NAME_PATTERN,
    RESOURCE_NOT_FOUND,
    Client,
    TableFactory,
    aws_client,
    create_table,
    key,
    one_error,
    raises,
    read,
    table_not_found,
    unique_name,
    validation,
    wait_active,
    wait_gone,
)

PROTECTED = (
    "Resource cannot be deleted as it is currently protected against deletion. "
    "Disable deletion protection first."
)


def test_answer_is_deleting(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
    desc = dynamodb.delete_table(TableName=name)["TableDescription"]
    assert desc["TableName"] == name
    assert desc["TableStatus"] == "DELETING"
    assert desc["TableArn"] == arn
    assert desc["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]


@pytest.mark.parametrize("operation", ["describe_table", "delete_table"])
def test_table_not_found_after_the_waiter(
    dynamodb: Client, table: TableFactory, operation: str
) -> None:
    """Once the table_not_exists waiter returns, DescribeTable and a second DeleteTable
    find no table."""
    name = table()
    dynamodb.delete_table(TableName=name)
    wait_gone(dynamodb, name)
    with raises("ResourceNotFoundException", table_not_found(name)):
        getattr(dynamodb, operation)(TableName=name)


def test_item_operations_fail_after_delete(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    dynamodb.put_item(TableName=name, Item=key("a"))
    dynamodb.delete_table(TableName=name)
    wait_gone(dynamodb, name)
    with raises("ResourceNotFoundException", RESOURCE_NOT_FOUND):
        dynamodb.get_item(TableName=name, Key=key("a"))
    with raises("ResourceNotFoundException", RESOURCE_NOT_FOUND):
        dynamodb.put_item(TableName=name, Item=key("a"))


def test_recreated_table_is_empty_and_new(
    dynamodb: Client, table: TableFactory, cleanup: Callable[[str], str]
) -> None:
    name = table()
    old_id = dynamodb.describe_table(TableName=name)["Table"]["TableId"]
    dynamodb.put_item(TableName=name, Item={**key("a"), "v": {"S": "old"}})
    dynamodb.delete_table(TableName=name)
    wait_gone(dynamodb, name)
    table(TableName=name)
    assert read(dynamodb, name, key("a")) is None
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert desc["TableId"] != old_id
    assert desc["ItemCount"] == 0


def test_unknown_table(dynamodb: Client) -> None:
    name = unique_name("missing")
    with raises("ResourceNotFoundException", table_not_found(name)):
        dynamodb.delete_table(TableName=name)


def test_deletion_protection_blocks_delete(dynamodb: Client, table: TableFactory) -> None:
    name = table(DeletionProtectionEnabled=True)
    dynamodb.put_item(TableName=name, Item=key("keep"))
    with validation(PROTECTED):
        dynamodb.delete_table(TableName=name)
    desc = dynamodb.describe_table(TableName=name)["Table"]
    assert desc["TableStatus"] == "ACTIVE"
    assert read(dynamodb, name, key("keep")) == key("keep")


def test_delete_after_lifting_protection(dynamodb: Client, table: TableFactory) -> None:
    name = table(DeletionProtectionEnabled=True)
    dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False)
    wait_active(dynamodb, name)
    assert dynamodb.delete_table(TableName=name)["TableDescription"]["TableStatus"] == "DELETING"
    wait_gone(dynamodb, name)


def test_other_tables_are_untouched(dynamodb: Client, table: TableFactory) -> None:
    doomed, kept = table(), table()
    dynamodb.put_item(TableName=kept, Item=key("a"))
    dynamodb.delete_table(TableName=doomed)
    wait_gone(dynamodb, doomed)
    assert read(dynamodb, kept, key("a")) == key("a")


def test_invalid_name(dynamodb: Client) -> None:
    message = one_error("no way!", "tableName", NAME_PATTERN)
    with validation(message):
        dynamodb.delete_table(TableName="no way!")


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """A client of a server whose tables stay CREATING/UPDATING/DELETING two seconds."""
    with own_server(tmp_path_factory.mktemp("updating"), "--table-status-delay", "2") as url:
        yield aws_client(url)


def test_table_being_updated(slow: Client) -> None:
    name = create_table(
        slow, ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
    )
    slow.update_table(
        TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 2}
    )
    with raises(
        "ResourceInUseException",
        "Attempt to change a resource which is still in use: "
        f"Table: {name} is in the process of being updated.",
    ):
        slow.delete_table(TableName=name)
    wait_active(slow, name)
    assert slow.delete_table(TableName=name)["TableDescription"]["TableStatus"] == "DELETING"
