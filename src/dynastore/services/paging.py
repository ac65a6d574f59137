"""NextToken paging shared by the services whose tokens are opaque to the caller.

Application Auto Scaling and AWS Backup: a token is the URL-safe base64 of a JSON
position, and a listing answers its page under one member plus NextToken. CloudWatch
and SNS: a token is the URL-safe base64 of a tag byte and a storage key (`tagged`)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson


def token(position: object) -> str:
    """The NextToken that resumes after `position` (any JSON value)."""
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode()


def position(text: str) -> Any:
    """The position a NextToken carries; ValueError when it is not one of ours."""
    return orjson.loads(base64.urlsafe_b64decode(text.encode()))


def listed(member: str, page: list[Any], next_token: str | None) -> dict[str, Any]:
    """A listing's answer: `page` under `member`, and NextToken when there is more."""
    out: dict[str, Any] = {member: page}
    if next_token:
        out["NextToken"] = next_token
    return out


def tagged(text: Any, tag: bytes, invalid: Exception) -> bytes | None:
    """The bytes of a NextToken that start with `tag` (kept); None for no token; `invalid`
    is raised for a token that is not one of these."""
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(str(text).encode())
    except (binascii.Error, ValueError):
        raw = b""
    if not raw.startswith(tag):
        raise invalid
    return raw
