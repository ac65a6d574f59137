"""Unit-test fixtures: an Engine over a throwaway SQLite store, and the throwaway
PostgreSQL cluster (tests/postgres_cluster.py)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from dynastore.engine.engine import Engine, EngineSettings
from dynastore.storage.sqlite import SqliteBackend
from tests.postgres_cluster import postgres_cluster

__all__ = ["engine", "postgres_cluster"]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """An Engine with default settings over a fresh SQLite file."""
    backend = SqliteBackend(str(tmp_path / "store.db"), checkpoint_interval=None)
    eng = Engine(backend, EngineSettings())
    yield eng
    eng.close()
