"""The four DynamoDB Streams operations, over engine/streams.py.

Every read of a stream takes one storage snapshot for its descriptor, trim point and
records, so a shard that the worker closes meanwhile is seen either open or closed,
never half of each.
"""

from __future__ import annotations

from typing import Any

from dynastore.engine import streams
from dynastore.engine.engine import Engine
from dynastore.engine.streams import Stream
from dynastore.errors import (
    ResourceNotFoundException,
    TrimmedDataAccessException,
    ValidationException,
)
from dynastore.server.service import Request, RequestContext, Result

LIST_LIMIT = 100
SHARD_LIMIT = 100
RECORD_LIMIT = 1000
_WITH_SEQUENCE = ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")


def _stream_not_found(arn: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Requested resource not found: Stream: {arn} not found")


def _owned(ctx: RequestContext, stream: Stream | None, arn: str) -> Stream:
    """The stream, if it belongs to the caller's account and region: another account's
    stream does not exist for this caller."""
    if stream is None or stream.account != ctx.account or stream.region != ctx.region:
        raise _stream_not_found(arn)
    return stream


def _check_arn(arn: str) -> None:
    if streams.parse_arn(arn) is None:
        raise ValidationException("Invalid StreamArn")


class StreamsApi:
    """ListStreams, DescribeStream, GetShardIterator and GetRecords over one Engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._secret: bytes | None = None

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = streams.load_secret(self._engine.backend)
        return self._secret

    def _load(self, ctx: RequestContext, arn: str) -> Stream:
        with self._engine.backend.read() as tx:
            stream = streams.load(tx, arn)
        return _owned(ctx, stream, arn)

    def list_streams(self, ctx: RequestContext, req: Request) -> Result:
        limit = int(req.get("Limit") or LIST_LIMIT)
        table = req.get("TableName")
        start = req.get("ExclusiveStartStreamArn")
        after = b""
        if start is not None:
            parts = streams.parse_arn(start)
            if parts is None:
                raise ValidationException("Invalid ExclusiveStartStreamArn")
            account, region, name, label = parts
            after = f"{account}/{region}/{name}/{label}".encode()
        with self._engine.backend.read() as tx:
            found = streams.listing(tx, ctx.account, ctx.region, table, after)
        if (
            table is not None
            and not found
            and start is None
            and self._engine.catalog.get(ctx.account, ctx.region, table) is None
        ):
            raise ResourceNotFoundException(
                f"Requested resource not found: Table: {table} not found"
            )
        page = found[:limit]
        out: Result = {
            "Streams": [
                {"StreamArn": s.arn, "TableName": s.table, "StreamLabel": s.label} for s in page
            ]
        }
        if len(found) > limit:
            out["LastEvaluatedStreamArn"] = page[-1].arn
        return out

    def describe_stream(self, ctx: RequestContext, req: Request) -> Result:
        arn = req["StreamArn"]
        _check_arn(arn)
        stream = self._load(ctx, arn)
        limit = int(req.get("Limit") or SHARD_LIMIT)
        shards = [stream.shard(i) for i in range(stream.base, len(stream.bounds))]
        start = req.get("ExclusiveStartShardId")
        if start is not None:
            shards = [s for s in shards if s["ShardId"] > start]
        shard_filter = req.get("ShardFilter") or {}
        if shard_filter.get("Type") == "CHILD_SHARDS":
            parent = shard_filter.get("ShardId")
            shards = [s for s in shards if s.get("ParentShardId") == parent]
        page = shards[:limit]
        description: dict[str, Any] = {
            "StreamArn": stream.arn,
            "StreamLabel": stream.label,
            "StreamStatus": streams.stream_status(
                stream, self._engine.clock(), self._engine.settings.status_delay
            ),
            "StreamViewType": stream.view,
            "CreationRequestDateTime": stream.created,
            "TableName": stream.table,
            "KeySchema": stream.keys,
            "Shards": page,
        }
        if len(shards) > limit:
            description["LastEvaluatedShardId"] = page[-1]["ShardId"]
        return {"StreamDescription": description}

    def get_shard_iterator(self, ctx: RequestContext, req: Request) -> Result:
        arn = req["StreamArn"]
        shard_id = req["ShardId"]
        kind = req["ShardIteratorType"]
        sequence = req.get("SequenceNumber")
        if (kind in _WITH_SEQUENCE) != (sequence is not None):
            raise ValidationException(
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
                "SequenceNumber or (2) TRIM_HORIZON or LATEST and no SequenceNumber. Request "
                f"specified {kind} and {'a' if sequence is not None else 'no'} SequenceNumber."
            )
        _check_arn(arn)
        with self._engine.backend.read() as tx:
            stream = _owned(ctx, streams.load(tx, arn), arn)
            index = stream.shard_index(shard_id)
            if index is None:
                raise ResourceNotFoundException(streams.SHARD_NOT_FOUND)
            position = streams.start_position(tx, stream, index, kind, sequence)
        now = self._engine.clock()
        return {"ShardIterator": streams.make_iterator(self.secret, arn, index, position, now)}

    def get_records(self, ctx: RequestContext, req: Request) -> Result:
        limit = int(req.get("Limit") or RECORD_LIMIT)
        now = self._engine.clock()
        arn, index, position = streams.read_iterator(self.secret, req["ShardIterator"], now)
        with self._engine.backend.read() as tx:
            stream = _owned(ctx, streams.load(tx, arn), arn)
            if index < stream.base:  # the whole shard was trimmed away
                raise TrimmedDataAccessException()
            if index >= len(stream.bounds):
                raise ResourceNotFoundException(streams.SHARD_NOT_FOUND)
            records, following = streams.read_records(tx, stream, index, position, limit)
        out: Result = {"Records": records}
        if following is not None:
            out["NextShardIterator"] = streams.make_iterator(
                self.secret, arn, index, following, now
            )
        return out
