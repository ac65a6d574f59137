"""A throwaway PostgreSQL cluster for tests: initdb, start on a free port, stop by PID.

PostgreSQL refuses to run as root, so when the tests run as root the cluster runs as an
unprivileged user (``postgres`` if it exists, else ``nobody``) through ``runuser``, in a
data directory under the system temp dir owned by that user. Tests that need the cluster
use the ``postgres_cluster`` fixture (re-exported by the unit and api conftests); when no
PostgreSQL binaries are found it skips them with the reason, unless
DYNASTORE_REQUIRE_POSTGRES=1 (set by .ci/run in CI), which turns the skip into a failure.

Also a command: ``python -m tests.postgres_cluster`` starts a cluster, prints its URL and
keeps it running until interrupted (benchmarks, manual runs).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REQUIRE_ENV = "DYNASTORE_REQUIRE_POSTGRES"
BIN_ENV = "DYNASTORE_PG_BIN"  # a directory holding initdb, pg_ctl and postgres
SUPERUSER = "dynastore"
START_TIMEOUT = 60.0

# Speed over durability for throwaway test clusters (nothing here must survive a crash).
FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def find_bin_dir() -> Path | None:
    """The directory with initdb/pg_ctl/postgres: $DYNASTORE_PG_BIN, Debian's, or PATH."""
    candidates: list[str] = []
    if os.environ.get(BIN_ENV):
        candidates.append(os.environ[BIN_ENV])
    # Debian/Ubuntu keep server binaries out of PATH, one directory per major version.
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for candidate in candidates:
        path = Path(candidate)
        if all((path / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return path
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run_as() -> str | None:
    """The unprivileged user to run PostgreSQL as (None: the current user is fine)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root and no unprivileged user (postgres, nobody) exists")


class PostgresCluster:
    """One running cluster; `url(db)` gives a connection URL, `stop()` shuts it down."""

    def __init__(self, *, durable: bool = False, settings: dict[str, str] | None = None) -> None:
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) not found")
        self.bin_dir = bin_dir
        self.user = _run_as()
        self.port = free_port()
        self.host = "127.0.0.1"
        self.pid: int | None = None
        self._schemas = 0
        # Not pytest's tmp_path: that is private to root (0700), unreadable by self.user.
        self.base = Path(tempfile.mkdtemp(prefix="dynastore-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        options = {} if durable else dict(FAST_SETTINGS)
        options.update(settings or {})
        try:
            self._init()
            self._start(options)
        except BaseException:
            self.stop()
            raise

    def _command(self, *args: str) -> list[str]:
        if self.user is None:
            return list(args)
        return ["runuser", "-u", self.user, "--", *args]

    def _init(self) -> None:
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        subprocess.run(
            self._command(
                str(self.bin_dir / "initdb"),
                "-D", str(self.data),
                "-U", SUPERUSER,
                "-A", "trust",
                "-E", "UTF8",
                "--locale", "C",
                "--no-sync",
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=START_TIMEOUT,
        )  # fmt: skip

    def _start(self, options: dict[str, str]) -> None:
        settings = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self.base),
            "max_connections": "200",
            **options,
        }
        flags = " ".join(f"-c {name}={value}" for name, value in settings.items())
        subprocess.run(
            self._command(
                str(self.bin_dir / "pg_ctl"),
                "-D", str(self.data),
                "-l", str(self.log),
                "-o", flags,
                "-w", "-t", str(int(START_TIMEOUT)),
                "start",
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=START_TIMEOUT + 10,
        )  # fmt: skip
        pid_file = self.data / "postmaster.pid"
        self.pid = int(pid_file.read_text().split("\n", 1)[0])

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def fresh_schema(self) -> str:
        """A URL whose tables land in a new empty schema (a fresh store, in milliseconds)."""
        import psycopg

        self._schemas += 1
        name = f"t{self._schemas}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return f"{self.url()}?options=-csearch_path%3D{name}"

    def create_database(self, name: str) -> str:
        """Create a database; returns its URL."""
        import psycopg  # the tests that get here have psycopg installed

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Fast shutdown of the postmaster by PID, then remove the cluster's files."""
        pid, self.pid = self.pid, None
        if pid is not None:
            try:
                os.kill(pid, signal.SIGINT)  # PostgreSQL's "fast" shutdown
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and _alive(pid):
                    time.sleep(0.05)
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.base, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of ours (pg_ctl daemonizes, so normally not ours) counts as gone.
    try:
        status = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return True
    return status != "Z"


def unavailable_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None."""
    if find_bin_dir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not found; set DYNASTORE_PG_BIN"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    return None


def skip_or_fail(reason: str) -> None:
    """Skip with `reason`, or fail when PostgreSQL tests are required (CI)."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"PostgreSQL tests are required ({REQUIRE_ENV}=1): {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One throwaway cluster for the test session (skips when PostgreSQL is missing)."""
    reason = unavailable_reason()
    if reason is not None:
        skip_or_fail(reason)
    cluster = PostgresCluster()
    try:
        yield cluster
    finally:
        cluster.stop()


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


def main() -> None:
    """Run a cluster until SIGINT/SIGTERM; ``--durable`` keeps fsync on (benchmarks)."""
    signal.signal(signal.SIGTERM, _exit)
    cluster = PostgresCluster(durable="--durable" in sys.argv[1:])
    try:
        print(cluster.url(), flush=True)
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
