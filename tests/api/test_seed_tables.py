"""The seed modules' tables, created as their Terraform defines them, queried the way
their READMEs document (../shared/seeds): order, filters and paging through GSIs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr, Key

from tests.api.helpers import (
    Client,
    attr,
    aws_resource,
    create_table,
    index_spec,
    raises,
    schema,
    unique_name,
)


@pytest.fixture(scope="module")
def resource(endpoint: str) -> Any:
    """The boto3 resource API the seeds' Python snippets use."""
    return aws_resource(endpoint)


def attrs(*names: str) -> list[dict[str, str]]:
    return [attr(name) for name in names]


@pytest.fixture
def make_table(dynamodb: Client, cleanup: Callable[[str], str]) -> Iterator[Any]:
    def make(prefix: str, **params: Any) -> str:
        params.setdefault("BillingMode", "PAY_PER_REQUEST")
        return create_table(dynamodb, cleanup(unique_name(prefix)), **params)

    yield make


def all_pages(table: Any, **query: Any) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    pages = 0
    while True:
        answer = table.query(**query)
        pages += 1
        items += answer["Items"]
        if "LastEvaluatedKey" not in answer:
            return items, pages
        query["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


# --- 000: observability index tables (Mimir and Loki) ---------------------------------------


def test_mimir_index_table(make_table: Any, resource: Any) -> None:
    name = make_table(
        "observability-mimir-index",
        AttributeDefinitions=attrs("metric_name", "timestamp", "tenant_id", "labels_hash"),
        KeySchema=schema("metric_name", "timestamp"),
        GlobalSecondaryIndexes=[
            index_spec("tenant-timestamp-index", "tenant_id", "timestamp"),
            index_spec("labels-index", "labels_hash", "timestamp"),
        ],
    )
    table = resource.Table(name)
    with table.batch_writer() as batch:
        for minute in range(60):
            for metric in ("cpu.usage", "mem.used", "disk.io"):
                batch.put_item(
                    Item={
                        "metric_name": metric,
                        "timestamp": f"2024-05-01T10:{minute:02d}:00Z",
                        "tenant_id": "tenant-a" if minute % 2 == 0 else "tenant-b",
                        "labels_hash": f"h-{metric}-{minute % 3}",
                        "value": minute,
                    }
                )
    # Get all metrics for a specific tenant in a time range.
    items, pages = all_pages(
        table,
        IndexName="tenant-timestamp-index",
        KeyConditionExpression=Key("tenant_id").eq("tenant-a")
        & Key("timestamp").between("2024-05-01T10:10:00Z", "2024-05-01T10:19:59Z"),
        Limit=4,
    )
    assert len(items) == 15 and pages == 4
    stamps = [i["timestamp"] for i in items]
    assert stamps == sorted(stamps)
    assert {i["tenant_id"] for i in items} == {"tenant-a"}
    # Find metrics with specific label combinations, newest first.
    latest = table.query(
        IndexName="labels-index",
        KeyConditionExpression=Key("labels_hash").eq("h-cpu.usage-0"),
        ScanIndexForward=False,
        Limit=3,
    )
    assert [i["timestamp"][-6:-4] for i in latest["Items"]] == ["57", "54", "51"]
    assert set(latest["LastEvaluatedKey"]) == {"labels_hash", "timestamp", "metric_name"}


def test_loki_index_table(make_table: Any, resource: Any) -> None:
    name = make_table(
        "observability-loki-index",
        AttributeDefinitions=attrs(
            "stream_id", "chunk_id", "tenant_id", "service_name", "log_level"
        ),
        KeySchema=schema("stream_id", "chunk_id"),
        GlobalSecondaryIndexes=[
            index_spec("tenant-service-index", "tenant_id", "service_name"),
            index_spec("log-level-index", "log_level", "chunk_id"),
        ],
    )
    table = resource.Table(name)
    levels = ("INFO", "INFO", "WARN", "ERROR")
    with table.batch_writer() as batch:
        for stream in range(5):
            for chunk in range(20):
                batch.put_item(
                    Item={
                        "stream_id": f"stream-{stream}",
                        "chunk_id": f"{1714557600 + chunk * 60}-{stream}",
                        "tenant_id": f"tenant-{stream % 2}",
                        "service_name": ("api", "worker", "web", "db", "cache")[stream],
                        "log_level": levels[chunk % 4],
                    }
                )
    # Get all logs for a specific service in a tenant.
    api = table.query(
        IndexName="tenant-service-index",
        KeyConditionExpression=Key("tenant_id").eq("tenant-0") & Key("service_name").eq("api"),
    )
    assert api["Count"] == 20
    # Find all ERROR logs across services, in chunk order, page by page.
    errors, _ = all_pages(
        table,
        IndexName="log-level-index",
        KeyConditionExpression=Key("log_level").eq("ERROR"),
        Limit=7,
    )
    assert len(errors) == 25
    chunks = [e["chunk_id"] for e in errors]
    assert chunks == sorted(chunks)
    recent = table.query(
        IndexName="log-level-index",
        KeyConditionExpression=Key("log_level").eq("WARN")
        & Key("chunk_id").begins_with("17145582"),
    )
    assert {i["chunk_id"][:8] for i in recent["Items"]} == {"17145582"}


# --- 001: streaming-logs tables ---------------------------------------------------------------


def test_log_metadata_table(make_table: Any, resource: Any) -> None:
    name = make_table(
        "streaming-logs-dev-log-metadata",
        AttributeDefinitions=attrs("log_id", "timestamp", "service_name", "log_level", "user_id"),
        KeySchema=schema("log_id", "timestamp"),
        GlobalSecondaryIndexes=[
            index_spec("ServiceIndex", "service_name", "timestamp"),
            index_spec("LogLevelIndex", "log_level", "timestamp"),
            index_spec("UserIndex", "user_id", "timestamp"),
        ],
    )
    table = resource.Table(name)
    with table.batch_writer() as batch:
        for i in range(90):
            item = {
                "log_id": f"log-{i:03d}",
                "timestamp": f"2024-06-01T12:{i // 60:02d}:{i % 60:02d}Z",
                "service_name": ("auth", "billing", "search")[i % 3],
                "log_level": "ERROR" if i % 10 == 0 else "INFO",
                "message": f"event {i}",
            }
            if i % 4 == 0:  # only user-facing events carry a user (sparse UserIndex)
                item["user_id"] = f"user-{i % 8}"
            batch.put_item(Item=item)
    # Query by service and time.
    billing = table.query(
        IndexName="ServiceIndex",
        KeyConditionExpression=Key("service_name").eq("billing")
        & Key("timestamp").gte("2024-06-01T12:01:00Z"),
    )
    assert [i["log_id"] for i in billing["Items"]] == [f"log-{i:03d}" for i in range(61, 90, 3)]
    # Query by log level and time, newest first, with a filter on the message.
    errors = table.query(
        IndexName="LogLevelIndex",
        KeyConditionExpression=Key("log_level").eq("ERROR"),
        FilterExpression=Attr("message").contains("8"),
        ScanIndexForward=False,
    )
    assert [i["log_id"] for i in errors["Items"]] == ["log-080"]
    assert errors["ScannedCount"] == 9
    # Query by user and time: only the items that carry a user_id are in the index.
    user = table.query(IndexName="UserIndex", KeyConditionExpression=Key("user_id").eq("user-0"))
    assert [i["log_id"] for i in user["Items"]] == [f"log-{i:03d}" for i in range(0, 90, 8)]
    assert table.scan(IndexName="UserIndex", Select="COUNT")["Count"] == 23


# --- 002: job tracker ---------------------------------------------------------------------------


def jobs_by_status(client: Client, name: str, status: str, **extra: Any) -> Any:
    """The README's StatusIndex query, with a placeholder for the reserved word `status`."""
    return client.query(
        TableName=name,
        IndexName="StatusIndex",
        KeyConditionExpression="#status = :status",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":status": {"S": status}},
        **extra,
    )


def test_job_tracker(make_table: Any, dynamodb: Client, resource: Any) -> None:
    name = make_table(
        "cloud-tools-jobs",
        AttributeDefinitions=attrs("jobId", "status", "userId", "createdAt"),
        KeySchema=schema("jobId"),
        GlobalSecondaryIndexes=[
            index_spec("StatusIndex", "status", "createdAt"),
            index_spec("UserIndex", "userId", "createdAt"),
        ],
    )
    statuses = ("pending", "processing", "completed", "failed")
    for i in range(40):
        dynamodb.put_item(
            TableName=name,
            Item={
                "jobId": {"S": f"job-{i:05d}"},
                "status": {"S": statuses[i % 4]},
                "userId": {"S": f"user{i % 5}"},
                "createdAt": {"S": f"2024-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"},
                "jobType": {"S": "convert"},
                "metadata": {"M": {"size": {"N": str(i * 100)}}},
            },
        )
    # The README's pattern as written uses the reserved word `status` and fails ...
    with raises(
        "ValidationException",
        "Invalid KeyConditionExpression: Attribute name is a reserved keyword; reserved "
        "keyword: status",
    ):
        dynamodb.query(
            TableName=name,
            IndexName="StatusIndex",
            KeyConditionExpression="status = :status",
            ExpressionAttributeValues={":status": {"S": "processing"}},
        )
    # ... as on DynamoDB; with a name placeholder it lists jobs by status, by creation time.
    answer = jobs_by_status(dynamodb, name, "processing")
    created = [i["createdAt"]["S"] for i in answer["Items"]]
    assert len(created) == 10 and created == sorted(created)
    assert all(i["status"]["S"] == "processing" for i in answer["Items"])
    # Query jobs by user (future use), newest first, two at a time.
    jobs, pages = all_pages(
        resource.Table(name),
        IndexName="UserIndex",
        KeyConditionExpression=Key("userId").eq("user3"),
        ScanIndexForward=False,
        Limit=2,
    )
    # A full last page still carries a key, as DynamoDB's does: one empty page follows.
    assert len(jobs) == 8 and pages == 5
    assert [j["createdAt"] for j in jobs] == sorted((j["createdAt"] for j in jobs), reverse=True)
    # update_job_status moves a job between StatusIndex partitions.
    dynamodb.update_item(
        TableName=name,
        Key={"jobId": {"S": "job-00001"}},
        UpdateExpression="SET #status = :status, updatedAt = :updated",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={
            ":status": {"S": "completed"},
            ":updated": {"S": "2024-02-01T00:00:00Z"},
        },
    )
    completed = jobs_by_status(dynamodb, name, "completed", Select="COUNT")
    assert completed["Count"] == 11
    # Scan for jobs within a date range.
    january = dynamodb.scan(
        TableName=name,
        FilterExpression="createdAt BETWEEN :start AND :end",
        ExpressionAttributeValues={
            ":start": {"S": "2024-01-01T00:00:00Z"},
            ":end": {"S": "2024-01-05T23:59:59Z"},
        },
    )
    assert january["Count"] == 10 and january["ScannedCount"] == 40


# --- 004: the global user table -------------------------------------------------------------


def test_user_table_with_provisioned_indexes(make_table: Any, resource: Any) -> None:
    name = make_table(
        "global-app-prod-users",
        AttributeDefinitions=attrs("user_id", "created_at", "email", "status"),
        KeySchema=schema("user_id", "created_at"),
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 100, "WriteCapacityUnits": 100},
        GlobalSecondaryIndexes=[
            {
                **index_spec("email-index", "email", "created_at"),
                "ProvisionedThroughput": {"ReadCapacityUnits": 50, "WriteCapacityUnits": 50},
            },
            {
                **index_spec(
                    "status-index",
                    "status",
                    "created_at",
                    ProjectionType="INCLUDE",
                    NonKeyAttributes=["user_id", "email"],
                ),
                "ProvisionedThroughput": {"ReadCapacityUnits": 25, "WriteCapacityUnits": 25},
            },
        ],
    )
    table = resource.Table(name)
    table.put_item(
        Item={
            "user_id": "user123",
            "created_at": "2024-01-01T00:00:00Z",
            "email": "user@example.com",
            "status": "active",
            "plan": "pro",
        }
    )
    table.put_item(
        Item={
            "user_id": "user456",
            "created_at": "2024-02-01T00:00:00Z",
            "email": "other@example.com",
            "status": "active",
        }
    )
    # Query with GSI, as the README does.
    response = table.query(
        IndexName="email-index", KeyConditionExpression=Key("email").eq("user@example.com")
    )
    assert response["Items"][0]["plan"] == "pro"
    active = table.query(
        IndexName="status-index",
        KeyConditionExpression=Key("status").eq("active"),
        ReturnConsumedCapacity="INDEXES",
    )
    assert [set(i) for i in active["Items"]] == [{"user_id", "created_at", "email", "status"}] * 2
    assert [i["user_id"] for i in active["Items"]] == ["user123", "user456"]
    assert "status-index" in active["ConsumedCapacity"]["GlobalSecondaryIndexes"]
