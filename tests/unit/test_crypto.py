"""Encryption at rest below the engine: the EncryptedBackend and the KMS key store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from dynastore.engine.catalog import KeyAttr, TableDef
from dynastore.engine.crypto import MARKER, OVERHEAD, EncryptedBackend, TableCrypto
from dynastore.errors import AccessDeniedException, InternalServerError
from dynastore.services.kms.keystore import KeyStore, MasterKey, MasterKeyError
from dynastore.storage.sqlite import SqliteBackend

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture
def inner(tmp_path: Path) -> Iterator[SqliteBackend]:
    backend = SqliteBackend(str(tmp_path / "db.sqlite"), checkpoint_interval=None)
    yield backend
    backend.close()


def setup(inner: SqliteBackend, tmp_path: Path) -> tuple[EncryptedBackend, TableCrypto, KeyStore]:
    crypto = TableCrypto(inner)
    backend = EncryptedBackend(inner, crypto)
    store = KeyStore(backend, MasterKey.load(tmp_path, environ={}))
    store.check_master_key()
    store.listeners.append(crypto.key_changed)
    crypto.provider = store
    return backend, crypto, store


def new_table(space: int, name: str = "t") -> TableDef:
    return TableDef(ACCOUNT, REGION, name, space, KeyAttr("pk", "S"), None, {"TableName": name})


def test_plaintext_until_some_table_is_encrypted(inner: SqliteBackend, tmp_path: Path) -> None:
    backend, crypto, _ = setup(inner, tmp_path)
    assert not crypto.active
    with backend.write() as tx:
        tx.put(1000, b"k", b'{"a":1}')
    assert inner.get(1000, b"k") == b'{"a":1}'
    assert backend.read().__class__ is inner.read().__class__  # no wrapper at all


def test_values_of_an_encrypted_table(inner: SqliteBackend, tmp_path: Path) -> None:
    backend, crypto, _ = setup(inner, tmp_path)
    plain = new_table(1000, "plain")
    table = new_table(1001, "secret")
    arn = crypto.resolve(ACCOUNT, REGION, None)
    with backend.write() as tx:
        description = crypto.enable(tx, table, arn)
        tx.put(0, f"t/{ACCOUNT}/{REGION}/secret".encode(), table.to_json())
        tx.put(0, f"t/{ACCOUNT}/{REGION}/plain".encode(), plain.to_json())
    assert description["KMSMasterKeyArn"] == arn
    assert crypto.active
    with backend.write() as tx:
        tx.put(1001, b"k1", b'{"secret":"value"}')
        tx.put(1000, b"k1", b'{"open":"value"}')
    raw = inner.get(1001, b"k1")
    assert raw is not None and raw[0] == MARKER and b"value" not in raw
    assert len(raw) == len(b'{"secret":"value"}') + OVERHEAD
    assert inner.get(1000, b"k1") == b'{"open":"value"}'
    assert backend.get(1001, b"k1") == b'{"secret":"value"}'
    with backend.read() as tx:
        assert list(tx.range(1001, b"", None)) == [(b"k1", b'{"secret":"value"}')]
    assert backend.stats(1001) == (1, len(b'{"secret":"value"}'))
    # A ciphertext is bound to its storage key.
    with inner.write() as tx:
        tx.put(1001, b"k2", raw)
    with pytest.raises(InternalServerError):
        backend.get(1001, b"k2")


def test_disabled_key(inner: SqliteBackend, tmp_path: Path) -> None:
    backend, crypto, store = setup(inner, tmp_path)
    table = new_table(1000)
    with backend.write() as tx:
        key = store.new_key(tx, ACCOUNT, REGION)
    with backend.write() as tx:
        crypto.enable(tx, table, key.arn)
        tx.put(0, f"t/{ACCOUNT}/{REGION}/t".encode(), table.to_json())
    with backend.write() as tx:
        tx.put(1000, b"k", b"{}")
    with backend.write() as tx:
        record = store.load(tx, ACCOUNT, REGION, key.key_id)
        assert record is not None
        record.meta.update(Enabled=False, KeyState="Disabled")
        store.save(tx, record)
    store.notify(record)
    with pytest.raises(AccessDeniedException, match="DisabledException"):
        backend.get(1000, b"k")
    description = {"TableStatus": "ACTIVE", "SSEDescription": {"KMSMasterKeyArn": key.arn}}
    crypto.describe(table, description)
    assert description["TableStatus"] == "INACCESSIBLE_ENCRYPTION_CREDENTIALS"


def test_owned_key_after_disable(inner: SqliteBackend, tmp_path: Path) -> None:
    backend, crypto, store = setup(inner, tmp_path)
    table = new_table(1000)
    arn = crypto.resolve(ACCOUNT, REGION, None)
    with backend.write() as tx:
        crypto.enable(tx, table, arn)
        tx.put(0, f"t/{ACCOUNT}/{REGION}/t".encode(), table.to_json())
        tx.put(1000, b"k", b'{"x":1}')
    with backend.write() as tx:
        crypto.disable(tx, table)
        tx.put(0, f"t/{ACCOUNT}/{REGION}/t".encode(), table.to_json())
    record = orjson.loads(inner.get(3, b"sse/key/1") or b"{}")
    assert "sealed" in record and "arn" not in record
    # A fresh process (no caches) reads the table through the master key alone.
    other = TableCrypto(inner)
    other.provider = store
    assert EncryptedBackend(inner, other).get(1000, b"k") == b'{"x":1}'


def test_master_key_sources(tmp_path: Path) -> None:
    first = MasterKey.load(tmp_path, environ={})
    assert (tmp_path / "master.key").stat().st_mode & 0o777 == 0o600
    again = MasterKey.load(tmp_path, environ={})
    sealed = first.seal(b"x", b"aad")
    assert again.unseal(sealed, b"aad") == b"x"
    text = (tmp_path / "master.key").read_text().strip()
    hexed = MasterKey.load(tmp_path / "none", environ={"DYNASTORE_MASTER_KEY": text})
    assert hexed.unseal(sealed, b"aad") == b"x"
    with pytest.raises(MasterKeyError):
        MasterKey.load(tmp_path, environ={"DYNASTORE_MASTER_KEY": "c2hvcnQ="})


def test_wrong_master_key_is_refused(inner: SqliteBackend, tmp_path: Path) -> None:
    _, _, store = setup(inner, tmp_path)
    first = MasterKey.load(tmp_path, environ={})
    other = MasterKey(b"\x01" * 32, "DYNASTORE_MASTER_KEY")
    assert other.fingerprint != first.fingerprint
    assert MasterKey(b"\x01" * 32).fingerprint == other.fingerprint  # stable, per key
    with pytest.raises(MasterKeyError) as refused:
        KeyStore(inner, other).check_master_key()
    message = str(refused.value)
    assert "master key does not match this store" in message
    assert f"(from DYNASTORE_MASTER_KEY) has fingerprint {other.fingerprint}" in message
    assert f"the store's key has fingerprint {first.fingerprint}" in message
    store.check_master_key()  # the right key still opens the store


def test_first_start_of_two_servers_seals_one_check_value(tmp_path: Path) -> None:
    """Two servers with different keys starting on one new store: the first to commit
    wins, and the other is refused even though it saw no check value before its write."""
    path = str(tmp_path / "db.sqlite")
    one, two = SqliteBackend(path), SqliteBackend(path)
    try:
        first = KeyStore(one, MasterKey(b"\x01" * 32))
        second = KeyStore(two, MasterKey(b"\x02" * 32))
        real_get = two.get
        calls = []

        def racing_get(space: int, key: bytes) -> bytes | None:
            if not calls:  # the second checks, finds nothing, then the first commits
                calls.append(key)
                value = real_get(space, key)
                first.check_master_key()
                return value
            return real_get(space, key)

        two.get = racing_get  # type: ignore[method-assign]
        with pytest.raises(MasterKeyError, match="does not match"):
            second.check_master_key()
        first.check_master_key()
    finally:
        one.close()
        two.close()
