"""PostgreSQL pipeline mode over psycopg's libpq wrapper: the backend's wire layer.

A `Pipeline` is one connection kept in libpq's pipeline mode. `send` queues a prepared
statement (prepared on first use per connection; binary parameters and results) without
waiting; `push` hands the queue to the server, which executes it at once; `sync` adds a
sync point and collects every queued result, in order, into the `Slot` each statement
named. So a transaction's writes cost no round trip of their own: they travel with the
next statement whose result is needed.

Retries: while `replay` is a list, it records every statement sent since the open
transaction's BEGIN, and a serialization failure or deadlock at `sync` rolls back and
sends them all again (up to RETRIES times). The owner sets `replay` to None as soon as a
result reaches its caller, from when on a conflict is raised instead.

Waiting happens in `select.poll`, which releases the GIL (other threads run meanwhile).
"""

from __future__ import annotations

import random
import select
import time
from collections import deque
from collections.abc import Sequence

import psycopg
from psycopg import errors as pg_errors
from psycopg import pq


class Statement:
    """A statement prepared once per connection, with binary parameters and results."""

    __slots__ = ("formats", "name", "sql", "types")

    def __init__(self, name: str, sql: str, types: tuple[int, ...] = ()) -> None:
        self.name = name.encode()
        self.sql = sql.encode()
        self.types = types
        self.formats = (1,) * len(types)


ROLLBACK = Statement("ds_rollback", "ROLLBACK")

# Queued results are collected after this many statements, bounding both sides' buffers.
MAX_QUEUED = 256
RETRIES = 30
RETRYABLE = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)

_SYNC = object()  # a pipeline sync point among the expected results

_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)


def i8(value: int) -> bytes:
    """A BIGINT parameter in binary form."""
    return value.to_bytes(8, "big", signed=True)


def int8(value: bytes | None) -> int:
    assert value is not None
    return int.from_bytes(value, "big", signed=True)


class Slot:
    """Where the result of one queued statement lands once its batch is collected."""

    __slots__ = ("res",)

    def __init__(self) -> None:
        self.res: pq.abc.PGresult | None = None

    def value(self) -> bytes | None:
        res = self.res
        assert res is not None, "result not collected"
        return res.get_value(0, 0) if res.ntuples else None


Replay = list[tuple[Statement, Sequence[bytes], "Slot | None"]]


class Pipeline:
    """One libpq connection kept in pipeline mode: statements are queued, results
    collected at sync points, in order.
    """

    __slots__ = ("broken", "expect", "fd", "pg", "poll", "prepared", "replay")

    def __init__(self, url: str) -> None:
        pg = pq.PGconn.connect(url.encode())
        if pg.status != pq.ConnStatus.OK:
            message = pg.get_error_message()
            pg.finish()
            raise psycopg.OperationalError(f"cannot connect to PostgreSQL: {message}")
        pg.nonblocking = 1
        pg.enter_pipeline_mode()
        self.pg = pg
        self.fd = pg.socket
        self.poll = select.poll()
        self.poll.register(self.fd, select.POLLIN)
        self.prepared: set[bytes] = set()
        # Per queued command: a Slot (wanted), None (checked only), bytes (a statement
        # being prepared: forgotten if that fails) or _SYNC.
        self.expect: deque[object] = deque()
        # Statements since BEGIN while nothing was returned to a caller (see send).
        self.replay: Replay | None = None
        self.broken = False  # results not collected in order: never reuse

    @property
    def usable(self) -> bool:
        return not self.broken and self.pg.status == pq.ConnStatus.OK

    def send(self, stmt: Statement, params: Sequence[bytes] = (), slot: Slot | None = None) -> None:
        """Queue one statement; its result goes to `slot` at the next `sync`."""
        pg = self.pg
        try:
            if stmt.name not in self.prepared:
                pg.send_prepare(stmt.name, stmt.sql, stmt.types)
                self.expect.append(stmt.name)
                self.prepared.add(stmt.name)
            pg.send_query_prepared(stmt.name, params, stmt.formats, 1)
        except BaseException:
            self.broken = True
            raise
        self.expect.append(slot)
        if self.replay is not None:
            self.replay.append((stmt, params, slot))
        if len(self.expect) > MAX_QUEUED:
            self.sync()

    def send_sql(self, sql: str) -> None:
        """Queue an unprepared statement without parameters (migrations)."""
        self.pg.send_query_params(sql.encode(), None, result_format=1)
        self.expect.append(None)

    def push(self) -> None:
        """Send what is queued without waiting: the server executes it now."""
        pg = self.pg
        while pg.flush():
            self.poll.modify(self.fd, select.POLLIN | select.POLLOUT)
            try:
                self.poll.poll()
            finally:
                self.poll.modify(self.fd, select.POLLIN)
            pg.consume_input()  # the server may be waiting for us to read

    def sync(self) -> None:
        """Collect every queued result; retry the open transaction on a conflict."""
        attempt = 0
        while True:
            try:
                self._sync()
                return
            except RETRYABLE:
                replay = self.replay
                attempt += 1
                if replay is None or attempt >= RETRIES:
                    raise
            # Nothing was returned to the caller since BEGIN: do it all again.
            self.replay = None
            self.send(ROLLBACK)
            self._sync()
            time.sleep(random.uniform(0, 0.001 * attempt))
            self.replay = []
            for stmt, params, slot in replay:
                self.send(stmt, params, slot)

    def _sync(self) -> None:
        expect = self.expect
        error: psycopg.Error | None = None
        try:
            self.pg.pipeline_sync()
            expect.append(_SYNC)
            self.push()
            while expect:
                wanted = expect.popleft()
                res = self._result()
                if wanted is _SYNC:
                    if res is None or res.status != pq.ExecStatus.PIPELINE_SYNC:
                        raise psycopg.OperationalError("PostgreSQL pipeline out of step")
                    continue
                if res is None:
                    raise psycopg.OperationalError("PostgreSQL pipeline out of step")
                status = res.status
                if status not in _OK:
                    if status == pq.ExecStatus.FATAL_ERROR and error is None:
                        error = pg_errors.error_from_result(res)
                    if isinstance(wanted, bytes):
                        self.prepared.discard(wanted)
                elif isinstance(wanted, Slot):
                    wanted.res = res
                if self._result() is not None:  # each command's results end with None
                    raise psycopg.OperationalError("PostgreSQL pipeline out of step")
        except BaseException:
            self.broken = True  # lost connection, interrupted: the queue is out of step
            raise
        if error is not None:
            raise error  # a statement failed; the connection is in step and usable

    def _result(self) -> pq.abc.PGresult | None:
        pg = self.pg
        while True:
            pg.consume_input()
            if not pg.is_busy():
                return pg.get_result()
            self.poll.poll()  # releases the GIL while waiting

    def close(self) -> None:
        self.pg.finish()
