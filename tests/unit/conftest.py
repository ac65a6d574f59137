"""Unit-test fixtures: the throwaway PostgreSQL cluster (tests/postgres_cluster.py)."""

from tests.postgres_cluster import postgres_cluster

__all__ = ["postgres_cluster"]
