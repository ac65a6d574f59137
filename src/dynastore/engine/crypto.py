"""Encryption at rest of KMS-encrypted tables (DynamoDB SSE with SSEType KMS).

Design note. Each encrypted table has a *data key* (32 random bytes, AES-256-GCM),
numbered by the store's ``sse-data-key`` sequence and kept in `KEY_SPACE` wrapped by the
table's KMS key (the KMS ``Encrypt`` of `KeyProvider.wrap`), or sealed by the server's
master key once SSE is turned back off (DynamoDB's "AWS owned key"). Changing the KMS key
re-wraps the same data key, as DynamoDB re-wraps its table key, so no item is rewritten.
``TableDef.features["sse"] = {"data_key": n}`` names a table's key.

Encryption happens at the storage boundary: the Engine's backend is an
`EncryptedBackend`, which encrypts every value put into an encrypted table's spaces
(base table, every index, the change log) and decrypts every encrypted value read from
any table space. No operation sees ciphertext, whatever path it reads by (GetItem,
Query, Scan, batches, transactions, PartiQL, streams, backfills). Keys stay plaintext:
storage orders items by them.

Value layout (stored on disk — do not reorder):
    0x00 | data key number (4 bytes, big-endian) | nonce (12) | ciphertext | tag (16)
with the value's storage key as associated data, so a value cannot be moved to another
key. Plaintext values are JSON (``{``) or empty, so the 0x00 marker is unambiguous, and
a table can hold both (items written before SSE was turned on stay readable).

Which data key encrypts a space comes from the catalog (the spaces of every table with
``features["sse"]``, and of backups whose record has ``extra["data_key"]``), cached per
process and rebuilt when a space is unknown or when the ``sse/generation`` counter
(bumped by every SSE change) moves. KMS key states are cached for a second
(`STATE_TTL`), and dropped at once when this process's KMS changes a key, so disabling a
key makes its tables INACCESSIBLE_ENCRYPTION_CREDENTIALS: their reads and writes fail
with DynamoDB's AccessDeniedException until the key is enabled again.
"""

from __future__ import annotations

import os
import struct
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dynastore.engine import spaces
from dynastore.engine.catalog import CATALOG_SPACE, FIRST_TABLE_SPACE, TableDef
from dynastore.errors import (
    AccessDeniedException,
    AwsError,
    DisabledException,
    InternalServerError,
    KMSInvalidStateException,
    NotFoundException,
)
from dynastore.storage.base import Backend, ReadTx, WriteTx

# KMS keys (prefix b"kms/", services/kms), table data keys (b"sse/") and the SNS
# message signing key (b"sns/", services/sns/signing.py).
KEY_SPACE = spaces.KEYS
MARKER = 0  # first byte of an encrypted value; stored on disk — do not change
OVERHEAD = 1 + 4 + 12 + 16
STATE_TTL = 1.0
DEFAULT_KEY = "alias/aws/dynamodb"
_DATA_KEY_PREFIX = b"sse/key/"
_GENERATION_KEY = b"sse/generation"
_SEQUENCE = "sse-data-key"
_HEADER = struct.Struct(">BI")


class Sealer(Protocol):
    """The server's master key (the AWS owned key), for secrets kept in the store."""

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt with the server's master key."""
        ...

    def unseal(self, blob: bytes, aad: bytes) -> bytes: ...


class KeyProvider(Sealer, Protocol):
    """What SSE needs of KMS (services/kms implements it)."""

    def key_arn(self, account: str, region: str, key_id: str) -> str:
        """The ARN of a key id, key ARN, alias name or alias ARN; KMS's errors if none.

        ``alias/aws/dynamodb`` is the AWS managed key, created on first use.
        """
        ...

    def key_state(self, arn: str) -> str:
        """The key's KeyState (Enabled, Disabled, PendingDeletion, ...), or "" if gone."""
        ...

    def wrap(self, arn: str, plaintext: bytes, context: dict[str, str]) -> bytes:
        """KMS Encrypt: raises KMS's errors when the key is not usable."""
        ...

    def unwrap(self, arn: str, blob: bytes, context: dict[str, str]) -> bytes:
        """KMS Decrypt with the given key."""
        ...


@dataclass(frozen=True, slots=True)
class DataKey:
    number: int
    key_arn: str | None  # None: sealed by the master key (AWS owned)
    aead: AESGCM


def access_denied(kms_error: AwsError) -> AccessDeniedException:
    """DynamoDB's answer when a table's KMS key cannot be used."""
    name = kms_error.type_name
    return AccessDeniedException(
        f"KMS key access denied error: com.amazonaws.services.kms.model.{name}: "
        f"{kms_error.message or ''} (Service: AWSKMS; Status Code: 400; Error Code: {name}; "
        f"Request ID: {uuid.uuid4()}; Proxy: null)"
    )


def _state_error(arn: str, state: str) -> AwsError:
    if state == "Disabled":
        return DisabledException(f"{arn} is disabled.")
    if state == "PendingDeletion":
        return KMSInvalidStateException(f"{arn} is pending deletion.")
    if not state:
        return NotFoundException(f"Key '{arn}' does not exist")
    return KMSInvalidStateException(f"{arn} is {state}.")


def _context(table: TableDef) -> dict[str, str]:
    return {"aws:dynamodb:tableName": table.name, "aws:dynamodb:subscriberId": table.account}


class TableCrypto:
    """Data keys, key states and the space -> data key map of one process."""

    def __init__(self, backend: Backend, clock: Callable[[], float] = time.monotonic) -> None:
        self._backend = backend
        self._clock = clock
        self.provider: KeyProvider | None = None
        self._keys: dict[int, DataKey] = {}
        self._spaces: dict[int, int | None] = {}
        self._states: dict[str, tuple[float, str]] = {}
        self._inaccessible_since: dict[str, float] = {}
        self._generation: bytes | None = None
        self._checked = float("-inf")

    # --- lifecycle (called by CreateTable / UpdateTable inside their transaction) -------

    def _kms(self) -> KeyProvider:
        if self.provider is None:
            raise InternalServerError("KMS is not configured on this server")
        return self.provider

    def resolve(self, account: str, region: str, key_id: str | None) -> str:
        """The ARN of the KMS key an SSESpecification names (the AWS managed key if none)."""
        return self._kms().key_arn(account, region, key_id or DEFAULT_KEY)

    def enable(self, tx: WriteTx, table: TableDef, arn: str) -> dict[str, Any]:
        """Protect `table` with KMS key `arn`; returns its SSEDescription.

        A table that already has a data key keeps it, re-wrapped under the new key.
        """
        kms = self._kms()
        state = kms.key_state(arn)
        if state != "Enabled":
            raise access_denied(_state_error(arn, state))
        current = table.features.get("sse", {}).get("data_key")
        if current is not None:
            key = self._plaintext(tx, int(current))
            number = int(current)
        else:
            key = AESGCM.generate_key(bit_length=256)
            number = tx.next_sequence(_SEQUENCE)
        blob = kms.wrap(arn, key, _context(table))
        record = {"arn": arn, "wrapped": blob.hex(), "table": _context(table)}
        tx.put(KEY_SPACE, _record_key(number), orjson.dumps(record))
        table.features["sse"] = {"data_key": number}
        self._keys[number] = DataKey(number, arn, AESGCM(key))
        self._changed(tx)
        return {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": arn}

    def disable(self, tx: WriteTx, table: TableDef) -> None:
        """Back to the AWS owned key: the data key is re-sealed by the master key."""
        current = table.features.get("sse", {}).get("data_key")
        if current is None:
            return
        number = int(current)
        key = self._plaintext(tx, number)
        sealed = self._kms().seal(key, _record_key(number))
        tx.put(KEY_SPACE, _record_key(number), orjson.dumps({"sealed": sealed.hex()}))
        self._keys[number] = DataKey(number, None, AESGCM(key))
        self._changed(tx)

    def _changed(self, tx: WriteTx) -> None:
        tx.put(KEY_SPACE, _GENERATION_KEY, str(tx.next_sequence("sse-generation")).encode())
        self._spaces.clear()
        self._generation = b"local"
        self._checked = self._clock()

    def key_changed(self, arn: str) -> None:
        """KMS changed a key's state in this process: forget its cached state."""
        self._states.pop(arn, None)

    # --- DescribeTable -----------------------------------------------------------------

    def describe(self, table: TableDef, description: dict[str, Any]) -> None:
        """Set TableStatus and SSEDescription for a table whose KMS key is unusable."""
        sse = description.get("SSEDescription")
        arn = sse.get("KMSMasterKeyArn") if isinstance(sse, dict) else None
        if not arn or self.provider is None:
            return
        if self._state(arn) == "Enabled":
            self._inaccessible_since.pop(arn, None)
            return
        since = self._inaccessible_since.setdefault(arn, time.time())
        description["TableStatus"] = "INACCESSIBLE_ENCRYPTION_CREDENTIALS"
        assert isinstance(sse, dict)
        sse["InaccessibleEncryptionDateTime"] = since

    # --- the storage boundary ----------------------------------------------------------

    @property
    def active(self) -> bool:
        """True once any table in the store has had SSE (checked once a second until then)."""
        self._refresh()
        return self._generation is not None

    def _refresh(self) -> None:
        now = self._clock()
        if now - self._checked < STATE_TTL:
            return
        self._checked = now
        generation = self._backend.get(KEY_SPACE, _GENERATION_KEY)
        if generation != self._generation and generation is not None:
            self._spaces.clear()
            self._states.clear()
            self._keys.clear()
            self._generation = generation

    def encoder(self, tx: ReadTx, space: int) -> DataKey | None:
        """The data key that encrypts new values of `space`, or None (plaintext)."""
        number = self.space_key(tx, space)
        return None if number is None else self._data_key(tx, number)

    def space_key(self, tx: ReadTx, space: int) -> int | None:
        """The number of the data key of `space`, or None for a plaintext space."""
        if space < FIRST_TABLE_SPACE:
            return None
        try:
            return self._spaces[space]
        except KeyError:
            return self._scan(tx, space)

    def encode(self, key: DataKey, storage_key: bytes, value: bytes) -> bytes:
        self._check(key)
        nonce = os.urandom(12)
        header = _HEADER.pack(MARKER, key.number)
        return header + nonce + key.aead.encrypt(nonce, value, storage_key)

    def decode(self, tx: ReadTx | None, storage_key: bytes, value: bytes) -> bytes:
        """The plaintext of an encrypted value (one starting with the 0x00 marker)."""
        _, number = _HEADER.unpack_from(value)
        key = self._data_key(tx, number)
        self._check(key)
        try:
            return key.aead.decrypt(value[5:17], value[17:], storage_key)
        except InvalidTag:
            raise InternalServerError("An encrypted item failed its integrity check") from None

    def _check(self, key: DataKey) -> None:
        if key.key_arn is not None:
            state = self._state(key.key_arn)
            if state != "Enabled":
                raise access_denied(_state_error(key.key_arn, state))

    def _state(self, arn: str) -> str:
        now = self._clock()
        cached = self._states.get(arn)
        if cached is not None and now - cached[0] < STATE_TTL:
            return cached[1]
        state = self._kms().key_state(arn)
        self._states[arn] = (now, state)
        return state

    def _scan(self, tx: ReadTx, space: int) -> int | None:
        """Rebuild the space map from the catalog; a space no table owns is not cached."""
        mapping: dict[int, int | None] = {}
        for _, raw in tx.range(CATALOG_SPACE, b"t/", b"t0"):
            table = orjson.loads(raw)  # only the spaces and features of TableDef's layout
            number = (table.get("features") or {}).get("sse", {}).get("data_key")
            spaces = [table["space"], *(index["space"] for index in table["indexes"])]
            if table.get("log_space"):
                spaces.append(table["log_space"])
            for owned in spaces:
                mapping[owned] = None if number is None else int(number)
        # A backup (engine/backups.py) of an encrypted table names the table's data key in
        # its record's extra["data_key"], so its copy of the items stays encrypted too.
        for _, raw in tx.range(CATALOG_SPACE, b"backup/", b"backup0"):
            backup = orjson.loads(raw)
            number = (backup.get("extra") or {}).get("data_key")
            if "space" in backup and backup["space"] not in mapping:
                mapping[backup["space"]] = None if number is None else int(number)
        self._spaces = mapping
        return mapping.get(space)

    def _data_key(self, tx: ReadTx | None, number: int) -> DataKey:
        key = self._keys.get(number)
        if key is None:
            raw = (tx.get if tx is not None else self._backend.get)(KEY_SPACE, _record_key(number))
            if raw is None:
                raise InternalServerError(f"Data key {number} is missing from the store")
            record = orjson.loads(raw)
            arn = record.get("arn")
            key = DataKey(number, arn, AESGCM(self._unwrap(record, number)))
            self._keys[number] = key
        return key

    def _plaintext(self, tx: ReadTx, number: int) -> bytes:
        raw = tx.get(KEY_SPACE, _record_key(number))
        if raw is None:
            raise InternalServerError(f"Data key {number} is missing from the store")
        return self._unwrap(orjson.loads(raw), number)

    def _unwrap(self, record: dict[str, Any], number: int) -> bytes:
        kms = self._kms()
        if "sealed" in record:
            return kms.unseal(bytes.fromhex(record["sealed"]), _record_key(number))
        try:
            return kms.unwrap(record["arn"], bytes.fromhex(record["wrapped"]), record["table"])
        except AwsError as error:
            raise access_denied(error) from None


def _record_key(number: int) -> bytes:
    return _DATA_KEY_PREFIX + str(number).encode()


# --- the backend wrapper ----------------------------------------------------------------


def _encrypted(space: int, value: bytes | None) -> bool:
    return space >= FIRST_TABLE_SPACE and bool(value) and value[0] == MARKER  # type: ignore[index]


class _ReadTx:
    __slots__ = ("_crypto", "_tx")

    def __init__(self, tx: ReadTx, crypto: TableCrypto) -> None:
        self._tx = tx
        self._crypto = crypto

    def get(self, space: int, key: bytes) -> bytes | None:
        value = self._tx.get(space, key)
        if value is not None and _encrypted(space, value):
            return self._crypto.decode(self._tx, key, value)
        return value

    def get_many(self, pairs: Sequence[tuple[int, bytes]]) -> list[bytes | None]:
        values = self._tx.get_many(pairs)
        tx, decode = self._tx, self._crypto.decode
        return [
            decode(tx, key, value) if value is not None and _encrypted(space, value) else value
            for (space, key), value in zip(pairs, values, strict=True)
        ]

    def range(
        self,
        space: int,
        start: bytes,
        end: bytes | None,
        *,
        reverse: bool = False,
        limit: int | None = None,
    ) -> Iterator[tuple[bytes, bytes]]:
        rows = self._tx.range(space, start, end, reverse=reverse, limit=limit)
        if space < FIRST_TABLE_SPACE:
            return rows
        return self._decoded(rows)

    def _decoded(self, rows: Iterator[tuple[bytes, bytes]]) -> Iterator[tuple[bytes, bytes]]:
        decode = self._crypto.decode
        for key, value in rows:
            if value and value[0] == MARKER:
                yield key, decode(self._tx, key, value)
            else:
                yield key, value


class _WriteTx(_ReadTx):
    __slots__ = ()
    _tx: WriteTx

    def put(self, space: int, key: bytes, value: bytes) -> None:
        data_key = self._crypto.encoder(self._tx, space)
        if data_key is not None:
            value = self._crypto.encode(data_key, key, value)
        self._tx.put(space, key, value)

    def delete(self, space: int, key: bytes) -> None:
        self._tx.delete(space, key)

    def delete_range(self, space: int, start: bytes, end: bytes | None) -> int:
        return self._tx.delete_range(space, start, end)

    def next_sequence(self, name: str) -> int:
        return self._tx.next_sequence(name)


class _Context:
    """Wraps a backend's transaction context manager, wrapping the transaction it yields."""

    __slots__ = ("_crypto", "_inner", "_kind")

    def __init__(self, inner: Any, crypto: TableCrypto, kind: type[_ReadTx]) -> None:
        self._inner = inner
        self._crypto = crypto
        self._kind = kind

    def __enter__(self) -> Any:
        return self._kind(self._inner.__enter__(), self._crypto)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> bool | None:
        result: bool | None = self._inner.__exit__(kind, error, trace)
        return result


class EncryptedBackend:
    """A Backend that encrypts the values of KMS-encrypted tables (see the module doc).

    Until some table has had SSE, every call goes straight to the wrapped backend.
    """

    def __init__(self, inner: Backend, crypto: TableCrypto) -> None:
        self.inner = inner
        self.crypto = crypto

    def get(self, space: int, key: bytes) -> bytes | None:
        value = self.inner.get(space, key)
        if value is not None and _encrypted(space, value):
            return self.crypto.decode(None, key, value)
        return value

    def stats(self, space: int) -> tuple[int, int]:
        count, size = self.inner.stats(space)
        if space >= FIRST_TABLE_SPACE and self.crypto.active:
            with self.inner.read() as tx:
                encrypted = self.crypto.space_key(tx, space) is not None
            if encrypted:
                size = max(0, size - count * OVERHEAD)
        return count, size

    def read(self) -> Any:
        if not self.crypto.active:
            return self.inner.read()
        return _Context(self.inner.read(), self.crypto, _ReadTx)

    def write(self) -> Any:
        if not self.crypto.active:
            return self.inner.write()
        return _Context(self.inner.write(), self.crypto, _WriteTx)

    def pending(self) -> bool:
        return self.inner.pending()

    def flush(self) -> None:
        self.inner.flush()

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        # Backend-specific extras (sqlite's schema_version, ...) pass through.
        return getattr(self.inner, name)
