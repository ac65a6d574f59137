"""PostgreSQL backend: the Backend protocol over the PostgreSQL wire protocol.

It serves PostgreSQL and, through the same protocol and SQL subset, CockroachDB,
YugabyteDB and Citus, so several Dynastore processes on several hosts share one store.

Layout (as in sqlite.py): ``dynastore_kv(space, k, v)``, primary key ``(space, k)``, k
and v BYTEA. BYTEA compares bytewise (memcmp, shorter first), exactly the contract's
order, with no collation involved. Counters live in ``dynastore_sequences``;
``dynastore_migrations`` records which of MIGRATIONS ran.

Driver: psycopg 3 through its libpq wrapper (``psycopg.pq``), in pipeline mode; the
wire layer is pgpipe.py. The engine calls storage synchronously on the event-loop
thread, so a synchronous driver fits; asyncpg is async-only and would need a hop to
another loop or thread per call. Measured here (loopback, busy 2-core machine): a
prepared point read takes ~370 us with psycopg and ~365 us with asyncpg -- the round
trip dominates, not the driver. So the design counts round trips: pipeline mode sends a
transaction's writes without waiting for each result. Statements are prepared once per
connection; parameters and results are binary (BYTEA arrives as raw bytes).

Round trips: ``get`` is one, and so is a transaction's ``get_many``. A write transaction
sends BEGIN and the write lock (below) at entry without waiting; its first read collects
them with its own result (one round trip; a change before any read waits for the lock
first); puts and deletes are queued and go out with the next read or the COMMIT.
PutItem on a table with two GSIs and a stream is two round trips (read the old item;
COMMIT with item, index entries and log record), the log's sequence number costing none
while this backend was the last writer (see Sequences). ``read()`` pins its snapshot at
entry (one round trip), each range batch is one more, and its ROLLBACK is sent at exit
and collected with the next use.

Concurrency: the contract serialises every write transaction against every other
writer. Each one starts by updating the single row of ``dynastore_lock`` (``UPDATE ...
RETURNING epoch``), a row lock held to COMMIT by every writer of every process sharing
the database: writers run one at a time, as with SQLite's BEGIN IMMEDIATE; readers
never wait. Isolation is READ COMMITTED by default: once the lock is granted every
statement sees all earlier writers' commits and no writer can commit before us, so the
transaction is serializable and never fails with a serialization error. Under
``isolation="repeatable read"`` or ``"serializable"`` (CockroachDB or YugabyteDB without
read committed) the snapshot predates the lock wait, so a writer that waited fails at
the lock statement. Serialization failures and deadlocks are retried here, transparently,
while nothing has been returned to the caller (the statements sent since BEGIN are
replayed in a new transaction) -- exactly that lock-wait case. A failure after a result
was returned cannot be retried (the caller's block consumed it) and is raised.

Group commit (``group_commit=True``, the server's mode): the writes of one event-loop
turn share one database transaction (each write transaction a savepoint, opened at its
first change) and ``flush`` commits it: one COMMIT and one WAL flush per turn, while the
lock is held for the turn. Measured (put, 2 workers, fsync on): 352 vs 238 writes/s
without grouping; with fsync off grouping loses (the lock is held longer), ~380 vs ~830.

Sequences: ``next_sequence`` needs the counter's value, one round trip. The lock row's
``epoch`` counts committed write transactions: when a transaction reads the epoch this
backend committed last plus one, nobody else wrote in between, the counters cached here
are current, and the next value's UPDATE is queued without waiting.

SQL subset (CockroachDB / YugabyteDB compatible; tests/unit/test_postgres_sql.py checks
this module): CREATE TABLE [IF NOT EXISTS] with BIGINT, INTEGER, TEXT, BYTEA, DOUBLE
PRECISION and a PRIMARY KEY; SELECT, INSERT ... ON CONFLICT (...) DO UPDATE, UPDATE,
DELETE with ``$n`` parameters, RETURNING, ORDER BY, LIMIT, count, sum, coalesce,
octet_length; BEGIN ISOLATION LEVEL ... [READ ONLY], COMMIT, ROLLBACK, SAVEPOINT,
ROLLBACK TO SAVEPOINT, RELEASE SAVEPOINT. Nothing else: no extensions, advisory locks,
LISTEN/NOTIFY, LOCK TABLE, SELECT ... FOR UPDATE, database sequences, temporary tables,
system catalogs or PostgreSQL-only functions.

Durability: an acknowledged write is committed (its COMMIT, or its group's, returned
before the answer). Whether a commit survives a database crash follows the database's
settings (``synchronous_commit``, ``fsync``, replication); ``--sync`` is SQLite's only.

Threads: one thread at a time uses a backend, as with SqliteBackend. Waiting on the
socket (``select.poll``) releases the GIL.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Sequence

import psycopg
from psycopg import errors as pg_errors
from psycopg import pq

from dynastore.storage.pgpipe import RETRIES, ROLLBACK, Pipeline, Slot, Statement, i8, int8
from dynastore.storage.sqltx import (
    MAX_IDLE_CONNECTIONS,
    SqlBackend,
    SqlGroupReadTx,
    SqlReadTx,
    SqlWriteTx,
)

ISOLATION_LEVELS = {
    "read committed": "READ COMMITTED",
    "repeatable read": "REPEATABLE READ",
    "serializable": "SERIALIZABLE",
}

# Each entry is one schema version (index + 1), applied in order inside one transaction.
# Stored on disk — do not reorder, edit or remove entries; append new versions only.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE dynastore_kv (space BIGINT NOT NULL, k BYTEA NOT NULL, "
        "v BYTEA NOT NULL, PRIMARY KEY (space, k))",
        "CREATE TABLE dynastore_sequences (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
        "CREATE TABLE dynastore_lock (id INTEGER PRIMARY KEY, epoch BIGINT NOT NULL)",
        "INSERT INTO dynastore_lock (id, epoch) VALUES (1, 0)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

_INT8, _BYTEA, _TEXT, _FLOAT8 = 20, 17, 25, 701  # type OIDs of the parameters


_KV = "dynastore_kv"
_GET = Statement("ds_get", f"SELECT v FROM {_KV} WHERE space = $1 AND k = $2", (_INT8, _BYTEA))
# An upsert: one statement whether or not the key exists.
_PUT = Statement(
    "ds_put",
    f"INSERT INTO {_KV} (space, k, v) VALUES ($1, $2, $3) "
    "ON CONFLICT (space, k) DO UPDATE SET v = excluded.v",
    (_INT8, _BYTEA, _BYTEA),
)
_DELETE = Statement("ds_delete", f"DELETE FROM {_KV} WHERE space = $1 AND k = $2", (_INT8, _BYTEA))
_DELETE_RANGE = Statement(
    "ds_delete_range",
    f"DELETE FROM {_KV} WHERE space = $1 AND k >= $2 AND k < $3",
    (_INT8, _BYTEA, _BYTEA),
)
_DELETE_FROM = Statement(
    "ds_delete_from", f"DELETE FROM {_KV} WHERE space = $1 AND k >= $2", (_INT8, _BYTEA)
)
_RANGE = "SELECT k, v FROM dynastore_kv WHERE space = $1 AND k >= $2"
_FORWARD = Statement(
    "ds_forward", f"{_RANGE} AND k < $3 ORDER BY k LIMIT $4", (_INT8, _BYTEA, _BYTEA, _INT8)
)
_FORWARD_OPEN = Statement(
    "ds_forward_open", f"{_RANGE} ORDER BY k LIMIT $3", (_INT8, _BYTEA, _INT8)
)
_BACKWARD = Statement(
    "ds_backward",
    f"{_RANGE} AND k < $3 ORDER BY k DESC LIMIT $4",
    (_INT8, _BYTEA, _BYTEA, _INT8),
)
_BACKWARD_OPEN = Statement(
    "ds_backward_open", f"{_RANGE} ORDER BY k DESC LIMIT $3", (_INT8, _BYTEA, _INT8)
)
_STATS = Statement(
    "ds_stats",
    f"SELECT count(*), coalesce(sum(octet_length(v)), 0) FROM {_KV} WHERE space = $1",
    (_INT8,),
)
_NEXT_SEQUENCE = Statement(
    "ds_next_sequence",
    "INSERT INTO dynastore_sequences (name, value) VALUES ($1, 1) ON CONFLICT (name) "
    "DO UPDATE SET value = dynastore_sequences.value + 1 RETURNING value",
    (_TEXT,),
)
_SET_SEQUENCE = Statement(
    "ds_set_sequence",
    "INSERT INTO dynastore_sequences (name, value) VALUES ($1, $2) ON CONFLICT (name) "
    "DO UPDATE SET value = excluded.value",
    (_TEXT, _INT8),
)
_LOCK = Statement(
    "ds_lock", "UPDATE dynastore_lock SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch"
)
_BEGIN_READ = Statement("ds_begin_read", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
_PIN_SNAPSHOT = Statement("ds_pin", "SELECT 1")
_COMMIT = Statement("ds_commit", "COMMIT")
_SAVEPOINT = Statement("ds_savepoint", "SAVEPOINT dynastore_write")
_ROLLBACK_TO = Statement("ds_rollback_to", "ROLLBACK TO SAVEPOINT dynastore_write")
_RELEASE = Statement("ds_release", "RELEASE SAVEPOINT dynastore_write")
_BEGIN_WRITE = {
    name: Statement(f"ds_begin_{name.replace(' ', '_')}", f"BEGIN ISOLATION LEVEL {level}")
    for name, level in ISOLATION_LEVELS.items()
}
_CREATE_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS dynastore_migrations "
    "(version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
)
_SCHEMA_VERSION = Statement(
    "ds_schema_version", "SELECT coalesce(max(version), 0) FROM dynastore_migrations"
)
_RECORD_MIGRATION = Statement(
    "ds_record_migration",
    "INSERT INTO dynastore_migrations (version, applied_at) VALUES ($1, $2)",
    (_INT8, _FLOAT8),
)


class PostgresReadTx(SqlReadTx[Pipeline]):
    """A read snapshot (REPEATABLE READ READ ONLY) on a pooled connection."""

    __slots__ = ()

    def _fetch(self, stmt: Statement, params: Sequence[bytes]) -> pq.abc.PGresult:
        conn = self._check()
        slot = Slot()
        conn.send(stmt, params, slot)
        conn.sync()
        conn.replay = None  # a result reaches the caller: no transparent retry from here
        assert slot.res is not None
        return slot.res

    def get(self, space: int, key: bytes) -> bytes | None:
        res = self._fetch(_GET, (i8(space), key))
        return res.get_value(0, 0) if res.ntuples else None

    def get_many(self, pairs: Sequence[tuple[int, bytes]]) -> list[bytes | None]:
        """Every read in one pipelined round trip."""
        conn = self._check()
        slots = [Slot() for _ in pairs]
        for (space, key), slot in zip(pairs, slots, strict=True):
            conn.send(_GET, (i8(space), key), slot)
        conn.sync()
        conn.replay = None  # results reach the caller: no transparent retry from here
        return [slot.value() for slot in slots]

    def _batch(
        self, space: int, start: bytes, end: bytes | None, reverse: bool, size: int
    ) -> list[tuple[bytes, bytes]]:
        if end is None:
            stmt = _BACKWARD_OPEN if reverse else _FORWARD_OPEN
            res = self._fetch(stmt, (i8(space), start, i8(size)))
        else:
            stmt = _BACKWARD if reverse else _FORWARD
            res = self._fetch(stmt, (i8(space), start, end, i8(size)))
        # `or b""` only narrows the type: both columns are NOT NULL.
        return [
            (res.get_value(i, 0) or b"", res.get_value(i, 1) or b"") for i in range(res.ntuples)
        ]


class PostgresGroupReadTx(SqlGroupReadTx[Pipeline], PostgresReadTx):
    """Reads on the open commit group's connection: they see its pending writes."""

    __slots__ = ()


class PostgresWriteTx(SqlWriteTx[Pipeline], PostgresReadTx):
    """A write transaction: the global write lock, then reads and queued writes."""

    __slots__ = ("_savepoint", "_undo")
    _backend: PostgresBackend

    def __init__(self, backend: PostgresBackend) -> None:
        super().__init__(backend)
        self._savepoint = False  # group mode: a savepoint guards this block's changes
        self._undo: list[tuple[str, int | None]] = []  # sequence cache entries to restore

    def _enter_group(self, conn: Pipeline) -> None:
        pass  # the savepoint waits for the first change (`_change`)

    def _leave_group(self, conn: Pipeline, exc: BaseException | None) -> None:
        if isinstance(exc, psycopg.Error) or not conn.usable:
            self._backend._abort_group(exc)
        elif self._savepoint:
            if exc is not None:
                conn.send(_ROLLBACK_TO)
                self._restore_sequences()
            conn.send(_RELEASE)

    def _change(self) -> Pipeline:
        conn = self._check()
        slot = self._backend._lock_slot
        if slot is not None and slot.res is None:
            # Hold the lock before the first change (a read first takes it in the same
            # round trip): a writer that started later now waits for this one.
            conn.sync()
        if self._backend.group_commit and not self._savepoint:
            conn.send(_SAVEPOINT)
            self._savepoint = True
        return conn

    def put(self, space: int, key: bytes, value: bytes) -> None:
        self._change().send(_PUT, (i8(space), key, value))

    def delete(self, space: int, key: bytes) -> None:
        self._change().send(_DELETE, (i8(space), key))

    def delete_range(self, space: int, start: bytes, end: bytes | None) -> int:
        params: tuple[bytes, ...]
        if end is None:
            stmt, params = _DELETE_FROM, (i8(space), start)
        elif start < end:
            stmt, params = _DELETE_RANGE, (i8(space), start, end)
        else:
            return 0
        self._change()
        return self._fetch(stmt, params).command_tuples or 0

    def next_sequence(self, name: str) -> int:
        conn = self._change()
        backend = self._backend
        known = backend._session_sequences(conn)
        previous = known.get(name)
        if previous is not None:
            value = previous + 1
            conn.send(_SET_SEQUENCE, (name.encode(), i8(value)))
        else:
            slot = Slot()
            conn.send(_NEXT_SEQUENCE, (name.encode(),), slot)
            conn.sync()
            value = int8(slot.value())
        conn.replay = None  # the value reaches the caller
        known[name] = value
        self._undo.append((name, previous))
        return value

    def _restore_sequences(self) -> None:
        known = self._backend._known
        if known is None:
            return
        for name, previous in reversed(self._undo):
            if previous is None:
                known.pop(name, None)
            else:
                known[name] = previous


class PostgresBackend(SqlBackend[Pipeline]):
    """The Backend protocol on a PostgreSQL-compatible database (see the module docstring).

    ``url``: a libpq connection URL (``postgresql://user@host:port/db?...``).
    ``isolation``: "read committed" (default), "repeatable read" or "serializable".
    ``group_commit``: the writes of one event-loop turn share one commit (see `flush`).
    """

    def __init__(
        self, url: str, *, group_commit: bool = False, isolation: str = "read committed"
    ) -> None:
        if isolation not in _BEGIN_WRITE:
            raise ValueError(f"isolation must be one of {sorted(_BEGIN_WRITE)}")
        super().__init__(group_commit=group_commit)
        self.url = url
        self.isolation = isolation
        self._begin = _BEGIN_WRITE[isolation]
        # The open write session (one database transaction): its lock result, and the
        # counters it knows (None until its first next_sequence).
        self._lock_slot: Slot | None = None
        self._known: dict[str, int] | None = None
        # Counter values as of this backend's last commit, which had lock epoch _epoch.
        self._sequences: dict[str, int] = {}
        self._epoch = -2
        first = Pipeline(url)
        try:
            self._migrate(first)
        except BaseException:
            first.close()
            raise
        self._idle.append(first)

    # -- Backend protocol ---------------------------------------------------------------

    def get(self, space: int, key: bytes) -> bytes | None:
        """The latest committed value (with group commit: the open group's)."""
        res = self._autocommit(_GET, (i8(space), key))
        return res.get_value(0, 0) if res.ntuples else None

    def stats(self, space: int) -> tuple[int, int]:
        """(number of keys, bytes of values) in one space, counted by the database."""
        res = self._autocommit(_STATS, (i8(space),))
        return int8(res.get_value(0, 0)), int8(res.get_value(0, 1))

    def close(self) -> None:
        try:
            if self.pending():
                self.flush()
        finally:
            for conn in self._idle:
                conn.close()
            self._idle.clear()

    def schema_version(self) -> int:
        """The schema version recorded in the database."""
        return int8(self._autocommit(_SCHEMA_VERSION, ()).get_value(0, 0))

    # -- internals ----------------------------------------------------------------------

    _read_tx = PostgresReadTx
    _group_read_tx = PostgresGroupReadTx
    _write_tx = PostgresWriteTx

    def _connect_one(self) -> Pipeline:
        return Pipeline(self.url)

    def _autocommit(self, stmt: Statement, params: Sequence[bytes]) -> pq.abc.PGresult:
        """One statement in its own implicit transaction (or in the open group)."""
        slot = Slot()
        conn = self._group
        if conn is not None:
            try:
                conn.send(stmt, params, slot)
                conn.sync()
            except psycopg.Error as exc:
                self._abort_group(exc)
                raise
        else:
            for attempt in range(2):
                conn = self._idle[-1] if self._idle else self._new_idle()
                conn.replay = []
                try:
                    conn.send(stmt, params, slot)
                    conn.sync()
                    break
                except BaseException:
                    conn.replay = None
                    if conn.usable:
                        raise
                    self._idle.remove(conn)
                    self._discard(conn)
                    if attempt:
                        raise
                    # A pooled connection the server dropped (restart, idle timeout): retry.
        assert conn is not None and slot.res is not None
        conn.replay = None  # the result reaches the caller
        return slot.res

    def _begin_write(self) -> Pipeline:
        """A pooled connection in a new write transaction (lock requested, not awaited)."""
        conn = self._acquire()
        try:
            conn.replay = []
            conn.send(self._begin)
            self._lock_slot = Slot()
            self._known = None
            conn.send(_LOCK, (), self._lock_slot)
            conn.push()  # the server queues us for the lock now, in entry order
        except BaseException:
            self._end_session(None)
            self._discard(conn)
            raise
        return conn

    def _begin_read(self) -> Pipeline:
        for attempt in range(2):
            conn = self._acquire()
            try:
                conn.replay = []
                conn.send(_BEGIN_READ)
                conn.send(_PIN_SNAPSHOT)  # the snapshot is taken at entry, per the contract
                conn.sync()
                conn.replay = None
                break
            except BaseException:
                self._discard(conn)
                if attempt or conn.usable:
                    raise
                # A pooled connection the server dropped (restart, idle timeout): retry.
        return conn

    def _abort_group(self, error: BaseException | None) -> None:
        """A write of the group failed in the database: the whole group is lost."""
        conn, self._group = self._group, None
        self._end_session(None)
        if self._group_error is None:
            self._group_error = error or psycopg.OperationalError("commit group aborted")
        if conn is not None:
            self._discard(conn)

    def _commit(self, conn: Pipeline) -> None:
        try:
            conn.send(_COMMIT)
            conn.sync()
        except BaseException:
            self._end_session(None)
            self._discard(conn)
            raise
        conn.replay = None
        slot = self._lock_slot
        self._end_session(None if slot is None else int8(slot.value()))
        self._release(conn)

    def _rollback(self, conn: Pipeline, exc: BaseException | None) -> None:
        if isinstance(exc, psycopg.Error) or not conn.usable:
            self._discard(conn)
            return
        try:
            conn.send(ROLLBACK)  # its result is collected with the connection's next use
            conn.push()
        except BaseException:
            self._discard(conn)
            raise
        self._release(conn)

    def _rollback_write(self, conn: Pipeline, exc: BaseException) -> None:
        self._end_session(None)
        self._rollback(conn, exc)

    def _session_sequences(self, conn: Pipeline) -> dict[str, int]:
        """The counters the open write session knows: current ones when nobody else
        committed since this backend's last commit (see Sequences)."""
        known = self._known
        if known is None:
            slot = self._lock_slot
            assert slot is not None
            if slot.res is None:
                conn.sync()
            current = int8(slot.value()) == self._epoch + 1
            known = self._known = dict(self._sequences) if current else {}
        return known

    def _end_session(self, epoch: int | None) -> None:
        """The write session ended: committed with lock `epoch`, or not (None)."""
        if epoch is not None:
            if self._known is not None:
                self._sequences = self._known
            elif epoch != self._epoch + 1:
                self._sequences = {}
            self._epoch = epoch
        self._lock_slot = None
        self._known = None

    def _release(self, conn: Pipeline) -> None:
        if conn.usable and len(self._idle) < MAX_IDLE_CONNECTIONS:
            conn.replay = None
            self._idle.append(conn)
        else:
            conn.close()

    def _discard(self, conn: Pipeline) -> None:
        """Close a connection in an unknown state (the server rolls its transaction back).

        A lost one suggests the server restarted: the idle ones are closed too.
        """
        if not conn.usable:
            for idle in self._idle:
                idle.close()
            self._idle.clear()
        conn.close()

    def _migrate(self, conn: Pipeline) -> None:
        # CREATE TABLE IF NOT EXISTS races with itself when processes start together.
        for attempt in range(RETRIES):
            try:
                conn.send_sql(_CREATE_MIGRATIONS)
                conn.sync()
                break
            except (pg_errors.UniqueViolation, pg_errors.DuplicateTable):
                if attempt == RETRIES - 1:
                    raise
                time.sleep(0.05)
        while True:
            slot = Slot()
            conn.send(_SCHEMA_VERSION, (), slot)
            conn.sync()
            current = int8(slot.value())
            if current > SCHEMA_VERSION:
                raise RuntimeError(
                    f"the database has Dynastore schema version {current}; this dynastore "
                    f"supports up to {SCHEMA_VERSION}"
                )
            if current == SCHEMA_VERSION:
                return
            # Recording the versions first makes a concurrent migrator wait on their keys
            # and then fail with a unique violation: it starts over and finds them done.
            conn.send(_BEGIN_WRITE["read committed"])
            try:
                for version in range(current + 1, SCHEMA_VERSION + 1):
                    conn.send(_RECORD_MIGRATION, (i8(version), struct.pack(">d", time.time())))
                    for statement in MIGRATIONS[version - 1]:
                        conn.send_sql(statement)
                conn.send(_COMMIT)
                conn.sync()
            except pg_errors.UniqueViolation:
                conn.send(ROLLBACK)
                conn.sync()
