"""The PostgreSQL backend's SQL stays inside what CockroachDB and YugabyteDB accept.

The subset is documented in src/dynastore/storage/postgres.py; this test collects every
statement the backend's modules (postgres.py, pgpipe.py) define and greps their source
for constructs outside it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("psycopg")

from dynastore.storage import pgpipe, postgres  # needs psycopg

MODULES = (postgres, pgpipe)

# PostgreSQL-only or distributed-hostile constructs, matched case-insensitively in the
# module's source (comments and docstring included: they name them only to forbid them,
# so the docstring's list is excluded below).
FORBIDDEN = {
    "advisory locks": r"pg_advisory|pg_try_advisory",
    "LISTEN/NOTIFY": r"\b(?:UN)?LISTEN\s+\w|\bNOTIFY\s+\w|pg_notify",
    "extensions": r"CREATE\s+EXTENSION",
    "table locks": r"LOCK\s+TABLE",
    "row-lock clauses": r"FOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE)\b|SKIP\s+LOCKED|NOWAIT",
    "database sequences": r"nextval|CREATE\s+SEQUENCE|\bSERIAL\b|BIGSERIAL|IDENTITY",
    "system columns and catalogs": (
        r"\bctid\b|\bxmin\b|\bxmax\b|\boid\b|pg_catalog|information_schema"
    ),
    "PostgreSQL-only functions": r"\bpg_\w+\(|txid_|\bnow\(\)|clock_timestamp|to_regclass|::\w+",
    "temporary or unlogged tables": r"CREATE\s+(?:TEMP|TEMPORARY|UNLOGGED)\b",
    "maintenance and bulk commands": r"\bVACUUM\b|\bANALYZE\b|\bCLUSTER\b|\bTRUNCATE\b|\bCOPY\s",
    "server-side cursors, PREPARE/EXECUTE SQL": r"DECLARE\s+\w+\s+CURSOR|\bPREPARE\s+\w+\s+AS",
    "PL/pgSQL and triggers": r"\bDO\s+\$\$|CREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|TRIGGER)",
    "session settings": r"\bSET\s+(?:SESSION|LOCAL|search_path|statement_timeout)",
}

_CONDITIONS = r"\w+ (?:=|>=|<) \$\d(?: AND \w+ (?:=|>=|<) \$\d)*"
ALLOWED_STATEMENT = re.compile(
    r"^(?:"
    r"SELECT 1"
    r"|SELECT (?:v|k, v|count\(\*\), coalesce\(sum\(octet_length\(v\)\), 0\)"
    r"|coalesce\(max\(version\), 0\)) FROM dynastore_\w+"
    rf"(?: WHERE {_CONDITIONS})?(?: ORDER BY k(?: DESC)? LIMIT \$\d)?"
    r"|INSERT INTO dynastore_\w+ \([\w, ]+\) VALUES \([$\d, ]+\)"
    r"(?: ON CONFLICT \([\w, ]+\) DO UPDATE SET [\w.=+ ]+(?: RETURNING \w+)?)?"
    r"|UPDATE dynastore_lock SET epoch = epoch \+ 1 WHERE id = 1 RETURNING epoch"
    rf"|DELETE FROM dynastore_kv WHERE {_CONDITIONS}"
    r"|BEGIN ISOLATION LEVEL (?:READ COMMITTED|REPEATABLE READ|SERIALIZABLE)(?: READ ONLY)?"
    r"|COMMIT|ROLLBACK|SAVEPOINT \w+|ROLLBACK TO SAVEPOINT \w+|RELEASE SAVEPOINT \w+"
    r"|CREATE TABLE (?:IF NOT EXISTS )?dynastore_\w+ \("
    r"(?:\w+ (?:BIGINT|INTEGER|TEXT|BYTEA|DOUBLE PRECISION)(?: NOT NULL| PRIMARY KEY)*, )+"
    r"(?:PRIMARY KEY \([\w, ]+\)|\w+ (?:BIGINT|INTEGER|TEXT|BYTEA|DOUBLE PRECISION) NOT NULL)\)"
    r")"
)


def _statements() -> list[str]:
    found: list[str] = []
    values = [value for module in MODULES for value in vars(module).values()]
    for value in values:
        if isinstance(value, pgpipe.Statement):
            found.append(value.sql.decode())
        elif isinstance(value, dict):
            found += [v.sql.decode() for v in value.values() if isinstance(v, pgpipe.Statement)]
        elif isinstance(value, str) and value.startswith("CREATE TABLE"):
            found.append(value)
    for migration in postgres.MIGRATIONS:
        found += migration
    return found


def test_every_statement_is_in_the_subset() -> None:
    statements = _statements()
    assert len(statements) > 20
    outside = [sql for sql in statements if not ALLOWED_STATEMENT.fullmatch(sql)]
    assert outside == []


def _code() -> str:
    """The modules without their docstrings (which list the forbidden constructs)."""
    code = []
    for module in MODULES:
        source = Path(str(module.__file__)).read_text()
        code.append(source[source.index('"""', 3) + 3 :])
    return "\n".join(code)


@pytest.mark.parametrize("name", sorted(FORBIDDEN))
def test_no_forbidden_construct(name: str) -> None:
    hits = re.findall(FORBIDDEN[name], _code(), flags=re.IGNORECASE)
    assert hits == [], f"{name}: {hits}"


def test_only_sql_through_the_statement_table() -> None:
    # Ad-hoc SQL would escape the checks above: raw statements come only from MIGRATIONS
    # and _CREATE_MIGRATIONS.
    calls = re.findall(r"send_sql\(([^)]*)\)", _code())
    assert sorted(set(calls)) == ["_CREATE_MIGRATIONS", "self, sql: str", "statement"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT pg_advisory_xact_lock(1)",
        "LISTEN dynastore",
        "SELECT v FROM dynastore_kv WHERE space = $1 FOR UPDATE",
        "LOCK TABLE dynastore_kv",
        "SELECT nextval('s')",
        "CREATE EXTENSION pgcrypto",
        "SELECT $1::bytea",
    ],
)
def test_the_checks_catch_what_they_forbid(sql: str) -> None:
    assert any(re.search(p, sql, flags=re.IGNORECASE) for p in FORBIDDEN.values())
    assert not ALLOWED_STATEMENT.fullmatch(sql)
