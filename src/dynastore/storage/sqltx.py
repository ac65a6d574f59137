"""What the SQL backends (sqlite.py, postgres.py) share: connection pool, commit group
and the steps of a transaction.

Both keep idle connections in a small LIFO pool and, with ``group_commit``, one open
database transaction (the *group*) that every write transaction joins as a savepoint and
that ``flush`` commits; reads then run on the group's connection to see its writes.
Their transactions take the same steps, written here once:

- a read transaction takes a pooled connection with a snapshot pinned at entry and
  rolls it back at exit;
- a write transaction refuses to nest (another connection of ours holding the write
  lock would deadlock it), takes the write lock at entry, or joins the group, and at
  exit commits, or rolls back when the block raised;
- when joining or leaving the group fails, the whole group is lost (``_abort_group``):
  the next ``flush`` raises, so none of its writes is acknowledged, and the next write
  opens a fresh group;
- ranges are read in batches of at most MAX_BATCH rows, each one statement resuming
  just past the last key, so no statement stays open between two calls.

A backend supplies its dialect and driver calls through the abstract methods below;
``C`` is its connection handle (a sqlite3 cursor, a pgpipe pipeline).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from types import TracebackType
from typing import Generic, Self, TypeVar

from dynastore.storage.base import Backend, ReadTx, WriteTx

C = TypeVar("C")

# Range batches grow from FIRST_BATCH to MAX_BATCH rows: small first for the common
# "a few rows" query, large later so long scans pay few statement executions.
FIRST_BATCH = 64
MAX_BATCH = 1024
MAX_IDLE_CONNECTIONS = 4


class SqlReadTx(ReadTx, Generic[C]):
    """A read snapshot on a pooled connection; also its own context manager."""

    __slots__ = ("_backend", "_conn")

    def __init__(self, backend: SqlBackend[C]) -> None:
        self._backend = backend
        self._conn: C | None = None  # set while active

    def __enter__(self) -> Self:
        if self._conn is not None:
            raise RuntimeError("transaction already entered")
        self._conn = self._open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        if conn is not None:
            self._conn = None
            self._close(conn, exc)

    def _open(self) -> C:
        return self._backend._begin_read()

    def _close(self, conn: C, exc: BaseException | None) -> None:
        self._backend._rollback(conn, exc)

    def _check(self) -> C:
        conn = self._conn
        if conn is None:
            raise RuntimeError("transaction is not active")
        return conn

    def range(
        self,
        space: int,
        start: bytes,
        end: bytes | None,
        *,
        reverse: bool = False,
        limit: int | None = None,
    ) -> Iterator[tuple[bytes, bytes]]:
        self._check()
        if limit is not None and limit < 0:
            raise ValueError("limit must be >= 0")
        return self._range(space, start, end, reverse, limit)

    def _range(
        self, space: int, start: bytes, end: bytes | None, reverse: bool, limit: int | None
    ) -> Iterator[tuple[bytes, bytes]]:
        remaining = -1 if limit is None else limit
        batch = FIRST_BATCH if limit is None else min(limit, MAX_BATCH)
        while remaining != 0 and (end is None or start < end):
            size = batch if remaining < 0 else min(batch, remaining)
            rows = self._batch(space, start, end, reverse, size)
            yield from rows
            if len(rows) < size:
                return
            if remaining > 0:
                remaining -= size
            # Resume just past the last key: its smallest successor, or below it backwards.
            if reverse:
                end = rows[-1][0]
            else:
                start = rows[-1][0] + b"\x00"
            batch = min(batch * 2, MAX_BATCH)

    @abstractmethod
    def _batch(
        self, space: int, start: bytes, end: bytes | None, reverse: bool, size: int
    ) -> list[tuple[bytes, bytes]]:
        """Up to ``size`` pairs of the range, from ``start`` (from ``end`` backwards)."""


class SqlGroupReadTx(SqlReadTx[C]):
    """Reads on the open commit group's connection: they see its pending writes."""

    __slots__ = ()

    def _open(self) -> C:
        conn = self._backend._group
        assert conn is not None  # read() chose this class because a group is open
        return conn

    def _close(self, conn: C, exc: BaseException | None) -> None:
        pass  # the connection stays the group's


class SqlWriteTx(SqlReadTx[C], WriteTx):
    """A write transaction: the write lock (or a savepoint of the group) ... COMMIT."""

    __slots__ = ()

    def _open(self) -> C:
        backend = self._backend
        if backend._writing:
            # Another connection of ours holds the write lock: waiting would deadlock.
            raise RuntimeError("write transactions do not nest")
        if backend.group_commit:
            conn = backend._open_group()
            try:
                self._enter_group(conn)
            except BaseException as error:
                backend._abort_group(error)
                raise
        else:
            conn = backend._begin_write()
        backend._writing = True
        return conn

    def _close(self, conn: C, exc: BaseException | None) -> None:
        backend = self._backend
        backend._writing = False
        if backend.group_commit:
            try:
                self._leave_group(conn, exc)
            except BaseException as error:
                backend._abort_group(error)
                raise
        elif exc is None:
            backend._commit(conn)
        else:
            backend._rollback_write(conn, exc)

    @abstractmethod
    def _enter_group(self, conn: C) -> None:
        """This transaction joins the open group (its savepoint, or the plan for one)."""

    @abstractmethod
    def _leave_group(self, conn: C, exc: BaseException | None) -> None:
        """Keep this transaction's writes in the group, or roll them back (``exc``)."""


class SqlBackend(Backend, Generic[C]):
    """The pool, the commit group and the transaction classes of one SQL backend."""

    _read_tx: type[SqlReadTx[C]]
    _group_read_tx: type[SqlReadTx[C]]
    _write_tx: type[SqlWriteTx[C]]

    def __init__(self, *, group_commit: bool) -> None:
        self.group_commit = group_commit
        self._idle: list[C] = []
        self._writing = False
        self._group: C | None = None
        self._group_error: BaseException | None = None  # why the last group was lost

    def read(self) -> SqlReadTx[C]:
        """A snapshot pinned at entry: ``with backend.read() as tx: ...``."""
        if self._group is not None:
            return self._group_read_tx(self)
        return self._read_tx(self)

    def write(self) -> SqlWriteTx[C]:
        """``with backend.write() as tx: ...`` — commits on normal exit."""
        return self._write_tx(self)

    def pending(self) -> bool:
        """True while a commit group holds writes that `flush` has not committed."""
        return self._group is not None or self._group_error is not None

    def flush(self) -> None:
        """Commit the open commit group; raise if a group of this turn was lost.

        In group-commit mode every write transaction is a savepoint of one database
        transaction, which the server commits once per event-loop turn before answering
        any request of that turn: N concurrent writes pay one commit, and no write is
        acknowledged before it is committed.
        """
        error, self._group_error = self._group_error, None
        conn, self._group = self._group, None
        if conn is not None:
            self._commit(conn)
        if error is not None:
            raise error

    @abstractmethod
    def schema_version(self) -> int:
        """The schema version recorded in the store."""

    def _open_group(self) -> C:
        if self._group is None:
            self._group = self._begin_write()
        return self._group

    def _acquire(self) -> C:
        return self._idle.pop() if self._idle else self._connect_one()

    def _new_idle(self) -> C:
        conn = self._connect_one()
        self._idle.append(conn)
        return conn

    @abstractmethod
    def _connect_one(self) -> C:
        """A new connection."""

    @abstractmethod
    def _begin_read(self) -> C:
        """A pooled connection in a new read snapshot, pinned."""

    @abstractmethod
    def _begin_write(self) -> C:
        """A pooled connection in a new write transaction (its write lock requested)."""

    @abstractmethod
    def _commit(self, conn: C) -> None:
        """Commit the connection's transaction, then return it to the pool."""

    @abstractmethod
    def _rollback(self, conn: C, exc: BaseException | None) -> None:
        """Roll the transaction back (``exc``: why), then return the connection."""

    def _rollback_write(self, conn: C, exc: BaseException) -> None:
        """Roll a write transaction back (outside a group)."""
        self._rollback(conn, exc)

    def _abort_group(self, error: BaseException | None) -> None:
        """Joining or leaving the group failed: the whole group is lost, and the next
        `flush` raises ``error`` (the first one, if several groups are lost)."""
        conn, self._group = self._group, None
        if self._group_error is None:
            self._group_error = error or RuntimeError("commit group aborted")
        if conn is not None:
            self._rollback(conn, error)
