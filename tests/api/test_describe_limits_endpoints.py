"""DescribeLimits and DescribeEndpoints: the account-level answers SDKs ask for."""

from __future__ import annotations

from tests.api.helpers import Client, raw_call

LIMIT_FIELDS = (
    "AccountMaxReadCapacityUnits",
    "AccountMaxWriteCapacityUnits",
    "TableMaxReadCapacityUnits",
    "TableMaxWriteCapacityUnits",
)


def test_describe_limits_shape(dynamodb: Client) -> None:
    answer = dynamodb.describe_limits()
    for field in LIMIT_FIELDS:
        assert isinstance(answer[field], int), field
        assert answer[field] > 0, field
    assert answer["TableMaxReadCapacityUnits"] <= answer["AccountMaxReadCapacityUnits"]
    assert answer["TableMaxWriteCapacityUnits"] <= answer["AccountMaxWriteCapacityUnits"]


def test_describe_limits_defaults(dynamodb: Client) -> None:
    answer = dynamodb.describe_limits()
    assert {field: answer[field] for field in LIMIT_FIELDS} == {
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000,
    }


def test_describe_limits_raw(endpoint: str) -> None:
    resp = raw_call(endpoint, "DescribeLimits", {})
    assert resp.status == 200
    assert set(resp.json()) == set(LIMIT_FIELDS)


def test_describe_endpoints(dynamodb: Client) -> None:
    endpoints = dynamodb.describe_endpoints()["Endpoints"]
    assert len(endpoints) == 1
    assert isinstance(endpoints[0]["Address"], str) and endpoints[0]["Address"]
    assert endpoints[0]["CachePeriodInMinutes"] == 1440


def test_describe_endpoints_raw(endpoint: str) -> None:
    resp = raw_call(endpoint, "DescribeEndpoints", {})
    assert resp.status == 200
    body = resp.json()
    assert set(body) == {"Endpoints"}
    assert set(body["Endpoints"][0]) == {"Address", "CachePeriodInMinutes"}
