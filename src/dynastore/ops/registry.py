"""The DynamoDB operations: name -> handler, bound to one Engine."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from dynastore.engine.engine import Engine
from dynastore.errors import AwsError
from dynastore.ops import (
    backups,
    batch,
    contributor_insights,
    create_table,
    delete_item,
    get_item,
    partiql,
    pitr,
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
    "UpdateContinuousBackups": pitr.update_continuous_backups,
    "DescribeContinuousBackups": pitr.describe_continuous_backups,
    "RestoreTableToPointInTime": pitr.restore_table_to_point_in_time,
    "CreateBackup": backups.create_backup,
    "DescribeBackup": backups.describe_backup,
    "ListBackups": backups.list_backups,
    "DeleteBackup": backups.delete_backup,
    "RestoreTableFromBackup": backups.restore_table_from_backup,
}


# Operations on items: they may read through a catalog cache up to
# EngineSettings.catalog_check seconds old; their writes check it (engine/catalog.py).
ITEM_OPERATIONS = frozenset(
    {
        "GetItem", "PutItem", "UpdateItem", "DeleteItem", "BatchGetItem", "BatchWriteItem",
        "Query", "Scan", "TransactGetItems", "TransactWriteItems", "ExecuteStatement",
        "BatchExecuteStatement", "ExecuteTransaction",
    }
)  # fmt: skip


def _bind(engine: Engine, name: str, fn: OperationFn, checker: RequestValidator) -> Handler:
    recorder = engine.metrics
    item = name in ITEM_OPERATIONS

    def handler(ctx: RequestContext, req: Request) -> Result:
        started = time.perf_counter()
        try:
            # Validation runs here rather than in Service.validate (the same point of the
            # request, right after authentication) so that its errors count as UserErrors
            # of the caller's account and region.
            checker.validate(name, req)
            engine.begin_request(item)
            result = fn(engine, ctx, req)
        except AwsError as error:
            recorder.failed(ctx.account, ctx.region, name, req, error.type_name, error.status)
            raise
        except Exception:
            recorder.failed(ctx.account, ctx.region, name, req, None)
            raise
        recorder.succeeded(
            ctx.account, ctx.region, name, req, result, time.perf_counter() - started
        )
        return result

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
        pass  # each handler validates its request first (see _bind)

    return Service(
        TARGET_PREFIX,
        {name: _bind(engine, name, fn, checker) for name, fn in operations.items()},
        validate,
    )
