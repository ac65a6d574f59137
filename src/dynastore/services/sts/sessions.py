"""STS AssumeRole: temporary credentials of a role session.

Dynastore has no IAM roles, so every role ARN of the right form may be assumed; the
credentials are new random ones (an ``ASIA`` access key, a secret and a session token)
that expire after DurationSeconds. Nothing is stored: the server accepts them where it
accepts any key (``--auth accept``, the default without a credentials file). The
role's unique id (``AROA...``) is derived from its ARN, so one role keeps one id.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from collections.abc import Callable
from typing import Any

from dynastore.errors import ValidationException
from dynastore.server.service import RequestContext

DEFAULT_DURATION = 3600
# STS's check of a role ARN's shape: six colon-separated parts, a non-empty resource.
_ROLE_ARN = re.compile(r"arn:([^:]+):[^:]+:[^:]*:([^:]*):([^:]+)")


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
    clock: Callable[[], float] = time.time,
) -> Callable[[RequestContext, dict[str, Any]], dict[str, Any]]:
    """The AssumeRole handler (the model has already checked lengths and patterns)."""

    def assume_role(ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        role_arn: str = request["RoleArn"]
        match = _ROLE_ARN.fullmatch(role_arn)
        if match is None:
            raise ValidationException(f"{role_arn} is invalid")
        partition, account, resource = match.groups()
        session = request["RoleSessionName"]
        duration = int(request.get("DurationSeconds") or DEFAULT_DURATION)
        role_name = resource.rsplit("/", 1)[-1]
        out: dict[str, Any] = {
            "Credentials": new_credentials(round(clock()) + duration),
            "AssumedRoleUser": {
                "AssumedRoleId": f"{role_id(role_arn)}:{session}",
                "Arn": f"arn:{partition}:sts::{account or ctx.account}:assumed-role/"
                f"{role_name}/{session}",
            },
        }
        if request.get("SourceIdentity"):
            out["SourceIdentity"] = request["SourceIdentity"]
        return out

    return assume_role
