"""The Engine: DynamoDB semantics over one storage backend, shared by every operation.

One Engine per server process. It owns the catalog, the parsed-expression cache and the
clock; operations receive it explicitly (no global state).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dynastore.engine.catalog import Catalog, TableDef
from dynastore.engine.crypto import EncryptedBackend, TableCrypto
from dynastore.engine.expr import ExpressionCache
from dynastore.engine.insights import Insights
from dynastore.engine.item_collections import DEFAULT_LIMIT as DEFAULT_COLLECTION_LIMIT
from dynastore.engine.leases import DEFAULT_SECONDS as DEFAULT_LEASE_SECONDS
from dynastore.engine.leases import Leases
from dynastore.engine.metrics import MetricsRecorder
from dynastore.engine.quotas import TableQuotas
from dynastore.engine.throttle import DEFAULT_BURST_SECONDS, Throttle
from dynastore.errors import ResourceNotFoundException
from dynastore.storage.base import Backend


@dataclass(frozen=True)
class EngineSettings:
    """What the engine needs from the configuration."""

    status_delay: float = 0.0
    shared_store: bool = False
    burst_seconds: float = DEFAULT_BURST_SECONDS  # unused provisioned capacity kept as credit
    collection_limit: int = DEFAULT_COLLECTION_LIMIT  # bytes per item collection (LSI tables)
    table_quotas: TableQuotas = field(default_factory=TableQuotas)  # per account and region
    lease_seconds: float = DEFAULT_LEASE_SECONDS  # background jobs' leases (shared stores)
    # Shared stores: item operations re-read the catalog version at most this often (their
    # writes check it in their transaction; engine/catalog.py).
    catalog_check: float = 0.1


class Engine:
    """Tables, items and expressions over a Backend."""

    def __init__(
        self,
        backend: Backend,
        settings: EngineSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # KMS-encrypted tables are encrypted at the storage boundary (engine/crypto.py).
        self.crypto = TableCrypto(backend)
        self.backend: Backend = EncryptedBackend(backend, self.crypto)
        self.settings = settings
        self.clock = clock
        self.catalog = Catalog(self.backend, settings.status_delay, settings.shared_store, clock)
        self.expressions = ExpressionCache()
        # Capacity buckets, CloudWatch counters and Contributor Insights: per process.
        self.insights = Insights(clock)
        self.throttle = Throttle(clock, self.insights, settings.burst_seconds)
        self.metrics = MetricsRecorder(clock)  # AWS/DynamoDB metrics, flushed by a worker
        # Processes sharing a store run each background job in one of them.
        self.leases = (
            Leases(self.backend, seconds=settings.lease_seconds) if settings.shared_store else None
        )

    def begin_request(self, item: bool = False) -> None:
        """Per-request hook: see other processes' catalog changes (an `item` operation's
        reads: within `EngineSettings.catalog_check` seconds)."""
        self.catalog.refresh(self.settings.catalog_check if item else 0.0)

    def active_table(self, account: str, region: str, name: str) -> TableDef:
        """A table that item operations may use, or DynamoDB's ResourceNotFoundException."""
        table = self.catalog.get(account, region, name)
        if table is None or table.status in ("CREATING", "DELETING"):
            raise ResourceNotFoundException("Requested resource not found")
        return table

    def close(self) -> None:
        self.backend.close()
