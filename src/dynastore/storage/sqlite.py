"""SQLite backend: the embedded default store.

Layout: one table ``kv(id, space, k, v)`` with a unique index on ``(space, k)``, a
``sequences`` table for durable counters and a ``schema_migrations`` table recording
which of MIGRATIONS were applied. Values are items of up to 400 KB, typically around
1 KB: in a WITHOUT ROWID table keyed by ``(space, k)`` a 4 KiB leaf holds only a few
of them, so random inserts split and rebalance leaves all the time. With the values
in a rowid table, a new row is appended at the end of its b-tree and only the small
``(space, k) -> id`` entry goes to a random place in the dense index: random inserts
cost about a fifth, overwrites and point reads less than half, and a range is an index
walk plus row fetches, still faster than before (measured, schema version 2).

Concurrency: the file is in WAL mode, so readers never block the writer or each other,
and several server processes may share one file. A write transaction starts with
``BEGIN IMMEDIATE`` (takes the single write lock at once, waiting up to
``busy_timeout`` seconds for another process's writer), so it always works on the
latest data and cannot fail at commit with a stale snapshot. A read snapshot is a
``BEGIN`` plus one read that pins the WAL snapshot at entry.

Threads: a backend is used from ONE thread at a time (the server's event loop thread;
one backend per process). It is not locked internally; the caller serialises.

Connections: a small LIFO pool of identical connections. ``read()`` and ``write()``
each take one for the transaction (so an open snapshot never blocks a write), and
``get`` uses the most recently released one in autocommit mode (so it never sees a
write transaction's uncommitted data). LIFO matters: SQLite drops a connection's page
cache whenever *another* connection has committed, so in the common sequential case
(write, read, write, ...) the same warm connection serves everything.

Statements are prepared once and reused (sqlite3's per-connection statement cache).
Ranges are fetched in bounded batches, so no SQLite statement stays open between two
calls: iterators can be dropped half-way and the same space written while iterating.

Checkpoints (copying WAL pages back into the database file, with fsync) would otherwise
run inside whichever commit crosses SQLite's 1000-page threshold, more than doubling
the average write cost. By default a background thread with its own connection runs a
PASSIVE checkpoint every ``checkpoint_interval`` seconds instead (it blocks neither
readers nor the writer, and releases the GIL while it works); the writer keeps a
high automatic threshold as a backstop. ``checkpoint_interval=None`` restores SQLite's
own automatic checkpoints and starts no thread.

Durability (the fsync policy)
-----------------------------
``synchronous="NORMAL"`` (default): a commit appends its pages to the WAL with
``write()`` before COMMIT returns, without fsync. Every acknowledged write survives a
crash of the process (kill -9): the data is in the OS page cache and the next open
recovers it from the WAL. On power loss or an OS crash the most recent commits may be
lost, but the database stays consistent (WAL checkpoints do fsync).
``synchronous="FULL"`` adds an fsync of the WAL to every commit: acknowledged writes
survive power loss too, at the cost of one fsync per write transaction.
``"EXTRA"`` behaves as FULL in WAL mode; ``"OFF"`` never fsyncs (benchmarks only).

With ``group_commit``, each write transaction is a savepoint of one open transaction
that `flush` commits. SQLite keeps no error for a group it lost (a savepoint that could
not be rolled back or released; the whole transaction rolled back by SQLite itself after
a disk-full, I/O, out-of-memory or interrupt error), so the backend records it: the next
`flush` raises and none of the group's writes is acknowledged.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence

from dynastore.storage.sqltx import (
    MAX_IDLE_CONNECTIONS,
    SqlBackend,
    SqlGroupReadTx,
    SqlReadTx,
    SqlWriteTx,
)

log = logging.getLogger("dynastore.storage")

SYNCHRONOUS_MODES = frozenset(("OFF", "NORMAL", "FULL", "EXTRA"))

# Each entry is one schema version (index + 1), applied in order inside one transaction.
# Stored on disk — do not reorder, edit or remove entries; append new versions only.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE kv (space INTEGER NOT NULL, k BLOB NOT NULL, v BLOB NOT NULL, "
        "PRIMARY KEY (space, k)) WITHOUT ROWID",
        "CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
    ),
    (  # values in a rowid table, keys in a dense index (see the module docstring)
        "CREATE TABLE kv_rows (id INTEGER PRIMARY KEY, space INTEGER NOT NULL, "
        "k BLOB NOT NULL, v BLOB NOT NULL)",
        "INSERT INTO kv_rows (space, k, v) SELECT space, k, v FROM kv ORDER BY space, k",
        "DROP TABLE kv",
        "ALTER TABLE kv_rows RENAME TO kv",
        "CREATE UNIQUE INDEX kv_key ON kv (space, k)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

_GET = "SELECT v FROM kv WHERE space = ? AND k = ?"
# An upsert, not INSERT OR REPLACE: rewriting an unchanged value (an index entry that
# did not move) then leaves the page clean, and the commit writes nothing for it.
_PUT = (
    "INSERT INTO kv (space, k, v) VALUES (?, ?, ?) "
    "ON CONFLICT (space, k) DO UPDATE SET v = excluded.v"
)
_DELETE = "DELETE FROM kv WHERE space = ? AND k = ?"
_DELETE_RANGE = "DELETE FROM kv WHERE space = ? AND k >= ? AND k < ?"
_DELETE_FROM = "DELETE FROM kv WHERE space = ? AND k >= ?"
_FORWARD = "SELECT k, v FROM kv WHERE space = ? AND k >= ? AND k < ? ORDER BY k LIMIT ?"
_FORWARD_OPEN = "SELECT k, v FROM kv WHERE space = ? AND k >= ? ORDER BY k LIMIT ?"
_BACKWARD = "SELECT k, v FROM kv WHERE space = ? AND k >= ? AND k < ? ORDER BY k DESC LIMIT ?"
_BACKWARD_OPEN = "SELECT k, v FROM kv WHERE space = ? AND k >= ? ORDER BY k DESC LIMIT ?"
_NEXT_SEQUENCE = (
    "INSERT INTO sequences (name, value) VALUES (?, 1) "
    "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value"
)
# Any read pins the WAL snapshot; the header cookie is the cheapest one.
_STATS = "SELECT count(*), coalesce(sum(length(v)), 0) FROM kv WHERE space = ?"
_PIN_SNAPSHOT = "PRAGMA schema_version"

# With the background checkpointer a commit checkpoints only past this many WAL pages
# (~40 MB), a backstop for when the checkpointer cannot keep up.
_BACKSTOP_AUTOCHECKPOINT = 10_000


class SqliteReadTx(SqlReadTx[sqlite3.Cursor]):
    """A read snapshot on a pooled connection: BEGIN, then a read that pins it."""

    __slots__ = ()

    def get(self, space: int, key: bytes) -> bytes | None:
        row = self._check().execute(_GET, (space, key)).fetchone()
        return None if row is None else row[0]

    def get_many(self, pairs: Sequence[tuple[int, bytes]]) -> list[bytes | None]:
        return [self.get(space, key) for space, key in pairs]

    def _batch(
        self, space: int, start: bytes, end: bytes | None, reverse: bool, size: int
    ) -> list[tuple[bytes, bytes]]:
        cur = self._check()
        if end is None:
            statement = _BACKWARD_OPEN if reverse else _FORWARD_OPEN
            return cur.execute(statement, (space, start, size)).fetchall()
        statement = _BACKWARD if reverse else _FORWARD
        return cur.execute(statement, (space, start, end, size)).fetchall()


class SqliteGroupReadTx(SqlGroupReadTx[sqlite3.Cursor], SqliteReadTx):
    """Reads on the open commit group's connection: they see its pending writes."""

    __slots__ = ()


class SqliteWriteTx(SqlWriteTx[sqlite3.Cursor], SqliteReadTx):
    """A write transaction: BEGIN IMMEDIATE on a pooled connection ... COMMIT."""

    __slots__ = ()

    def _enter_group(self, conn: sqlite3.Cursor) -> None:
        if not conn.connection.in_transaction:
            # SQLite rolled the group back after a failed read: its writes are lost.
            raise _group_rolled_back()
        conn.execute("SAVEPOINT grouped")

    def _leave_group(self, conn: sqlite3.Cursor, exc: BaseException | None) -> None:
        if not conn.connection.in_transaction:
            # SQLite rolls the whole transaction back after some errors (disk full, I/O
            # error, out of memory, interrupt): the group's earlier writes are lost too.
            raise exc or _group_rolled_back()
        if exc is not None:
            conn.execute("ROLLBACK TO grouped")
        conn.execute("RELEASE grouped")

    def put(self, space: int, key: bytes, value: bytes) -> None:
        self._check().execute(_PUT, (space, key, value))

    def delete(self, space: int, key: bytes) -> None:
        self._check().execute(_DELETE, (space, key))

    def delete_range(self, space: int, start: bytes, end: bytes | None) -> int:
        cur = self._check()
        if end is None:
            cur.execute(_DELETE_FROM, (space, start))
        elif start < end:
            cur.execute(_DELETE_RANGE, (space, start, end))
        else:
            return 0
        return cur.rowcount

    def next_sequence(self, name: str) -> int:
        # fetchall: run the statement to completion so nothing is pending at COMMIT.
        return int(self._check().execute(_NEXT_SEQUENCE, (name,)).fetchall()[0][0])


def _group_rolled_back() -> sqlite3.OperationalError:
    return sqlite3.OperationalError("SQLite rolled back the open commit group")


class _Checkpointer:
    """PASSIVE checkpoints on a dedicated thread and connection, off the request path."""

    def __init__(self, backend: SqliteBackend, interval: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run,
            args=(backend._connect, interval),
            name="dynastore-sqlite-checkpoint",
            daemon=True,
        )
        self._thread.start()

    def _run(self, connect: Callable[[], sqlite3.Connection], interval: float) -> None:
        try:
            conn = connect()
        except sqlite3.Error:
            log.exception("checkpointer could not connect; SQLite will checkpoint on commit")
            return
        try:
            while not self._stop.wait(interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # transient (I/O, busy): retried next round
                    log.warning("WAL checkpoint failed: %s", exc)
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class SqliteBackend(SqlBackend[sqlite3.Cursor]):
    """The Backend protocol on one SQLite file (see the module docstring).

    ``synchronous``: "NORMAL" (default) or "FULL" (fsync per commit), see Durability.
    ``busy_timeout``: seconds a writer waits for another process's write lock.
    ``checkpoint_interval``: seconds between background checkpoints (None: on commit).
    """

    def __init__(
        self,
        path: str,
        *,
        synchronous: str = "NORMAL",
        busy_timeout: float = 5.0,
        checkpoint_interval: float | None = 0.1,
        group_commit: bool = False,
    ) -> None:
        mode = synchronous.upper()
        if mode not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {sorted(SYNCHRONOUS_MODES)}")
        super().__init__(group_commit=group_commit)
        self.path = path
        self.synchronous = mode
        self.busy_timeout = busy_timeout
        self._autocheckpoint = 1000 if checkpoint_interval is None else _BACKSTOP_AUTOCHECKPOINT
        self._checkpointer: _Checkpointer | None = None
        first = self._connect_one()
        try:
            self._set_wal(first)
            self._migrate(first)
        except BaseException:
            first.connection.close()
            raise
        self._idle.append(first)
        if checkpoint_interval is not None:
            self._checkpointer = _Checkpointer(self, checkpoint_interval)

    # -- Backend protocol ---------------------------------------------------------------

    def get(self, space: int, key: bytes) -> bytes | None:
        """The latest committed value (never a write transaction's uncommitted one).

        With group commit, the latest value of the open group (see `flush`).
        """
        idle = self._idle
        cur = self._group or (idle[-1] if idle else self._new_idle())
        row = cur.execute(_GET, (space, key)).fetchone()
        return None if row is None else row[0]

    def stats(self, space: int) -> tuple[int, int]:
        """(number of keys, bytes of values) in one space, counted by SQLite itself."""
        idle = self._idle
        cur = self._group or (idle[-1] if idle else self._new_idle())
        row = cur.execute(_STATS, (space,)).fetchone()
        return int(row[0]), int(row[1])

    def close(self) -> None:
        try:
            if self.pending():
                self.flush()
        finally:
            if self._checkpointer is not None:
                self._checkpointer.stop()
                self._checkpointer = None
            for cur in self._idle:
                cur.connection.close()
            self._idle.clear()

    def schema_version(self) -> int:
        """The schema version recorded in the file."""
        cur = self._idle[-1] if self._idle else self._new_idle()
        row = cur.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    # -- internals ----------------------------------------------------------------------

    _read_tx = SqliteReadTx
    _group_read_tx = SqliteGroupReadTx
    _write_tx = SqliteWriteTx

    def _connect_one(self) -> sqlite3.Cursor:
        return self._connect().cursor()

    def _begin_read(self) -> sqlite3.Cursor:
        return self._begin("BEGIN", pin=True)

    def _begin_write(self) -> sqlite3.Cursor:
        return self._begin("BEGIN IMMEDIATE", pin=False)

    def _begin(self, statement: str, *, pin: bool) -> sqlite3.Cursor:
        cur = self._acquire()
        try:
            cur.execute(statement)
            if pin:
                cur.execute(_PIN_SNAPSHOT)
        except BaseException:
            self._release(cur)
            raise
        return cur

    def _commit(self, cur: sqlite3.Cursor) -> None:
        try:
            cur.execute("COMMIT")
        finally:
            # Rolls back when COMMIT itself failed.
            self._release(cur)

    def _rollback(self, cur: sqlite3.Cursor, exc: BaseException | None) -> None:
        self._release(cur)

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread=False: the owner may hand the backend to one dedicated
        # thread; it is still used by one thread at a time (see module docstring).
        conn = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=64,
        )
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {self._autocheckpoint}")
        # Keep a WAL grown by one large transaction from staying large after checkpoint.
        conn.execute("PRAGMA journal_size_limit = 67108864")
        conn.execute("PRAGMA cache_size = -32768")
        return conn

    def _release(self, cur: sqlite3.Cursor) -> None:
        """Return a connection to the pool, rolling back whatever transaction it holds."""
        conn = cur.connection
        try:
            # SQLite may already have rolled back (e.g. disk full), hence the check.
            if conn.in_transaction:
                cur.execute("ROLLBACK")
        except BaseException:
            conn.close()
            raise
        if len(self._idle) < MAX_IDLE_CONNECTIONS:
            self._idle.append(cur)
        else:
            conn.close()

    def _set_wal(self, cur: sqlite3.Cursor) -> None:
        # Switching a fresh file to WAL needs an exclusive lock, and SQLite may report
        # "locked" without calling the busy handler when two processes open it at once.
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        if str(mode).lower() != "wal":
            raise RuntimeError(f"could not enable WAL mode on {self.path!r} (got {mode!r})")

    def _migrate(self, cur: sqlite3.Cursor) -> None:
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
            )
            current = cur.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
            current = int(current or 0)
            if current > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path!r} has schema version {current}; this dynastore "
                    f"supports up to {SCHEMA_VERSION}"
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version - 1]:
                    cur.execute(statement)
                cur.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    (version, time.time()),
                )
            cur.execute("COMMIT")
        except BaseException:
            if cur.connection.in_transaction:
                cur.execute("ROLLBACK")
            raise
