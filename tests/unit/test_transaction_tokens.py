"""Client request tokens (engine/transactions.py): replay, mismatch, expiry and sweeping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dynastore.engine import transactions
from dynastore.engine.transactions import TOKEN_LIFETIME, TOKEN_SPACE, TokenUse
from dynastore.errors import IdempotentParameterMismatchException
from dynastore.storage.sqlite import SqliteBackend


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[SqliteBackend]:
    store = SqliteBackend(str(tmp_path / "db.sqlite"), checkpoint_interval=None)
    yield store
    store.close()


def use(token: str, body: dict[str, object]) -> TokenUse:
    digest = transactions.fingerprint("TransactWriteItems", body, ("ClientRequestToken",))
    return TokenUse("123456789012", "us-east-1", token, digest)


def test_fingerprint_ignores_member_order_and_ignored_members() -> None:
    one = transactions.fingerprint("Op", {"a": 1, "b": {"x": 1, "y": 2}, "T": "t1"}, ("T",))
    two = transactions.fingerprint("Op", {"b": {"y": 2, "x": 1}, "a": 1, "T": "t2"}, ("T",))
    assert one == two
    assert one != transactions.fingerprint("Other", {"a": 1, "b": {"x": 1, "y": 2}})


def test_a_token_replays_what_was_recorded(backend: SqliteBackend) -> None:
    first = use("tok", {"items": [1]})
    with backend.write() as tx:
        assert transactions.replayed(tx, first, 100.0) is None
        transactions.remember(tx, first, {"read": {"t": 2.0}}, 100.0)
    with backend.write() as tx:
        assert transactions.replayed(tx, first, 200.0) == {"read": {"t": 2.0}}


def test_the_same_token_with_another_request(backend: SqliteBackend) -> None:
    with backend.write() as tx:
        transactions.remember(tx, use("tok", {"items": [1]}), {}, 100.0)
    with backend.write() as tx, pytest.raises(IdempotentParameterMismatchException) as info:
        transactions.replayed(tx, use("tok", {"items": [2]}), 100.0)
    assert info.value.message == transactions.MISMATCH


def test_tokens_are_per_account_and_region(backend: SqliteBackend) -> None:
    with backend.write() as tx:
        transactions.remember(tx, use("tok", {"items": [1]}), {}, 100.0)
    other = TokenUse("999999999999", "us-east-1", "tok", use("tok", {"items": [2]}).fingerprint)
    with backend.write() as tx:
        assert transactions.replayed(tx, other, 100.0) is None


def test_a_token_expires_after_ten_minutes(backend: SqliteBackend) -> None:
    first = use("tok", {"items": [1]})
    with backend.write() as tx:
        transactions.remember(tx, first, {"n": 1}, 100.0)
    later = 100.0 + TOKEN_LIFETIME + 1
    second = use("tok", {"items": [2]})
    with backend.write() as tx:
        assert transactions.replayed(tx, second, later) is None  # a new request
        transactions.remember(tx, second, {"n": 2}, later)
    with backend.write() as tx:
        assert transactions.replayed(tx, second, later + 1) == {"n": 2}


def test_new_tokens_sweep_expired_ones(backend: SqliteBackend) -> None:
    with backend.write() as tx:
        for i in range(5):
            transactions.remember(tx, use(f"old{i}", {}), {}, 100.0)
    with backend.write() as tx:
        transactions.remember(tx, use("new", {}), {}, 100.0 + TOKEN_LIFETIME + 1)
    with backend.read() as tx:
        left = [key for key, _ in tx.range(TOKEN_SPACE, b"", None)]
    assert len(left) == 2  # the new token's record and its expiry entry
