"""UpdateContributorInsights, DescribeContributorInsights, ListContributorInsights.

The session server's status delay is 0, so ENABLING / DISABLING settle by the next call;
the Update answer still reports the transition, as DynamoDB's does. The counting of
accessed and throttled keys is covered by tests/unit/test_throttle.py (it is read through
CloudWatch, a later service).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.helpers import Client, TableFactory, raises, table_not_found, unique_name

ACCESSED = "ACCESSED_AND_THROTTLED_KEYS"
GSI: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "g", "AttributeType": "S"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "by-g",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    ],
    "LocalSecondaryIndexes": [
        {
            "IndexName": "by-g-local",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "g", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    ],
}


def strip(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def test_never_configured_is_disabled(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    assert strip(dynamodb.describe_contributor_insights(TableName=name)) == {
        "TableName": name,
        "ContributorInsightsStatus": "DISABLED",
    }
    assert dynamodb.list_contributor_insights(TableName=name)["ContributorInsightsSummaries"] == []


def test_enable_then_disable(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    answer = dynamodb.update_contributor_insights(
        TableName=name, ContributorInsightsAction="ENABLE"
    )
    assert strip(answer) == {
        "TableName": name,
        "ContributorInsightsStatus": "ENABLING",
        "ContributorInsightsMode": ACCESSED,
    }
    described = dynamodb.describe_contributor_insights(TableName=name)
    assert described["ContributorInsightsStatus"] == "ENABLED"
    assert described["ContributorInsightsMode"] == ACCESSED
    assert "LastUpdateDateTime" in described
    rules = described["ContributorInsightsRuleList"]
    assert [r.split("-")[1] for r in rules] == ["PKC", "SKC", "PKT", "SKT"]
    for rule in rules:
        assert re.fullmatch(rf"DynamoDBContributorInsights-(PK|SK)[CT]-{name}-\d{{13}}", rule)
    assert len({r.rsplit("-", 1)[1] for r in rules}) == 1  # one creation time

    answer = dynamodb.update_contributor_insights(
        TableName=name, ContributorInsightsAction="DISABLE"
    )
    assert answer["ContributorInsightsStatus"] == "DISABLING"
    described = dynamodb.describe_contributor_insights(TableName=name)
    assert strip(described).keys() == {
        "TableName",
        "ContributorInsightsStatus",
        "LastUpdateDateTime",
        "ContributorInsightsMode",
    }
    assert described["ContributorInsightsStatus"] == "DISABLED"


def test_hash_only_table_has_two_rules(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    dynamodb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE")
    rules = dynamodb.describe_contributor_insights(TableName=name)["ContributorInsightsRuleList"]
    assert [r.split("-")[1] for r in rules] == ["PKC", "PKT"]


def test_reapplying_is_a_no_op(dynamodb: Client, table: TableFactory) -> None:
    name = table()
    answer = dynamodb.update_contributor_insights(
        TableName=name, ContributorInsightsAction="DISABLE"
    )
    assert strip(answer) == {"TableName": name, "ContributorInsightsStatus": "DISABLED"}
    dynamodb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE")
    before = dynamodb.describe_contributor_insights(TableName=name)
    again = dynamodb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE")
    assert again["ContributorInsightsStatus"] == "ENABLED"
    after = dynamodb.describe_contributor_insights(TableName=name)
    assert after["ContributorInsightsRuleList"] == before["ContributorInsightsRuleList"]
    assert after["LastUpdateDateTime"] == before["LastUpdateDateTime"]


def test_mode_change_keeps_the_rule_names(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True)
    dynamodb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE")
    rules = dynamodb.describe_contributor_insights(TableName=name)["ContributorInsightsRuleList"]
    answer = dynamodb.update_contributor_insights(
        TableName=name, ContributorInsightsAction="ENABLE", ContributorInsightsMode="THROTTLED_KEYS"
    )
    assert answer["ContributorInsightsStatus"] == "ENABLING"
    assert answer["ContributorInsightsMode"] == "THROTTLED_KEYS"
    described = dynamodb.describe_contributor_insights(TableName=name)
    assert described["ContributorInsightsMode"] == "THROTTLED_KEYS"
    assert described["ContributorInsightsRuleList"] == [r for r in rules if "KT-" in r]
    # ENABLE without a mode goes back to the default mode
    dynamodb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE")
    described = dynamodb.describe_contributor_insights(TableName=name)
    assert described["ContributorInsightsMode"] == ACCESSED
    assert described["ContributorInsightsRuleList"] == rules


def test_global_secondary_index(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True, **GSI)
    answer = dynamodb.update_contributor_insights(
        TableName=name, IndexName="by-g", ContributorInsightsAction="ENABLE"
    )
    assert strip(answer) == {
        "TableName": name,
        "IndexName": "by-g",
        "ContributorInsightsStatus": "ENABLING",
        "ContributorInsightsMode": ACCESSED,
    }
    described = dynamodb.describe_contributor_insights(TableName=name, IndexName="by-g")
    assert described["IndexName"] == "by-g"
    assert [r.split("-")[1] for r in described["ContributorInsightsRuleList"]] == ["PKC", "PKT"]
    # the table's own setting is independent
    table_view = dynamodb.describe_contributor_insights(TableName=name)
    assert table_view["ContributorInsightsStatus"] == "DISABLED"
    assert "ContributorInsights" not in dynamodb.describe_table(TableName=name)["Table"]


def test_list(dynamodb: Client, table: TableFactory) -> None:
    name = table(range_key=True, **GSI)
    for index in (None, "by-g"):
        extra = {"IndexName": index} if index else {}
        dynamodb.update_contributor_insights(
            TableName=name, ContributorInsightsAction="ENABLE", **extra
        )
    listed = dynamodb.list_contributor_insights(TableName=name)["ContributorInsightsSummaries"]
    assert listed == [
        {
            "TableName": name,
            "ContributorInsightsStatus": "ENABLED",
            "ContributorInsightsMode": ACCESSED,
        },
        {
            "TableName": name,
            "IndexName": "by-g",
            "ContributorInsightsStatus": "ENABLED",
            "ContributorInsightsMode": ACCESSED,
        },
    ]
    first = dynamodb.list_contributor_insights(TableName=name, MaxResults=1)
    assert first["ContributorInsightsSummaries"] == listed[:1]
    second = dynamodb.list_contributor_insights(
        TableName=name, MaxResults=1, NextToken=first["NextToken"]
    )
    assert second["ContributorInsightsSummaries"] == listed[1:]
    assert "NextToken" not in second
    everywhere = dynamodb.list_contributor_insights()["ContributorInsightsSummaries"]
    assert all(entry in everywhere for entry in listed)
    dynamodb.update_contributor_insights(TableName=name, ContributorInsightsAction="DISABLE")
    listed = dynamodb.list_contributor_insights(TableName=name)["ContributorInsightsSummaries"]
    assert [entry.get("IndexName") for entry in listed] == ["by-g"]


def test_missing_table(dynamodb: Client) -> None:
    name = unique_name()
    with raises("ResourceNotFoundException", table_not_found(name)):
        dynamodb.describe_contributor_insights(TableName=name)
    with raises("ResourceNotFoundException", table_not_found(name)):
        dynamodb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE")
    with raises("ResourceNotFoundException", table_not_found(name)):
        dynamodb.list_contributor_insights(TableName=name)


@pytest.mark.parametrize("index", ["ghost", "by-g-local"])
def test_unknown_or_local_index(dynamodb: Client, table: TableFactory, index: str) -> None:
    name = table(range_key=True, **GSI)
    message = f"Requested resource not found: Index: {index} not found for table: {name}"
    with raises("ResourceNotFoundException", message):
        dynamodb.update_contributor_insights(
            TableName=name, IndexName=index, ContributorInsightsAction="ENABLE"
        )
    with raises("ResourceNotFoundException", message):
        dynamodb.describe_contributor_insights(TableName=name, IndexName=index)


def test_bad_action_and_mode(unchecked: Client, table: TableFactory) -> None:
    name = table()
    with raises(
        "ValidationException",
        "1 validation error detected: Value 'ON' at 'contributorInsightsAction' failed to "
        "satisfy constraint: Member must satisfy enum value set: [ENABLE, DISABLE]",
    ):
        unchecked.update_contributor_insights(TableName=name, ContributorInsightsAction="ON")
    with raises("ValidationException"):
        unchecked.update_contributor_insights(
            TableName=name, ContributorInsightsAction="ENABLE", ContributorInsightsMode="ALL"
        )
