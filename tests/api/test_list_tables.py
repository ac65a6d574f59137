"""ListTables: ordering, paging with Limit / ExclusiveStartTableName, and validation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import (
    NAME_PATTERN,
    Client,
    TableFactory,
    constraint,
    errors,
    one_error,
    unique_name,
    validation,
    wait_gone,
)


@pytest.fixture
def trio(table: TableFactory) -> list[str]:
    """Three tables sharing a unique prefix, so no other test's table sorts between them."""
    prefix = unique_name("lt")
    return [table(TableName=f"{prefix}-{suffix}") for suffix in ("a", "b", "c")]


def all_names(client: Client, **kwargs: Any) -> list[str]:
    names: list[str] = []
    while True:
        page = client.list_tables(**kwargs)
        names.extend(page["TableNames"])
        if "LastEvaluatedTableName" not in page:
            return names
        kwargs["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]


def test_lists_created_tables_in_order(dynamodb: Client, trio: list[str]) -> None:
    names = all_names(dynamodb)
    ours = [n for n in names if n in trio]
    assert ours == trio
    assert names == sorted(names)


def test_response_shape(dynamodb: Client, trio: list[str]) -> None:
    page = dynamodb.list_tables(ExclusiveStartTableName=trio[0], Limit=1)
    assert page["TableNames"] == [trio[1]]
    assert page["LastEvaluatedTableName"] == trio[1]


def test_limit_bounds_each_page(dynamodb: Client, trio: list[str]) -> None:
    kwargs: dict[str, Any] = {"Limit": 2}
    seen: list[str] = []
    while True:
        page = dynamodb.list_tables(**kwargs)
        assert len(page["TableNames"]) <= 2
        seen.extend(page["TableNames"])
        if "LastEvaluatedTableName" not in page:
            break
        assert page["LastEvaluatedTableName"] == page["TableNames"][-1]
        kwargs["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]
    assert [n for n in seen if n in trio] == trio
    assert len(seen) == len(set(seen))


def test_exclusive_start_is_excluded(dynamodb: Client, trio: list[str]) -> None:
    names = all_names(dynamodb, ExclusiveStartTableName=trio[0])
    assert trio[0] not in names
    assert [n for n in names if n in trio] == trio[1:]
    assert all(n > trio[0] for n in names)


def test_exclusive_start_need_not_exist(dynamodb: Client, trio: list[str]) -> None:
    names = all_names(dynamodb, ExclusiveStartTableName=trio[0] + "0")
    assert [n for n in names if n in trio] == trio[1:]


def test_past_the_end(dynamodb: Client, trio: list[str]) -> None:
    page = dynamodb.list_tables(ExclusiveStartTableName="z" * 255)
    assert page["TableNames"] == []
    assert "LastEvaluatedTableName" not in page


def test_paginator(dynamodb: Client, trio: list[str]) -> None:
    pages = dynamodb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 1})
    names = [n for page in pages for n in page["TableNames"]]
    assert [n for n in names if n in trio] == trio


def test_deleted_table_disappears(dynamodb: Client, trio: list[str]) -> None:
    dynamodb.delete_table(TableName=trio[1])
    wait_gone(dynamodb, trio[1])
    names = all_names(dynamodb, ExclusiveStartTableName=trio[0])
    assert [n for n in names if n in trio] == [trio[2]]


def test_limit_zero(unchecked: Client) -> None:
    with validation(one_error("0", "limit", "Member must have value greater than or equal to 1")):
        unchecked.list_tables(Limit=0)


def test_limit_above_100(dynamodb: Client) -> None:
    with validation(one_error("101", "limit", "Member must have value less than or equal to 100")):
        dynamodb.list_tables(Limit=101)


def test_short_exclusive_start(unchecked: Client) -> None:
    with validation(
        one_error(
            "ab", "exclusiveStartTableName", "Member must have length greater than or equal to 3"
        )
    ):
        unchecked.list_tables(ExclusiveStartTableName="ab")


def test_errors_are_aggregated(unchecked: Client) -> None:
    message = errors(
        constraint("101", "limit", "Member must have value less than or equal to 100"),
        constraint(
            "a!b",
            "exclusiveStartTableName",
            NAME_PATTERN,
        ),
    )
    with validation(message):
        unchecked.list_tables(Limit=101, ExclusiveStartTableName="a!b")
