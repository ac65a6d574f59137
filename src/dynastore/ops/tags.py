"""TagResource, UntagResource and ListTagsOfResource.

A table's tags live in its stored description under "Tags" (a list of {"Key", "Value"}
in the order keys were first set), where CreateTable puts them; DescribeTable strips
them (ops/describe.py). A table's live stream ARN is a tag slot of its own, as in
DynamoDB, kept under "StreamTags" (ARN -> list). Validation follows DynamoDB's own
tag rules and texts (recorded against the service): all-or-nothing, checked before the
table is looked up, the 50-tag and 10240-byte limits against the merged set.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.errors import (
    ResourceInUseException,
    ResourceNotFoundException,
    ValidationException,
)
from dynastore.ops.context import Request, Result
from dynastore.server.protocol import RequestContext
from dynastore.storage.base import WriteTx

TAGS_FIELD = "Tags"
STREAM_TAGS_FIELD = "StreamTags"
MAX_TAGS = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
MAX_TAG_SET_BYTES = 10240
PAGE_SIZE = MAX_TAGS  # DynamoDB answers every tag (at most 50) in one page
_INVALID = "One or more parameter values were invalid: "
_SYMBOLS = frozenset("_.:/=+-@")
_NAME = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
TOO_MANY = "Number of Tags exceed the current limit for the provided ResourceArn"

Tag = dict[str, str]
Edit = Callable[[list[Tag]], list[Tag]]  # a resource's tags -> its new tags


# --- validation --------------------------------------------------------------------------


def _allowed(text: str) -> bool:
    """Unicode letters, digits and spaces, and _ . : / = + - @ (the AWS tag alphabet)."""
    for char in text:
        if char.isalnum() or char in _SYMBOLS:
            continue
        if not unicodedata.category(char).startswith("Z"):
            return False
    return True


def check_key(key: Any) -> str:
    """A tag key: 1-128 allowed characters, not starting with "aws:" (any case)."""
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH or not _allowed(key):
        raise ValidationException(f"The Tag Key provided is invalid, Key: {_text(key)}")
    if key[:4].lower() == "aws:":
        raise ValidationException(f"Tag Key cannot be prefixed with aws:, Key: {key}")
    return key


def _check_value(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH or not _allowed(value):
        raise ValidationException(f"The Tag Value provided is invalid, Value: {_text(value)}")
    return value


def _text(value: Any) -> str:
    return "null" if value is None else str(value)


def check_tags(tags: list[Any]) -> list[Tag]:
    """Validate a Tags list (TagResource, CreateTable): each tag, then duplicates and limits."""
    out: list[Tag] = []
    seen: set[str] = set()
    for tag in tags:
        raw = tag if isinstance(tag, dict) else {}
        key = check_key(raw.get("Key"))
        value = _check_value(raw.get("Value"))
        if key in seen:
            raise ValidationException(
                f"Duplicate Tag Keys provided as input: Duplicate Tag Key found {key}"
            )
        seen.add(key)
        out.append({"Key": key, "Value": value})
    check_limits(out)
    return out


def check_limits(tags: list[Tag]) -> None:
    """At most 50 tags and 10240 bytes of keys and values on one resource."""
    if len(tags) > MAX_TAGS:
        raise ValidationException(TOO_MANY)
    size = sum(len(t["Key"].encode()) + len(t["Value"].encode()) for t in tags)
    if size > MAX_TAG_SET_BYTES:
        raise ValidationException(
            f"Tag set size {size} bytes is above max size limit of {MAX_TAG_SET_BYTES} bytes"
        )


def merge(current: list[Tag], added: list[Tag]) -> list[Tag]:
    """Upsert: a key already present takes the new value in place; new keys go last."""
    merged = {t["Key"]: t["Value"] for t in current}
    merged.update((t["Key"], t["Value"]) for t in added)
    return [{"Key": k, "Value": v} for k, v in merged.items()]


def page(tags: list[Tag], token: str | None, size: int = PAGE_SIZE) -> tuple[list[Tag], str | None]:
    """One page of tags from `token` (the position to resume at) and the next token. As
    in DynamoDB, a token that is not one of ours is ignored: the first page."""
    start = 0
    if token is not None and token.isdigit() and int(token) <= len(tags):
        start = int(token)
    end = start + size
    return tags[start:end], str(end) if end < len(tags) else None


# --- the resource an ARN names -------------------------------------------------------------


def _parse(ctx: RequestContext, arn: str) -> tuple[str, str, str | None]:
    """(account, table name, stream ARN or None) of a taggable ARN; DynamoDB's errors else."""
    if not arn.startswith("arn:"):
        raise ValidationException(f"{_INVALID}ARNs must start with 'arn:': {arn}")
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[2] != "dynamodb" or not parts[5].startswith("table/"):
        raise ValidationException(f"{_INVALID}Provided Arn is not a DynamoDB resource arn: {arn}")
    path = parts[5][len("table/") :].split("/")
    stream = None
    if len(path) > 1:
        if path[1] == "index":
            raise ValidationException(
                f"{_INVALID}Invalid resource arn provided, only table or stream is accepted. "
                f"Provided resource arn: {arn}"
            )
        if path[1] != "stream" or len(path) != 3:
            raise ValidationException(
                f"{_INVALID}Provided Arn is not a DynamoDB resource arn: {arn}"
            )
        stream = arn
    if parts[3] != ctx.region or not parts[4].isdigit() or not _NAME.fullmatch(path[0]):
        raise ValidationException(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    return parts[4], path[0], stream


def _lookup(
    engine: Engine, ctx: RequestContext, arn: str, parsed: tuple[str, str, str | None]
) -> tuple[TableDef, str | None]:
    account, name, stream = parsed
    # Only the caller's own tables: another account's ARN names nothing this caller sees.
    table = engine.catalog.get(account, ctx.region, name) if account == ctx.account else None
    if table is None or not _has(table, stream):
        raise _not_found(arn)
    return table, stream


def _has(table: TableDef, stream: str | None) -> bool:
    return stream is None or table.description.get("LatestStreamArn") == stream


def _not_found(arn: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Requested resource not found: ResourceArn: {arn} not found")


def _current(table: TableDef, stream: str | None) -> list[Tag]:
    if stream is not None:
        found: list[Tag] = table.description.get(STREAM_TAGS_FIELD, {}).get(stream, [])
        return found
    tags: list[Tag] = table.description.get(TAGS_FIELD) or []
    return tags


def _store(engine: Engine, arn: str, table: TableDef, stream: str | None, edit: Edit) -> None:
    """Apply `edit` to the resource's tags, in the table's current definition."""
    if edit(_current(table, stream)) == _current(table, stream):
        return  # a no-op write changes nothing (and is allowed while DELETING)

    def change(tx: WriteTx, table: TableDef) -> None:
        if not _has(table, stream):
            raise _not_found(arn)
        tags = edit(_current(table, stream))
        if tags == _current(table, stream):
            return  # no change after all (another process made it)
        if table.status == "DELETING":
            raise ResourceInUseException(
                "Attempt to change a resource which is still in use: Table is being deleted: "
                f"{table.name}"
            )
        if stream is not None:
            table.description.setdefault(STREAM_TAGS_FIELD, {})[stream] = tags
        else:
            table.description[TAGS_FIELD] = tags

    engine.catalog.update(table, change, _not_found(arn))


# --- operations ----------------------------------------------------------------------------


def tag_resource(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    arn = req["ResourceArn"]
    parsed = _parse(ctx, arn)
    if not req["Tags"]:
        raise ValidationException("Atleast one Tag needs to be provided as Input.")
    added = check_tags(req["Tags"])
    table, stream = _lookup(engine, ctx, arn, parsed)

    def edit(tags: list[Tag]) -> list[Tag]:
        merged = merge(tags, added)
        check_limits(merged)
        return merged

    _store(engine, arn, table, stream, edit)
    return {}


def untag_resource(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    arn = req["ResourceArn"]
    parsed = _parse(ctx, arn)
    keys = req["TagKeys"]
    if not keys:
        raise ValidationException("Atleast one Tag Key needs to be provided as Input.")
    removed = {check_key(key) for key in keys}
    if len(keys) > MAX_TAGS:
        raise ValidationException(TOO_MANY)
    table, stream = _lookup(engine, ctx, arn, parsed)
    _store(engine, arn, table, stream, lambda tags: [t for t in tags if t["Key"] not in removed])
    return {}


def list_tags_of_resource(engine: Engine, ctx: RequestContext, req: Request) -> Result:
    arn = req["ResourceArn"]
    table, stream = _lookup(engine, ctx, arn, _parse(ctx, arn))
    tags, token = page(_current(table, stream), req.get("NextToken"))
    out: dict[str, Any] = {"Tags": [dict(t) for t in tags]}
    if token is not None:
        out["NextToken"] = token
    return out
