"""PostgreSQL-only behaviour: a failed statement fails the group's flush, isolation
levels and retries, round trips, lost connections. The contract every backend passes
(group commit, migrations and crashes included) is in test_storage_contract.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres_cluster import PostgresCluster
from tests.unit.storage_stores import Store, postgres_store, run_threads

psycopg = pytest.importorskip("psycopg")

from dynastore.storage import pgpipe  # noqa: E402  # needs psycopg
from dynastore.storage.postgres import PostgresBackend  # noqa: E402


@pytest.fixture
def store(postgres_cluster: PostgresCluster) -> Iterator[Store[PostgresBackend]]:
    opened = postgres_store(postgres_cluster)
    yield opened
    opened.close()


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


def test_a_database_error_fails_the_flush(store: Store[PostgresBackend]) -> None:
    grouped, other = store.open(group_commit=True), store.open()
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


# -- isolation levels and retries ----------------------------------------------------


@pytest.mark.parametrize("isolation", ["read committed", "repeatable read", "serializable"])
def test_writers_are_serialised_at_every_isolation_level(
    store: Store[PostgresBackend], isolation: str
) -> None:
    """Under REPEATABLE READ / SERIALIZABLE a writer that waited for the lock fails
    with a serialization error, which the backend retries transparently."""
    backends = [store.open(isolation=isolation) for _ in range(3)]
    rounds = 60

    def work(backend: PostgresBackend) -> None:
        for _ in range(rounds):
            with backend.write() as tx:
                tx.put(1, b"blind", b"x")  # queued before the first read: replayed too
                current = int(tx.get(1, b"counter") or b"0")
                tx.put(1, b"counter", str(current + 1).encode())
                tx.next_sequence("log")

    assert run_threads(work, backends) == []
    assert backends[0].get(1, b"counter") == str(3 * rounds).encode()
    with backends[0].write() as tx:
        assert tx.next_sequence("log") == 3 * rounds + 1


def test_isolation_is_checked(store: Store[PostgresBackend]) -> None:
    with pytest.raises(ValueError, match="isolation"):
        store.open(isolation="chaos")


# -- round trips ---------------------------------------------------------------------


def test_item_write_is_two_round_trips(
    store: Store[PostgresBackend], round_trips: list[int]
) -> None:
    """PutItem on a table with two GSIs and a stream: read the old item, then COMMIT
    with the item, both index entries and the log record (sequence cached)."""
    backend = store.open()
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


def test_sequence_cache_notices_other_writers(
    store: Store[PostgresBackend], round_trips: list[int]
) -> None:
    first, second = store.open(), store.open()
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


def test_get_and_query_round_trips(store: Store[PostgresBackend], round_trips: list[int]) -> None:
    backend = store.open()
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
