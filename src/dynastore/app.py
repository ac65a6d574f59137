"""Wiring: Config -> storage -> engine -> operations -> dispatcher -> ASGI app."""

from __future__ import annotations

import logging
from pathlib import Path

from dynastore.config import Config, ConfigError
from dynastore.engine.engine import Engine, EngineSettings
from dynastore.ops.registry import dynamodb_service
from dynastore.server.http import AsgiApp
from dynastore.server.protocol import Dispatcher
from dynastore.server.sigv4 import SigV4Verifier, load_credentials_file
from dynastore.storage.base import Backend

log = logging.getLogger("dynastore")


def open_backend(config: Config) -> Backend:
    """The storage backend named by the configuration's database URL."""
    url = config.database_url
    if url.startswith("sqlite:///"):
        from dynastore.storage.sqlite import SqliteBackend

        path = Path(url[len("sqlite:///") :])
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteBackend(str(path), synchronous=config.sync.upper())
    raise ConfigError(f"unsupported database URL: {url}")


def build_engine(config: Config) -> Engine:
    settings = EngineSettings(
        status_delay=config.table_status_delay, shared_store=config.workers > 1
    )
    return Engine(open_backend(config), settings)


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
    dispatcher = Dispatcher([dynamodb_service(engine)], verifier, config.region)
    return AsgiApp(dispatcher, config.max_body_bytes, on_shutdown=engine.close)
