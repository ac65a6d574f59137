"""PostgreSQL-only behaviour: group commit, isolation levels and retries, sequences'
round trips, migrations. The shared contract is in test_storage_contract.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.postgres_cluster import PostgresCluster

psycopg = pytest.importorskip("psycopg")

from dynastore.storage import pgpipe  # noqa: E402  # needs psycopg
from dynastore.storage.postgres import SCHEMA_VERSION, PostgresBackend  # noqa: E402

Opener = Callable[..., PostgresBackend]


@pytest.fixture
def url(postgres_cluster: PostgresCluster) -> str:
    return postgres_cluster.fresh_schema()


@pytest.fixture
def opener(url: str) -> Iterator[Opener]:
    opened: list[PostgresBackend] = []

    def open_one(**options: object) -> PostgresBackend:
        backend = PostgresBackend(url, **options)  # type: ignore[arg-type]
        opened.append(backend)
        return backend

    yield open_one
    for backend in opened:
        backend.close()


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts collected batches (each one round trip to the server)."""
    count = [0]
    original = pgpipe.Pipeline._sync

    def counting(self: pgpipe.Pipeline) -> None:
        count[0] += 1
        original(self)

    monkeypatch.setattr(pgpipe.Pipeline, "_sync", counting)
    return count


# -- group commit --------------------------------------------------------------------


def test_grouped_writes_are_invisible_until_flush(opener: Opener) -> None:
    grouped, other = opener(group_commit=True), opener()
    with grouped.write() as tx:
        tx.put(1, b"a", b"1")
    with grouped.write() as tx:
        tx.put(1, b"b", b"2")
    assert grouped.pending()
    assert grouped.get(1, b"a") == b"1"  # the group sees its own writes
    with grouped.read() as rtx:
        assert [k for k, _ in rtx.range(1, b"", None)] == [b"a", b"b"]
    assert other.get(1, b"a") is None  # nobody else does before the commit
    grouped.flush()
    assert not grouped.pending()
    assert other.get(1, b"a") == b"1"
    assert other.get(1, b"b") == b"2"


def test_a_failed_write_rolls_back_alone(opener: Opener) -> None:
    grouped, other = opener(group_commit=True), opener()
    with grouped.write() as tx:
        tx.put(1, b"kept", b"1")
        first = tx.next_sequence("s")
    with pytest.raises(ValueError), grouped.write() as tx:
        tx.put(1, b"lost", b"2")
        assert tx.next_sequence("s") == first + 1
        raise ValueError("condition failed")
    with pytest.raises(ValueError), grouped.write() as tx:
        raise ValueError("failed before any change")
    with grouped.write() as tx:
        tx.put(1, b"also-kept", b"3")
        assert tx.next_sequence("s") == first + 1  # the rolled-back number is reused
    grouped.flush()
    assert other.get(1, b"kept") == b"1"
    assert other.get(1, b"lost") is None
    assert other.get(1, b"also-kept") == b"3"
    with other.write() as tx:
        assert tx.next_sequence("s") == first + 2


def test_a_database_error_fails_the_flush(opener: Opener) -> None:
    grouped, other = opener(group_commit=True), opener()
    with grouped.write() as tx:
        tx.put(1, b"a", b"1")
    with pytest.raises(psycopg.Error), grouped.write() as tx:
        conn = tx._check()
        conn.send_sql("SELECT 1/0")
        conn.sync()
    with pytest.raises(psycopg.Error):
        grouped.flush()  # the requests of this group must not be acknowledged
    assert not grouped.pending()
    assert other.get(1, b"a") is None
    with grouped.write() as tx:  # usable again
        tx.put(1, b"b", b"2")
    grouped.flush()
    assert other.get(1, b"b") == b"2"


def test_close_commits_the_group(url: str) -> None:
    grouped = PostgresBackend(url, group_commit=True)
    with grouped.write() as tx:
        tx.put(2, b"k", b"v")
    grouped.close()  # nothing acknowledged is lost
    reopened = PostgresBackend(url)
    try:
        assert reopened.get(2, b"k") == b"v"
    finally:
        reopened.close()


def test_grouped_writers_in_two_instances_are_serialised(opener: Opener) -> None:
    backends = [opener(group_commit=True), opener(group_commit=True)]
    rounds, errors = 100, []

    def work(backend: PostgresBackend) -> None:
        try:
            for i in range(rounds):
                with backend.write() as tx:
                    current = int(tx.get(1, b"counter") or b"0")
                    tx.put(1, b"counter", str(current + 1).encode())
                if i % 3 == 2:
                    backend.flush()
            backend.flush()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(b,)) for b in backends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert backends[0].get(1, b"counter") == str(2 * rounds).encode()


# -- isolation levels and retries ----------------------------------------------------


@pytest.mark.parametrize("isolation", ["read committed", "repeatable read", "serializable"])
def test_writers_are_serialised_at_every_isolation_level(opener: Opener, isolation: str) -> None:
    """Under REPEATABLE READ / SERIALIZABLE a writer that waited for the lock fails
    with a serialization error, which the backend retries transparently."""
    backends = [opener(isolation=isolation) for _ in range(3)]
    rounds, errors = 60, []

    def work(backend: PostgresBackend) -> None:
        try:
            for _ in range(rounds):
                with backend.write() as tx:
                    tx.put(1, b"blind", b"x")  # queued before the first read: replayed too
                    current = int(tx.get(1, b"counter") or b"0")
                    tx.put(1, b"counter", str(current + 1).encode())
                    tx.next_sequence("log")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(b,)) for b in backends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert backends[0].get(1, b"counter") == str(3 * rounds).encode()
    with backends[0].write() as tx:
        assert tx.next_sequence("log") == 3 * rounds + 1


def test_isolation_is_checked(url: str) -> None:
    with pytest.raises(ValueError, match="isolation"):
        PostgresBackend(url, isolation="chaos")


# -- round trips ---------------------------------------------------------------------


def test_item_write_is_two_round_trips(opener: Opener, round_trips: list[int]) -> None:
    """PutItem on a table with two GSIs and a stream: read the old item, then COMMIT
    with the item, both index entries and the log record (sequence cached)."""
    backend = opener()
    with backend.write() as tx:
        tx.next_sequence("log/5")  # warms the cache
    for i in range(3):
        round_trips[0] = 0
        with backend.write() as tx:
            tx.get(1000, b"item")
            tx.put(1000, b"item", b"new")
            tx.delete(1001, b"old-index-entry")
            tx.put(1001, b"index-entry", b"new")
            tx.put(1002, b"index-entry", b"new")
            seq = tx.next_sequence("log/5")
            tx.put(1003, seq.to_bytes(8, "big"), b"record")
        assert round_trips[0] == 2
        assert seq == i + 2


def test_sequence_cache_notices_other_writers(opener: Opener, round_trips: list[int]) -> None:
    first, second = opener(), opener()
    values = []
    for i in range(12):
        backend = first if i % 4 else second
        with backend.write() as tx:
            values.append(tx.next_sequence("log"))
            values.append(tx.next_sequence("log"))
    assert values == list(range(1, 25))
    with first.write() as tx:
        tx.put(1, b"x", b"y")  # no counter used, but the cache stays valid
    round_trips[0] = 0
    with first.write() as tx:
        assert tx.next_sequence("log") == 25
    assert round_trips[0] == 2  # waiting for the lock (and its epoch), COMMIT
    round_trips[0] = 0
    with second.write() as tx:  # first wrote since: the cached value is not trusted
        assert tx.next_sequence("log") == 26
    assert round_trips[0] == 3


def test_get_and_query_round_trips(opener: Opener, round_trips: list[int]) -> None:
    backend = opener()
    with backend.write() as tx:
        for i in range(10):
            tx.put(1, bytes([i]), b"v")
    round_trips[0] = 0
    assert backend.get(1, b"\x01") == b"v"
    assert round_trips[0] == 1
    round_trips[0] = 0
    with backend.read() as rtx:
        assert len(list(rtx.range(1, b"", None, limit=5))) == 5
    assert round_trips[0] == 2  # pin the snapshot, one batch; ROLLBACK is not awaited


# -- migrations ----------------------------------------------------------------------


def test_schema_is_created_once_and_newer_refused(url: str) -> None:
    backend = PostgresBackend(url)
    try:
        assert backend.schema_version() == SCHEMA_VERSION
    finally:
        backend.close()
    reopened = PostgresBackend(url)  # migrations are not re-applied
    try:
        assert reopened.schema_version() == SCHEMA_VERSION
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO dynastore_migrations VALUES (%s, 0)", (SCHEMA_VERSION + 1,))
    finally:
        reopened.close()
    with pytest.raises(RuntimeError, match="schema version"):
        PostgresBackend(url)


def test_concurrent_first_open(url: str) -> None:
    opened: list[PostgresBackend] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            opened.append(PostgresBackend(url))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert all(b.schema_version() == SCHEMA_VERSION for b in opened)
    finally:
        for backend in opened:
            backend.close()


_KILL_SCRIPT = """
import os, signal, sys
from dynastore.storage.postgres import PostgresBackend
backend = PostgresBackend(sys.argv[1], group_commit=sys.argv[2] == "1")
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


@pytest.mark.parametrize("grouped", ["0", "1"])
def test_acknowledged_writes_survive_kill(url: str, grouped: str) -> None:
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-c", _KILL_SCRIPT, url, grouped],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert len(proc.stdout.split()) == 100
    backend = PostgresBackend(url)
    try:
        with backend.read() as rtx:
            keys = [k for k, _ in rtx.range(7, b"", None)]
        assert len(keys) == 100 + (grouped == "0")  # the open group died uncommitted
        with backend.write() as tx:
            assert tx.next_sequence("log") == 101
    finally:
        backend.close()


# -- lost connections ----------------------------------------------------------------


def test_reconnects_after_the_server_drops_connections(
    postgres_cluster: PostgresCluster,
) -> None:
    url = postgres_cluster.create_database("dropped")
    backend = PostgresBackend(url)
    try:
        with backend.write() as tx:
            tx.put(1, b"a", b"1")
        with backend.read() as rtx:  # a second pooled connection
            assert backend.get(1, b"a") == b"1"
            assert rtx.get(1, b"a") == b"1"
        with psycopg.connect(postgres_cluster.url(), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = 'dropped' AND pid <> pg_backend_pid()"
            )
        # Reads retry once on a fresh connection; the dead pool is dropped whole.
        assert backend.get(1, b"a") == b"1"
        with backend.read() as rtx:
            assert rtx.get(1, b"a") == b"1"
        with backend.write() as tx:
            tx.put(1, b"b", b"2")
        assert backend.get(1, b"b") == b"2"
    finally:
        backend.close()
