"""KMS keys: records in the store, key material sealed by the server's master key.

Layout in `KEY_SPACE` (engine/crypto.py; stored on disk — do not reorder):
    kms/key/<account>/<region>/<key id>   -> JSON key record (below)
    kms/alias/<account>/<region>/<alias>  -> JSON {"target", "created", "updated"}
    kms/check                             -> a value sealed by the master key
    kms/fingerprint                       -> the master key's fingerprint (hex, ASCII)
A key record holds the KeyMetadata (KMS's JSON form), the policy, the tags, the rotation
settings and ``material``: the key's 256-bit AES key versions, each sealed by the master
key (AES-256-GCM, the key id and version as associated data). The last version
encrypts; any version decrypts.

The master key (32 bytes) is read from ``DYNASTORE_MASTER_KEY`` (base64 or hex), else
from ``<data dir>/master.key`` (base64), which is created (mode 0600) on first start.
``kms/check`` detects a master key that does not belong to the store at start-up,
before any key is used: servers sharing one database (on several hosts) must share the
master key, and one that does not refuses to start, naming both keys' fingerprints (an
HMAC of a fixed label: they identify a key without revealing it). Losing the master key
loses every KMS key and so every KMS-encrypted table: back it up (README, "KMS master
key").

Ciphertext blobs (stored by clients — do not reorder):
    0x01 | key id (36 ASCII) | material version (4 bytes, big-endian) | nonce (12) | ct+tag
with the header and the canonical encryption context as associated data.
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
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dynastore.engine import keys
from dynastore.engine.crypto import KEY_SPACE
from dynastore.errors import (
    DisabledException,
    InvalidArnException,
    InvalidCiphertextException,
    KMSInvalidStateException,
    NotFoundException,
)
from dynastore.storage.base import Backend, ReadTx, WriteTx

MASTER_KEY_ENV = "DYNASTORE_MASTER_KEY"
MASTER_KEY_FILE = "master.key"
MANAGED_DYNAMODB_ALIAS = "alias/aws/dynamodb"
BLOB_VERSION = 1
_BLOB_HEADER = struct.Struct(">B36sI")
_KEY_PREFIX = b"kms/key/"
_ALIAS_PREFIX = b"kms/alias/"
_CHECK_KEY = b"kms/check"
_CHECK_TEXT = b"dynastore kms master key check"
_FINGERPRINT_KEY = b"kms/fingerprint"
_FINGERPRINT_LABEL = b"dynastore kms master key fingerprint"
_KEY_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ARN = re.compile(r"arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(key|alias)/(.+)")
_MANAGED_DESCRIPTIONS = {
    "dynamodb": "Default key that protects my DynamoDB data when no other key is defined",
}


class MasterKeyError(ValueError):
    """The master key is missing, malformed, or does not open this store's keys."""


class MasterKey:
    """The server's key-encryption key: seals KMS key material and owned table keys.

    `source` says where it came from; `fingerprint` identifies it without revealing it.
    """

    def __init__(self, key: bytes, source: str = "the given key") -> None:
        if len(key) != 32:
            raise MasterKeyError("the KMS master key must be 32 bytes")
        self._aead = AESGCM(key)
        self.source = source
        self.fingerprint = hmac.new(key, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]

    @classmethod
    def load(cls, data_dir: Path, environ: Mapping[str, str] = os.environ) -> MasterKey:
        """From ``DYNASTORE_MASTER_KEY``, else ``<data_dir>/master.key`` (created if absent)."""
        text = environ.get(MASTER_KEY_ENV, "").strip()
        if text:
            return cls(_decode_key(text, MASTER_KEY_ENV), MASTER_KEY_ENV)
        path = data_dir / MASTER_KEY_FILE
        try:
            return cls(_decode_key(path.read_text().strip(), str(path)), str(path))
        except FileNotFoundError:
            pass
        data_dir.mkdir(parents=True, exist_ok=True)
        key = os.urandom(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            return cls(_decode_key(path.read_text().strip(), str(path)), str(path))
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(key).decode() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return cls(key, f"{path} (created now)")

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def unseal(self, blob: bytes, aad: bytes) -> bytes:
        """Raises cryptography's InvalidTag for a blob this key did not seal."""
        return self._aead.decrypt(blob[:12], blob[12:], aad)


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise MasterKeyError(f"{where}: not a base64 or hex key") from None
    if len(key) != 32:
        raise MasterKeyError(f"{where}: the KMS master key must be 32 bytes, not {len(key)}")
    return key


# --- records --------------------------------------------------------------------------------


def key_arn(region: str, account: str, key_id: str) -> str:
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"


def alias_arn(region: str, account: str, alias: str) -> str:
    return f"arn:aws:kms:{region}:{account}:{alias}"


def parse_arn(arn: str) -> tuple[str, str, str, str] | None:
    """(region, account, "key" or "alias", key id or alias name) of a KMS ARN."""
    match = _ARN.fullmatch(arn)
    if match is None:
        return None
    region, account, kind, rest = match.groups()
    return region, account, kind, rest if kind == "key" else f"alias/{rest}"


@dataclass
class KeyRecord:
    """One KMS key as stored."""

    account: str
    region: str
    meta: dict[str, Any]
    policy: str
    tags: list[dict[str, str]]
    rotation: dict[str, Any]
    material: list[str]  # hex of each sealed version

    @property
    def key_id(self) -> str:
        return str(self.meta["KeyId"])

    @property
    def arn(self) -> str:
        return str(self.meta["Arn"])

    @property
    def state(self) -> str:
        return str(self.meta["KeyState"])

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "account": self.account,
                "region": self.region,
                "meta": self.meta,
                "policy": self.policy,
                "tags": self.tags,
                "rotation": self.rotation,
                "material": self.material,
            }
        )

    @classmethod
    def from_json(cls, raw: bytes) -> KeyRecord:
        data = orjson.loads(raw)
        return cls(
            data["account"],
            data["region"],
            data["meta"],
            data["policy"],
            data["tags"],
            data["rotation"],
            data["material"],
        )


def default_policy(account: str) -> str:
    """KMS's default key policy (the account's IAM principals may do everything), in the
    layout GetKeyPolicy answers it (Jackson's pretty printer: ``"key" : value``)."""
    return (
        '{\n  "Version" : "2012-10-17",\n  "Id" : "key-default-1",\n'
        '  "Statement" : [ {\n    "Sid" : "Enable IAM User Permissions",\n'
        '    "Effect" : "Allow",\n    "Principal" : {\n'
        f'      "AWS" : "arn:aws:iam::{account}:root"\n    }},\n'
        '    "Action" : "kms:*",\n    "Resource" : "*"\n  } ]\n}'
    )


def _key_key(account: str, region: str, key_id: str) -> bytes:
    return _KEY_PREFIX + f"{account}/{region}/{key_id}".encode()


def _alias_key(account: str, region: str, alias: str) -> bytes:
    return _ALIAS_PREFIX + f"{account}/{region}/{alias}".encode()


def _material_aad(key_id: str, version: int) -> bytes:
    return f"kms/material/{key_id}/{version}".encode()


def canonical_context(context: Mapping[str, str] | None) -> bytes:
    return orjson.dumps(dict(sorted((context or {}).items())))


class KeyStore:
    """KMS keys and aliases of every account and region, over one backend.

    Also the `engine.crypto.KeyProvider` of DynamoDB's encryption at rest.
    """

    def __init__(
        self, backend: Backend, master: MasterKey, clock: Callable[[], float] = time.time
    ) -> None:
        self._backend = backend
        self._master = master
        self.clock = clock
        # Called with a key's ARN after its state changes (engine/crypto.py caches states).
        self.listeners: list[Callable[[str], None]] = []

    def check_master_key(self) -> None:
        """Refuse a master key that did not seal this store's check value; the first start
        (of any server sharing the store) seals one, and records the key's fingerprint."""
        master = self._master
        raw = self._backend.get(KEY_SPACE, _CHECK_KEY)
        if raw is None:
            with self._backend.write() as tx:  # re-read: another server may start meanwhile
                raw = tx.get(KEY_SPACE, _CHECK_KEY)
                if raw is None:
                    tx.put(KEY_SPACE, _CHECK_KEY, master.seal(_CHECK_TEXT, _CHECK_KEY))
                    tx.put(KEY_SPACE, _FINGERPRINT_KEY, master.fingerprint.encode())
            if self._backend.pending():
                self._backend.flush()
            if raw is None:
                return
        try:
            master.unseal(raw, _CHECK_KEY)
        except InvalidTag:
            stored = self._backend.get(KEY_SPACE, _FINGERPRINT_KEY)
            theirs = f"fingerprint {stored.decode()}" if stored else "an unknown fingerprint"
            raise MasterKeyError(
                f"the KMS master key does not match this store: this server's key (from "
                f"{master.source}) has fingerprint {master.fingerprint}, the store's key has "
                f"{theirs}. Every server sharing a database must use the master key it was "
                f"first started with: set {MASTER_KEY_ENV} (or <data-dir>/{MASTER_KEY_FILE}) "
                "to that key"
            ) from None

    # --- records ----------------------------------------------------------------------

    def load(self, tx: ReadTx, account: str, region: str, key_id: str) -> KeyRecord | None:
        """A key, or None (also once its scheduled deletion date has passed)."""
        raw = tx.get(KEY_SPACE, _key_key(account, region, key_id))
        if raw is None:
            return None
        record = KeyRecord.from_json(raw)
        return None if self._deleted(record) else record

    def _deleted(self, record: KeyRecord) -> bool:
        deletion = record.meta.get("DeletionDate")
        return (
            record.state == "PendingDeletion" and deletion is not None and deletion <= self.clock()
        )

    def save(self, tx: WriteTx, record: KeyRecord) -> None:
        tx.put(KEY_SPACE, _key_key(record.account, record.region, record.key_id), record.to_json())

    def notify(self, record: KeyRecord) -> None:
        for listener in self.listeners:
            listener(record.arn)

    def keys(self, tx: ReadTx, account: str, region: str) -> Iterator[KeyRecord]:
        prefix = _key_key(account, region, "")
        for _, raw in tx.range(KEY_SPACE, prefix, keys.prefix_end(prefix)):
            record = KeyRecord.from_json(raw)
            if not self._deleted(record):
                yield record

    def new_key(
        self,
        tx: WriteTx,
        account: str,
        region: str,
        *,
        description: str = "",
        policy: str | None = None,
        tags: list[dict[str, str]] | None = None,
        manager: str = "CUSTOMER",
    ) -> KeyRecord:
        key_id = str(uuid.uuid4())
        meta: dict[str, Any] = {
            "AWSAccountId": account,
            "KeyId": key_id,
            "Arn": key_arn(region, account, key_id),
            "CreationDate": self.clock(),
            "Enabled": True,
            "Description": description,
            "KeyUsage": "ENCRYPT_DECRYPT",
            "KeyState": "Enabled",
            "Origin": "AWS_KMS",
            "KeyManager": manager,
            "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
            "KeySpec": "SYMMETRIC_DEFAULT",
            "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
            "MultiRegion": False,
        }
        sealed = self._master.seal(AESGCM.generate_key(bit_length=256), _material_aad(key_id, 0))
        rotation = {"enabled": manager == "AWS", "period": 365}
        record = KeyRecord(
            account,
            region,
            meta,
            policy or default_policy(account),
            tags or [],
            rotation,
            [sealed.hex()],
        )
        self.save(tx, record)
        return record

    # --- aliases ----------------------------------------------------------------------

    def alias(self, tx: ReadTx, account: str, region: str, name: str) -> dict[str, Any] | None:
        raw = tx.get(KEY_SPACE, _alias_key(account, region, name))
        return None if raw is None else dict(orjson.loads(raw))

    def put_alias(
        self, tx: WriteTx, account: str, region: str, name: str, entry: dict[str, Any]
    ) -> None:
        tx.put(KEY_SPACE, _alias_key(account, region, name), orjson.dumps(entry))

    def delete_alias(self, tx: WriteTx, account: str, region: str, name: str) -> None:
        tx.delete(KEY_SPACE, _alias_key(account, region, name))

    def aliases(
        self, tx: ReadTx, account: str, region: str
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        prefix = _alias_key(account, region, "")
        for raw_key, raw in tx.range(KEY_SPACE, prefix, keys.prefix_end(prefix)):
            yield raw_key[len(prefix) :].decode(), orjson.loads(raw)

    def managed_key(self, account: str, region: str, alias: str) -> KeyRecord:
        """The AWS managed key of ``alias/aws/<service>``, created on first use."""
        with self._backend.write() as tx:
            entry = self.alias(tx, account, region, alias)
            if entry is not None:
                record = self.load(tx, account, region, entry["target"])
                if record is not None:
                    return record
            service = alias.rsplit("/", 1)[-1]
            record = self.new_key(
                tx,
                account,
                region,
                description=_MANAGED_DESCRIPTIONS.get(
                    service, f"Default key that protects my {service} data"
                ),
                manager="AWS",
            )
            now = self.clock()
            self.put_alias(
                tx,
                account,
                region,
                alias,
                {"target": record.key_id, "created": now, "updated": now},
            )
            return record

    # --- resolving identifiers --------------------------------------------------------

    def find(
        self,
        tx: ReadTx,
        account: str,
        region: str,
        identifier: str,
        *,
        create_managed: bool = True,
        aliases: bool = True,
    ) -> KeyRecord:
        """The key a KeyId parameter names: key id, key ARN, alias name or alias ARN.

        Without `aliases` (the operations that take only a key id or key ARN), an alias
        name is an invalid key id and an alias ARN an InvalidArnException, as in KMS."""
        parsed = parse_arn(identifier) if identifier.startswith("arn:") else None
        if parsed is not None:
            region, account, kind, name = parsed
        elif identifier.startswith("alias/"):
            kind, name = "alias", identifier
        else:
            kind, name = "key", identifier
        if kind == "alias" and not aliases:
            if parsed is not None:
                raise InvalidArnException("Key Aliases are not supported for this operation.")
            raise NotFoundException(f"Invalid keyId {identifier}")
        if kind == "alias":
            entry = self.alias(tx, account, region, name)
            record = self.load(tx, account, region, entry["target"]) if entry else None
            if record is None and name.startswith("alias/aws/") and create_managed:
                return self.managed_key(account, region, name)
            if record is None:
                raise NotFoundException(f"Alias {alias_arn(region, account, name)} is not found.")
            return record
        if not _KEY_ID.fullmatch(name):
            raise NotFoundException(f"Invalid keyId {identifier}")
        record = self.load(tx, account, region, name)
        if record is None:
            raise NotFoundException(f"Key '{key_arn(region, account, name)}' does not exist")
        return record

    # --- cryptography -----------------------------------------------------------------

    def material(self, record: KeyRecord, version: int) -> bytes:
        sealed = bytes.fromhex(record.material[version])
        return self._master.unseal(sealed, _material_aad(record.key_id, version))

    def encrypt(
        self, record: KeyRecord, plaintext: bytes, context: Mapping[str, str] | None
    ) -> bytes:
        usable(record)
        version = len(record.material) - 1
        header = _BLOB_HEADER.pack(BLOB_VERSION, record.key_id.encode(), version)
        nonce = os.urandom(12)
        aad = header + canonical_context(context)
        sealed = AESGCM(self.material(record, version)).encrypt(nonce, plaintext, aad)
        return header + nonce + sealed

    def decrypt(self, record: KeyRecord, blob: bytes, context: Mapping[str, str] | None) -> bytes:
        usable(record)
        key_id, version = blob_key(blob)
        if key_id != record.key_id or version >= len(record.material):
            raise InvalidCiphertextException()
        header = blob[: _BLOB_HEADER.size]
        nonce = blob[_BLOB_HEADER.size : _BLOB_HEADER.size + 12]
        aad = header + canonical_context(context)
        try:
            return AESGCM(self.material(record, version)).decrypt(
                nonce, blob[_BLOB_HEADER.size + 12 :], aad
            )
        except InvalidTag:
            raise InvalidCiphertextException() from None

    # --- engine.crypto.KeyProvider ----------------------------------------------------

    def key_arn(self, account: str, region: str, key_id: str) -> str:
        with self._backend.read() as tx:
            return self.find(tx, account, region, key_id).arn

    def _by_arn(self, arn: str) -> KeyRecord | None:
        parsed = parse_arn(arn)
        if parsed is None or parsed[2] != "key":
            return None
        region, account, _, key_id = parsed
        with self._backend.read() as tx:
            return self.load(tx, account, region, key_id)

    def key_state(self, arn: str) -> str:
        record = self._by_arn(arn)
        return "" if record is None else record.state

    def wrap(self, arn: str, plaintext: bytes, context: dict[str, str]) -> bytes:
        record = self._by_arn(arn)
        if record is None:
            raise NotFoundException(f"Key '{arn}' does not exist")
        return self.encrypt(record, plaintext, context)

    def unwrap(self, arn: str, blob: bytes, context: dict[str, str]) -> bytes:
        record = self._by_arn(arn)
        if record is None:
            raise NotFoundException(f"Key '{arn}' does not exist")
        return self.decrypt(record, blob, context)

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        return self._master.seal(plaintext, aad)

    def unseal(self, blob: bytes, aad: bytes) -> bytes:
        return self._master.unseal(blob, aad)


def blob_key(blob: bytes) -> tuple[str, int]:
    """(key id, material version) of a ciphertext blob, or InvalidCiphertextException."""
    if len(blob) < _BLOB_HEADER.size + 12 + 16 or blob[0] != BLOB_VERSION:
        raise InvalidCiphertextException()
    _, raw_id, version = _BLOB_HEADER.unpack_from(blob)
    try:
        key_id = raw_id.decode("ascii")
    except UnicodeDecodeError:
        raise InvalidCiphertextException() from None
    if not _KEY_ID.fullmatch(key_id):
        raise InvalidCiphertextException()
    return key_id, version


def usable(record: KeyRecord) -> None:
    """KMS's errors for a key that cannot encrypt or decrypt now."""
    state = record.state
    if state == "Disabled":
        raise DisabledException(f"{record.arn} is disabled.")
    if state == "PendingDeletion":
        raise KMSInvalidStateException(f"{record.arn} is pending deletion.")
    if state != "Enabled":
        raise KMSInvalidStateException(f"{record.arn} is {state}.")
