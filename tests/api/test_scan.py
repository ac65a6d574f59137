"""Scan: full and paginated scans, parallel segments, filters, projections, Select, errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import (
    INVALID,
    KEY_SCHEMA_MISMATCH,
    RESOURCE_NOT_FOUND,
    START_INVALID,
    Client,
    Item,
    TableFactory,
    mixed,
    n,
    put_all,
    raises,
    s,
    unique_name,
    validation,
)


def scan_all(client: Client, table: str, **kwargs: Any) -> tuple[list[Item], int]:
    """Every item of a paginated scan, and the number of pages it took."""
    items: list[Item] = []
    pages = 0
    while True:
        answer = client.scan(TableName=table, **kwargs)
        pages += 1
        items += answer.get("Items", [])
        if "LastEvaluatedKey" not in answer:
            return items, pages
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


@pytest.fixture
def hundred(dynamodb: Client, table: TableFactory) -> str:
    """pk S / sk S: 20 partitions of 5 items, v = the item's number."""
    name = table(range_key=True)
    items = [{"pk": s(f"p{i // 5:02d}"), "sk": s(str(i % 5)), "v": n(str(i))} for i in range(100)]
    put_all(dynamodb, name, items)
    return name


def numbers(items: list[Item]) -> list[int]:
    return sorted(int(i["v"]["N"]) for i in items)


# --- whole scans and pages ------------------------------------------------------------------


def test_scan_returns_every_item_once(dynamodb: Client, hundred: str) -> None:
    answer = dynamodb.scan(TableName=hundred)
    assert numbers(answer["Items"]) == list(range(100))
    assert (answer["Count"], answer["ScannedCount"]) == (100, 100)
    assert "LastEvaluatedKey" not in answer


def test_items_of_a_partition_are_together_in_sort_order(dynamodb: Client, hundred: str) -> None:
    items = dynamodb.scan(TableName=hundred)["Items"]
    partitions = [i["pk"]["S"] for i in items]
    runs = [p for k, p in enumerate(partitions) if k == 0 or partitions[k - 1] != p]
    assert len(runs) == 20  # each partition is one run
    for p in runs:
        assert [i["sk"]["S"] for i in items if i["pk"]["S"] == p] == ["0", "1", "2", "3", "4"]


def test_pages_resume_from_the_last_key(dynamodb: Client, hundred: str) -> None:
    first = dynamodb.scan(TableName=hundred, Limit=7)
    assert (first["Count"], first["ScannedCount"]) == (7, 7)
    last = first["Items"][-1]
    assert first["LastEvaluatedKey"] == {"pk": last["pk"], "sk": last["sk"]}
    items, pages = scan_all(dynamodb, hundred, Limit=7)
    assert numbers(items) == list(range(100))
    assert pages == 15  # 14 full pages, the last one answering the 100th item's key


def test_writes_between_pages(dynamodb: Client, hundred: str) -> None:
    first = dynamodb.scan(TableName=hundred, Limit=50)
    seen = {(i["pk"]["S"], i["sk"]["S"]) for i in first["Items"]}
    # Deleting items already returned does not disturb the next page.
    for pk, sk in list(seen)[:10]:
        dynamodb.delete_item(TableName=hundred, Key={"pk": s(pk), "sk": s(sk)})
    rest, _ = scan_all(dynamodb, hundred, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert len(rest) == 50
    assert not seen & {(i["pk"]["S"], i["sk"]["S"]) for i in rest}


def test_one_megabyte_pages(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    put_all(dynamodb, name, [{"pk": s(f"k{i}"), "d": s("x" * 100_000)} for i in range(25)])
    first = dynamodb.scan(TableName=name, Select="COUNT")
    assert 9 <= first["ScannedCount"] <= 11
    assert "LastEvaluatedKey" in first
    items, pages = scan_all(dynamodb, name, ProjectionExpression="pk")
    assert len(items) == 25 and pages == 3


def test_empty_table(dynamodb: Client, table: TableFactory) -> None:
    answer = dynamodb.scan(TableName=table())
    assert (answer["Items"], answer["Count"], answer["ScannedCount"]) == ([], 0, 0)


# --- parallel scans ------------------------------------------------------------------------


@pytest.mark.parametrize("total", [1, 2, 3, 8, 1_000_000])
def test_segments_are_disjoint_and_cover_the_table(
    dynamodb: Client, hundred: str, total: int
) -> None:
    segments = range(total) if total <= 8 else (0, 1, 499_999, 999_999)
    found: list[Item] = []
    for segment in segments:
        items, _ = scan_all(dynamodb, hundred, Segment=segment, TotalSegments=total, Limit=9)
        found += items
    if total <= 8:
        assert numbers(found) == list(range(100))
    else:
        assert len(set(map(str, found))) == len(found)


def test_a_key_stays_in_its_segment(dynamodb: Client, hundred: str) -> None:
    """Items of one partition share a segment, whatever the page size."""
    for limit in (1, 3, 100):
        owner: dict[str, int] = {}
        for segment in range(4):
            items, _ = scan_all(dynamodb, hundred, Segment=segment, TotalSegments=4, Limit=limit)
            for item in items:
                assert owner.setdefault(item["pk"]["S"], segment) == segment


def test_start_key_of_another_segment(dynamodb: Client, hundred: str) -> None:
    items = dynamodb.scan(TableName=hundred, Segment=1, TotalSegments=2)["Items"]
    key = {"pk": items[0]["pk"], "sk": items[0]["sk"]}
    with validation(
        START_INVALID + ": Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct "
        "Segment. TotalSegments: 2 Segment: 0"
    ):
        dynamodb.scan(TableName=hundred, Segment=0, TotalSegments=2, ExclusiveStartKey=key)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"Segment": 0},
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present",
        ),
        (
            {"TotalSegments": 4},
            "The Segment parameter is required but was not present in the request when "
            "parameter TotalSegments is present",
        ),
        (
            {"Segment": 5, "TotalSegments": 5},
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            "Segment: 5 is not less than TotalSegments: 5",
        ),
    ],
)
def test_segment_errors(
    unchecked: Client, hundred: str, params: dict[str, Any], message: str
) -> None:
    with validation(message):
        unchecked.scan(TableName=hundred, **params)


# --- filters, projections, Select, capacity ------------------------------------------------


def test_filter_expression_counts(dynamodb: Client, hundred: str) -> None:
    answer = dynamodb.scan(
        TableName=hundred,
        FilterExpression="v BETWEEN :low AND :high AND begins_with(pk, :p)",
        ExpressionAttributeValues={":low": n("10"), ":high": n("19"), ":p": s("p0")},
    )
    assert numbers(answer["Items"]) == list(range(10, 19 + 1))
    assert (answer["Count"], answer["ScannedCount"]) == (10, 100)


def test_limit_is_counted_before_the_filter(dynamodb: Client, hundred: str) -> None:
    answer = dynamodb.scan(
        TableName=hundred,
        Limit=10,
        FilterExpression="v < :zero",
        ExpressionAttributeValues={":zero": n("0")},
    )
    assert (answer["Count"], answer["ScannedCount"]) == (0, 10)
    assert "LastEvaluatedKey" in answer


def test_legacy_scan_filter(dynamodb: Client, hundred: str) -> None:
    answer = dynamodb.scan(
        TableName=hundred,
        ScanFilter={
            "v": {"ComparisonOperator": "IN", "AttributeValueList": [n("3"), n("42")]},
            "sk": {"ComparisonOperator": "EQ", "AttributeValueList": [s("4")]},
        },
        ConditionalOperator="OR",
    )
    assert numbers(answer["Items"]) == sorted([3, 42, *range(4, 100, 5)])


V_IS_3 = {"ComparisonOperator": "EQ", "AttributeValueList": [n("3")]}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "ConditionalOperator cannot be used without Filter or Expected"),
        ({"ScanFilter": {}}, "ConditionalOperator cannot be used without Filter or Expected"),
        ({"AttributesToGet": ["v", "pk"]},
         "ConditionalOperator cannot be used without Filter or Expected"),
        ({"ScanFilter": {"v": V_IS_3}},
         "ConditionalOperator can only be used when Filter or Expected has two or more elements"),
        ({"ProjectionExpression": "v"}, mixed("ConditionalOperator", "ProjectionExpression")),
    ],
)  # fmt: skip
def test_conditional_operator_needs_two_filter_conditions(
    dynamodb: Client, hundred: str, params: dict[str, Any], message: str
) -> None:
    with validation(message):
        dynamodb.scan(TableName=hundred, ConditionalOperator="OR", **params)


def test_filter_on_key_attributes_is_allowed(dynamodb: Client, hundred: str) -> None:
    answer = dynamodb.scan(
        TableName=hundred, FilterExpression="pk = :p", ExpressionAttributeValues={":p": s("p03")}
    )
    assert numbers(answer["Items"]) == [15, 16, 17, 18, 19]


def test_projection_and_select(dynamodb: Client, hundred: str) -> None:
    answer = dynamodb.scan(TableName=hundred, ProjectionExpression="v", Limit=3)
    assert all(set(i) == {"v"} for i in answer["Items"])
    legacy = dynamodb.scan(TableName=hundred, AttributesToGet=["sk"], Limit=3)
    assert all(set(i) == {"sk"} for i in legacy["Items"])
    count = dynamodb.scan(TableName=hundred, Select="COUNT")
    assert "Items" not in count and count["Count"] == 100


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"Select": "SPECIFIC_ATTRIBUTES"},
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
            "SPECIFIC_ATTRIBUTES",
        ),
        (
            {"Select": "COUNT", "ProjectionExpression": "v"},
            "Cannot specify the ProjectionExpression when choosing to get only the Count",
        ),
        (
            {"Select": "ALL_ATTRIBUTES", "AttributesToGet": ["v"]},
            "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES",
        ),
        (
            {"Select": "ALL_PROJECTED_ATTRIBUTES"},
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
        ),
    ],
)
def test_select_combinations(
    dynamodb: Client, hundred: str, params: dict[str, Any], message: str
) -> None:
    with validation(message):  # Scan words these without Query's "1 validation error" prefix
        dynamodb.scan(TableName=hundred, **params)


def test_consumed_capacity(dynamodb: Client, hundred: str) -> None:
    answer = dynamodb.scan(TableName=hundred, ReturnConsumedCapacity="TOTAL")
    assert answer["ConsumedCapacity"]["TableName"] == hundred
    assert answer["ConsumedCapacity"]["CapacityUnits"] == 0.5
    strong = dynamodb.scan(TableName=hundred, ReturnConsumedCapacity="INDEXES", ConsistentRead=True)
    assert strong["ConsumedCapacity"]["Table"]["CapacityUnits"] == 1.0


# --- errors --------------------------------------------------------------------------------


def test_missing_table(dynamodb: Client) -> None:
    with raises("ResourceNotFoundException", RESOURCE_NOT_FOUND):
        dynamodb.scan(TableName=unique_name(), ExclusiveStartKey={"x": s("1")})


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ({"pk": s("p01")}, f"{START_INVALID}: {KEY_SCHEMA_MISMATCH}"),
        ({"pk": s("p01"), "other": s("1")}, f"{START_INVALID}: {KEY_SCHEMA_MISMATCH}"),
        ({"pk": s("p01"), "sk": n("1")}, f"{START_INVALID}: {KEY_SCHEMA_MISMATCH}"),
        (
            {"pk": s("p01"), "sk": s("")},
            f"{START_INVALID}: One or more parameter values are not valid. The AttributeValue "
            "for a key attribute cannot contain an empty string value. Key: sk",
        ),
        (
            {"pk": s("p01"), "sk": {"NULL": False}},
            f"{START_INVALID}: {INVALID}Null attribute value types must have the value of true",
        ),
    ],
)
def test_bad_start_keys(unchecked: Client, hundred: str, start: Item, message: str) -> None:
    with validation(message):
        unchecked.scan(TableName=hundred, ExclusiveStartKey=start)


def test_key_attributes_are_scalars_in_filters(dynamodb: Client, hundred: str) -> None:
    with validation(
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
        "allowed: Key: pk"
    ):
        dynamodb.scan(TableName=hundred, FilterExpression="attribute_exists(pk.deep)")
