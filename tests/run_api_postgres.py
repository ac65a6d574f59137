"""Run the API suite against a throwaway PostgreSQL cluster (CI's second pass).

    python -m tests.run_api_postgres [pytest arguments]

Starts a cluster (tests/postgres_cluster.py), creates a database, runs
``pytest tests/api`` with DYNASTORE_TEST_DATABASE pointing at it, and stops the cluster.
Without PostgreSQL it reports why and exits 0, or 1 when DYNASTORE_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.api.conftest import DATABASE_ENV
from tests.postgres_cluster import REQUIRE_ENV, PostgresCluster, unavailable_reason


def main(args: list[str]) -> int:
    reason = unavailable_reason()
    if reason is not None:
        print(f"tests/api on PostgreSQL skipped: {reason}", file=sys.stderr)
        return 1 if os.environ.get(REQUIRE_ENV) == "1" else 0
    cluster = PostgresCluster()
    try:
        env = {**os.environ, DATABASE_ENV: cluster.create_database("dynastore_api")}
        command = [sys.executable, "-m", "pytest", "tests/api", *args]
        return subprocess.call(command, env=env)
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
