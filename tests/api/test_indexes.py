"""Secondary indexes: GSIs and LSIs on CreateTable, projections, sparse indexes, index
maintenance, index queries and scans, and GlobalSecondaryIndexUpdates (with backfill)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.api.helpers import (
    INVALID,
    KEY_SCHEMA_MISMATCH,
    START_INVALID,
    Client,
    Item,
    TableFactory,
    attr,
    index_spec,
    n,
    put_all,
    raises,
    s,
    schema,
    unique_name,
    validation,
)


def index_query(client: Client, table: str, index: str, condition: str, **kwargs: Any) -> Any:
    return client.query(
        TableName=table, IndexName=index, KeyConditionExpression=condition, **kwargs
    )


def describe_index(client: Client, table: str, name: str) -> dict[str, Any] | None:
    described = client.describe_table(TableName=table)["Table"]
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for entry in described.get(kind, []):
            if entry["IndexName"] == name:
                found: dict[str, Any] = entry
                return found
    return None


def wait_index_active(client: Client, table: str, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entry = describe_index(client, table, name)
        if entry is not None and entry["IndexStatus"] == "ACTIVE":
            return
        time.sleep(0.05)
    raise AssertionError(f"index {name} not ACTIVE after {timeout}s")


@pytest.fixture
def orders(dynamodb: Client, table: TableFactory) -> str:
    """customer S / order S, with:
    by-status (status, placed) ALL; by-amount (amount N) KEYS_ONLY;
    by-region (region) INCLUDE [note]; lsi by-placed (customer, placed) KEYS_ONLY."""
    return table(
        AttributeDefinitions=[
            attr("customer"),
            attr("order"),
            attr("status"),
            attr("placed"),
            attr("amount", "N"),
            attr("region"),
        ],
        KeySchema=schema("customer", "order"),
        GlobalSecondaryIndexes=[
            index_spec("by-status", "status", "placed"),
            index_spec("by-amount", "amount", ProjectionType="KEYS_ONLY"),
            index_spec("by-region", "region", ProjectionType="INCLUDE", NonKeyAttributes=["note"]),
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by-placed",
                "KeySchema": schema("customer", "placed"),
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )


def order(customer: str, number: int, status: str | None = "open", **more: Item) -> Item:
    out: Item = {"customer": s(customer), "order": s(f"o{number:03d}")}
    if status is not None:
        out["status"] = s(status)
        out["placed"] = s(f"2024-01-{number:02d}")
    out.update(more)
    return out


NAMES = {"#s": "status"}


# --- CreateTable indexes, projections, sparse indexes ---------------------------------------


def test_gsi_query_in_index_order(dynamodb: Client, orders: str) -> None:
    put_all(dynamodb, orders, [order(c, i) for i, c in enumerate("abcabc", start=1)])
    answer = index_query(
        dynamodb, orders, "by-status", "#s = :s AND placed > :d",
        ExpressionAttributeNames=NAMES,
        ExpressionAttributeValues={":s": s("open"), ":d": s("2024-01-02")},
    )  # fmt: skip
    assert [i["placed"]["S"][-2:] for i in answer["Items"]] == ["03", "04", "05", "06"]
    assert answer["Items"][0] == order("c", 3)


def test_projections(dynamodb: Client, orders: str) -> None:
    item = order("a", 1, amount=n("10"), region=s("eu"), note=s("fragile"), extra=s("x"))
    put_all(dynamodb, orders, [item])
    keys_only = index_query(dynamodb, orders, "by-amount", "amount = :t",
                            ExpressionAttributeValues={":t": n("10")})  # fmt: skip
    assert keys_only["Items"] == [{"customer": s("a"), "order": s("o001"), "amount": n("10")}]
    include = index_query(dynamodb, orders, "by-region", "#r = :r",
                          ExpressionAttributeNames={"#r": "region"},
                          ExpressionAttributeValues={":r": s("eu")})  # fmt: skip
    assert include["Items"] == [
        {"customer": s("a"), "order": s("o001"), "region": s("eu"), "note": s("fragile")}
    ]
    projected = index_query(dynamodb, orders, "by-region", "#r = :r",
                            ExpressionAttributeNames={"#r": "region"},
                            ExpressionAttributeValues={":r": s("eu")},
                            Select="ALL_PROJECTED_ATTRIBUTES")  # fmt: skip
    assert projected["Items"] == include["Items"]
    # A GSI answers only what it holds: a non-projected attribute is simply absent.
    partial = index_query(dynamodb, orders, "by-amount", "amount = :t",
                          ExpressionAttributeValues={":t": n("10")},
                          ProjectionExpression="extra, amount")  # fmt: skip
    assert partial["Items"] == [{"amount": n("10")}]


def test_sparse_index(dynamodb: Client, orders: str) -> None:
    put_all(dynamodb, orders, [order("a", 1), order("a", 2, status=None), order("b", 3)])
    answer = dynamodb.scan(TableName=orders, IndexName="by-status")
    assert sorted(i["order"]["S"] for i in answer["Items"]) == ["o001", "o003"]
    assert dynamodb.scan(TableName=orders, IndexName="by-amount")["Count"] == 0


def test_index_follows_updates_and_deletes(dynamodb: Client, orders: str) -> None:
    put_all(dynamodb, orders, [order("a", 1)])
    dynamodb.update_item(
        TableName=orders,
        Key={"customer": s("a"), "order": s("o001")},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames=NAMES,
        ExpressionAttributeValues={":s": s("shipped")},
    )

    def statuses(status: str) -> int:
        answer = index_query(dynamodb, orders, "by-status", "#s = :s",
                             ExpressionAttributeNames=NAMES,
                             ExpressionAttributeValues={":s": s(status)})  # fmt: skip
        return int(answer["Count"])

    assert (statuses("open"), statuses("shipped")) == (0, 1)
    dynamodb.update_item(
        TableName=orders,
        Key={"customer": s("a"), "order": s("o001")},
        UpdateExpression="REMOVE #s",
        ExpressionAttributeNames=NAMES,
    )
    assert statuses("shipped") == 0
    put_all(dynamodb, orders, [order("a", 1, status="open")])
    dynamodb.delete_item(TableName=orders, Key={"customer": s("a"), "order": s("o001")})
    assert statuses("open") == 0


def test_index_key_types_are_checked_on_write(dynamodb: Client, orders: str) -> None:
    with validation(
        INVALID + "Type mismatch for Index Key amount Expected: N Actual: S IndexName: by-amount"
    ):
        dynamodb.put_item(TableName=orders, Item=order("a", 1, amount=s("ten")))


def test_gsi_pages_carry_index_and_table_keys(dynamodb: Client, orders: str) -> None:
    put_all(dynamodb, orders, [order(f"c{i}", i % 3 + 1, amount=n("5")) for i in range(10)])
    seen: list[str] = []
    kwargs: dict[str, Any] = {"Limit": 4, "ExpressionAttributeValues": {":t": n("5")}}
    while True:
        answer = index_query(dynamodb, orders, "by-amount", "amount = :t", **kwargs)
        seen += [i["customer"]["S"] for i in answer["Items"]]
        if "LastEvaluatedKey" not in answer:
            break
        last = answer["Items"][-1]
        assert answer["LastEvaluatedKey"] == {
            "customer": last["customer"],
            "order": last["order"],
            "amount": n("5"),
        }
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    assert sorted(seen) == sorted(f"c{i}" for i in range(10))


def test_index_scan_with_start_key(dynamodb: Client, orders: str) -> None:
    put_all(dynamodb, orders, [order(f"c{i}", i % 28 + 1) for i in range(30)])
    first = dynamodb.scan(TableName=orders, IndexName="by-status", Limit=10)
    assert set(first["LastEvaluatedKey"]) == {"customer", "order", "status", "placed"}
    rest = dynamodb.scan(
        TableName=orders, IndexName="by-status", ExclusiveStartKey=first["LastEvaluatedKey"]
    )
    keys = [i["customer"]["S"] for i in first["Items"] + rest["Items"]]
    assert sorted(keys) == sorted(f"c{i}" for i in range(30))


def test_lsi_query_and_table_fetches(dynamodb: Client, orders: str) -> None:
    put_all(dynamodb, orders, [order("a", i, note=s(f"n{i}")) for i in (3, 1, 2)])
    put_all(dynamodb, orders, [order("b", 9)])
    keys_only = index_query(dynamodb, orders, "by-placed", "customer = :c",
                            ExpressionAttributeValues={":c": s("a")},
                            ScanIndexForward=False, ConsistentRead=True)  # fmt: skip
    assert [i["placed"]["S"][-1] for i in keys_only["Items"]] == ["3", "2", "1"]
    assert set(keys_only["Items"][0]) == {"customer", "order", "placed"}
    # Attributes an LSI does not project are read from the table.
    everything = index_query(dynamodb, orders, "by-placed", "customer = :c",
                             ExpressionAttributeValues={":c": s("a")},
                             Select="ALL_ATTRIBUTES", ReturnConsumedCapacity="INDEXES")  # fmt: skip
    assert everything["Items"][0] == order("a", 1, note=s("n1"))
    capacity = everything["ConsumedCapacity"]
    assert capacity["LocalSecondaryIndexes"]["by-placed"]["CapacityUnits"] == 0.5
    assert capacity["Table"]["CapacityUnits"] == 0.5
    notes = index_query(dynamodb, orders, "by-placed", "customer = :c AND placed >= :p",
                        ExpressionAttributeValues={":c": s("a"), ":p": s("2024-01-02")},
                        ProjectionExpression="note")  # fmt: skip
    assert notes["Items"] == [{"note": s("n2")}, {"note": s("n3")}]


def test_lsi_filter_on_attributes_it_does_not_project(dynamodb: Client, orders: str) -> None:
    put_all(dynamodb, orders, [order("a", i, note=s(f"n{i}")) for i in (1, 2, 3)])
    answer = index_query(dynamodb, orders, "by-placed", "customer = :c",
                         FilterExpression="note = :n",
                         ExpressionAttributeValues={":c": s("a"), ":n": s("n2")})  # fmt: skip
    # The filter reads the table item; the answer keeps to what the index projects.
    assert answer["Items"] == [{"customer": s("a"), "order": s("o002"), "placed": s("2024-01-02")}]
    assert (answer["Count"], answer["ScannedCount"]) == (1, 3)


def test_index_capacity(dynamodb: Client, orders: str) -> None:
    put_all(dynamodb, orders, [order("a", 1)])
    answer = index_query(dynamodb, orders, "by-status", "#s = :s",
                         ExpressionAttributeNames=NAMES,
                         ExpressionAttributeValues={":s": s("open")},
                         ReturnConsumedCapacity="INDEXES")  # fmt: skip
    capacity = answer["ConsumedCapacity"]
    assert capacity["CapacityUnits"] == 0.5
    assert capacity["Table"]["CapacityUnits"] == 0.0
    assert list(capacity["GlobalSecondaryIndexes"]) == ["by-status"]
    assert capacity["GlobalSecondaryIndexes"]["by-status"]["CapacityUnits"] == 0.5


def test_index_read_errors(dynamodb: Client, orders: str) -> None:
    values = {":s": s("open")}
    with validation("The table does not have the specified index: nope"):
        index_query(dynamodb, orders, "nope", "#s = :s", ExpressionAttributeNames=NAMES,
                    ExpressionAttributeValues=values)  # fmt: skip
    with validation("Consistent reads are not supported on global secondary indexes"):
        dynamodb.scan(TableName=orders, IndexName="by-status", ConsistentRead=True)
    with validation(
        INVALID + "Select type ALL_ATTRIBUTES is not supported for global secondary index "
        "by-amount because its projection type is not ALL"
    ):
        index_query(dynamodb, orders, "by-amount", "amount = :t", Select="ALL_ATTRIBUTES",
                    ExpressionAttributeValues={":t": n("1")})  # fmt: skip
    with validation("Query condition missed key schema element: status"):
        index_query(dynamodb, orders, "by-status", "customer = :c",
                    ExpressionAttributeValues={":c": s("a")})  # fmt: skip
    with validation(
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: "
        "placed"
    ):
        index_query(dynamodb, orders, "by-status", "#s = :s", ExpressionAttributeNames=NAMES,
                    FilterExpression="placed > :s", ExpressionAttributeValues=values)  # fmt: skip


def test_index_start_key_errors(dynamodb: Client, orders: str) -> None:
    values = {":s": s("open")}
    with validation(START_INVALID):
        index_query(dynamodb, orders, "by-status", "#s = :s", ExpressionAttributeNames=NAMES,
                    ExpressionAttributeValues=values,
                    ExclusiveStartKey={"customer": s("a"), "order": s("o1")})  # fmt: skip
    with validation(f"{START_INVALID}: {KEY_SCHEMA_MISMATCH}"):
        index_query(dynamodb, orders, "by-status", "#s = :s", ExpressionAttributeNames=NAMES,
                    ExpressionAttributeValues=values,
                    ExclusiveStartKey={"customer": s("a"), "order": n("1"), "status": s("open"),
                                       "placed": s("x")})  # fmt: skip


def test_describe_shows_index_shapes(dynamodb: Client, orders: str) -> None:
    put_all(dynamodb, orders, [order("a", 1, amount=n("3")), order("a", 2, status=None)])
    described = dynamodb.describe_table(TableName=orders)["Table"]
    by_name = {g["IndexName"]: g for g in described["GlobalSecondaryIndexes"]}
    status = by_name["by-status"]
    assert status["IndexArn"] == f"{described['TableArn']}/index/by-status"
    assert (status["IndexStatus"], status["ItemCount"]) == ("ACTIVE", 1)
    assert status["IndexSizeBytes"] > 0
    assert status["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert by_name["by-region"]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["note"],
    }
    [lsi] = described["LocalSecondaryIndexes"]
    assert lsi["IndexName"] == "by-placed" and lsi["ItemCount"] == 1
    assert "ProvisionedThroughput" not in lsi and "IndexStatus" not in lsi


def test_item_collection_metrics_on_lsi_tables(dynamodb: Client, orders: str) -> None:
    answer = dynamodb.put_item(
        TableName=orders, Item=order("a", 1), ReturnItemCollectionMetrics="SIZE"
    )
    metrics = answer["ItemCollectionMetrics"]
    assert metrics["ItemCollectionKey"] == {"customer": s("a")}
    assert len(metrics["SizeEstimateRangeGB"]) == 2


# --- GlobalSecondaryIndexUpdates ------------------------------------------------------------


def create_gsi(client: Client, table: str, index: Any, *definitions: Any, **more: Any) -> Any:
    return client.update_table(
        TableName=table,
        AttributeDefinitions=list(definitions),
        GlobalSecondaryIndexUpdates=[{"Create": index}],
        **more,
    )


def test_create_gsi_backfills_existing_items(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    put_all(dynamodb, name, [{"pk": s(f"k{i}"), "color": s("red" if i % 2 else "blue")}
                             for i in range(40)])  # fmt: skip
    put_all(dynamodb, name, [{"pk": s("plain")}, {"pk": s("typed"), "color": n("1")}])
    answer = create_gsi(dynamodb, name, index_spec("by-color", "color"), attr("color"))
    described = answer["TableDescription"]
    assert described["TableStatus"] == "UPDATING"
    [entry] = described["GlobalSecondaryIndexes"]
    assert (entry["IndexStatus"], entry["Backfilling"]) == ("CREATING", False)
    assert entry["IndexArn"].endswith(f"table/{name}/index/by-color")
    assert {"AttributeName": "color", "AttributeType": "S"} in described["AttributeDefinitions"]
    wait_index_active(dynamodb, name, "by-color")
    entry = describe_index(dynamodb, name, "by-color")
    assert entry is not None and "Backfilling" not in entry and entry["ItemCount"] == 40
    red = index_query(dynamodb, name, "by-color", "color = :c",
                      ExpressionAttributeValues={":c": s("red")})  # fmt: skip
    assert red["Count"] == 20
    # From now on the index's key type is enforced on writes.
    with validation(
        INVALID + "Type mismatch for Index Key color Expected: S Actual: N IndexName: by-color"
    ):
        dynamodb.put_item(TableName=name, Item={"pk": s("x"), "color": n("2")})


def test_large_backfill_runs_in_the_background(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    count = 12_000
    put_all(dynamodb, name, [{"pk": s(f"k{i:05d}"), "g": s(f"g{i % 10}")} for i in range(count)])
    create_gsi(dynamodb, name, index_spec("by-g", "g"), attr("g"))
    entry = describe_index(dynamodb, name, "by-g")
    assert entry is not None
    assert (entry["IndexStatus"], entry["Backfilling"]) == ("CREATING", True)
    # The table takes writes while the index builds; the index refuses reads.
    dynamodb.put_item(TableName=name, Item={"pk": s("late"), "g": s("g0")})
    with validation("Cannot read from backfilling global secondary index: by-g"):
        index_query(dynamodb, name, "by-g", "g = :g", ExpressionAttributeValues={":g": s("g0")})
    with raises("LimitExceededException", "Subscriber limit exceeded: Only 1 online index can be "
                "created or deleted simultaneously per table"):  # fmt: skip
        create_gsi(dynamodb, name, index_spec("by-h", "h"), attr("h"))
    wait_index_active(dynamodb, name, "by-g")
    answer = index_query(dynamodb, name, "by-g", "g = :g", Select="COUNT",
                         ExpressionAttributeValues={":g": s("g0")})  # fmt: skip
    assert answer["Count"] == count // 10 + 1


def test_delete_gsi(dynamodb: Client, orders: str) -> None:
    put_all(dynamodb, orders, [order("a", 1, amount=n("1"))])
    answer = dynamodb.update_table(
        TableName=orders, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-amount"}}]
    )["TableDescription"]
    assert answer["TableStatus"] == "UPDATING"
    deleting = [g for g in answer["GlobalSecondaryIndexes"] if g["IndexName"] == "by-amount"]
    assert deleting[0]["IndexStatus"] == "DELETING"
    assert describe_index(dynamodb, orders, "by-amount") is None
    described = dynamodb.describe_table(TableName=orders)["Table"]
    assert "amount" not in {d["AttributeName"] for d in described["AttributeDefinitions"]}
    with validation("The table does not have the specified index: by-amount"):
        dynamodb.scan(TableName=orders, IndexName="by-amount")
    # Writes no longer check the dropped index's key type.
    dynamodb.put_item(TableName=orders, Item=order("a", 2, amount=s("now a string")))


def test_delete_then_create_same_name(dynamodb: Client, orders: str) -> None:
    put_all(dynamodb, orders, [order("a", 1, amount=n("1"))])
    dynamodb.update_table(
        TableName=orders, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-amount"}}]
    )
    create_gsi(dynamodb, orders, index_spec("by-amount", "order"), attr("order"))
    wait_index_active(dynamodb, orders, "by-amount")
    answer = index_query(dynamodb, orders, "by-amount", "#o = :o",
                         ExpressionAttributeNames={"#o": "order"},
                         ExpressionAttributeValues={":o": s("o001")})  # fmt: skip
    assert answer["Items"] == [order("a", 1, amount=n("1"))]


def test_update_gsi_throughput(dynamodb: Client, table: TableFactory) -> None:
    name = table(
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        AttributeDefinitions=[attr("pk"), attr("g")],
        GlobalSecondaryIndexes=[
            {
                **index_spec("by-g", "g"),
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            }
        ],
    )
    update = {
        "IndexName": "by-g",
        "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3},
    }
    answer = dynamodb.update_table(
        TableName=name, GlobalSecondaryIndexUpdates=[{"Update": update}]
    )["TableDescription"]
    [entry] = answer["GlobalSecondaryIndexes"]
    assert entry["IndexStatus"] == "UPDATING"
    assert entry["ProvisionedThroughput"]["ReadCapacityUnits"] == 1  # echoes the old value
    entry = describe_index(dynamodb, name, "by-g")
    assert entry is not None
    throughput = entry["ProvisionedThroughput"]
    assert (throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]) == (2, 3)
    with validation(
        "The provisioned throughput for the index by-g will not change. The requested value "
        "equals the current value. Current ReadCapacityUnits provisioned for index by-g: 2. "
        "Requested ReadCapacityUnits: 2. Current WriteCapacityUnits provisioned for index "
        "by-g: 3. Requested WriteCapacityUnits: 3. Refer to the Amazon DynamoDB Developer "
        "Guide for current limits and how to request higher limits."
    ):
        dynamodb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Update": update}])
    with validation(
        INVALID + "Both ReadCapacityUnits and WriteCapacityUnits must be specified for index: by-h"
    ):
        create_gsi(dynamodb, name, index_spec("by-h", "h"), attr("h"))
    with validation(INVALID + "You cannot create or delete index while updating table IOPS"):
        create_gsi(
            dynamodb,
            name,
            {**index_spec("by-h", "h"), "ProvisionedThroughput": update["ProvisionedThroughput"]},
            attr("h"),
            ProvisionedThroughput={"ReadCapacityUnits": 9, "WriteCapacityUnits": 9},
        )
    created = create_gsi(
        dynamodb,
        name,
        {**index_spec("by-h", "h"), "ProvisionedThroughput": {"ReadCapacityUnits": 4,
                                                       "WriteCapacityUnits": 4}},
        attr("h"),
    )  # fmt: skip
    entries = created["TableDescription"]["GlobalSecondaryIndexes"]
    assert [e["ProvisionedThroughput"]["ReadCapacityUnits"] for e in entries] == [2, 4]


@pytest.mark.parametrize(
    ("updates", "message"),
    [
        (
            [{}],
            INVALID
            + "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
            "GlobalSecondaryIndexUpdate.Delete must not be null",
        ),
        (
            [{"Delete": {"IndexName": "by-amount"}, "Update": {"IndexName": "by-amount"}}],
            INVALID + "Only one global secondary index action is allowed per "
            "GlobalSecondaryIndexUpdate object",
        ),
        (
            [{"Delete": {"IndexName": "by-amount"}}, {"Update": {"IndexName": "by-amount"}}],
            INVALID + "Only one global secondary index update per index is allowed "
            "simultaneously. Index: by-amount",
        ),
        (
            [{"Create": index_spec("by-status", "status")}],
            "Attempting to create an index which already exists",
        ),
        (
            [{"Create": index_spec("by-placed", "status")}],
            "Attempting to create an index which already exists",
        ),
        (
            [{"Delete": {"IndexName": "by-placed"}}],
            "Cannot delete an index that is not a GlobalSecondaryIndex: by-placed",
        ),
        (
            [
                {
                    "Update": {
                        "IndexName": "by-placed",
                        "OnDemandThroughput": {"MaxReadRequestUnits": 5},
                    }
                }
            ],
            "Cannot update an index that is not a GlobalSecondaryIndex: by-placed",
        ),
        (
            [
                {
                    "Update": {
                        "IndexName": "by-amount",
                        "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                    }
                }
            ],
            INVALID + "The only Updates for index: by-amount when TableThroughputMode is "
            "PAY_PER_REQUEST can be to OnDemandThroughput, WarmThroughput",
        ),
    ],
)
def test_gsi_update_errors(
    unchecked: Client, orders: str, updates: list[Any], message: str
) -> None:
    with validation(message):
        unchecked.update_table(
            TableName=orders,
            AttributeDefinitions=[attr("status")],
            GlobalSecondaryIndexUpdates=updates,
        )


def test_gsi_create_errors(unchecked: Client, orders: str) -> None:
    index = index_spec("by-new", "fresh")
    with validation(INVALID + "AttributeDefinitions is not specified for index: by-new"):
        unchecked.update_table(TableName=orders, GlobalSecondaryIndexUpdates=[{"Create": index}])
    with validation(
        INVALID + "Some index key attributes are not defined in AttributeDefinitions. Keys: "
        "[fresh], AttributeDefinitions: [other, customer, order, status, placed, amount, region]"
    ):
        create_gsi(unchecked, orders, index, attr("other"))
    with validation(
        INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified for index: "
        "by-new when BillingMode is PAY_PER_REQUEST"
    ):
        create_gsi(unchecked, orders, {**index, "ProvisionedThroughput": {
            "ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}, attr("fresh"))  # fmt: skip
    with validation(INVALID + "ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified"):
        create_gsi(unchecked, orders, index_spec("by-new", "fresh", ProjectionType="KEYS_ONLY",
                                          NonKeyAttributes=["x"]), attr("fresh"))  # fmt: skip
    with raises("LimitExceededException", "Subscriber limit exceeded: Only 1 online index can be "
                "created or deleted simultaneously per table"):  # fmt: skip
        unchecked.update_table(
            TableName=orders,
            AttributeDefinitions=[attr("fresh")],
            GlobalSecondaryIndexUpdates=[
                {"Create": index},
                {"Delete": {"IndexName": "by-amount"}},
            ],
        )


def test_unknown_index_updates(dynamodb: Client, orders: str) -> None:
    with raises(
        "ResourceNotFoundException", f"Requested resource not found: Index ghost for table {orders}"
    ):
        dynamodb.update_table(
            TableName=orders, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "ghost"}}]
        )


def test_empty_gsi_update_list(unchecked: Client, orders: str) -> None:
    with validation(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, "
        "MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, "
        "DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required"
    ):
        unchecked.update_table(TableName=orders, GlobalSecondaryIndexUpdates=[])
    with validation(INVALID + "List of GlobalSecondaryIndexUpdates is empty"):
        unchecked.update_table(
            TableName=orders, GlobalSecondaryIndexUpdates=[], BillingMode="PAY_PER_REQUEST"
        )


def test_twenty_first_gsi(dynamodb: Client, table: TableFactory) -> None:
    names = [f"a{i:02d}" for i in range(20)]
    name = table(
        AttributeDefinitions=[attr("pk"), *[attr(a) for a in names]],
        GlobalSecondaryIndexes=[index_spec(f"i-{a}", a, ProjectionType="KEYS_ONLY") for a in names],
    )
    with raises(
        "LimitExceededException",
        "Subscriber limit exceeded: Number of global secondary indexes exceeds per-table limit "
        "of 20",
    ):
        create_gsi(dynamodb, name, index_spec("i-more", "more"), attr("more"))


# --- CreateTable's index limits --------------------------------------------------------------


def create_params(**more: Any) -> dict[str, Any]:
    return {
        "TableName": unique_name(),
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": schema("pk", "sk"),
        **more,
    }


def test_create_table_index_limits(unchecked: Client) -> None:
    names = [f"a{i:02d}" for i in range(21)]
    definitions = [attr("pk"), attr("sk"), *[attr(a) for a in names]]
    with validation(INVALID + "GlobalSecondaryIndex count exceeds the per-table limit of 20"):
        unchecked.create_table(
            **create_params(
                AttributeDefinitions=definitions,
                GlobalSecondaryIndexes=[
                    index_spec(f"i-{a}", a, ProjectionType="KEYS_ONLY") for a in names
                ],
            )
        )
    lsis = [
        {
            "IndexName": f"l-{a}",
            "KeySchema": schema("pk", a),
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
        for a in names[:6]
    ]
    with validation(INVALID + "Number of LocalSecondaryIndexes exceeds per-table limit of 5"):
        unchecked.create_table(
            **create_params(
                AttributeDefinitions=[attr("pk"), attr("sk"), *[attr(a) for a in names[:6]]],
                LocalSecondaryIndexes=lsis,
            )
        )
    # Counted per index: the same 17 attributes in six indexes make 102.
    many = [f"x{i}" for i in range(17)]
    keyed = names[:6]
    with validation(INVALID + "Number of projected attributes in all indexes exceeds limit of 100"):
        unchecked.create_table(
            **create_params(
                AttributeDefinitions=[attr("pk"), attr("sk"), *[attr(a) for a in keyed]],
                GlobalSecondaryIndexes=[
                    index_spec(f"i-{a}", a, ProjectionType="INCLUDE", NonKeyAttributes=many)
                    for a in keyed
                ],
            )
        )
