"""Wiring: Config -> storage -> engine -> operations -> dispatcher -> ASGI app."""

from __future__ import annotations

import logging
from pathlib import Path

from dynastore.config import Config, ConfigError
from dynastore.engine.engine import Engine, EngineSettings
from dynastore.ops.registry import dynamodb_service
from dynastore.ops.ttl import TtlOptions
from dynastore.server.http import AsgiApp
from dynastore.server.protocol import Dispatcher
from dynastore.server.sigv4 import SigV4Verifier, load_credentials_file
from dynastore.services.streams import streams_service
from dynastore.services.sts import sts_service
from dynastore.storage.base import Backend
from dynastore.workers.base import Worker
from dynastore.workers.streams import StreamSettings, StreamsWorker
from dynastore.workers.ttl import TtlSettings, TtlWorker

log = logging.getLogger("dynastore")


def open_backend(config: Config, *, group_commit: bool = False) -> Backend:
    """The storage backend named by the configuration's database URL.

    `group_commit`: writes wait for `Backend.flush` (the server's request loop only).
    """
    url = config.database_url
    if url.startswith("sqlite:///"):
        from dynastore.storage.sqlite import SqliteBackend

        path = Path(url[len("sqlite:///") :])
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteBackend(str(path), synchronous=config.sync.upper(), group_commit=group_commit)
    raise ConfigError(f"unsupported database URL: {url}")


def build_engine(config: Config) -> Engine:
    settings = EngineSettings(
        status_delay=config.table_status_delay,
        shared_store=config.workers > 1,
        burst_seconds=config.burst_seconds,
    )
    return Engine(open_backend(config, group_commit=True), settings)


def build_app(config: Config) -> AsgiApp:
    """One process's application: its own backend connection, engine and dispatcher."""
    engine = build_engine(config)
    credentials = (
        load_credentials_file(config.credentials_file) if config.credentials_file else None
    )
    verifier = SigV4Verifier(
        mode="verify" if config.auth_mode == "verify" else "accept",
        credentials=credentials,
        default_account=config.account_id,
        default_region=config.region,
    )
    services = [
        dynamodb_service(engine, ttl_options=TtlOptions(change_window=config.ttl_change_window)),
        streams_service(engine),
        sts_service(),
    ]
    dispatcher = Dispatcher(services, verifier, config.region)
    workers = build_workers(config, engine)

    def start() -> None:
        for worker in workers:
            worker.start()

    def stop() -> None:
        for worker in workers:
            worker.stop()
        engine.close()

    return AsgiApp(
        dispatcher,
        config.max_body_bytes,
        on_startup=start,
        on_shutdown=stop,
        commit=engine.backend,
    )


def build_workers(config: Config, engine: Engine) -> list[Worker]:
    """The background loops of one process (they run on its event loop)."""
    ttl = TtlSettings(delay=config.ttl_delay, interval=config.ttl_interval)
    streams = StreamSettings(
        retention=config.stream_retention,
        interval=config.stream_interval,
        shard_seconds=config.stream_shard_seconds,
        shard_records=config.stream_shard_records,
    )
    return [TtlWorker(engine, ttl), StreamsWorker(engine, streams)]
