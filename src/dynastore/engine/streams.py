"""DynamoDB Streams over the change log: stream descriptors, shards, iterators, records.

Design note
-----------
A stream is a window on its table's change log (engine/changelog.py): the records whose
sequence numbers run from ``first`` (the log's next number when the stream was enabled)
to ``end`` (the last number when it was disabled; open while enabled). Records written
before the stream existed are not in it, and the stream applies its StreamViewType when
it is read, so the write path pays one log append whatever the view type.

Descriptors live in STREAM_SPACE keyed ``account/region/table/label`` (ListStreams
order) and outlive their table by the retention period, as DynamoDB's do: a disabled
stream, or the stream of a deleted table, stays readable (DISABLED) for 24 hours. For the
table status delay after it is enabled (disabled), a stream is ENABLING (DISABLING).

Shards cut the stream's one ordered sequence at ``bounds``, the first sequence number
of each shard: shard k holds [bounds[k], bounds[k+1]) and the last shard is open until
the stream ends. The streams worker closes the open shard by appending a bound of
"last number + 1" inside a write transaction; writers are serialised with it, so no
later commit can take a number below the bound. The new shard's parent is the closed
one. Every record is in exactly one shard and shards are read in parent order, so a
reader sees every change once, in commit order (hence in order per key).

Sequence numbers are the log's plus 10^20, so they print as 21-digit strings that
compare the same as numbers and as text, like DynamoDB's.

Trimming: the worker deletes log records older than the retention and keeps the highest
trimmed number (the *trim point*) in WORKER_SPACE; a read at or below it raises
TrimmedDataAccessException. Closed shards whose records are all trimmed are no longer
listed (``base`` is the first listed shard).

Iterators are ``<stream arn>|1|<base64(shard, position, issue ms, HMAC)>``, signed with a
per-store secret so every process sharing the store accepts them; they expire after
15 minutes.

Descriptor layout (JSON, stored on disk — do not rename keys): arn, label, account,
region, table, view, log (change-log space), keys (KeySchema), created (epoch s), first,
bounds ([[first sequence number, created ms], ...]), base, end (null while enabled),
disabled (epoch s or null).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from dynastore.engine import changelog, keys
from dynastore.engine.catalog import STREAM_SPACE, WORKER_SPACE, Catalog, TableDef
from dynastore.engine.values import Item, item_size
from dynastore.errors import (
    ExpiredIteratorException,
    TrimmedDataAccessException,
    ValidationException,
)
from dynastore.storage.base import Backend, ReadTx, WriteTx

VIEW_TYPES = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
SEQ_OFFSET = 10**20
ITERATOR_TTL = 900.0  # seconds, as DynamoDB
MAX_RECORD_BYTES = 1024 * 1024  # GetRecords returns at most 1 MB of records (SizeBytes)
INVALID = "One or more parameter values were invalid: "
SHARD_NOT_FOUND = "Requested resource not found: Shard does not exist"
INVALID_ITERATOR = "Invalid ShardIterator"

_SECRET_KEY = b"streams/secret"
_ITERATOR = struct.Struct(">IQQ")  # shard index, position, issue time (ms)
_MAC_BYTES = 16
_ARN = re.compile(
    r"arn:aws[a-z-]*:dynamodb:([a-z0-9-]+):([0-9]{12}):table/([a-zA-Z0-9_.-]{3,255})"
    r"/stream/([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3})"
)
_SHARD_ID = re.compile(r"shardId-([0-9]{20})-([0-9a-f]{8})")


# --- sequence numbers, labels, keys ------------------------------------------------------


def format_seq(seq: int) -> str:
    return str(seq + SEQ_OFFSET)


def parse_seq(text: str) -> int | None:
    """The log sequence number of a SequenceNumber parameter, or None if it is not one."""
    if not text.isascii() or not text.isdigit():
        return None
    return int(text) - SEQ_OFFSET


def stream_label(now: float) -> str:
    """DynamoDB's label: the creation time, ISO 8601 with milliseconds, UTC."""
    ms = int(now * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}"


def _prefix(account: str, region: str, table: str | None = None) -> bytes:
    head = f"{account}/{region}/"
    return (head if table is None else f"{head}{table}/").encode()


def parse_arn(arn: str) -> tuple[str, str, str, str] | None:
    """(account, region, table, label) of a stream ARN, or None when it is not one."""
    match = _ARN.fullmatch(arn)
    if match is None:
        return None
    region, account, table, label = match.groups()
    return account, region, table, label


# --- descriptors ------------------------------------------------------------------------


@dataclass(slots=True)
class Stream:
    """One stream of one table (see the module docstring)."""

    arn: str
    label: str
    account: str
    region: str
    table: str
    view: str
    log: int
    keys: list[dict[str, str]]
    created: float
    first: int
    bounds: list[list[int]] = field(default_factory=list)
    base: int = 0
    end: int | None = None
    disabled: float | None = None

    @property
    def key(self) -> bytes:
        return _prefix(self.account, self.region, self.table) + self.label.encode()

    @property
    def enabled(self) -> bool:
        return self.end is None

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "arn": self.arn,
                "label": self.label,
                "account": self.account,
                "region": self.region,
                "table": self.table,
                "view": self.view,
                "log": self.log,
                "keys": self.keys,
                "created": self.created,
                "first": self.first,
                "bounds": self.bounds,
                "base": self.base,
                "end": self.end,
                "disabled": self.disabled,
            }
        )

    @classmethod
    def from_json(cls, raw: bytes) -> Stream:
        data = orjson.loads(raw)
        return cls(**data)

    # shards ----------------------------------------------------------------------------

    def shard_range(self, index: int) -> tuple[int, int | None]:
        """(first, last) sequence numbers of a shard; last is None while it is open."""
        first = self.bounds[index][0]
        if index + 1 < len(self.bounds):
            return first, self.bounds[index + 1][0] - 1
        return first, self.end

    def shard_id(self, index: int) -> str:
        return f"shardId-{self.bounds[index][1]:020d}-{index:08x}"

    def shard_index(self, shard_id: str) -> int | None:
        """The index of a listed shard of this stream, or None."""
        match = _SHARD_ID.fullmatch(shard_id)
        if match is None:
            return None
        index = int(match.group(2), 16)
        if not self.base <= index < len(self.bounds):
            return None
        return index if self.bounds[index][1] == int(match.group(1)) else None

    def shard(self, index: int) -> dict[str, Any]:
        """The Shard structure of DescribeStream."""
        first, last = self.shard_range(index)
        numbers = {"StartingSequenceNumber": format_seq(first)}
        if last is not None:
            numbers["EndingSequenceNumber"] = format_seq(max(first, last))
        out: dict[str, Any] = {"ShardId": self.shard_id(index), "SequenceNumberRange": numbers}
        if index > 0:
            out["ParentShardId"] = self.shard_id(index - 1)
        return out


def save(tx: WriteTx, stream: Stream) -> None:
    tx.put(STREAM_SPACE, stream.key, stream.to_json())


def remove(tx: WriteTx, stream: Stream) -> None:
    tx.delete(STREAM_SPACE, stream.key)


def load(tx: ReadTx, arn: str) -> Stream | None:
    parts = parse_arn(arn)
    if parts is None:
        return None
    account, region, table, label = parts
    raw = tx.get(STREAM_SPACE, _prefix(account, region, table) + label.encode())
    stream = Stream.from_json(raw) if raw is not None else None
    return stream if stream is not None and stream.arn == arn else None


def listing(
    tx: ReadTx, account: str, region: str, table: str | None = None, after: bytes = b""
) -> list[Stream]:
    """Streams of one namespace (or one table), in key order, past the key `after`."""
    prefix = _prefix(account, region, table)
    start = max(prefix, after + b"\x00") if after else prefix
    return [
        Stream.from_json(raw) for _, raw in tx.range(STREAM_SPACE, start, keys.prefix_end(prefix))
    ]


def all_streams(tx: ReadTx) -> list[Stream]:
    return [Stream.from_json(raw) for _, raw in tx.range(STREAM_SPACE, b"", None)]


# --- the log ----------------------------------------------------------------------------


trim_point = changelog.trim_point
last_seq = changelog.last_sequence


def _commit_ms(raw: bytes) -> int:
    """A record's commit time without decoding its images ("t" is its second key)."""
    head = raw[:40]
    at = head.find(b'"t":')
    if at >= 0:
        end = at + 4
        while end < len(head) and head[end : end + 1].isdigit():
            end += 1
        if end < len(head):
            return int(head[at + 4 : end])
    return int(orjson.loads(raw)["t"])


def oldest_ms(tx: ReadTx, log_space: int) -> int | None:
    """Commit time of the log's oldest record (None: the log is empty)."""
    for _, raw in tx.range(log_space, b"", None, limit=1):
        return _commit_ms(raw)
    return None


def trim(tx: WriteTx, log_space: int, cutoff_ms: int, limit: int) -> bool:
    """Delete up to `limit` records committed before `cutoff_ms`; True if more may remain."""
    last: int | None = None
    seen = 0
    for key, raw in tx.range(log_space, b"", None, limit=limit):
        seen += 1
        if _commit_ms(raw) >= cutoff_ms:
            seen = -1
            break
        last = changelog.decode_sequence(key)
    if last is not None:
        tx.delete_range(log_space, b"", changelog.encode_sequence(last + 1))
        tx.put(WORKER_SPACE, changelog.trim_key(log_space), str(last).encode())
    return seen == limit


def drop_log(tx: WriteTx, log_space: int) -> None:
    """Forget a log nothing reads any more (its records are past retention)."""
    tx.delete_range(log_space, b"", None)
    tx.delete(WORKER_SPACE, changelog.trim_key(log_space))


# --- StreamSpecification on CreateTable / UpdateTable ----------------------------------


def create_spec(spec: dict[str, Any] | None) -> str | None:
    """CreateTable's StreamSpecification: the view type of a stream to create, or None."""
    if not spec:
        return None
    view = spec.get("StreamViewType")
    if spec.get("StreamEnabled"):
        if view is None:
            raise ValidationException(
                INVALID + "Table is being created with a stream enabled, UpdateViewType is required"
            )
        return str(view)
    if view is not None:
        raise ValidationException(
            INVALID + "Table is being created with a stream disabled, UpdateViewType should "
            "not be specified"
        )
    return None


def check_update_spec(req: dict[str, Any]) -> None:
    """UpdateTable's request-only checks of StreamSpecification (before the table is read)."""
    spec = req.get("StreamSpecification")
    if not spec:
        return
    view = spec.get("StreamViewType")
    if spec.get("StreamEnabled") and view is None:
        raise ValidationException(
            INVALID + "If stream is being enabled then UpdateViewType is required"
        )
    if not spec.get("StreamEnabled") and view is not None:
        raise ValidationException(
            INVALID + "If stream is being disabled, then UpdateViewType must not be specified"
        )
    if req.get("ProvisionedThroughput") or req.get("BillingMode") == "PROVISIONED":
        raise ValidationException(
            INVALID + "You cannot modify stream status while updating table IOPS"
        )
    updates = req.get("GlobalSecondaryIndexUpdates") or []
    if any(u.get("Create") or u.get("Delete") for u in updates if isinstance(u, dict)):
        raise ValidationException(
            INVALID + "You cannot create or delete index while changing stream status"
        )


def stream_enabled(table: TableDef) -> bool:
    return bool(table.description.get("StreamSpecification", {}).get("StreamEnabled"))


def log_needed(table: TableDef) -> bool:
    """Whether anything reads the table's change log (a stream, PITR, replicas)."""
    return changelog.retention(table) > 0


def apply_update(
    tx: WriteTx, catalog: Catalog, table: TableDef, spec: dict[str, Any], now: float
) -> None:
    """Enable or disable the table's stream as UpdateTable's StreamSpecification asks."""
    if spec.get("StreamEnabled"):
        if stream_enabled(table):
            raise ValidationException(
                f"Table already has an enabled stream: TableName: {table.name}"
            )
        enable(tx, catalog, table, str(spec["StreamViewType"]), now)
    else:
        if not stream_enabled(table):
            raise ValidationException(f"Table has no stream to disable: TableName: {table.name}")
        disable(tx, table, now)


def enable(tx: WriteTx, catalog: Catalog, table: TableDef, view: str, now: float) -> Stream:
    """Start a new stream on `table` (its description is updated in place)."""
    if table.log_space == 0:
        table.log_space = catalog.allocate_space(tx)
    label = stream_label(now)
    prefix = _prefix(table.account, table.region, table.name)
    while tx.get(STREAM_SPACE, prefix + label.encode()) is not None:
        now += 0.001  # one label per stream, even for two enables in one millisecond
        label = stream_label(now)
    first = last_seq(tx, table.log_space) + 1
    stream = Stream(
        arn=f"{table.arn}/stream/{label}",
        label=label,
        account=table.account,
        region=table.region,
        table=table.name,
        view=view,
        log=table.log_space,
        keys=list(table.description["KeySchema"]),
        created=now,
        first=first,
        bounds=[[first, int(now * 1000)]],
    )
    save(tx, stream)
    desc = table.description
    desc["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
    desc["LatestStreamLabel"] = label
    desc["LatestStreamArn"] = stream.arn
    return stream


def disable(tx: WriteTx, table: TableDef, now: float) -> None:
    """End the table's stream: its shards close and it stays readable until retention."""
    label = table.description.get("LatestStreamLabel")
    raw = tx.get(
        STREAM_SPACE, _prefix(table.account, table.region, table.name) + str(label).encode()
    )
    if raw is not None:
        stream = Stream.from_json(raw)
        if stream.enabled:
            stream.end = last_seq(tx, stream.log)
            stream.disabled = now
            save(tx, stream)
    table.description.pop("StreamSpecification", None)
    # A running backup or restore (a pin) still needs the writes logged until it ends.
    if not log_needed(table) and not changelog.pinned(tx, table.log_space):
        table.log_space = 0


def close_if_orphaned(tx: ReadTx, stream: Stream, table: TableDef | None, now: float) -> bool:
    """End an open stream whose table was deleted (or replaced); True if it was ended."""
    if not stream.enabled or (table is not None and table.log_space == stream.log):
        return False
    stream.end = last_seq(tx, stream.log)
    stream.disabled = now
    return True


def roll(tx: ReadTx, stream: Stream, now: float, shard_seconds: float, shard_records: int) -> bool:
    """Close the open shard when it is full or old enough; True when the stream changed."""
    if not stream.enabled:
        return False
    first, created_ms = stream.bounds[-1]
    last = last_seq(tx, stream.log)
    count = last - first + 1
    if count <= 0:  # an empty shard stays open: no shard without records
        return False
    now_ms = int(now * 1000)
    full = shard_records > 0 and count >= shard_records
    old = shard_seconds > 0 and now_ms - created_ms >= shard_seconds * 1000
    if not (full or old):
        return False
    stream.bounds.append([last + 1, max(now_ms, created_ms)])
    return True


def drop_trimmed_shards(tx: ReadTx, stream: Stream) -> bool:
    """Stop listing closed shards whose records are all trimmed; True when any were."""
    trimmed = trim_point(tx, stream.log)
    moved = False
    while stream.base < len(stream.bounds) - 1:
        _, last = stream.shard_range(stream.base)
        if last is None or last > trimmed:
            break
        stream.base += 1
        moved = True
    return moved


# --- iterators --------------------------------------------------------------------------


def load_secret(backend: Backend) -> bytes:
    """The store's iterator-signing key, created on first use."""
    secret = backend.get(WORKER_SPACE, _SECRET_KEY)
    if secret is None:
        with backend.write() as tx:
            secret = tx.get(WORKER_SPACE, _SECRET_KEY)
            if secret is None:
                secret = os.urandom(32)
                tx.put(WORKER_SPACE, _SECRET_KEY, secret)
    return secret


def _mac(secret: bytes, arn: str, payload: bytes) -> bytes:
    return hmac.new(secret, arn.encode() + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def make_iterator(secret: bytes, arn: str, shard: int, position: int, now: float) -> str:
    payload = _ITERATOR.pack(shard, position, int(now * 1000))
    token = base64.b64encode(payload + _mac(secret, arn, payload)).decode()
    return f"{arn}|1|{token}"


def read_iterator(secret: bytes, iterator: str, now: float) -> tuple[str, int, int]:
    """(stream arn, shard index, position) of a valid, unexpired iterator."""
    arn, sep, token = iterator.rpartition("|1|")
    try:
        raw = base64.b64decode(token, validate=True) if sep else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _ITERATOR.size + _MAC_BYTES:
        raise ValidationException(INVALID_ITERATOR)
    payload, mac = raw[: _ITERATOR.size], raw[_ITERATOR.size :]
    if not hmac.compare_digest(mac, _mac(secret, arn, payload)):
        raise ValidationException(INVALID_ITERATOR)
    shard, position, issued = _ITERATOR.unpack(payload)
    if now * 1000 - issued > ITERATOR_TTL * 1000:
        raise ExpiredIteratorException()
    return arn, shard, position


def start_position(tx: ReadTx, stream: Stream, shard: int, kind: str, sequence: str | None) -> int:
    """The first position a new iterator of `kind` reads (GetShardIterator's rules)."""
    first, last = stream.shard_range(shard)
    trimmed = trim_point(tx, stream.log)
    if kind == "TRIM_HORIZON":
        return max(first, trimmed + 1)
    if kind == "LATEST":
        if last is not None:
            return last + 1
        return max(first, last_seq(tx, stream.log) + 1)
    seq = parse_seq(sequence or "")
    newest = last if last is not None else last_seq(tx, stream.log)
    # The shard's own StartingSequenceNumber is a valid position even while no record has
    # that number yet: an empty shard shows it (as both ends once closed).
    if seq is None or seq < first or seq > max(newest, first):
        raise ValidationException(
            f"Invalid SequenceNumber {sequence} for shard {stream.shard_id(shard)} of stream "
            f"{stream.arn}"
        )
    position = seq if kind == "AT_SEQUENCE_NUMBER" else seq + 1
    if seq <= trimmed:
        raise TrimmedDataAccessException()
    return position


# --- records ----------------------------------------------------------------------------


def _event_id(arn: str, seq: int) -> str:
    # Stable across reads: a consumer that re-reads a record sees the same eventID.
    return hashlib.md5(f"{arn}|{seq}".encode(), usedforsecurity=False).hexdigest()


def render(stream: Stream, seq: int, raw: bytes) -> dict[str, Any]:
    """One GetRecords Record of a change-log record, in the stream's view."""
    record = orjson.loads(raw)
    view = stream.view
    keys_: Item = record["k"]
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": record["t"] // 1000,
        "Keys": keys_,
    }
    size = item_size(keys_)
    if view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") and record["n"] is not None:
        body["NewImage"] = record["n"]
        size += item_size(record["n"])
    if view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") and record["o"] is not None:
        body["OldImage"] = record["o"]
        size += item_size(record["o"])
    body["SequenceNumber"] = format_seq(seq)
    body["SizeBytes"] = max(size, 1)
    body["StreamViewType"] = view
    out: dict[str, Any] = {
        "eventID": _event_id(stream.arn, seq),
        "eventName": record["e"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": stream.region,
        "dynamodb": body,
    }
    identity = record.get("u")
    if identity:
        out["userIdentity"] = {"PrincipalId": identity["principalId"], "Type": identity["type"]}
    return out


def read_records(
    tx: ReadTx, stream: Stream, shard: int, position: int, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """Records of a shard from `position`; and the next position (None: the shard ended)."""
    first, last = stream.shard_range(shard)
    if position <= trim_point(tx, stream.log):
        raise TrimmedDataAccessException()
    start = max(position, first)
    end = changelog.encode_sequence(last + 1) if last is not None else None
    records: list[dict[str, Any]] = []
    size = 0
    full = False  # the next record would take the page past 1 MB
    next_position = start
    for key, raw in tx.range(stream.log, changelog.encode_sequence(start), end, limit=limit):
        seq = changelog.decode_sequence(key)
        record = render(stream, seq, raw)
        record_size: int = record["dynamodb"]["SizeBytes"]
        if records and size + record_size > MAX_RECORD_BYTES:
            full = True
            break
        records.append(record)
        next_position = seq + 1
        size += record_size
    exhausted = len(records) < limit and not full
    if last is not None and (next_position > last or exhausted):
        return records, None
    return records, next_position


def stream_status(stream: Stream, now: float, transition: float) -> str:
    """DescribeStream's StreamStatus: ENABLING (DISABLING) for the `transition` seconds a
    table takes to change status after the stream was enabled (disabled)."""
    if stream.enabled:
        return "ENABLING" if now < stream.created + transition else "ENABLED"
    if stream.disabled is not None and now < stream.disabled + transition:
        return "DISABLING"
    return "DISABLED"
