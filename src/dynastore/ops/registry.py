"""The DynamoDB operations: name -> handler, bound to one Engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dynastore.engine.engine import Engine
from dynastore.ops import (
    batch,
    create_table,
    delete_item,
    get_item,
    put_item,
    tables,
    update_item,
    update_table,
)
from dynastore.ops.context import OperationFn, Request, Result
from dynastore.ops.validate import RequestValidator
from dynastore.server.protocol import Handler, RequestContext, Service

TARGET_PREFIX = "DynamoDB_20120810"

OPERATIONS: Mapping[str, OperationFn] = {
    "CreateTable": create_table.handle,
    "DescribeTable": tables.describe_table,
    "ListTables": tables.list_tables,
    "DeleteTable": tables.delete_table,
    "UpdateTable": update_table.handle,
    "DescribeLimits": tables.describe_limits,
    "DescribeEndpoints": tables.describe_endpoints,
    "PutItem": put_item.handle,
    "GetItem": get_item.handle,
    "UpdateItem": update_item.handle,
    "DeleteItem": delete_item.handle,
    "BatchWriteItem": batch.batch_write_item,
    "BatchGetItem": batch.batch_get_item,
}


def _bind(engine: Engine, fn: OperationFn) -> Handler:
    def handler(ctx: RequestContext, req: Request) -> Result:
        engine.begin_request()
        return fn(engine, ctx, req)

    return handler


def dynamodb_service(engine: Engine, validator: RequestValidator | None = None) -> Service:
    """The DynamoDB JSON service over `engine`."""
    checker = validator or RequestValidator.from_botocore()

    def validate(operation: str, body: dict[str, Any]) -> None:
        checker.validate(operation, body)

    return Service(
        TARGET_PREFIX,
        {name: _bind(engine, fn) for name, fn in OPERATIONS.items()},
        validate,
    )
