"""The DynamoDB operations: name -> handler, bound to one Engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dynastore.engine.engine import Engine
from dynastore.ops import (
    batch,
    contributor_insights,
    create_table,
    delete_item,
    get_item,
    partiql,
    put_item,
    query,
    scan,
    tables,
    tags,
    transact,
    ttl,
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
    "Query": query.handle,
    "Scan": scan.handle,
    "TransactWriteItems": transact.transact_write_items,
    "TransactGetItems": transact.transact_get_items,
    "ExecuteStatement": partiql.execute_statement,
    "BatchExecuteStatement": partiql.batch_execute_statement,
    "ExecuteTransaction": partiql.execute_transaction,
    "TagResource": tags.tag_resource,
    "UntagResource": tags.untag_resource,
    "ListTagsOfResource": tags.list_tags_of_resource,
    "UpdateContributorInsights": contributor_insights.update_contributor_insights,
    "DescribeContributorInsights": contributor_insights.describe_contributor_insights,
    "ListContributorInsights": contributor_insights.list_contributor_insights,
}


def _bind(engine: Engine, fn: OperationFn) -> Handler:
    def handler(ctx: RequestContext, req: Request) -> Result:
        engine.begin_request()
        return fn(engine, ctx, req)

    return handler


def dynamodb_service(
    engine: Engine,
    validator: RequestValidator | None = None,
    ttl_options: ttl.TtlOptions | None = None,
) -> Service:
    """The DynamoDB JSON service over `engine`."""
    checker = validator or RequestValidator.from_botocore()
    operations = {**OPERATIONS, **ttl.operations(ttl_options or ttl.TtlOptions())}

    def validate(operation: str, body: dict[str, Any]) -> None:
        checker.validate(operation, body)

    return Service(
        TARGET_PREFIX,
        {name: _bind(engine, fn) for name, fn in operations.items()},
        validate,
    )
