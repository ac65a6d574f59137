"""STS, on the Query protocol: who the caller is, from its SigV4 credentials, and
temporary credentials of role sessions (sessions.py, kept by store.py).

Dynastore has no IAM users: the caller is named after its access key, in the account the
credentials map to (the credentials file's ``account_id``, else the server's account). A
caller using a session's temporary key is that session's assumed role.
"""

from __future__ import annotations

from typing import Any

from dynastore.server.service import RequestContext, Service
from dynastore.services.base import model_service
from dynastore.services.sts.sessions import assume_role_handler
from dynastore.services.sts.store import SessionStore

__all__ = ["SessionStore", "sts_service", "user_arn"]


def user_arn(account: str, access_key: str) -> str:
    """The caller's ARN: an IAM user named after its access key."""
    return f"arn:aws:iam::{account}:user/{access_key}"


def sts_service(sessions: SessionStore, *, cross_account: bool = True) -> Service:
    """The STS service (GetCallerIdentity, GetAccessKeyInfo, AssumeRole).

    `cross_account`: whether a caller may assume a role of another account (with no
    trust policies to ask, ``--auth verify`` says no).
    """

    def get_caller_identity(ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        session = sessions.session(ctx.access_key)
        if session is not None:
            return {
                "UserId": session.user_id,
                "Account": session.key.account_id,
                "Arn": session.arn,
            }
        return {
            "UserId": ctx.access_key,
            "Account": ctx.account,
            "Arn": user_arn(ctx.account, ctx.access_key),
        }

    def get_access_key_info(ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        # A session's key is known; any other key maps to the caller's account, as it
        # would in accept mode.
        session = sessions.session(request["AccessKeyId"])
        return {"Account": ctx.account if session is None else session.key.account_id}

    def caller_arn(ctx: RequestContext) -> str:
        return str(get_caller_identity(ctx, {})["Arn"])

    return model_service(
        "sts",
        {
            "GetCallerIdentity": get_caller_identity,
            "GetAccessKeyInfo": get_access_key_info,
            "AssumeRole": assume_role_handler(sessions, caller_arn, cross_account=cross_account),
        },
    )
