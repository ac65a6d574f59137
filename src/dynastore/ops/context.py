"""What every operation handler receives, and how table names (or ARNs) resolve."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dynastore.engine.engine import Engine
from dynastore.errors import AccessDeniedException
from dynastore.server.protocol import RequestContext

Request = dict[str, Any]
Result = dict[str, Any] | bytes
OperationFn = Callable[[Engine, RequestContext, Request], Result]


def table_ref(ctx: RequestContext, name_or_arn: str) -> tuple[str, str, str]:
    """(account, region, name) of a TableName parameter, which may be a table ARN."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":", 5)
        if len(parts) == 6 and parts[5].startswith("table/"):
            name = parts[5][len("table/") :].split("/", 1)[0]
            if parts[4] != ctx.account:
                # No resource-based policies here: another account's table is never reachable.
                raise AccessDeniedException(
                    f"User: arn:aws:iam::{ctx.account}:user/{ctx.access_key} is not authorized "
                    f"to perform this action on resource: {name_or_arn} because no "
                    "resource-based policy allows it"
                )
            return parts[4], parts[3], name
    return ctx.account, ctx.region, name_or_arn
