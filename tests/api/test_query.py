"""Query: key conditions, order, paging, filters, projections, Select, capacity, errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.api.helpers import (
    INVALID,
    KEY_SCHEMA_MISMATCH,
    RESOURCE_NOT_FOUND,
    START_INVALID,
    Client,
    TableFactory,
    attr,
    empty_key,
    mixed,
    n,
    put_all,
    raises,
    s,
    schema,
    unique_name,
    validation,
)

SELECT_PREFIX = "1 validation error detected: "


def query(client: Client, table: str, pk: str, **kwargs: Any) -> dict[str, Any]:
    """A Query on `pk = :pk`, with more expression values merged in."""
    values = {":pk": s(pk), **kwargs.pop("values", {})}
    condition = kwargs.pop("condition", "pk = :pk")
    answer: dict[str, Any] = client.query(
        TableName=table,
        KeyConditionExpression=condition,
        ExpressionAttributeValues=values,
        **kwargs,
    )
    return answer


def sks(answer: dict[str, Any]) -> list[str]:
    return [next(iter(item["sk"].values())) for item in answer["Items"]]


def sort_key_table(table: TableFactory, kind: str) -> str:
    """pk S / sk of type `kind`."""
    return table(AttributeDefinitions=[attr("pk"), attr("sk", kind)], KeySchema=schema("pk", "sk"))


@pytest.fixture
def letters(dynamodb: Client, table: TableFactory) -> str:
    """pk S / sk S: partition "p" holds sk a..j with v = sk's position; partition "q" one item."""
    name = table(range_key=True)
    items = [{"pk": s("p"), "sk": s(c), "v": n(str(i))} for i, c in enumerate("abcdefghij")]
    put_all(dynamodb, name, [*items, {"pk": s("q"), "sk": s("a")}])
    return name


# --- key conditions and order ----------------------------------------------------------


def test_partition_in_sort_key_order(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    keys = ["1", "10", "2", "A", "B", "a", "aa", "ab", "b", "é"]
    put_all(dynamodb, name, [{"pk": s("p"), "sk": s(k)} for k in reversed(keys)])
    answer = query(dynamodb, name, "p")
    assert sks(answer) == keys
    assert (answer["Count"], answer["ScannedCount"]) == (10, 10)
    assert "LastEvaluatedKey" not in answer


def test_number_sort_keys_order_numerically(dynamodb: Client, table: TableFactory) -> None:
    name = sort_key_table(table, "N")
    values = ["-99.1", "-10.1", "-9", "-1", "-0.1", "-0.01", "0", "0.01", "0.09", "1", "1.1", "9"]
    put_all(dynamodb, name, [{"pk": s("p"), "sk": n(v)} for v in reversed(values)])
    put_all(dynamodb, name, [{"pk": s("p"), "sk": n("1E+2")}])
    assert sks(query(dynamodb, name, "p")) == [*values, "100"]
    assert sks(query(dynamodb, name, "p", ScanIndexForward=False))[:3] == ["100", "9", "1.1"]


def test_binary_sort_keys_order_bytewise(dynamodb: Client, table: TableFactory) -> None:
    name = sort_key_table(table, "B")
    raw = [b"\x00", b"\x00\x01", b"\x01", b"\x7f", b"\x80", b"\xff", b"\xff\x00"]
    put_all(dynamodb, name, [{"pk": s("p"), "sk": {"B": b}} for b in reversed(raw)])
    answer = dynamodb.query(
        TableName=name,
        KeyConditionExpression="pk = :p AND begins_with(sk, :b)",
        ExpressionAttributeValues={":p": s("p"), ":b": {"B": b"\xff"}},
    )
    assert [i["sk"]["B"] for i in answer["Items"]] == [b"\xff", b"\xff\x00"]
    everything = dynamodb.query(
        TableName=name,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": s("p")},
    )
    assert [i["sk"]["B"] for i in everything["Items"]] == raw


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("pk = :pk AND sk = :x", "d"),
        ("pk = :pk AND sk < :x", "abc"),
        ("pk = :pk AND sk <= :x", "abcd"),
        ("pk = :pk AND sk > :x", "efghij"),
        ("pk = :pk AND sk >= :x", "defghij"),
        ("pk = :pk AND sk BETWEEN :x AND :y", "defg"),
        ("pk = :pk AND :x < sk", "efghij"),
        ("pk = :pk AND :y >= sk", "abcdefg"),
        ("sk <= :x AND pk = :pk", "abcd"),
        ("(pk = :pk) AND (sk > :x)", "efghij"),
    ],
)
def test_sort_key_operators(dynamodb: Client, letters: str, condition: str, expected: str) -> None:
    values = {":x": s("d"), ":y": s("g")}
    used = {k: v for k, v in values.items() if k in condition}
    answer = query(dynamodb, letters, "p", condition=condition, values=used)
    assert "".join(sks(answer)) == expected


def test_begins_with(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    put_all(dynamodb, name, [{"pk": s("p"), "sk": s(k)} for k in ("aa", "ab", "abc", "b", "a")])
    answer = query(dynamodb, name, "p", condition="pk = :pk AND begins_with(sk, :x)",
                   values={":x": s("ab")})  # fmt: skip
    assert sks(answer) == ["ab", "abc"]


@pytest.mark.parametrize(
    ("operator", "values", "expected"),
    [
        ("EQ", ["d"], "d"),
        ("LT", ["d"], "abc"),
        ("LE", ["d"], "abcd"),
        ("GT", ["h"], "ij"),
        ("GE", ["h"], "hij"),
        ("BETWEEN", ["b", "c"], "bc"),
        ("BEGINS_WITH", ["j"], "j"),
    ],
)
def test_legacy_key_conditions(
    dynamodb: Client, letters: str, operator: str, values: list[str], expected: str
) -> None:
    answer = dynamodb.query(
        TableName=letters,
        KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [s("p")]},
            "sk": {"ComparisonOperator": operator, "AttributeValueList": [s(v) for v in values]},
        },
    )
    assert "".join(sks(answer)) == expected


def test_hash_only_table(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    put_all(dynamodb, name, [{"pk": s("a"), "v": n("1")}, {"pk": s("b")}])
    answer = query(dynamodb, name, "a")
    assert answer["Items"] == [{"pk": s("a"), "v": n("1")}]
    assert query(dynamodb, name, "zz")["Items"] == []


# --- paging ------------------------------------------------------------------------------


def test_limit_and_exclusive_start_key(dynamodb: Client, letters: str) -> None:
    seen: list[str] = []
    kwargs: dict[str, Any] = {"Limit": 3}
    pages = 0
    while True:
        answer = query(dynamodb, letters, "p", **kwargs)
        pages += 1
        seen += sks(answer)
        if "LastEvaluatedKey" not in answer:
            break
        assert answer["LastEvaluatedKey"] == {"pk": s("p"), "sk": s(seen[-1])}
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    assert "".join(seen) == "abcdefghij"
    assert pages == 4


def test_paging_backwards(dynamodb: Client, letters: str) -> None:
    first = query(dynamodb, letters, "p", Limit=4, ScanIndexForward=False)
    assert sks(first) == list("jihg")
    rest = query(dynamodb, letters, "p", ScanIndexForward=False,
                 ExclusiveStartKey=first["LastEvaluatedKey"])  # fmt: skip
    assert sks(rest) == list("fedcba")


def test_limit_equal_to_the_rest_still_returns_a_key(dynamodb: Client, letters: str) -> None:
    answer = query(dynamodb, letters, "p", Limit=10)
    assert answer["Count"] == 10
    assert answer["LastEvaluatedKey"] == {"pk": s("p"), "sk": s("j")}
    after = query(dynamodb, letters, "p", ExclusiveStartKey=answer["LastEvaluatedKey"])
    assert (after["Count"], after["Items"]) == (0, [])


def test_start_key_inside_a_sort_range(dynamodb: Client, letters: str) -> None:
    answer = query(dynamodb, letters, "p", condition="pk = :pk AND sk BETWEEN :x AND :y",
                   values={":x": s("c"), ":y": s("h")},
                   ExclusiveStartKey={"pk": s("p"), "sk": s("e")})  # fmt: skip
    assert sks(answer) == list("fgh")


def test_one_megabyte_pages(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    big = "x" * 100_000
    put_all(dynamodb, name, [{"pk": s("p"), "sk": s(f"{i:02d}"), "d": s(big)} for i in range(15)])
    first = dynamodb.query(
        TableName=name,
        KeyConditionExpression="pk = :pk",
        FilterExpression="attribute_not_exists(d)",
        ExpressionAttributeValues={":pk": s("p")},
    )
    # Counted before the filter: the page stops after about 1 MB of items read.
    assert first["Count"] == 0
    assert 9 <= first["ScannedCount"] <= 11
    assert first["LastEvaluatedKey"] == {"pk": s("p"), "sk": s(f"{first['ScannedCount'] - 1:02d}")}
    second = dynamodb.query(
        TableName=name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": s("p")},
        ExclusiveStartKey=first["LastEvaluatedKey"],
    )
    assert first["ScannedCount"] + second["Count"] == 15
    assert "LastEvaluatedKey" not in second


# --- filters, projections and Select ------------------------------------------------------


def test_filter_applies_after_limit(dynamodb: Client, letters: str) -> None:
    answer = query(dynamodb, letters, "p", Limit=5, FilterExpression="v >= :three",
                   values={":three": n("3")})  # fmt: skip
    assert sks(answer) == ["d", "e"]
    assert (answer["Count"], answer["ScannedCount"]) == (2, 5)
    assert answer["LastEvaluatedKey"] == {"pk": s("p"), "sk": s("e")}


def test_legacy_query_filter_and_conditional_operator(dynamodb: Client, letters: str) -> None:
    answer = dynamodb.query(
        TableName=letters,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [s("p")]}},
        QueryFilter={
            "v": {"ComparisonOperator": "LT", "AttributeValueList": [n("2")]},
            "missing": {"ComparisonOperator": "NOT_NULL"},
        },
        ConditionalOperator="OR",
    )
    assert sks(answer) == ["a", "b"]
    assert answer["ScannedCount"] == 10


WITHOUT_FILTER = "ConditionalOperator cannot be used without Filter or Expected"
TWO_OR_MORE = (
    "ConditionalOperator can only be used when Filter or Expected has two or more elements"
)
PK_P = {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [s("p")]}}
V_LT_2 = {"ComparisonOperator": "LT", "AttributeValueList": [n("2")]}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"KeyConditions": PK_P}, WITHOUT_FILTER),
        ({"KeyConditions": PK_P, "QueryFilter": {}}, WITHOUT_FILTER),
        ({}, WITHOUT_FILTER),  # before the missing key condition
        ({"KeyConditions": PK_P, "QueryFilter": {"v": V_LT_2}}, TWO_OR_MORE),
        (
            {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": s("p")}},
            mixed("ConditionalOperator", "KeyConditionExpression"),
        ),
    ],
)
def test_conditional_operator_needs_two_filter_conditions(
    unchecked: Client, letters: str, params: dict[str, Any], message: str
) -> None:
    with validation(message):
        unchecked.query(TableName=letters, ConditionalOperator="AND", **params)


def test_key_conditions_with_filter_expression(dynamodb: Client, letters: str) -> None:
    answer = dynamodb.query(
        TableName=letters,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [s("p")]}},
        FilterExpression="v = :v",
        ExpressionAttributeValues={":v": n("9")},
    )
    assert sks(answer) == ["j"]


def test_projection_expression(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    doc = {"M": {"a": s("1"), "b": {"L": [s("x"), s("y"), s("z")]}}}
    put_all(dynamodb, name, [{"pk": s("p"), "sk": s("1"), "doc": doc, "other": s("o")}])
    answer = dynamodb.query(
        TableName=name,
        KeyConditionExpression="pk = :pk",
        ProjectionExpression="#d.b[2], sk",
        ExpressionAttributeNames={"#d": "doc"},
        ExpressionAttributeValues={":pk": s("p")},
    )
    assert answer["Items"] == [{"sk": s("1"), "doc": {"M": {"b": {"L": [s("z")]}}}}]
    legacy = dynamodb.query(
        TableName=name,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [s("p")]}},
        AttributesToGet=["other", "nope"],
    )
    assert legacy["Items"] == [{"other": s("o")}]


def test_select_count(dynamodb: Client, letters: str) -> None:
    answer = query(dynamodb, letters, "p", Select="COUNT", Limit=4)
    assert "Items" not in answer
    assert (answer["Count"], answer["ScannedCount"]) == (4, 4)
    assert answer["LastEvaluatedKey"] == {"pk": s("p"), "sk": s("d")}
    filtered = query(dynamodb, letters, "p", Select="COUNT", FilterExpression="v > :v",
                     values={":v": n("6")})  # fmt: skip
    assert (filtered["Count"], filtered["ScannedCount"]) == (3, 10)


def test_select_specific_and_all(dynamodb: Client, letters: str) -> None:
    specific = query(dynamodb, letters, "p", Select="SPECIFIC_ATTRIBUTES",
                     ProjectionExpression="v", Limit=1)  # fmt: skip
    assert specific["Items"] == [{"v": n("0")}]
    everything = query(dynamodb, letters, "p", Select="ALL_ATTRIBUTES", Limit=1)
    assert everything["Items"] == [{"pk": s("p"), "sk": s("a"), "v": n("0")}]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"Select": "SPECIFIC_ATTRIBUTES"},
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
            "SPECIFIC_ATTRIBUTES",
        ),
        (
            {"Select": "ALL_ATTRIBUTES", "ProjectionExpression": "v"},
            "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES",
        ),
        (
            {"Select": "COUNT", "ProjectionExpression": "v"},
            "Cannot specify the ProjectionExpression when choosing to get only the Count",
        ),
        (
            {"Select": "ALL_PROJECTED_ATTRIBUTES", "ProjectionExpression": "v"},
            "Cannot specify the ProjectionExpression when choosing to get ALL_PROJECTED_ATTRIBUTES",
        ),
        (
            {"Select": "ALL_PROJECTED_ATTRIBUTES"},
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
        ),
    ],
)
def test_select_combinations(
    dynamodb: Client, letters: str, params: dict[str, Any], message: str
) -> None:
    with validation(SELECT_PREFIX + message):
        query(dynamodb, letters, "p", **params)


def test_select_with_attributes_to_get(dynamodb: Client, letters: str) -> None:
    with validation(SELECT_PREFIX + "Cannot specify the AttributesToGet when choosing to get only "
                    "the Count"):  # fmt: skip
        dynamodb.query(
            TableName=letters,
            KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [s("p")]}},
            AttributesToGet=["v"],
            Select="COUNT",
        )


# --- capacity ----------------------------------------------------------------------------


def test_consumed_capacity(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    put_all(dynamodb, name, [{"pk": s("p"), "sk": s(str(i)), "d": s("x" * 3000)} for i in range(4)])
    total = query(dynamodb, name, "p", ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    assert total["TableName"] == name
    assert total["CapacityUnits"] == 1.5  # 4 x ~3 KB = 12 KB: 3 units, halved
    strong = query(dynamodb, name, "p", ReturnConsumedCapacity="INDEXES", ConsistentRead=True)
    capacity = strong["ConsumedCapacity"]
    assert capacity["CapacityUnits"] == 3.0
    assert capacity["Table"]["CapacityUnits"] == 3.0
    assert "ConsumedCapacity" not in query(dynamodb, name, "p", ReturnConsumedCapacity="NONE")


# --- errors ------------------------------------------------------------------------------


def test_missing_table_before_key_checks(dynamodb: Client) -> None:
    with raises("ResourceNotFoundException", RESOURCE_NOT_FOUND):
        dynamodb.query(
            TableName=unique_name(),
            KeyConditionExpression="nothing = :v",
            ExpressionAttributeValues={":v": n("1")},
        )


def test_key_condition_structure_before_the_table(dynamodb: Client) -> None:
    with validation("Invalid operator used in KeyConditionExpression: OR"):
        dynamodb.query(
            TableName=unique_name(),
            KeyConditionExpression="a = :v OR b = :v",
            ExpressionAttributeValues={":v": n("1")},
        )


def test_no_key_condition(unchecked: Client, letters: str) -> None:
    with validation(
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the "
        "request."
    ):
        unchecked.query(TableName=letters)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("pk = :pk OR sk = :x", "Invalid operator used in KeyConditionExpression: OR"),
        ("NOT pk = :pk", "Invalid operator used in KeyConditionExpression: NOT"),
        ("pk IN (:pk, :x)", "Invalid operator used in KeyConditionExpression: IN"),
        ("pk <> :pk", "Invalid operator used in KeyConditionExpression: <>"),
        (
            "pk = :pk AND attribute_exists(sk)",
            "Invalid operator used in KeyConditionExpression: attribute_exists",
        ),
        ("sk = :x", "Query condition missed key schema element: pk"),
        ("pk = :pk AND extra = :x", "Query condition missed key schema element: sk"),
        ("begins_with(pk, :pk)", "Query key condition not supported"),
        ("pk > :pk", "Query key condition not supported"),
        (
            "pk = :pk AND sk > :x AND sk < :x",
            "KeyConditionExpressions must only contain one condition per key",
        ),
        ("pk = :pk AND sk > :x AND extra = :x", "Conditions can be of length 1 or 2 only"),
        (
            "pk = :pk AND sk = :one",
            INVALID + "Condition parameter type does not match schema type",
        ),
        (
            ":pk = :x AND sk = :x",
            "Invalid condition in KeyConditionExpression: No key attribute specified",
        ),
        (
            "pk = :pk AND begins_with(:x, sk)",
            "Invalid condition in KeyConditionExpression: begins_with operator must have the "
            "key attribute as its first operand",
        ),
    ],
)
def test_key_condition_errors(dynamodb: Client, letters: str, condition: str, message: str) -> None:
    values = {":pk": s("p"), ":x": s("b"), ":one": n("1")}
    with validation(message):
        dynamodb.query(
            TableName=letters,
            KeyConditionExpression=condition,
            ExpressionAttributeValues={k: v for k, v in values.items() if k in condition},
        )


def test_empty_binary_in_key_condition(dynamodb: Client, table: TableFactory) -> None:
    name = table(AttributeDefinitions=[attr("pk", "B"), attr("sk", "B")],
                 KeySchema=schema("pk", "sk"))  # fmt: skip
    for condition, key in (("pk = :e", "pk"), ("pk = :p AND begins_with(sk, :e)", "sk")):
        with validation(empty_key(key, "binary")):
            dynamodb.query(
                TableName=name,
                KeyConditionExpression=condition,
                ExpressionAttributeValues={
                    k: v for k, v in {":p": {"B": b"p"}, ":e": {"B": b""}}.items() if k in condition
                },
            )
    with validation(empty_key("pk", "binary")):
        dynamodb.query(
            TableName=name,
            KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"B": b""}]}},
        )


def test_sort_condition_on_hash_only_table(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    with validation("Query key condition not supported"):
        query(dynamodb, name, "a", condition="pk = :pk AND sk = :x", values={":x": s("1")})


def test_reserved_word_in_key_condition(dynamodb: Client, letters: str) -> None:
    with validation(
        "Invalid KeyConditionExpression: Attribute name is a reserved keyword; reserved "
        "keyword: status"
    ):
        query(dynamodb, letters, "p", condition="pk = :pk AND status = :x", values={":x": s("a")})


def test_legacy_non_indexable_operator(dynamodb: Client, letters: str) -> None:
    with validation("Attempted conditional constraint is not an indexable operation"):
        dynamodb.query(
            TableName=letters,
            KeyConditions={
                "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [s("p")]},
                "sk": {"ComparisonOperator": "NE", "AttributeValueList": [s("a")]},
            },
        )


def test_filter_may_not_use_key_attributes(dynamodb: Client, letters: str) -> None:
    with validation(
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"
    ):
        query(dynamodb, letters, "p", FilterExpression="sk = :x", values={":x": s("a")})
    with validation(
        "QueryFilter can only contain non-primary key attributes: Primary key attribute: pk"
    ):
        dynamodb.query(
            TableName=letters,
            KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [s("p")]}},
            QueryFilter={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [s("p")]}},
        )


def test_key_attributes_are_scalars_in_projections(dynamodb: Client, letters: str) -> None:
    with validation(
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
        "allowed: Key: sk"
    ):
        query(dynamodb, letters, "p", ProjectionExpression="sk.deep")


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ({"pk": s("p")}, START_INVALID),
        ({"pk": s("p"), "sk": s("a"), "x": s("1")}, START_INVALID),
        ({"pk": s("p"), "other": s("a")}, START_INVALID),
        ({"pk": n("1"), "sk": s("a")}, KEY_SCHEMA_MISMATCH),
        ({"pk": s("p"), "sk": n("1")}, KEY_SCHEMA_MISMATCH),
        (
            {"pk": s("q"), "sk": s("a")},
            "The provided starting key is outside query boundaries based on provided conditions",
        ),
        ({"pk": s("p"), "sk": {"S": "a", "N": "1"}}, START_INVALID + ": Supplied AttributeValue "
         "has more than one datatypes set, must contain exactly one of the supported datatypes"),
    ],
)  # fmt: skip
def test_bad_start_keys(
    unchecked: Client, letters: str, start: dict[str, Any], message: str
) -> None:
    with validation(message):
        query(unchecked, letters, "p", ExclusiveStartKey=start)


def test_start_key_against_the_sort_condition(dynamodb: Client, letters: str) -> None:
    with validation("The provided starting key does not match the range key predicate"):
        query(dynamodb, letters, "p", condition="pk = :pk AND sk > :x", values={":x": s("e")},
              ExclusiveStartKey={"pk": s("p"), "sk": s("a")})  # fmt: skip
    with validation("The query can return at most one row and cannot be restarted"):
        query(dynamodb, letters, "p", condition="pk = :pk AND sk > :x", values={":x": s("e")},
              ExclusiveStartKey={"pk": s("q"), "sk": s("f")})  # fmt: skip


# --- cost ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_query_time_does_not_grow_with_the_table(dynamodb: Client, table: TableFactory) -> None:
    """A 100-item partition reads as fast from a 50,000-item table as from a 1,000-item one."""
    small, large = table(range_key=True), table(range_key=True)
    pad = "x" * 100

    def load(name: str, count: int) -> None:
        items = [
            {"pk": s(f"p{i // 100:04d}"), "sk": s(f"{i % 100:03d}"), "d": s(pad)}
            for i in range(count)
        ]
        put_all(dynamodb, name, items)

    load(small, 1_000)
    load(large, 50_000)

    def timed(name: str) -> Callable[[], float]:
        def run() -> float:
            began = time.perf_counter()
            answer = query(dynamodb, name, "p0005")
            elapsed = time.perf_counter() - began
            assert answer["Count"] == 100
            return elapsed

        return run

    for name in (small, large):  # warm both
        timed(name)()
    # Alternate the two and compare the fastest runs: the minimum is the intrinsic cost,
    # the rest is noise from whatever else the machine does.
    small_times: list[float] = []
    large_times: list[float] = []
    for _ in range(200):
        small_times.append(timed(small)())
        large_times.append(timed(large)())
    ratio = min(large_times) / min(small_times)
    assert ratio < 1.2, (min(small_times), min(large_times))
