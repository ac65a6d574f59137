"""STS AssumeRole: temporary credentials of a role session.

Dynastore has no IAM roles, so every role ARN of the right form may be assumed (under
``--auth verify``, only a role of the caller's own account: with no trust policies, that
keeps accounts apart); the credentials are new random ones (an ``ASIA`` access key, a
secret and a session token) that expire after DurationSeconds. The session is stored
(store.py), so that the verifier accepts its key in every process sharing the store. The
role's unique id (``AROA...``) is derived from its ARN, so one role keeps one id.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Callable
from typing import Any

from dynastore.errors import AwsError, ValidationException
from dynastore.server.service import RequestContext
from dynastore.server.sigv4 import TemporaryKey, token_digest
from dynastore.services.sts.store import RoleSession, SessionStore

DEFAULT_DURATION = 3600
# STS's check of a role ARN's shape: six colon-separated parts, a non-empty resource.
_ROLE_ARN = re.compile(r"arn:([^:]+):[^:]+:[^:]*:([^:]*):([^:]+)")


class AccessDenied(AwsError):
    """STS's refusal of an operation the caller may not perform."""

    status = 403


def _base32(data: bytes, size: int) -> str:
    """`size` characters of AWS's unique-id alphabet (A-Z, 2-7)."""
    return base64.b32encode(data).decode()[:size]


def role_id(role_arn: str) -> str:
    """The role's unique id, as IAM shows it: ``AROA`` and 17 characters."""
    return "AROA" + _base32(hashlib.sha256(role_arn.encode()).digest(), 17)


def new_credentials(expiration: float) -> dict[str, Any]:
    """Random temporary credentials expiring at `expiration` (epoch seconds)."""
    return {
        "AccessKeyId": "ASIA" + _base32(os.urandom(10), 16),
        "SecretAccessKey": base64.b64encode(os.urandom(30)).decode(),
        "SessionToken": base64.b64encode(os.urandom(192)).decode(),
        "Expiration": expiration,
    }


def assume_role_handler(
    sessions: SessionStore,
    caller_arn: Callable[[RequestContext], str],
    *,
    cross_account: bool,
) -> Callable[[RequestContext, dict[str, Any]], dict[str, Any]]:
    """The AssumeRole handler (the model has already checked lengths and patterns).

    `caller_arn` names the caller in AccessDenied; `cross_account` lets it assume roles
    of other accounts.
    """

    def assume_role(ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        role_arn: str = request["RoleArn"]
        match = _ROLE_ARN.fullmatch(role_arn)
        if match is None:
            raise ValidationException(f"{role_arn} is invalid")
        partition, account, resource = match.groups()
        account = account or ctx.account
        if not cross_account and account != ctx.account:
            raise AccessDenied(
                f"User: {caller_arn(ctx)} is not authorized to perform: sts:AssumeRole "
                f"on resource: {role_arn}"
            )
        session = request["RoleSessionName"]
        duration = int(request.get("DurationSeconds") or DEFAULT_DURATION)
        role_name = resource.rsplit("/", 1)[-1]
        credentials = new_credentials(round(sessions.clock()) + duration)
        user = {
            "AssumedRoleId": f"{role_id(role_arn)}:{session}",
            "Arn": f"arn:{partition}:sts::{account}:assumed-role/{role_name}/{session}",
        }
        key = TemporaryKey(
            credentials["SecretAccessKey"],
            token_digest(credentials["SessionToken"]),
            account,
            credentials["Expiration"],
        )
        sessions.save(
            RoleSession(credentials["AccessKeyId"], key, user["Arn"], user["AssumedRoleId"])
        )
        out: dict[str, Any] = {"Credentials": credentials, "AssumedRoleUser": user}
        if request.get("SourceIdentity"):
            out["SourceIdentity"] = request["SourceIdentity"]
        return out

    return assume_role
