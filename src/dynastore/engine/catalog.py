"""The catalog: table and index definitions, their status transitions and ARNs.

A table's definition is kept as the DynamoDB `TableDescription` it answers with (minus
the figures computed at read time), plus what the engine needs to find its data: the
storage space of the table and of each index. Definitions are stored in the catalog
space of the backend as JSON and cached per process.

Several processes sharing one store (design note). Every catalog change writes a new
random *version* token; a process's cached definitions all belong to one `Generation`,
the version they are known current at. A request re-reads the version before using the
cache (`refresh`), except item operations, which re-read it at most every
`Engine`'s ``catalog_check`` seconds: their reads may use a definition that much older
(DynamoDB's own table metadata changes propagate eventually too). Their writes cannot:
the write path reads the version inside its transaction, in the same round trip as the
old item, and on a mismatch takes the stored definition (`current`), so an item is never
written through a stale definition (into a deleted or re-created table's spaces, or
without a new index, stream or TTL). Tokens are random, not counted: a change rolled
back can never be mistaken for another process's later one.

Catalog changes never start from a stale definition either (a refreshed cache may still
miss a change another process commits before this one's transaction). An operation
changes a table through `Catalog.update` (or `latest`, then `save` or `remove`), which
reads the version inside the write transaction with the stored definition (one round
trip) and, when it is not the version the cached definition belongs to, applies the
change -- DynamoDB's checks included -- to the stored definition instead. So two
processes' concurrent changes of one table (a tag and TTL, say) both land, a second
UpdateTable meets the first one's UPDATING status, and DeleteTable drops the index
another process just added. `create` looks the name up in its transaction: of two
processes creating one table, exactly one succeeds. Writers are serialised
(storage/base.py), so nothing changes between that read and the commit. Checks that read
other tables (account quotas) use the cache, before the transaction. On a store of one
process the cache is the truth: a change reads nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from dynastore.engine import keys, spaces, ttl
from dynastore.errors import ResourceInUseException, ResourceNotFoundException, ValidationException
from dynastore.storage.base import Backend, ReadTx, WriteTx

CATALOG_SPACE = spaces.CATALOG
STREAM_SPACE = spaces.STREAMS
WORKER_SPACE = spaces.WORKERS
FIRST_TABLE_SPACE = spaces.FIRST_TABLE_SPACE
_VERSION_KEY = b"catalog-version"
VERSION = (CATALOG_SPACE, _VERSION_KEY)  # the catalog version's (space, key)
_TABLE_PREFIX = b"t/"


@dataclass(slots=True)
class Generation:
    """The catalog version (token) at which a process's cached definitions are current.

    Shared by every definition cached in one generation, so moving it forward after this
    process's own change revalidates them all at once."""

    version: bytes


@dataclass(frozen=True, slots=True)
class KeyAttr:
    """One key attribute: its name and scalar type (S, N or B)."""

    name: str
    type: str


@dataclass(frozen=True, slots=True)
class IndexDef:
    """A secondary index: where it lives and what it projects."""

    name: str
    kind: str  # "GSI" or "LSI"
    space: int
    pk: KeyAttr
    sk: KeyAttr | None
    projection: str  # ALL, KEYS_ONLY, INCLUDE
    non_key: tuple[str, ...] = ()


@dataclass(slots=True)
class TableDef:
    """A table: identity, keys, indexes and its DynamoDB description."""

    account: str
    region: str
    name: str
    space: int
    pk: KeyAttr
    sk: KeyAttr | None
    description: dict[str, Any]
    indexes: list[IndexDef] = field(default_factory=list)
    status_until: float = 0.0
    log_space: int = 0  # change log (streams, PITR, replication); 0: not kept
    ttl_space: int = 0  # expiry index; 0: TTL never enabled
    ttl_attribute: str | None = None  # set while TTL is enabled
    # Feature state that DescribeTable does not show (TTL status and change time, ...).
    features: dict[str, Any] = field(default_factory=dict)
    # Set on definitions cached by a catalog on a shared store; not stored.
    generation: Generation | None = field(default=None, compare=False, repr=False)

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.pk.name,) if self.sk is None else (self.pk.name, self.sk.name)

    @property
    def status(self) -> str:
        return str(self.description["TableStatus"])

    @property
    def arn(self) -> str:
        return str(self.description["TableArn"])

    def index(self, name: str) -> IndexDef | None:
        return next((i for i in self.indexes if i.name == name), None)

    def copy(self) -> TableDef:
        """A private copy to change (same generation), leaving the cached one untouched."""
        copied = TableDef.from_json(self.to_json())
        copied.generation = self.generation
        return copied

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "account": self.account,
                "region": self.region,
                "name": self.name,
                "space": self.space,
                "pk": [self.pk.name, self.pk.type],
                "sk": [self.sk.name, self.sk.type] if self.sk else None,
                "indexes": [
                    {
                        "name": i.name,
                        "kind": i.kind,
                        "space": i.space,
                        "pk": [i.pk.name, i.pk.type],
                        "sk": [i.sk.name, i.sk.type] if i.sk else None,
                        "projection": i.projection,
                        "non_key": list(i.non_key),
                    }
                    for i in self.indexes
                ],
                "status_until": self.status_until,
                "log_space": self.log_space,
                "ttl_space": self.ttl_space,
                "ttl_attribute": self.ttl_attribute,
                "features": self.features,
                "description": self.description,
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> TableDef:
        raw = orjson.loads(data)
        return cls(
            account=raw["account"],
            region=raw["region"],
            name=raw["name"],
            space=raw["space"],
            pk=KeyAttr(*raw["pk"]),
            sk=KeyAttr(*raw["sk"]) if raw["sk"] else None,
            description=raw["description"],
            indexes=[
                IndexDef(
                    name=i["name"],
                    kind=i["kind"],
                    space=i["space"],
                    pk=KeyAttr(*i["pk"]),
                    sk=KeyAttr(*i["sk"]) if i["sk"] else None,
                    projection=i["projection"],
                    non_key=tuple(i["non_key"]),
                )
                for i in raw["indexes"]
            ],
            status_until=raw["status_until"],
            log_space=raw.get("log_space", 0),
            ttl_space=raw.get("ttl_space", 0),
            ttl_attribute=raw.get("ttl_attribute"),
            features=raw.get("features") or {},
        )


def table_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def _catalog_key(account: str, region: str, name: str) -> bytes:
    return _TABLE_PREFIX + f"{account}/{region}/{name}".encode()


class Catalog:
    """Reads and writes table definitions, advancing status transitions lazily.

    `status_delay` is how long CREATING, UPDATING and DELETING last (0: tables are usable
    at once, as tests want; DynamoDB itself takes seconds to minutes).
    """

    def __init__(
        self,
        backend: Backend,
        status_delay: float,
        shared: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._backend = backend
        self._delay = status_delay
        self._shared = shared
        self._clock = clock
        self._cache: dict[tuple[str, str, str], TableDef | None] = {}
        self._version = self._read_version()
        self._generation = Generation(self._version) if shared else None
        self._checked = time.monotonic()  # when the version was last read

    # --- cache coherence across processes ---------------------------------------------

    def _read_version(self) -> bytes:
        return self._backend.get(*VERSION) or b""

    def refresh(self, within: float = 0.0) -> None:
        """Drop the cache if another process changed the catalog (shared stores only).

        `within`: no read when the version was read less than that many seconds ago
        (item operations; see the module docstring). A table missing from the cache is
        always read from the store (absent tables are not cached), so a new table is
        usable at once.
        """
        if not self._shared:
            return
        now = time.monotonic()
        if within and now - self._checked < within:
            return
        self._checked = now
        version = self._read_version()
        if version != self._version:
            self._reset(version)

    def _reset(self, version: bytes) -> None:
        self._cache.clear()
        self._version = version
        self._generation = Generation(version)

    # --- reads -------------------------------------------------------------------------

    def get(self, account: str, region: str, name: str) -> TableDef | None:
        """The table as it is now (transitions applied), or None."""
        key = (account, region, name)
        try:
            table = self._cache[key]
        except KeyError:
            raw = self._backend.get(CATALOG_SPACE, _catalog_key(account, region, name))
            table = TableDef.from_json(raw) if raw else None
            if table is not None:
                table.generation = self._generation
            if table is not None or not self._shared:
                self._cache[key] = table
        if table is not None and table.status_until and table.status_until <= self._clock():
            table = self._advance(table)
        return table

    def names(self, account: str, region: str) -> Iterator[str]:
        """Table names of one account and region, in order."""
        prefix = _catalog_key(account, region, "")
        with self._backend.read() as tx:
            found = [k for k, _ in tx.range(CATALOG_SPACE, prefix, keys.prefix_end(prefix))]
        for key in found:
            name = key[len(prefix) :].decode()
            if self.get(account, region, name) is not None:
                yield name

    def read(self, tx: ReadTx, account: str, region: str, name: str) -> TableDef | None:
        """The stored definition as `tx` sees it, bypassing the cache (workers)."""
        raw = tx.get(CATALOG_SPACE, _catalog_key(account, region, name))
        return TableDef.from_json(raw) if raw else None

    def all_tables(self) -> Iterator[TableDef]:
        """Every table of every account and region (background workers)."""
        with self._backend.read() as tx:
            found = [
                k for k, _ in tx.range(CATALOG_SPACE, _TABLE_PREFIX, keys.prefix_end(_TABLE_PREFIX))
            ]
        for key in found:
            account, region, name = key[len(_TABLE_PREFIX) :].decode().split("/", 2)
            table = self.get(account, region, name)
            if table is not None:
                yield table

    # --- writes ------------------------------------------------------------------------

    def allocate_space(self, tx: WriteTx) -> int:
        return FIRST_TABLE_SPACE + tx.next_sequence("space")

    def latest(self, tx: WriteTx, table: TableDef) -> TableDef | None:
        """The definition to change inside `tx` (design note): a copy of `table` when it is
        current (always on a store of one process: no read), else the stored one; an
        ended transition applied, None when the table is gone."""
        return self._settled(self._current(tx, table)[0])

    def update(
        self,
        table: TableDef,
        change: Callable[[WriteTx, TableDef], None],
        missing: Exception | None = None,
    ) -> TableDef:
        """Apply `change(tx, definition)` (DynamoDB's checks against the definition, its
        edits, and what goes with them in `tx`) to the table's current definition
        (`latest`) and store it, in a write transaction of its own; returns it.

        Raises `missing` (DescribeTable's ResourceNotFoundException by default) when the
        table is gone. The cached definition is left as it was until the change is stored.
        """
        try:
            with self._backend.write() as tx:
                found, version = self._current(tx, table)
                fresh = self._settled(found)
                if fresh is None:
                    raise missing or ResourceNotFoundException(
                        f"Requested resource not found: Table: {table.name} not found"
                    )
                change(tx, fresh)
                self._store(tx, fresh, version)
                return fresh
        except Exception:
            self.forget(table)  # cached by a transaction that did not commit
            raise

    def create(self, tx: WriteTx, table: TableDef) -> None:
        """Store a new table's definition; ResourceInUseException when another process
        sharing the store created one of that name since this one looked."""
        if self._generation is not None:
            found = tx.get(CATALOG_SPACE, _catalog_key(table.account, table.region, table.name))
            if found is not None:
                raise ResourceInUseException(f"Table already exists: {table.name}")
        self.save(tx, table)

    def save(self, tx: WriteTx, table: TableDef) -> None:
        """Store a definition inside the caller's transaction: one `latest` gave, `read`
        in `tx` or stored by `tx` (a cached one changed directly could overwrite another
        process's change: design note)."""
        self._store(tx, table, None)

    def remove(self, tx: WriteTx, table: TableDef) -> None:
        """Delete a definition (`latest`'s or `read` in `tx`) inside the caller's transaction."""
        self._remove(tx, table, None)

    def forget(self, table: TableDef) -> None:
        """Drop a cached entry (after a failed transaction)."""
        self._cache.pop((table.account, table.region, table.name), None)

    def _current(self, tx: WriteTx, table: TableDef) -> tuple[TableDef | None, bytes | None]:
        """`table`'s definition as stored now (a copy of `table` when that is current), and
        the catalog version as `tx` sees it (None when not read: one process, or `table`
        was itself read in `tx`)."""
        generation = table.generation
        if generation is None:
            return table.copy(), None
        key = _catalog_key(table.account, table.region, table.name)
        version, raw = tx.get_many([VERSION, (CATALOG_SPACE, key)])
        if (version or b"") == generation.version:
            return table.copy(), generation.version
        return (TableDef.from_json(raw) if raw else None), version or b""

    def _settled(self, table: TableDef | None) -> TableDef | None:
        """`table` with its timed transition applied when it has ended (None: deleted)."""
        if table is None or not table.status_until or table.status_until > self._clock():
            return table
        if table.status == "DELETING":
            return None
        _activate(table)
        return table

    def _store(self, tx: WriteTx, table: TableDef, version: bytes | None) -> None:
        tx.put(
            CATALOG_SPACE, _catalog_key(table.account, table.region, table.name), table.to_json()
        )
        self._bump(tx, version)
        table.generation = self._generation
        self._cache[(table.account, table.region, table.name)] = table

    def _remove(self, tx: WriteTx, table: TableDef, version: bytes | None) -> None:
        tx.delete(CATALOG_SPACE, _catalog_key(table.account, table.region, table.name))
        self._bump(tx, version)
        self._cache[(table.account, table.region, table.name)] = None

    def _bump(self, tx: WriteTx, before: bytes | None) -> None:
        """A new catalog version. When the cache was current before this change, it stays
        current after it (the caller updates the changed entry); otherwise it is dropped.
        `before`: the version as `tx` sees it, when already read."""
        version = os.urandom(8).hex().encode()
        if self._generation is None:  # one process: its cache is always current
            tx.put(CATALOG_SPACE, _VERSION_KEY, version)
            return
        if before is None:
            before = tx.get(*VERSION) or b""
        tx.put(CATALOG_SPACE, _VERSION_KEY, version)
        if before != self._version:
            self._reset(version)
        else:
            self._version = self._generation.version = version

    def transition_deadline(self) -> float:
        """When a transition started now ends (0 when transitions are instant)."""
        return self._clock() + self._delay if self._delay > 0 else 0.0

    def _advance(self, table: TableDef) -> TableDef | None:
        """Finish a timed transition: CREATING/UPDATING -> ACTIVE, DELETING -> gone. On the
        stored definition when another process changed it since it was cached."""
        with self._backend.write() as tx:
            found, version = self._current(tx, table)
            if found is None:
                self.forget(table)
                return None
            settled = self._settled(found)
            if settled is None:  # DELETING has ended
                drop_data(tx, found)
                self._remove(tx, found, version)
                return None
            self._store(tx, settled, version)
            return settled


def _activate(table: TableDef) -> None:
    """CREATING/UPDATING -> ACTIVE, and so its indexes, but for a backfilling one (ACTIVE
    when its backfill ends)."""
    table.description["TableStatus"] = "ACTIVE"
    for gsi in table.description.get("GlobalSecondaryIndexes", []):
        if gsi.get("IndexStatus") in ("CREATING", "UPDATING") and not gsi.get("Backfilling"):
            gsi["IndexStatus"] = "ACTIVE"
    table.status_until = 0.0


def current(tx: ReadTx, table: TableDef, version: bytes | None) -> TableDef:
    """`table`, or its stored definition when `version` (the catalog version as `tx` sees
    it) is not the one `table` was cached at; for the write path (module docstring).

    Raises ResourceNotFoundException when the table is gone (or being created or deleted)
    and ValidationException when its key schema changed under the request's key.
    """
    generation = table.generation
    if generation is None or generation.version == (version or b""):
        return table
    raw = tx.get(CATALOG_SPACE, _catalog_key(table.account, table.region, table.name))
    stored = TableDef.from_json(raw) if raw else None
    if stored is None or stored.status in ("CREATING", "DELETING"):
        raise ResourceNotFoundException("Requested resource not found")
    if (stored.pk, stored.sk) != (table.pk, table.sk):
        raise ValidationException("The provided key element does not match the schema")
    return stored


def drop_data(tx: WriteTx, table: TableDef) -> None:
    """Delete a table's items and index entries; its expiry index is retired to the TTL
    worker, which drops it in chunks."""
    tx.delete_range(table.space, b"", None)
    for index in table.indexes:
        tx.delete_range(index.space, b"", None)
    if table.ttl_space:
        ttl.retire(tx, table.ttl_space)
