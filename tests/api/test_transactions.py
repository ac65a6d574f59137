"""TransactWriteItems and TransactGetItems: atomicity, cancellation reasons, limits,
idempotency tokens, capacity, and a race of conditional transactions."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.helpers import (
    KEY_SCHEMA_MISMATCH,
    REQUEST_FAILED,
    RESOURCE_NOT_FOUND,
    Client,
    Item,
    TableFactory,
    attr,
    aws_client,
    index_spec,
    key,
    raises,
    read,
    seed,
    validation,
)
from tests.api.test_update_item import INDEXED
from tests.api.test_update_item import indexed as indexed_fixture

DUPLICATE = "Transaction request cannot include multiple operations on one item"
ONE_ACTION = "TransactItems can only contain one of Check, Put, Update or Delete"
MISMATCH = "The request uses the same client token as a previous, but non-identical request."
TYPE_MISMATCH = "One or more parameter values were invalid: Type mismatch for key pk"
EMPTY_KEY = (
    "One or more parameter values are not valid. The AttributeValue for a key attribute "
    "cannot contain an empty string value. Key: pk"
)
UNUSED_ONE = "Value provided in ExpressionAttributeValues unused in expressions: keys: {:one}"


def cancelled(*codes: str) -> str:
    return (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        f"[{', '.join(codes)}]"
    )


def put(name: str, item: Item, **extra: Any) -> dict[str, Any]:
    return {"Put": {"TableName": name, "Item": item, **extra}}


def update(name: str, item_key: Item, expression: str, **extra: Any) -> dict[str, Any]:
    return {"Update": {"TableName": name, "Key": item_key, "UpdateExpression": expression, **extra}}


def delete(name: str, item_key: Item, **extra: Any) -> dict[str, Any]:
    return {"Delete": {"TableName": name, "Key": item_key, **extra}}


def check(name: str, item_key: Item, condition: str, **extra: Any) -> dict[str, Any]:
    return {
        "ConditionCheck": {
            "TableName": name,
            "Key": item_key,
            "ConditionExpression": condition,
            **extra,
        }
    }


def get(name: str, item_key: Item, **extra: Any) -> dict[str, Any]:
    return {"Get": {"TableName": name, "Key": item_key, **extra}}


def reasons_of(err: ClientError) -> list[dict[str, Any]]:
    response: dict[str, Any] = dict(err.response)
    found: list[dict[str, Any]] = response["CancellationReasons"]
    return found


ONE = {":one": {"N": "1"}}
TRUE = {":t": {"BOOL": True}}
NAMES = {"#n": "n"}


# --- TransactWriteItems -------------------------------------------------------------------


def test_every_action_applies(dynamodb: Client, table: TableFactory) -> None:
    one, two = table(), table(range_key=True)
    seed(dynamodb, one, {**key("upd"), "n": {"N": "1"}})
    seed(dynamodb, one, key("del"))
    seed(dynamodb, two, {**key("chk", "1"), "ok": {"BOOL": True}})
    answer = dynamodb.transact_write_items(
        TransactItems=[
            put(one, {**key("new"), "s": {"S": "x"}}),
            update(one, key("upd"), "SET n = n + :one", ExpressionAttributeValues=ONE),
            delete(one, key("del")),
            check(
                two, key("chk", "1"), "ok = :t", ExpressionAttributeValues={":t": {"BOOL": True}}
            ),
        ]
    )
    assert "ConsumedCapacity" not in answer
    assert read(dynamodb, one, key("new")) == {**key("new"), "s": {"S": "x"}}
    assert read(dynamodb, one, key("upd")) == {**key("upd"), "n": {"N": "2"}}
    assert read(dynamodb, one, key("del")) is None


def test_a_failed_condition_cancels_everything(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    seed(dynamodb, name, {**key("a"), "n": {"N": "1"}})
    seed(dynamodb, name, {**key("b"), "n": {"N": "5"}})
    with raises(
        "TransactionCanceledException", cancelled("None", "ConditionalCheckFailed")
    ) as info:
        dynamodb.transact_write_items(
            TransactItems=[
                update(name, key("a"), "SET n = n + :one", ExpressionAttributeValues=ONE),
                update(
                    name,
                    key("b"),
                    "SET n = n + :one",
                    ConditionExpression="n = :one",
                    ExpressionAttributeValues=ONE,
                ),
            ]
        )
    assert reasons_of(info.value) == [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": REQUEST_FAILED},
    ]
    assert read(dynamodb, name, key("a")) == {**key("a"), "n": {"N": "1"}}
    assert read(dynamodb, name, key("b")) == {**key("b"), "n": {"N": "5"}}


def test_every_failure_is_reported(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    seed(dynamodb, name, {**key("a"), "s": {"S": "text"}})
    seed(dynamodb, name, {**key("b"), "s": {"S": "kept"}})
    with raises("TransactionCanceledException") as info:
        dynamodb.transact_write_items(
            TransactItems=[
                check(name, key("missing"), "attribute_exists(pk)"),
                put(name, key("new")),
                update(name, key("a"), "ADD s :one", ExpressionAttributeValues=ONE),
                delete(
                    name,
                    key("b"),
                    ConditionExpression="attribute_not_exists(pk)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                ),
            ]
        )
    message = info.value.response["Error"]["Message"]
    assert message == cancelled(
        "ConditionalCheckFailed", "None", "ValidationError", "ConditionalCheckFailed"
    )
    reasons = reasons_of(info.value)
    assert reasons[2] == {
        "Code": "ValidationError",
        "Message": "An operand in the update expression has an incorrect data type",
    }
    assert reasons[3]["Item"] == {**key("b"), "s": {"S": "kept"}}
    assert "Item" not in reasons[0]
    assert read(dynamodb, name, key("new")) is None


def test_two_actions_on_one_item(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation(DUPLICATE):
        dynamodb.transact_write_items(
            TransactItems=[put(name, key("a")), check(name, key("a"), "attribute_exists(pk)")]
        )
    assert read(dynamodb, name, key("a")) is None


def test_one_action_per_item_entry(unchecked: Client, table: TableFactory) -> None:
    name = table()
    both = {**put(name, key("a")), **delete(name, key("b"))}
    with validation(ONE_ACTION):
        unchecked.transact_write_items(TransactItems=[both])


def test_limits(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    dynamodb.transact_write_items(TransactItems=[put(name, key(f"k{i}")) for i in range(100)])
    assert read(dynamodb, name, key("k99")) is not None
    with raises("ValidationException") as info:
        dynamodb.transact_write_items(TransactItems=[put(name, key(f"x{i}")) for i in range(101)])
    assert "length less than or equal to 100" in info.value.response["Error"]["Message"]


TOO_LARGE = (
    "Collection size of items exceeded, which can also be caused by the aggregate size of "
    "the items in the transaction exceeding the 4MB limit"
)


def test_aggregate_size_limits(dynamodb: Client, table: TableFactory) -> None:
    """4 MB of items per transaction: eleven items of 390 KB are too many, ten are not."""
    name = table()
    big = "x" * 390_000
    with validation(TOO_LARGE):
        dynamodb.transact_write_items(
            TransactItems=[put(name, {**key(f"w{i}"), "d": {"S": big}}) for i in range(11)]
        )
    assert read(dynamodb, name, key("w0")) is None  # nothing written
    for i in range(11):
        dynamodb.put_item(TableName=name, Item={**key(f"g{i}"), "d": {"S": big}})
    gets = [{"Get": {"TableName": name, "Key": key(f"g{i}")}} for i in range(11)]
    answer = dynamodb.transact_get_items(TransactItems=gets[:10])
    assert all("Item" in response for response in answer["Responses"])
    with validation(TOO_LARGE):
        dynamodb.transact_get_items(TransactItems=gets)


def test_request_errors(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with raises("ResourceNotFoundException", RESOURCE_NOT_FOUND):
        dynamodb.transact_write_items(
            TransactItems=[put(name, key("a")), put("no-such-table-here", key("a"))]
        )
    with validation("Item size has exceeded the maximum allowed size"):
        dynamodb.transact_write_items(
            TransactItems=[put(name, {**key("a"), "d": {"S": "x" * 410_000}})]
        )
    with raises("ValidationException") as info:
        dynamodb.transact_write_items(
            TransactItems=[update(name, key("a"), "SET #x = :v", ExpressionAttributeValues=ONE)]
        )
    assert "#x" in info.value.response["Error"]["Message"]
    assert read(dynamodb, name, key("a")) is None


def validation_error(info: pytest.ExceptionInfo[ClientError], message: str) -> None:
    """A transaction cancelled by one action's key: its ValidationError, nothing else."""
    assert info.value.response["Error"]["Message"] == cancelled("ValidationError")
    assert reasons_of(info.value) == [{"Code": "ValidationError", "Message": message}]


def test_a_key_that_does_not_match_the_schema_cancels(
    dynamodb: Client, table: TableFactory
) -> None:
    """DynamoDB finds a key of the wrong shape while the transaction runs: a cancellation
    with the action's ValidationError, not a ValidationException."""
    name = table()
    wrong, listed = {"pk": {"N": "5"}}, {"pk": {"L": [{"S": "x"}]}}
    for item, actual in ((wrong, "N"), (listed, "L")):
        with raises("TransactionCanceledException") as info:
            dynamodb.transact_write_items(TransactItems=[put(name, item)])
        validation_error(info, f"{TYPE_MISMATCH} expected: S actual: {actual}")
    with raises("TransactionCanceledException") as info:
        dynamodb.transact_write_items(TransactItems=[put(name, {"x": {"S": "y"}})])
    validation_error(
        info, "One or more parameter values were invalid: Missing the key pk in the item"
    )
    lookups = [
        update(name, wrong, "SET a = :one", ExpressionAttributeValues=ONE),
        delete(name, listed),
        delete(name, key("a", "extra")),
        check(name, wrong, "attribute_not_exists(pk)"),
    ]
    for action in lookups:
        with raises("TransactionCanceledException") as info:
            dynamodb.transact_write_items(TransactItems=[action])
        validation_error(info, KEY_SCHEMA_MISMATCH)


def test_only_the_first_bad_key_is_reported(dynamodb: Client, table: TableFactory) -> None:
    """Keys are checked before any action runs, and the first bad one stops the checks:
    the others report None, even an action whose condition would fail."""
    name = table()
    with raises(
        "TransactionCanceledException", cancelled("ValidationError", "None", "None")
    ) as info:
        dynamodb.transact_write_items(
            TransactItems=[
                put(name, {"pk": {"N": "7"}}),
                put(name, {"pk": {"N": "8"}}),
                put(name, key("new"), ConditionExpression="attribute_exists(pk)"),
            ]
        )
    assert [reason["Code"] for reason in reasons_of(info.value)] == [
        "ValidationError",
        "None",
        "None",
    ]
    assert read(dynamodb, name, key("new")) is None


def test_index_keys_in_a_transaction(dynamodb: Client, table: TableFactory) -> None:
    name = table(
        AttributeDefinitions=[attr("pk"), attr("g")],
        GlobalSecondaryIndexes=[index_spec("byG", "g")],
    )
    with raises("TransactionCanceledException") as info:
        dynamodb.transact_write_items(TransactItems=[put(name, {**key("a"), "g": {"N": "1"}})])
    validation_error(
        info,
        "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S "
        "Actual: N IndexName: byG",
    )
    with raises("ValidationException") as refused:
        dynamodb.transact_write_items(TransactItems=[put(name, {**key("a"), "g": {"S": ""}})])
    assert "IndexName: byG, IndexKey: g" in refused.value.response["Error"]["Message"]


REMOVE_ONLY = [
    ("REMOVE a", {}),
    ("REMOVE m.x", {}),
    ("DELETE tags :t", {":t": {"SS": ["x"]}}),
]


@pytest.mark.parametrize(
    ("expression", "values"), REMOVE_ONLY, ids=["remove", "remove-nested", "delete-from-set"]
)
def test_a_remove_only_update_creates_no_item(
    dynamodb: Client, table: TableFactory, expression: str, values: Item
) -> None:
    """As UpdateItem: an update that only removes writes nothing for a missing item, while
    the other actions apply."""
    name = table()
    extra = {"ExpressionAttributeValues": values} if values else {}
    answer = dynamodb.transact_write_items(
        TransactItems=[update(name, key("z"), expression, **extra), put(name, key("p"))],
        ReturnConsumedCapacity="TOTAL",
    )
    assert read(dynamodb, name, key("z")) is None
    assert read(dynamodb, name, key("p")) == key("p")
    assert answer["ConsumedCapacity"][0]["CapacityUnits"] == 4.0


def test_a_remove_only_update_keeps_its_condition(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with raises("TransactionCanceledException", cancelled("ConditionalCheckFailed", "None")):
        dynamodb.transact_write_items(
            TransactItems=[
                update(name, key("z"), "REMOVE a", ConditionExpression="attribute_exists(pk)"),
                put(name, key("p")),
            ]
        )
    assert read(dynamodb, name, key("p")) is None
    dynamodb.transact_write_items(
        TransactItems=[
            update(name, key("z"), "REMOVE a", ConditionExpression="attribute_not_exists(pk)")
        ]
    )
    assert read(dynamodb, name, key("z")) is None
    seed(dynamodb, name, {**key("y"), "a": {"S": "x"}, "b": {"S": "kept"}})
    dynamodb.transact_write_items(
        TransactItems=[
            update(name, key("y"), "REMOVE a", ConditionExpression="attribute_exists(pk)")
        ]
    )
    assert read(dynamodb, name, key("y")) == {**key("y"), "b": {"S": "kept"}}


def refused_when_run(dynamodb: Client, action: dict[str, Any], other: str) -> dict[str, Any]:
    """Run `action` before a check that fails on table `other`: the transaction is
    cancelled with both evaluated, the action refused; its reason."""
    with raises(
        "TransactionCanceledException", cancelled("ValidationError", "ConditionalCheckFailed")
    ) as info:
        dynamodb.transact_write_items(
            TransactItems=[action, check(other, key("c"), "attribute_exists(pk)")]
        )
    return reasons_of(info.value)[0]


def test_an_update_of_a_key_attribute_is_refused_when_it_runs(
    dynamodb: Client, table: TableFactory
) -> None:
    """Even a remove-only update of a missing item: the action's ValidationError, and the
    other actions evaluated."""
    name = table()
    assert refused_when_run(dynamodb, update(name, key("z"), "REMOVE pk"), name) == {
        "Code": "ValidationError",
        "Message": "One or more parameter values were invalid: Cannot update attribute pk. "
        "This attribute is part of the key",
    }
    assert read(dynamodb, name, key("z")) is None


INDEX_MISMATCH = (
    "One or more parameter values were invalid: Type mismatch for Index Key {} Expected: S "
    "Actual: {} IndexName: {}"
)
NOT_SCALAR = (
    "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: {}"
)

indexed = indexed_fixture  # c keys an LSI (S), g a GSI (S); item INDEXED (a/1) has e = 1


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("SET g.a = e ADD c :one", INDEX_MISMATCH.format("c", "N", "by-c")),
        ("SET x = g[1], g = pk + :one", INDEX_MISMATCH.format("g", "N", "by-g")),
        ("SET g = list_append(:l, :l)", INDEX_MISMATCH.format("g", "L", "by-g")),
        ("ADD g.b :one", NOT_SCALAR.format("IndexKey: g")),
        ("SET x = e, y = c[1]", NOT_SCALAR.format("IndexKey: c")),
        ("SET x = pk.y", NOT_SCALAR.format("Key: pk")),
    ],
    ids=["add-type", "arithmetic-type", "list-type", "into-index", "read-index", "read-key"],
)
def test_an_update_against_the_index_schema_cancels(
    dynamodb: Client, table: TableFactory, indexed: str, expression: str, message: str
) -> None:
    """UpdateItem's checks before the read cancel the transaction as a bad key does: that
    action's ValidationError, the others None (even a failing condition), nothing run."""
    other = table()
    values = {k: v for k, v in {":one": {"N": "1"}, ":l": {"L": []}}.items() if k in expression}
    extra = {"ExpressionAttributeValues": values} if values else {}
    with raises(
        "TransactionCanceledException", cancelled("None", "ValidationError", "None")
    ) as info:
        dynamodb.transact_write_items(
            TransactItems=[
                put(other, key("p")),
                update(indexed, key("a", "1"), expression, **extra),
                check(other, key("c"), "attribute_exists(pk)"),
            ]
        )
    assert reasons_of(info.value) == [
        {"Code": "None"},
        {"Code": "ValidationError", "Message": message},
        {"Code": "None"},
    ]
    assert read(dynamodb, other, key("p")) is None
    assert read(dynamodb, indexed, key("a", "1")) == INDEXED


def test_an_index_key_type_known_once_applied(
    dynamodb: Client, table: TableFactory, indexed: str
) -> None:
    """A type that only shows when the update runs: the action's ValidationError, with
    every other action evaluated."""
    action = update(indexed, key("a", "1"), "SET g = e")
    assert refused_when_run(dynamodb, action, table()) == {
        "Code": "ValidationError",
        "Message": "The update expression attempted to update the secondary index key to "
        "unsupported type",
    }
    dynamodb.transact_write_items(
        TransactItems=[
            update(
                indexed,
                key("a", "1"),
                "SET g = :g, c = if_not_exists(c, :g)",
                ExpressionAttributeValues={":g": {"S": "x"}},
            )
        ]
    )
    assert read(dynamodb, indexed, key("a", "1")) == {**INDEXED, "g": {"S": "x"}, "c": {"S": "x"}}


def test_empty_key_values_are_refused_up_front(dynamodb: Client, table: TableFactory) -> None:
    """An empty key value is a ValidationException, even after another action's bad key."""
    name = table()
    for action in (
        put(name, key("")),
        delete(name, key("")),
        check(name, key(""), "size(a) > :one", ExpressionAttributeValues=ONE),
    ):
        with validation(EMPTY_KEY):
            dynamodb.transact_write_items(TransactItems=[action])
    with validation(EMPTY_KEY):
        dynamodb.transact_write_items(
            TransactItems=[put(name, {"pk": {"N": "1"}}), delete(name, key(""))]
        )


def test_expressions_are_checked_before_any_table(dynamodb: Client, table: TableFactory) -> None:
    """Every action's values and expressions come before every table lookup, and those
    before duplicate targets."""
    name = table()
    missing = put("no-such-table-here", key("a"))
    with validation('Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "("'):
        dynamodb.transact_write_items(
            TransactItems=[missing, check(name, key("c"), "attribute_not_exists(")]
        )
    unused = check(name, key("c"), "attribute_not_exists(pk)", ExpressionAttributeValues=ONE)
    with validation(UNUSED_ONE):
        dynamodb.transact_write_items(TransactItems=[missing, unused])
    with validation(UNUSED_ONE):
        dynamodb.transact_write_items(TransactItems=[put(name, key("c")), unused])
    deep: dict[str, Any] = {"S": "leaf"}
    for _ in range(32):
        deep = {"M": {"n": deep}}
    with validation(
        "Nesting Levels have exceeded supported limits: Attributes in the item have nested "
        "levels beyond supported limit"
    ):
        dynamodb.transact_write_items(
            TransactItems=[
                put(name, {**key("d"), "data": deep}),
                check(name, key("c"), "attribute_not_exists("),
            ]
        )
    assert read(dynamodb, name, key("c")) is None


def test_double_write_capacity(dynamodb: Client, table: TableFactory) -> None:
    one, two = table(), table()
    seed(dynamodb, two, {**key("big"), "d": {"S": "x" * 3000}})
    answer = dynamodb.transact_write_items(
        TransactItems=[
            put(one, key("a")),
            put(one, {**key("b"), "d": {"S": "x" * 1500}}),
            check(two, key("big"), "attribute_exists(pk)"),
        ],
        ReturnConsumedCapacity="INDEXES",
    )
    by_table = {entry["TableName"]: entry for entry in answer["ConsumedCapacity"]}
    assert by_table[one]["CapacityUnits"] == 6.0  # 2 x (1 + 2)
    assert by_table[one]["Table"]["CapacityUnits"] == 6.0
    assert by_table[two]["CapacityUnits"] == 6.0  # a check is charged on the item it read


def test_index_and_item_collection_upkeep(dynamodb: Client, table: TableFactory) -> None:
    name = table(
        range_key=True,
        AttributeDefinitions=[attr("pk"), attr("sk"), attr("l")],
        LocalSecondaryIndexes=[index_spec("byL", "pk", "l")],
    )
    answer = dynamodb.transact_write_items(
        TransactItems=[put(name, {**key("p", "1"), "l": {"S": "x"}})],
        ReturnItemCollectionMetrics="SIZE",
    )
    assert answer["ItemCollectionMetrics"][name][0]["ItemCollectionKey"] == {"pk": {"S": "p"}}
    found = dynamodb.query(
        TableName=name,
        IndexName="byL",
        KeyConditionExpression="pk = :p AND l = :l",
        ExpressionAttributeValues={":p": {"S": "p"}, ":l": {"S": "x"}},
    )["Items"]
    assert len(found) == 1


# --- client request tokens ----------------------------------------------------------------


def test_a_token_makes_the_transaction_idempotent(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    token = str(uuid.uuid4())
    request = {
        "TransactItems": [update(name, key("c"), "ADD n :one", ExpressionAttributeValues=ONE)],
        "ClientRequestToken": token,
    }
    first = dynamodb.transact_write_items(**request, ReturnConsumedCapacity="TOTAL")
    again = dynamodb.transact_write_items(**request, ReturnConsumedCapacity="TOTAL")
    dynamodb.transact_write_items(**request)
    assert read(dynamodb, name, key("c")) == {**key("c"), "n": {"N": "1"}}
    assert first["ConsumedCapacity"][0]["CapacityUnits"] == 2.0
    assert "WriteCapacityUnits" not in again["ConsumedCapacity"][0]  # a replay reads
    assert again["ConsumedCapacity"][0]["CapacityUnits"] == 2.0


def test_a_token_with_another_request(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    token = str(uuid.uuid4())
    dynamodb.transact_write_items(TransactItems=[put(name, key("a"))], ClientRequestToken=token)
    with raises("IdempotentParameterMismatchException", MISMATCH):
        dynamodb.transact_write_items(TransactItems=[put(name, key("b"))], ClientRequestToken=token)
    assert read(dynamodb, name, key("b")) is None


def test_a_cancelled_transaction_keeps_no_token(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    token = str(uuid.uuid4())
    request = {
        "TransactItems": [check(name, key("a"), "attribute_exists(pk)"), put(name, key("b"))],
        "ClientRequestToken": token,
    }
    with raises("TransactionCanceledException"):
        dynamodb.transact_write_items(**request)
    seed(dynamodb, name, key("a"))
    dynamodb.transact_write_items(**request)  # the retry runs
    assert read(dynamodb, name, key("b")) == key("b")


# --- TransactGetItems ---------------------------------------------------------------------


def test_gets_in_request_order(dynamodb: Client, table: TableFactory) -> None:
    one, two = table(), table(range_key=True)
    seed(dynamodb, one, {**key("a"), "n": {"N": "1"}, "m": {"M": {"x": {"S": "y"}}}})
    seed(dynamodb, two, key("b", "1"))
    answer = dynamodb.transact_get_items(
        TransactItems=[
            get(two, key("b", "1")),
            get(one, key("missing")),
            get(
                one, key("a"), ProjectionExpression="#n, m.x", ExpressionAttributeNames={"#n": "n"}
            ),
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert answer["Responses"] == [
        {"Item": key("b", "1")},
        {},
        {"Item": {"n": {"N": "1"}, "m": {"M": {"x": {"S": "y"}}}}},
    ]
    by_table = {entry["TableName"]: entry["CapacityUnits"] for entry in answer["ConsumedCapacity"]}
    assert by_table == {one: 4.0, two: 2.0}  # two strongly consistent reads each


def test_get_errors(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation(DUPLICATE):
        dynamodb.transact_get_items(TransactItems=[get(name, key("a")), get(name, key("a"))])
    with raises("ResourceNotFoundException", RESOURCE_NOT_FOUND):
        dynamodb.transact_get_items(TransactItems=[get("no-such-table-here", key("a"))])
    with raises("ValidationException") as info:
        dynamodb.transact_get_items(TransactItems=[get(name, key(f"k{i}")) for i in range(101)])
    assert "length less than or equal to 100" in info.value.response["Error"]["Message"]


def test_a_get_key_that_does_not_match_the_schema_cancels(
    dynamodb: Client, table: TableFactory
) -> None:
    name = table()
    for bad in ({}, {"x": {"S": "a"}}, {"pk": {"N": "1"}}, key("a", "extra")):
        with raises("TransactionCanceledException") as info:
            dynamodb.transact_get_items(TransactItems=[get(name, bad)])
        validation_error(info, KEY_SCHEMA_MISMATCH)
    with raises("TransactionCanceledException", cancelled("None", "ValidationError")):
        dynamodb.transact_get_items(TransactItems=[get(name, key("a")), get(name, {})])
    with validation(EMPTY_KEY):
        dynamodb.transact_get_items(TransactItems=[get(name, {}), get(name, key(""))])


def test_projections_are_checked_before_any_table(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation('Invalid ProjectionExpression: Syntax error; token: "!", near: "!!"'):
        dynamodb.transact_get_items(
            TransactItems=[
                get("no-such-table-here", key("a")),
                get(name, key("a"), ProjectionExpression="!!!"),
            ]
        )


# --- concurrency --------------------------------------------------------------------------


def _client(endpoint: str) -> Client:
    return aws_client(endpoint, max_pool_connections=2)


def test_racing_transfers_keep_every_invariant(
    dynamodb: Client, table: TableFactory, endpoint: str
) -> None:
    """Clients race conditional transfers between a few accounts. A serial execution keeps
    the total, never lets a balance go negative, and counts one version bump per account
    per successful transfer touching it; a lost update or a partial transaction breaks one
    of these."""
    name = table()
    accounts = [f"acct{i}" for i in range(4)]
    start = 100
    for account in accounts:
        seed(dynamodb, name, {**key(account), "bal": {"N": str(start)}, "ver": {"N": "0"}})
    done: list[tuple[str, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def transfer(client: Client, source: str, target: str, amount: int) -> None:
        values = {":a": {"N": str(amount)}, ":one": {"N": "1"}}
        client.transact_write_items(
            TransactItems=[
                update(
                    name,
                    key(source),
                    "SET bal = bal - :a ADD ver :one",
                    ConditionExpression="bal >= :a",
                    ExpressionAttributeValues=values,
                ),
                update(
                    name,
                    key(target),
                    "SET bal = bal + :a ADD ver :one",
                    ExpressionAttributeValues=values,
                ),
            ]
        )

    def worker(number: int) -> None:
        client = _client(endpoint)
        try:
            for step in range(40):
                source = accounts[(number + step) % len(accounts)]
                target = accounts[(number + 2 * step + 1) % len(accounts)]
                if source == target:
                    continue
                try:
                    transfer(client, source, target, 7 + (number * step) % 23)
                except ClientError as err:
                    if err.response["Error"]["Code"] != "TransactionCanceledException":
                        raise
                    continue
                with lock:
                    done.append((source, target))
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    final = {a: read(dynamodb, name, key(a)) for a in accounts}
    balances = {a: int(item["bal"]["N"]) for a, item in final.items() if item}
    versions = {a: int(item["ver"]["N"]) for a, item in final.items() if item}
    assert sum(balances.values()) == start * len(accounts)
    assert min(balances.values()) >= 0
    touched = {a: sum(a in pair for pair in done) for a in accounts}
    assert versions == touched
    assert done  # the race did transfer something
