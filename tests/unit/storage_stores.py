"""Stores for the storage tests (test_storage_contract.py, test_postgres_backend.py).

A `Store` is one fresh, empty store of one backend kind (a SQLite file, a PostgreSQL
schema); ``open(**options)`` opens one more backend instance on it, and two instances on
one store stand for two server processes sharing it. `Store.close` closes every backend
it opened.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pytest

from dynastore.storage.sqlite import SCHEMA_VERSION, SqliteBackend
from dynastore.storage.sqltx import SqlBackend
from tests.postgres_cluster import PostgresCluster

if TYPE_CHECKING:
    from dynastore.storage.postgres import PostgresBackend

B = TypeVar("B", bound=SqlBackend[Any])
T = TypeVar("T")

KINDS = ["sqlite", "postgres"]


class Store(Generic[B]):
    """Backends of class `backend` at `location` (a file path or a connection URL)."""

    def __init__(
        self,
        backend: type[B],
        location: str,
        schema_version: int,
        record_version: Callable[[int], None],
    ) -> None:
        self.backend = backend
        self.location = location
        self.schema_version = schema_version  # the version this dynastore writes
        self.record_version = record_version  # records a version behind the backends' back
        self._opened: list[B] = []

    def open(self, **options: Any) -> B:
        construct: Callable[..., B] = self.backend  # each backend's own signature
        backend = construct(self.location, **options)
        self._opened.append(backend)
        return backend

    def close(self) -> None:
        for backend in self._opened:
            backend.close()


def sqlite_store(tmp_path: Path) -> Store[SqliteBackend]:
    path = str(tmp_path / "store.db")

    def record_version(version: int) -> None:
        with closing(sqlite3.connect(path, isolation_level=None)) as conn:
            conn.execute("INSERT INTO schema_migrations VALUES (?, 0)", (version,))

    return Store(SqliteBackend, path, SCHEMA_VERSION, record_version)


def postgres_store(cluster: PostgresCluster) -> Store[PostgresBackend]:
    """A store in a fresh schema of `cluster` (needs psycopg, as the cluster does)."""
    import psycopg

    from dynastore.storage import postgres

    url = cluster.fresh_schema()

    def record_version(version: int) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO dynastore_migrations VALUES (%s, 0)", (version,))

    return Store(postgres.PostgresBackend, url, postgres.SCHEMA_VERSION, record_version)


def fresh_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store[Any]]:
    """The body of a fixture parametrized over KINDS: a fresh store of that kind, whose
    backends are closed at teardown (PostgreSQL: skips, or fails, without a cluster)."""
    if request.param == "sqlite":
        store: Store[Any] = sqlite_store(tmp_path)
    else:
        store = postgres_store(request.getfixturevalue("postgres_cluster"))
    yield store
    store.close()


def run_threads(target: Callable[[T], object], args: Iterable[T]) -> list[BaseException]:
    """Run ``target(arg)`` for every arg, each on its own thread; what they raised."""
    errors: list[BaseException] = []

    def run(arg: T) -> None:
        try:
            target(arg)
        except BaseException as exc:  # reported to the caller
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(arg,)) for arg in args]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
