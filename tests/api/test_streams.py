"""DynamoDB Streams: StreamSpecification on tables and the dynamodbstreams API, live.

The suite's server closes a stream's open shard once it holds 20 records (checked every
0.2 s, see conftest.py), so rollover happens within a test. Trimming is tested on a
second server with a one-second retention, ENABLING / DISABLING on a third whose tables
take two seconds to change status.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import own_server
from tests.api.helpers import (
    INVALID,
    REGION,
    Client,
    TableFactory,
    attr,
    aws_client,
    create_table,
    key,
    one_error,
    raises,
    schema,
    table_not_found,
    unique_name,
    validation,
    wait_active,
)

NEW_AND_OLD = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
SHARD_NOT_FOUND = "Requested resource not found: Shard does not exist"
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")


@pytest.fixture(scope="module")
def streams(endpoint: str) -> Client:
    return aws_client(endpoint, "dynamodbstreams")


@pytest.fixture(scope="module")
def raw_streams(endpoint: str) -> Client:
    """The streams client without botocore's parameter validation."""
    return aws_client(endpoint, "dynamodbstreams", parameter_validation=False)


def stream_arn(client: Client, name: str) -> str:
    arn: str = client.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    return arn


def all_shards(streams: Client, arn: str) -> list[dict[str, Any]]:
    """Every listed shard, following DescribeStream's pages."""
    page = streams.describe_stream(StreamArn=arn, Limit=2)["StreamDescription"]
    shards = list(page["Shards"])
    while "LastEvaluatedShardId" in page:
        page = streams.describe_stream(
            StreamArn=arn, Limit=2, ExclusiveStartShardId=page["LastEvaluatedShardId"]
        )["StreamDescription"]
        shards += page["Shards"]
    return shards


def read_stream(streams: Client, arn: str) -> list[dict[str, Any]]:
    """Every record still in the stream, shard by shard from TRIM_HORIZON."""
    records: list[dict[str, Any]] = []
    for shard in all_shards(streams, arn):
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator)
            records += page["Records"]
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return records


class LambdaConsumer:
    """Reads a stream the way a Lambda event source mapping does.

    DescribeStream -> one iterator per shard (TRIM_HORIZON for a shard never seen, its
    parent read to the end first) -> GetRecords until the shard ends (no
    NextShardIterator) or has nothing new; the open shard's iterator is kept.
    """

    def __init__(self, streams: Client, arn: str) -> None:
        self.streams = streams
        self.arn = arn
        self.iterators: dict[str, str] = {}
        self.finished: set[str] = set()
        self.records: list[dict[str, Any]] = []
        self.shards_seen: set[str] = set()

    def poll(self) -> int:
        before = len(self.records)
        for shard in all_shards(self.streams, self.arn):
            shard_id = shard["ShardId"]
            self.shards_seen.add(shard_id)
            parent = shard.get("ParentShardId")
            if shard_id in self.finished or (
                parent in self.shards_seen and parent not in self.finished
            ):
                continue
            iterator = (
                self.iterators.get(shard_id)
                or self.streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )
            while True:
                page = self.streams.get_records(ShardIterator=iterator, Limit=7)
                self.records += page["Records"]
                if "NextShardIterator" not in page:
                    self.finished.add(shard_id)
                    self.iterators.pop(shard_id, None)
                    break
                iterator = page["NextShardIterator"]
                self.iterators[shard_id] = iterator
                if not page["Records"]:
                    break
        return len(self.records) - before


# --- StreamSpecification on tables -------------------------------------------------------


def test_create_table_with_a_stream(
    dynamodb: Client, streams: Client, table: TableFactory, cleanup: Any
) -> None:
    name = cleanup(unique_name())
    answer = dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )["TableDescription"]
    assert answer["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    label = answer["LatestStreamLabel"]
    arn = answer["LatestStreamArn"]
    assert arn == f"{answer['TableArn']}/stream/{label}"
    assert len(label) == 23 and label[10] == "T"  # 2015-05-20T20:51:10.252
    described = dynamodb.describe_table(TableName=name)["Table"]
    assert described["StreamSpecification"] == answer["StreamSpecification"]
    assert described["LatestStreamArn"] == arn
    listed = streams.list_streams(TableName=name)["Streams"]
    assert listed == [{"StreamArn": arn, "TableName": name, "StreamLabel": label}]
    stream = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert stream["StreamStatus"] == "ENABLED"
    assert stream["StreamViewType"] == "KEYS_ONLY"
    assert stream["TableName"] == name
    assert stream["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert "CreationRequestDateTime" in stream
    (shard,) = stream["Shards"]
    assert "ParentShardId" not in shard
    start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
    assert start.isdecimal() and len(start) >= 21
    assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]
    assert len(shard["ShardId"]) <= 65


def test_table_without_a_stream(dynamodb: Client, streams: Client, table: TableFactory) -> None:
    name = table(StreamSpecification={"StreamEnabled": False})
    described = dynamodb.describe_table(TableName=name)["Table"]
    assert "StreamSpecification" not in described
    assert "LatestStreamArn" not in described
    assert streams.list_streams(TableName=name)["Streams"] == []


def test_disable_and_reenable(dynamodb: Client, streams: Client, table: TableFactory) -> None:
    name = table(StreamSpecification=NEW_AND_OLD)
    first = stream_arn(dynamodb, name)
    dynamodb.put_item(TableName=name, Item={**key("a"), "v": {"N": "1"}})
    answer = dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert "StreamSpecification" not in answer["TableDescription"]
    described = dynamodb.describe_table(TableName=name)["Table"]
    assert "StreamSpecification" not in described
    assert described["LatestStreamArn"] == first  # lingers, as in DynamoDB
    dynamodb.put_item(TableName=name, Item={**key("b"), "v": {"N": "2"}})  # not streamed
    old = streams.describe_stream(StreamArn=first)["StreamDescription"]
    assert old["StreamStatus"] == "DISABLED"
    assert all("EndingSequenceNumber" in s["SequenceNumberRange"] for s in old["Shards"])
    records = read_stream(streams, first)
    assert [r["dynamodb"]["Keys"] for r in records] == [key("a")]

    answer = dynamodb.update_table(
        TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )["TableDescription"]
    second = answer["LatestStreamArn"]
    assert second != first
    assert answer["StreamSpecification"]["StreamViewType"] == "KEYS_ONLY"
    dynamodb.put_item(TableName=name, Item={**key("c")})
    assert [r["dynamodb"]["Keys"] for r in read_stream(streams, second)] == [key("c")]
    listed = [s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]]
    assert listed == [first, second]


def test_stream_of_a_deleted_table(dynamodb: Client, streams: Client, table: TableFactory) -> None:
    name = table(StreamSpecification=NEW_AND_OLD)
    arn = stream_arn(dynamodb, name)
    dynamodb.put_item(TableName=name, Item=key("a"))
    dynamodb.delete_table(TableName=name)
    deadline = time.monotonic() + 10
    while streams.describe_stream(StreamArn=arn)["StreamDescription"]["StreamStatus"] != (
        "DISABLED"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert [r["eventName"] for r in read_stream(streams, arn)] == ["INSERT"]
    assert [s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]] == [arn]


def test_stream_specification_errors(
    dynamodb: Client, unchecked: Client, table: TableFactory
) -> None:
    base: dict[str, Any] = {
        "TableName": unique_name(),
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    with validation(
        INVALID + "Table is being created with a stream enabled, UpdateViewType is required"
    ):
        unchecked.create_table(**base, StreamSpecification={"StreamEnabled": True})
    with validation(
        INVALID + "Table is being created with a stream disabled, UpdateViewType should not be "
        "specified"
    ):
        unchecked.create_table(
            **base, StreamSpecification={"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"}
        )
    name = table()
    with validation(f"Table has no stream to disable: TableName: {name}"):
        dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    with validation(INVALID + "If stream is being enabled then UpdateViewType is required"):
        dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": True})
    with validation(
        INVALID + "If stream is being disabled, then UpdateViewType must not be specified"
    ):
        dynamodb.update_table(
            TableName=name,
            StreamSpecification={"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"},
        )
    with raises("ValidationException") as failure:
        unchecked.update_table(
            TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "Fisk"}
        )
    assert "streamSpecification.streamViewType" in str(failure.value)
    dynamodb.update_table(TableName=name, StreamSpecification=NEW_AND_OLD)
    with validation(f"Table already has an enabled stream: TableName: {name}"):
        dynamodb.update_table(TableName=name, StreamSpecification=NEW_AND_OLD)
    with validation(f"Table already has an enabled stream: TableName: {name}"):
        dynamodb.update_table(
            TableName=name,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        )


# --- records ----------------------------------------------------------------------------


@pytest.mark.parametrize("view", VIEW_TYPES)
def test_records_per_view_type(
    dynamodb: Client, streams: Client, table: TableFactory, view: str
) -> None:
    name = table(StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
    arn = stream_arn(dynamodb, name)
    v1 = {**key("k"), "x": {"N": "1"}}
    v2 = {**key("k"), "x": {"N": "2"}, "s": {"SS": ["a"]}}
    dynamodb.put_item(TableName=name, Item=v1)
    dynamodb.put_item(TableName=name, Item=v1)  # changes nothing: no record
    dynamodb.put_item(TableName=name, Item=v2)
    dynamodb.delete_item(TableName=name, Key=key("k"))
    dynamodb.delete_item(TableName=name, Key=key("k"))  # already gone: no record
    records = read_stream(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    images = [(r["dynamodb"].get("OldImage"), r["dynamodb"].get("NewImage")) for r in records]
    new = view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
    old = view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
    assert images == [
        (None, v1 if new else None),
        (v1 if old else None, v2 if new else None),
        (v2 if old else None, None),
    ]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    for record in records:
        assert record["eventSource"] == "aws:dynamodb"
        assert record["eventVersion"] == "1.1"
        assert record["awsRegion"] == REGION
        assert len(record["eventID"]) == 32
        assert record["dynamodb"]["Keys"] == key("k")
        assert record["dynamodb"]["StreamViewType"] == view
        assert record["dynamodb"]["SizeBytes"] > 0
        assert "ApproximateCreationDateTime" in record["dynamodb"]
        assert "userIdentity" not in record


def test_iterator_types(dynamodb: Client, streams: Client, table: TableFactory) -> None:
    name = table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    arn = stream_arn(dynamodb, name)
    shard_id = all_shards(streams, arn)[0]["ShardId"]

    def iterator(kind: str, **extra: str) -> str:
        it: str = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard_id, ShardIteratorType=kind, **extra
        )["ShardIterator"]
        return it

    latest = iterator("LATEST")
    assert streams.get_records(ShardIterator=latest)["Records"] == []
    for pk in ("a", "b", "c"):
        dynamodb.put_item(TableName=name, Item=key(pk))
    page = streams.get_records(ShardIterator=latest)
    assert [r["dynamodb"]["Keys"] for r in page["Records"]] == [key("a"), key("b"), key("c")]
    after = streams.get_records(ShardIterator=page["NextShardIterator"])
    assert after["Records"] == [] and "NextShardIterator" in after
    second = page["Records"][1]["dynamodb"]["SequenceNumber"]
    at = streams.get_records(ShardIterator=iterator("AT_SEQUENCE_NUMBER", SequenceNumber=second))
    assert [r["dynamodb"]["Keys"] for r in at["Records"]] == [key("b"), key("c")]
    past = streams.get_records(
        ShardIterator=iterator("AFTER_SEQUENCE_NUMBER", SequenceNumber=second)
    )
    assert [r["dynamodb"]["Keys"] for r in past["Records"]] == [key("c")]
    limited = streams.get_records(ShardIterator=iterator("TRIM_HORIZON"), Limit=2)
    assert len(limited["Records"]) == 2
    rest = streams.get_records(ShardIterator=limited["NextShardIterator"])
    assert [r["dynamodb"]["Keys"] for r in rest["Records"]] == [key("c")]
    assert [r["eventID"] for r in at["Records"]] == [r["eventID"] for r in page["Records"][1:]]


def keys_of(page: dict[str, Any]) -> list[Any]:
    return [r["dynamodb"]["Keys"] for r in page["Records"]]


def test_starting_sequence_number_of_an_empty_shard(
    dynamodb: Client, streams: Client, table: TableFactory
) -> None:
    """A shard's StartingSequenceNumber is a valid position before any record has it."""
    name = table(StreamSpecification=NEW_AND_OLD)
    arn = stream_arn(dynamodb, name)
    (shard,) = all_shards(streams, arn)
    start = shard["SequenceNumberRange"]["StartingSequenceNumber"]

    def iterator(kind: str, sequence: str) -> str:
        it: str = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType=kind, SequenceNumber=sequence
        )["ShardIterator"]
        return it

    at = iterator("AT_SEQUENCE_NUMBER", start)
    after = iterator("AFTER_SEQUENCE_NUMBER", start)
    with raises("ValidationException"):  # no record has the next number yet
        iterator("AT_SEQUENCE_NUMBER", str(int(start) + 1))
    for pk in ("a", "b"):
        dynamodb.put_item(TableName=name, Item=key(pk))
    assert keys_of(streams.get_records(ShardIterator=at)) == [key("a"), key("b")]
    assert keys_of(streams.get_records(ShardIterator=after)) == [key("b")]


def test_sequence_numbers_of_a_closed_empty_shard(
    dynamodb: Client, streams: Client, table: TableFactory
) -> None:
    name = table(StreamSpecification=NEW_AND_OLD)
    arn = stream_arn(dynamodb, name)
    dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    (closed,) = all_shards(streams, arn)
    numbers = closed["SequenceNumberRange"]
    assert numbers["EndingSequenceNumber"] == numbers["StartingSequenceNumber"]
    for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        iterator = streams.get_shard_iterator(
            StreamArn=arn,
            ShardId=closed["ShardId"],
            ShardIteratorType=kind,
            SequenceNumber=numbers["EndingSequenceNumber"],
        )["ShardIterator"]
        page = streams.get_records(ShardIterator=iterator)
        assert page["Records"] == [] and "NextShardIterator" not in page


def test_get_records_returns_at_most_one_megabyte(
    dynamodb: Client, streams: Client, table: TableFactory
) -> None:
    name = table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    arn = stream_arn(dynamodb, name)
    big = "x" * 390_000
    for pk in ("a", "b", "c"):
        dynamodb.put_item(TableName=name, Item={**key(pk), "blob": {"S": big}})
    (first,) = all_shards(streams, arn)
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=first["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    page = streams.get_records(ShardIterator=iterator)
    assert keys_of(page) == [key("a"), key("b")]
    assert sum(r["dynamodb"]["SizeBytes"] for r in page["Records"]) <= 1024 * 1024
    rest = streams.get_records(ShardIterator=page["NextShardIterator"])
    assert keys_of(rest) == [key("c")]


def test_lambda_style_consumer_sees_every_write_once_in_order(
    dynamodb: Client, streams: Client, table: TableFactory
) -> None:
    name = table(StreamSpecification=NEW_AND_OLD)
    arn = stream_arn(dynamodb, name)
    consumer = LambdaConsumer(streams, arn)
    expected: dict[str, list[tuple[str, str | None]]] = {}
    for step in range(150):
        pk = f"k{step % 7}"
        history = expected.setdefault(pk, [])
        alive = bool(history) and history[-1][0] != "REMOVE"
        if step % 11 == 10 and alive:
            dynamodb.delete_item(TableName=name, Key=key(pk))
            history.append(("REMOVE", None))
        else:
            dynamodb.put_item(TableName=name, Item={**key(pk), "n": {"N": str(step)}})
            history.append(("MODIFY" if alive else "INSERT", str(step)))
        if step % 10 == 0:
            consumer.poll()
            time.sleep(0.05)
    deadline = time.monotonic() + 10
    total = sum(len(h) for h in expected.values())
    while len(consumer.records) < total and time.monotonic() < deadline:
        consumer.poll()
        time.sleep(0.1)
    time.sleep(0.5)
    consumer.poll()  # nothing more may arrive

    assert len(consumer.shards_seen) > 1  # the stream rolled over while we read it
    ids = [r["eventID"] for r in consumer.records]
    assert len(ids) == len(set(ids)) == total
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in consumer.records]
    assert numbers == sorted(numbers)  # parents before children: commit order
    seen: dict[str, list[tuple[str, str | None]]] = {}
    for record in consumer.records:
        pk = record["dynamodb"]["Keys"]["pk"]["S"]
        image = record["dynamodb"].get("NewImage")
        seen.setdefault(pk, []).append((record["eventName"], image["n"]["N"] if image else None))
    assert seen == expected


# --- the streams API's errors ------------------------------------------------------------


def test_list_streams(dynamodb: Client, streams: Client, table: TableFactory) -> None:
    names = [table(StreamSpecification=NEW_AND_OLD) for _ in range(3)]
    arns = {stream_arn(dynamodb, n) for n in names}
    found: set[str] = set()
    page = streams.list_streams(Limit=1)
    assert len(page["Streams"]) == 1
    while True:
        found |= {s["StreamArn"] for s in page["Streams"]}
        if "LastEvaluatedStreamArn" not in page:
            break
        page = streams.list_streams(Limit=1, ExclusiveStartStreamArn=page["LastEvaluatedStreamArn"])
    assert arns <= found
    missing = unique_name()
    with raises("ResourceNotFoundException", table_not_found(missing)):
        streams.list_streams(TableName=missing)
    with validation(one_error("101", "limit", "Member must have value less than or equal to 100")):
        streams.list_streams(Limit=101)


def test_describe_stream_errors(
    dynamodb: Client, streams: Client, raw_streams: Client, table: TableFactory
) -> None:
    name = table(StreamSpecification=NEW_AND_OLD)
    arn = stream_arn(dynamodb, name)
    gone = arn[: -len("2000-01-01T00:00:00.000")] + "2000-01-01T00:00:00.000"
    with raises(
        "ResourceNotFoundException", f"Requested resource not found: Stream: {gone} not found"
    ):
        streams.describe_stream(StreamArn=gone)
    with validation("Invalid StreamArn"):
        streams.describe_stream(StreamArn="x" * 40)
    with validation(
        one_error("short", "streamArn", "Member must have length greater than or equal to 37")
    ):
        raw_streams.describe_stream(StreamArn="short")
    page = streams.describe_stream(StreamArn=arn, ExclusiveStartShardId="z" * 40)
    assert page["StreamDescription"]["Shards"] == []


@pytest.fixture
def shard(dynamodb: Client, streams: Client, table: TableFactory) -> tuple[str, str]:
    """(stream ARN, first shard id) of a new table with a NEW_AND_OLD_IMAGES stream."""
    arn = stream_arn(dynamodb, table(StreamSpecification=NEW_AND_OLD))
    shard_id: str = all_shards(streams, arn)[0]["ShardId"]
    return arn, shard_id


def test_get_shard_iterator_errors(
    streams: Client, raw_streams: Client, shard: tuple[str, str]
) -> None:
    arn, shard_id = shard
    with raises("ResourceNotFoundException", SHARD_NOT_FOUND):
        streams.get_shard_iterator(
            StreamArn=arn,
            ShardId="shardId-00000000000000000000-00000009",
            ShardIteratorType="LATEST",
        )
    with raises("ValidationException"):
        streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER"
        )
    with raises("ValidationException"):
        streams.get_shard_iterator(
            StreamArn=arn,
            ShardId=shard_id,
            ShardIteratorType="LATEST",
            SequenceNumber="100000000000000000001",
        )
    with raises("ValidationException"):
        streams.get_shard_iterator(
            StreamArn=arn,
            ShardId=shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber="9" * 30,
        )
    with validation(
        one_error(
            "bulle",
            "shardIteratorType",
            "Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, "
            "AFTER_SEQUENCE_NUMBER]",
        )
    ):
        raw_streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="bulle")
    with validation("Invalid StreamArn"):
        streams.get_shard_iterator(StreamArn="y" * 40, ShardId=shard_id, ShardIteratorType="LATEST")


def test_get_records_errors(streams: Client, raw_streams: Client, shard: tuple[str, str]) -> None:
    arn, shard_id = shard
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_id, ShardIteratorType="LATEST"
    )["ShardIterator"]
    streams.get_records(ShardIterator=iterator, Limit=1000)
    with validation(
        one_error("1001", "limit", "Member must have value less than or equal to 1000")
    ):
        streams.get_records(ShardIterator=iterator, Limit=1001)
    with validation(one_error("0", "limit", "Member must have value greater than or equal to 1")):
        raw_streams.get_records(ShardIterator=iterator, Limit=0)
    with validation("Invalid ShardIterator"):
        streams.get_records(ShardIterator="sdfsdfsgagaddafgagasgasgasdfasdfasdfasdfasdgasdasdgasdg")
    forged = iterator[:-8] + ("A" * 8 if not iterator.endswith("A" * 8) else "B" * 8)
    with validation("Invalid ShardIterator"):
        streams.get_records(ShardIterator=forged)


# --- retention (a server that keeps records for one second) ------------------------------


@pytest.fixture(scope="module")
def short_retention(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with own_server(
        tmp_path_factory.mktemp("retention"), "--stream-retention", "1", "--stream-interval", "0.1"
    ) as url:
        yield url


def test_trimmed_records(short_retention: str) -> None:
    client = aws_client(short_retention)
    streams = aws_client(short_retention, "dynamodbstreams")
    name = create_table(client, StreamSpecification=NEW_AND_OLD)
    arn = stream_arn(client, name)
    shard_id = all_shards(streams, arn)[0]["ShardId"]
    client.put_item(TableName=name, Item=key("old"))
    horizon = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    (record,) = streams.get_records(ShardIterator=horizon)["Records"]
    sequence = record["dynamodb"]["SequenceNumber"]
    time.sleep(2)
    with raises("TrimmedDataAccessException"):
        streams.get_records(ShardIterator=horizon)
    with raises("TrimmedDataAccessException"):
        streams.get_shard_iterator(
            StreamArn=arn,
            ShardId=shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=sequence,
        )
    client.put_item(TableName=name, Item=key("new"))
    fresh = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert [r["dynamodb"]["Keys"] for r in streams.get_records(ShardIterator=fresh)["Records"]] == [
        key("new")
    ]


# --- status transitions (a server whose tables take two seconds to change status) ------


@pytest.fixture(scope="module")
def slow_tables(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose tables take two seconds to change status."""
    with own_server(tmp_path_factory.mktemp("transitions"), "--table-status-delay", "2") as url:
        yield url


def test_stream_status_while_the_table_changes(slow_tables: str) -> None:
    client = aws_client(slow_tables)
    streams = aws_client(slow_tables, "dynamodbstreams")
    name = unique_name()
    created = client.create_table(
        TableName=name,
        AttributeDefinitions=[attr("pk")],
        KeySchema=schema("pk"),
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification=NEW_AND_OLD,
    )["TableDescription"]
    arn = created["LatestStreamArn"]

    def status() -> str:
        found: str = streams.describe_stream(StreamArn=arn)["StreamDescription"]["StreamStatus"]
        return found

    assert status() == "ENABLING"
    wait_active(client, name)
    assert status() == "ENABLED"
    client.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert status() == "DISABLING"
    wait_active(client, name)
    assert status() == "DISABLED"
