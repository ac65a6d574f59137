"""The storage contract: an ordered key-value store with transactions.

Keys and values are bytes. Keys live in integer *spaces* (a table, an index, the
catalog, ...) and are ordered bytewise (memcmp; a shorter key sorts before its
extensions). The engine gives every space its meaning; storage knows nothing of items.

Every backend (sqlite, postgres) passes tests/unit/test_storage_contract.py:

- ``Backend.get`` is the fast single read of the latest committed value.
- ``Backend.read()`` is a consistent snapshot: commits made after it starts are not
  seen. Nesting or interleaving read contexts is allowed (each has its own snapshot).
- ``Backend.write()`` is all-or-nothing: it commits when the block exits normally and
  rolls back when it raises. A write transaction sees its own uncommitted writes; it is
  serialised against every other writer, in this process or another one sharing the
  store. Write blocks must not span an ``await``, and must not nest.
- An iterator returned by ``range`` is valid only inside its transaction. Writing to the
  range being iterated is allowed; whether the iterator sees those writes is undefined.
- ``next_sequence`` is a durable counter per name, strictly increasing across commits,
  processes and restarts; a rolled-back transaction may or may not consume numbers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Protocol


class ReadTx(Protocol):
    """Reads inside one transaction (a snapshot, or a write transaction's view)."""

    __slots__ = ()

    def get(self, space: int, key: bytes) -> bytes | None:
        """The value stored under ``key``, or None."""
        ...

    def get_many(self, pairs: Sequence[tuple[int, bytes]]) -> list[bytes | None]:
        """The values under several ``(space, key)`` pairs, in order (None: absent).

        One round trip on a client-server database, where several ``get`` cost one each.
        """
        ...

    def range(
        self,
        space: int,
        start: bytes,
        end: bytes | None,
        *,
        reverse: bool = False,
        limit: int | None = None,
    ) -> Iterator[tuple[bytes, bytes]]:
        """``(key, value)`` pairs with ``start <= key < end`` (end None: unbounded).

        Ascending, or descending with ``reverse``; at most ``limit`` pairs.
        """
        ...


class WriteTx(ReadTx, Protocol):
    """A read-write transaction; see the module docstring for its guarantees."""

    __slots__ = ()

    def put(self, space: int, key: bytes, value: bytes) -> None:
        """Insert or replace."""
        ...

    def delete(self, space: int, key: bytes) -> None:
        """Remove ``key`` if present."""
        ...

    def delete_range(self, space: int, start: bytes, end: bytes | None) -> int:
        """Remove every key with ``start <= key < end``; returns how many were removed."""
        ...

    def next_sequence(self, name: str) -> int:
        """The next value (1, 2, ...) of the durable counter ``name``."""
        ...


class Backend(Protocol):
    """One store, opened once per process; see the module docstring for the contract."""

    def get(self, space: int, key: bytes) -> bytes | None:
        """The latest committed value under ``key``, or None (no explicit transaction)."""
        ...

    def stats(self, space: int) -> tuple[int, int]:
        """(number of keys, total bytes of values) in one space."""
        ...

    def read(self) -> AbstractContextManager[ReadTx]:
        """A consistent snapshot for several reads."""
        ...

    def write(self) -> AbstractContextManager[WriteTx]:
        """A transaction: commit on normal exit, rollback on exception."""
        ...

    def pending(self) -> bool:
        """True while grouped writes await `flush` (backends without group commit: False)."""
        ...

    def flush(self) -> None:
        """Commit grouped writes; the server calls it before answering their requests."""
        ...

    def close(self) -> None:
        """Release connections; the backend is unusable afterwards."""
        ...
