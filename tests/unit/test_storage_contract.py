"""The storage contract (dynastore.storage.base): every backend must pass these tests.

Tests take ``open_backend``, a factory that opens one more instance on the same store
(a fresh store per test, tests/unit/storage_stores.py), with the backend's options
(``group_commit=True``, ...). Two instances stand for two server processes. To add a
backend, add its name to KINDS and a branch in ``store``; a backend whose server is not
available skips (the ``postgres_cluster`` fixture says why, or fails under
DYNASTORE_REQUIRE_POSTGRES=1). SQLite-only tests are at the end of the file,
PostgreSQL-only ones in test_postgres_backend.py.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynastore.storage.base import Backend
from dynastore.storage.sqlite import MIGRATIONS, SCHEMA_VERSION, SqliteBackend
from tests.unit.storage_stores import KINDS, Store, fresh_store, run_threads, sqlite_store

BackendFactory = Callable[..., Backend]

SPACE = 7
OTHER = 8


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store[Any]]:
    yield from fresh_store(request, tmp_path)


@pytest.fixture(params=KINDS)
def open_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BackendFactory]:
    """Also a fixture of other modules' tests: it depends on no fixture of this module."""
    for store in fresh_store(request, tmp_path):
        yield store.open


@pytest.fixture
def backend(open_backend: BackendFactory) -> Backend:
    return open_backend()


def _fill(backend: Backend, keys: list[bytes], space: int = SPACE) -> None:
    with backend.write() as tx:
        for key in keys:
            tx.put(space, key, b"v" + key)


class Boom(Exception):
    pass


def _no_error() -> AbstractContextManager[None]:
    return nullcontext()


# -- single keys --------------------------------------------------------------------


def test_get_put_delete(backend: Backend) -> None:
    assert backend.get(SPACE, b"a") is None
    with backend.write() as tx:
        assert tx.get(SPACE, b"a") is None
        tx.put(SPACE, b"a", b"1")
        assert tx.get(SPACE, b"a") == b"1"
    assert backend.get(SPACE, b"a") == b"1"
    with backend.write() as tx:
        tx.put(SPACE, b"a", b"2")
    assert backend.get(SPACE, b"a") == b"2"
    with backend.read() as rtx:
        assert rtx.get(SPACE, b"a") == b"2"
        assert rtx.get(SPACE, b"b") is None
    with backend.write() as tx:
        tx.delete(SPACE, b"a")
        tx.delete(SPACE, b"never-there")
        assert tx.get(SPACE, b"a") is None
    assert backend.get(SPACE, b"a") is None


def test_get_many(backend: Backend) -> None:
    with backend.write() as tx:
        tx.put(SPACE, b"a", b"1")
        tx.put(OTHER, b"a", b"2")
        assert tx.get_many([]) == []
        # A write transaction sees its own writes, in the order asked.
        assert tx.get_many([(OTHER, b"a"), (SPACE, b"b"), (SPACE, b"a")]) == [b"2", None, b"1"]
        tx.put(SPACE, b"b", b"")
        assert tx.get_many([(SPACE, b"b"), (SPACE, b"b")]) == [b"", b""]
    with backend.read() as rtx:
        assert rtx.get_many([(SPACE, b"a"), (OTHER, b"b")]) == [b"1", None]


def test_spaces_are_separate(backend: Backend) -> None:
    with backend.write() as tx:
        tx.put(SPACE, b"k", b"one")
        tx.put(OTHER, b"k", b"two")
    assert backend.get(SPACE, b"k") == b"one"
    assert backend.get(OTHER, b"k") == b"two"
    with backend.write() as tx:
        tx.delete(SPACE, b"k")
    assert backend.get(OTHER, b"k") == b"two"


def test_arbitrary_bytes(backend: Backend) -> None:
    keys = [b"", b"\x00", b"\x00\x00", b"\xff", b"\xff\xff", b"a\x00b"]
    big = bytes(range(256)) * 2000
    with backend.write() as tx:
        for key in keys:
            tx.put(SPACE, key, key + b"\x00")
        tx.put(SPACE, b"big", big)
        tx.put(SPACE, b"empty", b"")
    for key in keys:
        assert backend.get(SPACE, key) == key + b"\x00"
    assert backend.get(SPACE, b"big") == big
    assert backend.get(SPACE, b"empty") == b""


# -- ranges -------------------------------------------------------------------------

ORDERED = [b"", b"\x00", b"\x00\x00", b"\x01", b"a", b"a\x00", b"ab", b"a\xff", b"b", b"\xff"]


def _keys(pairs: Iterator[tuple[bytes, bytes]]) -> list[bytes]:
    return [key for key, _ in pairs]


def test_range_is_bytewise_ordered(backend: Backend) -> None:
    assert sorted(ORDERED) == ORDERED
    _fill(backend, list(reversed(ORDERED)))
    _fill(backend, [b"zz"], space=OTHER)
    with backend.read() as tx:
        assert list(tx.range(SPACE, b"", None)) == [(k, b"v" + k) for k in ORDERED]
        assert _keys(tx.range(SPACE, b"", None, reverse=True)) == ORDERED[::-1]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("limit", [None, 0, 1, 3, 100])
@pytest.mark.parametrize(
    ("start", "end"),
    [(b"", None), (b"a", None), (b"a", b"b"), (b"\x00", b"a\x00"), (b"ab", b"ab"), (b"b", b"a")],
)
def test_range_bounds_and_limits(
    backend: Backend, reverse: bool, limit: int | None, start: bytes, end: bytes | None
) -> None:
    _fill(backend, ORDERED)
    expected = [k for k in ORDERED if k >= start and (end is None or k < end)]
    if reverse:
        expected.reverse()
    if limit is not None:
        expected = expected[:limit]
    with backend.read() as tx:
        assert _keys(tx.range(SPACE, start, end, reverse=reverse, limit=limit)) == expected
    with backend.write() as wtx:
        assert _keys(wtx.range(SPACE, start, end, reverse=reverse, limit=limit)) == expected


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("limit", [None, 1, 63, 64, 65, 1000, 2500, 3000, 5000])
def test_range_many_rows(backend: Backend, reverse: bool, limit: int | None) -> None:
    keys = [i.to_bytes(2, "big") for i in range(3000)]
    _fill(backend, keys)
    _fill(backend, [b"\x00", b"\xff\xff\xff"], space=OTHER)
    expected = keys[::-1] if reverse else keys
    with backend.read() as tx:
        got = _keys(tx.range(SPACE, b"", None, reverse=reverse, limit=limit))
        assert got == expected[:limit]
        lo, hi = keys[100], keys[2900]
        inner = [k for k in expected if lo <= k < hi]
        assert _keys(tx.range(SPACE, lo, hi, reverse=reverse, limit=limit)) == inner[:limit]


def test_range_sees_own_writes_and_survives_writes_while_iterating(backend: Backend) -> None:
    keys = [i.to_bytes(2, "big") for i in range(2000)]
    _fill(backend, keys)
    seen = []
    with backend.write() as tx:
        tx.put(SPACE, b"\xff", b"new")
        for key, _ in tx.range(SPACE, b"", None):
            seen.append(key)
            tx.delete(SPACE, key)
    assert seen == [*keys, b"\xff"]
    with backend.read() as rtx:
        assert list(rtx.range(SPACE, b"", None)) == []


def test_abandoned_iterator_does_not_block(backend: Backend) -> None:
    _fill(backend, [i.to_bytes(2, "big") for i in range(500)])
    with backend.read() as rtx:
        iterator = rtx.range(SPACE, b"", None)
        assert next(iterator)[0] == b"\x00\x00"
    with backend.write() as tx:
        iterator = tx.range(SPACE, b"", None)
        next(iterator)
        tx.put(SPACE, b"x", b"y")
    assert backend.get(SPACE, b"x") == b"y"


# -- delete_range -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"), [(b"", None), (b"a", None), (b"a", b"b"), (b"\x00", b"\x01"), (b"b", b"a")]
)
def test_delete_range(backend: Backend, start: bytes, end: bytes | None) -> None:
    _fill(backend, ORDERED)
    _fill(backend, ORDERED, space=OTHER)
    doomed = [k for k in ORDERED if k >= start and (end is None or k < end)]
    with backend.write() as tx:
        assert tx.delete_range(SPACE, start, end) == len(doomed)
        assert tx.delete_range(SPACE, start, end) == 0
    with backend.read() as rtx:
        assert _keys(rtx.range(SPACE, b"", None)) == [k for k in ORDERED if k not in doomed]
        assert _keys(rtx.range(OTHER, b"", None)) == ORDERED


# -- transactions -------------------------------------------------------------------


def test_rollback_on_exception_leaves_nothing(backend: Backend) -> None:
    _fill(backend, [b"a", b"b", b"c"])
    with pytest.raises(Boom), backend.write() as tx:
        tx.put(SPACE, b"new", b"1")
        tx.put(SPACE, b"a", b"changed")
        tx.delete(SPACE, b"b")
        tx.delete_range(SPACE, b"c", None)
        raise Boom
    with backend.read() as rtx:
        assert list(rtx.range(SPACE, b"", None)) == [(k, b"v" + k) for k in (b"a", b"b", b"c")]
    # The backend stays usable after a rollback.
    with backend.write() as tx:
        tx.put(SPACE, b"d", b"1")
    assert backend.get(SPACE, b"d") == b"1"


def test_rollback_on_base_exception(backend: Backend) -> None:
    with pytest.raises(KeyboardInterrupt), backend.write() as tx:
        tx.put(SPACE, b"k", b"v")
        raise KeyboardInterrupt
    assert backend.get(SPACE, b"k") is None


def test_get_does_not_see_uncommitted_writes(backend: Backend) -> None:
    _fill(backend, [b"a"])
    with backend.write() as tx:
        tx.put(SPACE, b"a", b"uncommitted")
        tx.put(SPACE, b"b", b"uncommitted")
        assert backend.get(SPACE, b"a") == b"va"
        assert backend.get(SPACE, b"b") is None
        with backend.read() as rtx:
            assert rtx.get(SPACE, b"a") == b"va"
    assert backend.get(SPACE, b"a") == b"uncommitted"


def test_read_snapshot_does_not_see_later_commit(open_backend: BackendFactory) -> None:
    first, second = open_backend(), open_backend()
    _fill(first, [b"a", b"b"])
    for writer in (first, second):
        with first.read() as rtx:
            with writer.write() as tx:
                tx.put(SPACE, b"a", b"changed")
                tx.put(SPACE, b"c", b"added")
                tx.delete(SPACE, b"b")
            assert rtx.get(SPACE, b"a") == b"va"
            assert rtx.get(SPACE, b"c") is None
            assert _keys(rtx.range(SPACE, b"", None)) == [b"a", b"b"]
            assert first.get(SPACE, b"c") == b"added"
        with first.read() as rtx:
            assert _keys(rtx.range(SPACE, b"", None)) == [b"a", b"c"]
        _fill(first, [b"a", b"b"])
        with first.write() as tx:
            tx.delete(SPACE, b"c")


def test_nested_and_interleaved_reads(backend: Backend) -> None:
    _fill(backend, [b"a"])
    outer = backend.read()
    with outer as first:
        _fill(backend, [b"b"])
        with backend.read() as second:
            assert first.get(SPACE, b"b") is None
            assert second.get(SPACE, b"b") == b"vb"


def test_write_transactions_do_not_nest(backend: Backend) -> None:
    with backend.write() as tx:
        tx.put(SPACE, b"a", b"1")
        with pytest.raises(RuntimeError), backend.write():
            pass
    assert backend.get(SPACE, b"a") == b"1"


def test_transaction_unusable_after_exit(backend: Backend) -> None:
    with backend.write() as tx:
        tx.put(SPACE, b"a", b"1")
    with pytest.raises(RuntimeError):
        tx.put(SPACE, b"b", b"2")
    with backend.read() as rtx:
        pass
    with pytest.raises(RuntimeError):
        rtx.get(SPACE, b"a")
    assert backend.get(SPACE, b"b") is None


@pytest.mark.parametrize("grouped", [False, True])
def test_concurrent_writers_are_serialised(open_backend: BackendFactory, grouped: bool) -> None:
    """Read-modify-write from two instances (two threads) loses no update; grouped, each
    instance holds the write lock from its group's first write to its flush."""
    backends = [open_backend(group_commit=grouped) for _ in range(2)]
    rounds = 200

    def work(backend: Backend) -> None:
        for i in range(rounds):
            with backend.write() as tx:
                current = int(tx.get(SPACE, b"counter") or b"0")
                tx.put(SPACE, b"counter", str(current + 1).encode())
            if i % 3 == 2:
                backend.flush()
        backend.flush()

    assert run_threads(work, backends) == []
    assert backends[0].get(SPACE, b"counter") == str(2 * rounds).encode()


def test_writer_waits_for_other_instance(open_backend: BackendFactory) -> None:
    first, second = open_backend(), open_backend()
    done = threading.Event()

    def other() -> None:
        with second.write() as tx:
            tx.put(SPACE, b"k", (tx.get(SPACE, b"k") or b"") + b"-second")
        done.set()

    with first.write() as tx:
        tx.put(SPACE, b"k", b"first")
        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.2)
        assert not done.is_set()
    thread.join(10)
    assert done.is_set()
    assert first.get(SPACE, b"k") == b"first-second"


_small_keys = st.binary(max_size=3)
_op = st.one_of(
    st.tuples(st.just("put"), _small_keys, st.binary(max_size=3)),
    st.tuples(st.just("delete"), _small_keys, st.just(b"")),
    st.tuples(st.just("delete_range"), _small_keys, st.one_of(st.none(), _small_keys)),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.tuples(st.lists(_op, max_size=8), st.booleans()), max_size=6),
    _small_keys,
    st.one_of(st.none(), _small_keys),
    st.booleans(),
    st.one_of(st.none(), st.integers(0, 5)),
)
def test_matches_a_dict_model(
    backend: Backend,
    transactions: list[tuple[list[tuple[str, bytes, bytes | None]], bool]],
    start: bytes,
    end: bytes | None,
    reverse: bool,
    limit: int | None,
) -> None:
    with backend.write() as tx:
        tx.delete_range(SPACE, b"", None)
    model: dict[bytes, bytes] = {}
    for ops, fail in transactions:
        draft = dict(model)
        with pytest.raises(Boom) if fail else _no_error(), backend.write() as tx:
            for name, key, arg in ops:
                if name == "put":
                    assert arg is not None
                    tx.put(SPACE, key, arg)
                    draft[key] = arg
                elif name == "delete":
                    tx.delete(SPACE, key)
                    draft.pop(key, None)
                else:
                    doomed = [k for k in draft if k >= key and (arg is None or k < arg)]
                    assert tx.delete_range(SPACE, key, arg) == len(doomed)
                    for k in doomed:
                        del draft[k]
            if fail:
                raise Boom
        if not fail:
            model = draft
    expected = sorted((k, v) for k, v in model.items() if k >= start and (end is None or k < end))
    if reverse:
        expected.reverse()
    with backend.read() as rtx:
        got = list(rtx.range(SPACE, start, end, reverse=reverse, limit=limit))
    assert got == expected[:limit]
    for key, value in model.items():
        assert backend.get(SPACE, key) == value


# -- sequences ----------------------------------------------------------------------


def test_sequences_monotonic_and_independent(backend: Backend) -> None:
    with backend.write() as tx:
        assert [tx.next_sequence("log") for _ in range(3)] == [1, 2, 3]
        assert tx.next_sequence("other") == 1
    with backend.write() as tx:
        assert tx.next_sequence("log") == 4


def test_sequences_durable_and_shared(open_backend: BackendFactory) -> None:
    first = open_backend()
    with first.write() as tx:
        values = [tx.next_sequence("log") for _ in range(5)]
    first.close()
    second, third = open_backend(), open_backend()
    for _ in range(5):
        for backend in (second, third):
            with backend.write() as tx:
                values.append(tx.next_sequence("log"))
    assert values == list(range(1, 16))


def test_sequence_never_reissued_after_rollback(backend: Backend) -> None:
    with backend.write() as tx:
        first = tx.next_sequence("log")
    with pytest.raises(Boom), backend.write() as tx:
        tx.next_sequence("log")
        raise Boom
    with backend.write() as tx:
        assert tx.next_sequence("log") > first


# -- group commit (both backends' ``group_commit`` option) ---------------------------


def test_grouped_writes_are_invisible_until_flush(open_backend: BackendFactory) -> None:
    grouped, other = open_backend(group_commit=True), open_backend()
    with grouped.write() as tx:
        tx.put(SPACE, b"a", b"1")
    with grouped.write() as tx:
        tx.put(SPACE, b"b", b"2")
    assert grouped.pending()
    assert grouped.get(SPACE, b"a") == b"1"  # the group sees its own writes
    with grouped.read() as rtx:
        assert _keys(rtx.range(SPACE, b"", None)) == [b"a", b"b"]
    assert other.get(SPACE, b"a") is None  # nobody else does before the commit
    grouped.flush()
    assert not grouped.pending()
    assert other.get(SPACE, b"a") == b"1"
    assert other.get(SPACE, b"b") == b"2"


def test_a_failed_grouped_write_rolls_back_alone(open_backend: BackendFactory) -> None:
    grouped, other = open_backend(group_commit=True), open_backend()
    with grouped.write() as tx:
        tx.put(SPACE, b"kept", b"1")
        first = tx.next_sequence("s")
    with pytest.raises(Boom), grouped.write() as tx:
        tx.put(SPACE, b"lost", b"2")
        assert tx.next_sequence("s") == first + 1
        raise Boom
    with pytest.raises(Boom), grouped.write() as tx:
        raise Boom  # before any change
    with grouped.write() as tx:
        tx.put(SPACE, b"also-kept", b"3")
        assert tx.next_sequence("s") == first + 1  # the rolled-back number is reused
    grouped.flush()
    assert other.get(SPACE, b"kept") == b"1"
    assert other.get(SPACE, b"lost") is None
    assert other.get(SPACE, b"also-kept") == b"3"
    with other.write() as tx:
        assert tx.next_sequence("s") == first + 2


def _check_group_lost(
    grouped: Backend, other: Backend, error: type[BaseException], match: str | None = None
) -> None:
    """After grouped writes of ``a`` and ``b`` were lost with their transaction: the flush
    raises (none of their requests is acknowledged), neither is visible, and the next
    write opens a fresh group."""
    assert grouped.pending()
    with pytest.raises(error, match=match):
        grouped.flush()
    assert not grouped.pending()
    for backend in (grouped, other):
        assert backend.get(SPACE, b"a") is None
        assert backend.get(SPACE, b"b") is None
    with grouped.write() as tx:
        tx.put(SPACE, b"c", b"3")
    grouped.flush()
    assert other.get(SPACE, b"c") == b"3"


@pytest.mark.parametrize("step", ["_enter_group", "_leave_group"])
def test_a_failure_to_join_or_leave_the_group_fails_the_flush(
    open_backend: BackendFactory, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """E.g. a savepoint that cannot be released: the group's earlier writes are lost."""
    grouped, other = open_backend(group_commit=True), open_backend()
    with grouped.write() as tx:
        tx.put(SPACE, b"a", b"1")

    def fail(*args: object) -> None:
        raise Boom

    with monkeypatch.context() as patch:
        patch.setattr(type(grouped.write()), step, fail)
        with pytest.raises(Boom), grouped.write() as tx:
            tx.put(SPACE, b"b", b"2")
    _check_group_lost(grouped, other, Boom)


def test_close_commits_the_group(open_backend: BackendFactory) -> None:
    grouped = open_backend(group_commit=True)
    with grouped.write() as tx:
        tx.put(SPACE, b"k", b"v")
    grouped.close()  # nothing acknowledged is lost
    assert open_backend().get(SPACE, b"k") == b"v"


# -- durability and sharing ---------------------------------------------------------


def test_data_durable_across_reopen(open_backend: BackendFactory) -> None:
    first = open_backend()
    _fill(first, [b"a", b"b"])
    with first.write() as tx:
        tx.delete(SPACE, b"b")
    first.close()
    second = open_backend()
    assert second.get(SPACE, b"a") == b"va"
    assert second.get(SPACE, b"b") is None


def test_instances_see_each_others_commits(open_backend: BackendFactory) -> None:
    first, second = open_backend(), open_backend()
    assert second.get(SPACE, b"a") is None  # warm the second instance first
    _fill(first, [b"a"])
    assert second.get(SPACE, b"a") == b"va"
    with second.write() as tx:
        tx.put(SPACE, b"b", b"from-second")
    assert first.get(SPACE, b"b") == b"from-second"
    with first.read() as rtx:
        assert _keys(rtx.range(SPACE, b"", None)) == [b"a", b"b"]
    with second.write() as tx:
        tx.delete_range(SPACE, b"", None)
    assert first.get(SPACE, b"a") is None


_KILL_SCRIPT = """
import importlib, os, signal, sys
module, name, location, grouped = sys.argv[1:]
backend = getattr(importlib.import_module(module), name)(location, group_commit=grouped == "1")
for i in range(100):
    with backend.write() as tx:
        tx.put(7, i.to_bytes(2, "big"), b"x" * 100)
        tx.next_sequence("log")
    backend.flush()
    print(i, flush=True)  # acknowledged
with backend.write() as tx:
    tx.put(7, b"unacknowledged", b"x")
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
@pytest.mark.parametrize("grouped", ["0", "1"])
def test_acknowledged_writes_survive_kill(store: Store[Any], grouped: str) -> None:
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    cls = store.backend
    proc = subprocess.run(
        [sys.executable, "-c", _KILL_SCRIPT, cls.__module__, cls.__name__, store.location, grouped],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert len(proc.stdout.split()) == 100
    backend = store.open()
    with backend.read() as rtx:
        keys = _keys(rtx.range(SPACE, b"", None))
    assert len(keys) == 100 + (grouped == "0")  # the open group died uncommitted
    with backend.write() as tx:
        assert tx.next_sequence("log") == 101


# -- schema -------------------------------------------------------------------------


def test_schema_is_created_once_and_newer_refused(store: Store[Any]) -> None:
    assert store.open().schema_version() == store.schema_version
    assert store.open().schema_version() == store.schema_version  # not re-applied
    store.record_version(store.schema_version + 1)
    with pytest.raises(RuntimeError, match="schema version"):
        store.open()


def test_concurrent_first_open(store: Store[Any]) -> None:
    opened: list[Any] = []
    assert run_threads(lambda _: opened.append(store.open()), range(6)) == []
    assert [backend.schema_version() for backend in opened] == [store.schema_version] * 6


# -- SQLite only --------------------------------------------------------------------


def test_sqlite_settings(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    with pytest.raises(ValueError):
        SqliteBackend(path, synchronous="SOMETIMES")
    backend = SqliteBackend(path, synchronous="full")
    try:
        assert backend.synchronous == "FULL"
        with backend.read() as rtx:
            cur = rtx._conn
            assert cur is not None
            assert cur.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert cur.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        backend.close()


def test_sqlite_migrates_a_version_1_store(tmp_path: Path) -> None:
    """A store written by schema version 1 (a WITHOUT ROWID kv table) keeps its data."""
    path = str(tmp_path / "v1.db")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL)")
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_migrations VALUES (1, 0)")
    rows = [(space, b"k%03d" % i, b"v%d" % (i * space)) for space in (3, 7) for i in range(200)]
    conn.executemany("INSERT INTO kv (space, k, v) VALUES (?, ?, ?)", rows)
    conn.close()
    backend = SqliteBackend(path)
    try:
        assert backend.schema_version() == SCHEMA_VERSION
        assert backend.get(7, b"k010") == b"v70"
        with backend.read() as rtx:
            assert list(rtx.range(3, b"k198", b"k999")) == [(b"k198", b"v594"), (b"k199", b"v597")]
        with backend.write() as tx:
            tx.put(3, b"k000", b"new")
            tx.put(3, b"k500", b"added")
        assert backend.get(3, b"k000") == b"new"
        assert backend.stats(3) == (201, sum(len(v) for s, _, v in rows if s == 3) + 3 - 2 + 5)
    finally:
        backend.close()


@pytest.fixture
def sqlite_pair(tmp_path: Path) -> Iterator[tuple[SqliteBackend, SqliteBackend]]:
    """A grouped SQLite backend and another instance on the same file."""
    store = sqlite_store(tmp_path)
    yield store.open(group_commit=True), store.open()
    store.close()


@pytest.mark.parametrize("swallowed", [False, True])
def test_sqlite_group_rolled_back_by_sqlite_fails_the_flush(
    sqlite_pair: tuple[SqliteBackend, SqliteBackend], swallowed: bool
) -> None:
    """An interrupted write makes SQLite roll the whole transaction back (as disk-full
    and I/O errors may), even when the block goes on as if nothing had happened."""
    grouped, other = sqlite_pair
    with grouped.write() as tx:
        tx.put(SPACE, b"a", b"1")
    message = "rolled back the open commit group" if swallowed else "interrupted"
    with pytest.raises(sqlite3.OperationalError, match=message), grouped.write() as tx:
        conn = tx._check().connection
        conn.set_progress_handler(lambda: 1, 1)  # interrupts the next statement
        try:
            tx.put(SPACE, b"b", b"2")
        except sqlite3.OperationalError:
            if not swallowed:
                raise
        finally:
            conn.set_progress_handler(None, 1)
        assert not conn.in_transaction
    _check_group_lost(grouped, other, sqlite3.OperationalError, message)


def test_sqlite_group_rolled_back_between_writes_fails_the_flush(
    sqlite_pair: tuple[SqliteBackend, SqliteBackend],
) -> None:
    """The transaction lost outside a write (e.g. by a read): the next write notices."""
    grouped, other = sqlite_pair
    with grouped.write() as tx:
        tx.put(SPACE, b"a", b"1")
    with grouped.read() as rtx:
        rtx._check().execute("ROLLBACK")  # as SQLite does after some errors
    message = "rolled back the open commit group"
    with pytest.raises(sqlite3.OperationalError, match=message), grouped.write() as tx:
        tx.put(SPACE, b"b", b"2")
    _check_group_lost(grouped, other, sqlite3.OperationalError, message)
