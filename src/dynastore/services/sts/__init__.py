"""STS, on the Query protocol: who the caller is, from its SigV4 credentials, and
temporary credentials of role sessions (sessions.py).

Dynastore has no IAM users: the caller is named after its access key, in the account the
credentials map to (the credentials file's ``account_id``, else the server's account).
"""

from __future__ import annotations

from typing import Any

from dynastore.server.service import RequestContext, Service
from dynastore.services.base import model_service
from dynastore.services.sts.sessions import assume_role_handler


def user_arn(account: str, access_key: str) -> str:
    """The caller's ARN: an IAM user named after its access key."""
    return f"arn:aws:iam::{account}:user/{access_key}"


def get_caller_identity(ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
    return {
        "UserId": ctx.access_key,
        "Account": ctx.account,
        "Arn": user_arn(ctx.account, ctx.access_key),
    }


def get_access_key_info(ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
    # Only the caller's own keys are known here; any other key maps to the same account,
    # as it would in accept mode.
    return {"Account": ctx.account}


def sts_service() -> Service:
    """The STS service (GetCallerIdentity, GetAccessKeyInfo, AssumeRole)."""
    return model_service(
        "sts",
        {
            "GetCallerIdentity": get_caller_identity,
            "GetAccessKeyInfo": get_access_key_info,
            "AssumeRole": assume_role_handler(),
        },
    )
