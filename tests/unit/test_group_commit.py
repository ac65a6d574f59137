"""SQLite group commit: writes of one event-loop turn share one commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynastore.storage.sqlite import SqliteBackend


@pytest.fixture
def pair(tmp_path: Path) -> tuple[SqliteBackend, SqliteBackend]:
    path = str(tmp_path / "kv.db")
    grouped = SqliteBackend(path, group_commit=True, checkpoint_interval=None)
    other = SqliteBackend(path, checkpoint_interval=None)
    yield grouped, other
    grouped.close()
    other.close()


def test_grouped_writes_are_invisible_until_flush(
    pair: tuple[SqliteBackend, SqliteBackend],
) -> None:
    grouped, other = pair
    with grouped.write() as tx:
        tx.put(1, b"a", b"1")
    with grouped.write() as tx:
        tx.put(1, b"b", b"2")
    assert grouped.pending()
    assert grouped.get(1, b"a") == b"1"  # the group sees its own writes
    with grouped.read() as tx:
        assert [k for k, _ in tx.range(1, b"", None)] == [b"a", b"b"]
    assert other.get(1, b"a") is None  # nobody else does before the commit
    grouped.flush()
    assert not grouped.pending()
    assert other.get(1, b"a") == b"1"
    assert other.get(1, b"b") == b"2"


def test_a_failed_write_rolls_back_alone(pair: tuple[SqliteBackend, SqliteBackend]) -> None:
    grouped, other = pair
    with grouped.write() as tx:
        tx.put(1, b"kept", b"1")
    with pytest.raises(ValueError), grouped.write() as tx:
        tx.put(1, b"lost", b"2")
        raise ValueError("condition failed")
    with grouped.write() as tx:
        tx.put(1, b"also-kept", b"3")
    grouped.flush()
    assert other.get(1, b"kept") == b"1"
    assert other.get(1, b"lost") is None
    assert other.get(1, b"also-kept") == b"3"


def test_sequences_and_close_commit_the_group(tmp_path: Path) -> None:
    path = str(tmp_path / "kv.db")
    grouped = SqliteBackend(path, group_commit=True, checkpoint_interval=None)
    with grouped.write() as tx:
        first = tx.next_sequence("s")
    with grouped.write() as tx:
        assert tx.next_sequence("s") == first + 1
        tx.put(2, b"k", b"v")
    grouped.close()  # closing flushes: nothing acknowledged is lost
    reopened = SqliteBackend(path, checkpoint_interval=None)
    assert reopened.get(2, b"k") == b"v"
    reopened.close()
