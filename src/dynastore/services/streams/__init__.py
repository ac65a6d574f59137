"""DynamoDB Streams: the ``dynamodbstreams`` API on the server's one port.

Requests carry ``X-Amz-Target: DynamoDBStreams_20120810.<Operation>`` and are checked
by the shared validator compiled from botocore's ``dynamodbstreams`` model, plus the
Limit maxima DynamoDB enforces but the model does not state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dynastore.engine.engine import Engine
from dynastore.errors import ValidationException
from dynastore.ops.validate import RequestValidator
from dynastore.server.protocol import Handler, RequestContext, Service
from dynastore.services.streams.handlers import (
    LIST_LIMIT,
    RECORD_LIMIT,
    SHARD_LIMIT,
    StreamsApi,
)

TARGET_PREFIX = "DynamoDBStreams_20120810"
_MAX_LIMIT = {"ListStreams": LIST_LIMIT, "DescribeStream": SHARD_LIMIT, "GetRecords": RECORD_LIMIT}


def _bind(
    engine: Engine, fn: Callable[[RequestContext, dict[str, Any]], dict[str, Any]]
) -> Handler:
    def handler(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        engine.begin_request()
        return fn(ctx, req)

    return handler


def streams_service(engine: Engine, validator: RequestValidator | None = None) -> Service:
    """The DynamoDB Streams JSON service over `engine`."""
    checker = validator or RequestValidator.from_botocore("dynamodbstreams")
    api = StreamsApi(engine)

    def validate(operation: str, body: dict[str, Any]) -> None:
        checker.validate(operation, body)
        limit = body.get("Limit")
        maximum = _MAX_LIMIT.get(operation)
        if maximum is not None and isinstance(limit, int) and limit > maximum:
            raise ValidationException(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
                f"constraint: Member must have value less than or equal to {maximum}"
            )

    operations = {
        "ListStreams": api.list_streams,
        "DescribeStream": api.describe_stream,
        "GetShardIterator": api.get_shard_iterator,
        "GetRecords": api.get_records,
    }
    return Service(
        TARGET_PREFIX, {name: _bind(engine, fn) for name, fn in operations.items()}, validate
    )
