"""Wiring: Config -> storage -> engine -> operations -> dispatcher -> ASGI app."""

from __future__ import annotations

import logging
from pathlib import Path

from dynastore.config import Config, ConfigError
from dynastore.engine.engine import Engine, EngineSettings
from dynastore.engine.quotas import TableQuotas
from dynastore.ops.registry import dynamodb_service
from dynastore.ops.ttl import TtlOptions
from dynastore.server.http import AsgiApp
from dynastore.server.protocol import Dispatcher
from dynastore.server.sigv4 import SigV4Verifier, load_credentials_file
from dynastore.services.autoscaling import autoscaling_service
from dynastore.services.backup import backup_service
from dynastore.services.cloudwatch import cloudwatch_apis, cloudwatch_service
from dynastore.services.kms import KeyStore, MasterKey, kms_service, open_keystore
from dynastore.services.sns import sns_service
from dynastore.services.sns.delivery import Delivery
from dynastore.services.sns.handlers import SnsApi
from dynastore.services.sns.links import SnsLinks
from dynastore.services.sns.signing import Signer
from dynastore.services.streams import streams_service
from dynastore.services.sts import SessionStore, sts_service
from dynastore.storage.base import Backend
from dynastore.workers.alarms import AlarmSettings, AlarmWorker
from dynastore.workers.autoscaling import AutoscalingSettings, AutoscalingWorker
from dynastore.workers.backfill import BackfillWorker
from dynastore.workers.backups import BackupsWorker
from dynastore.workers.base import Worker
from dynastore.workers.leases import coordinate
from dynastore.workers.metrics import MetricsSettings, MetricsWorker
from dynastore.workers.replication import ReplicationSettings, ReplicationWorker
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
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from dynastore.storage.postgres import PostgresBackend
        except ImportError as exc:  # psycopg is an optional dependency
            raise ConfigError(
                f"a PostgreSQL database needs psycopg: pip install 'dynastore[postgres]' ({exc})"
            ) from None
        return PostgresBackend(url, group_commit=group_commit)
    raise ConfigError(f"unsupported database URL: {url}")


def check_store(config: Config) -> None:
    """Open the store once before serving: creates or migrates its schema, and raises
    `MasterKeyError` (with what to do) when the KMS master key is not the store's."""
    backend = open_backend(config)
    try:
        KeyStore(backend, MasterKey.load(config.data_dir)).check_master_key()
    finally:
        backend.close()


def build_engine(config: Config) -> Engine:
    settings = EngineSettings(
        status_delay=config.table_status_delay,
        # Other processes or hosts may write a PostgreSQL database at any time.
        shared_store=config.workers > 1 or not config.database_url.startswith("sqlite:"),
        burst_seconds=config.burst_seconds,
        collection_limit=config.item_collection_limit,
        table_quotas=TableQuotas(config.table_limit, config.table_operation_limit),
        lease_seconds=config.lease_seconds,
    )
    return Engine(open_backend(config, group_commit=True), settings)


def build_app(config: Config) -> AsgiApp:
    """One process's application: its own backend connection, engine and dispatcher."""
    engine = build_engine(config)
    credentials = (
        load_credentials_file(config.credentials_file) if config.credentials_file else None
    )
    verify = config.auth_mode == "verify"
    # KMS keys sealed by the data dir's master key; they also protect SSE tables' data keys.
    keystore = open_keystore(engine.backend, config.data_dir)
    keystore.listeners.append(engine.crypto.key_changed)
    engine.crypto.provider = keystore
    # AssumeRole's temporary keys, in the store, their secrets sealed like KMS's keys.
    sessions = SessionStore(engine.backend, keystore)
    verifier = SigV4Verifier(
        mode="verify" if verify else "accept",
        credentials=credentials,
        default_account=config.account_id,
        default_region=config.region,
        sessions=sessions,
    )
    services = [
        dynamodb_service(engine, ttl_options=TtlOptions(change_window=config.ttl_change_window)),
        streams_service(engine),
        sts_service(sessions, cross_account=not verify),
        autoscaling_service(engine),
        backup_service(engine),
    ]
    services.append(kms_service(keystore, engine.backend))
    delivery = Delivery()
    signer = Signer(engine.backend, keystore)  # SNS's message signing key, sealed like KMS's
    sns = SnsApi(engine.backend, engine.clock, delivery, public_url(config), signer)
    metrics_api, alarms_api = cloudwatch_apis(engine.backend, engine.clock, sns.publish_internal)
    services += [cloudwatch_service(metrics_api, alarms_api), sns_service(sns)]
    dispatcher = Dispatcher(
        services, verifier, config.region, [SnsLinks(sns)], config.max_body_bytes
    )
    workers = build_workers(config, engine)
    alarm_settings = AlarmSettings(interval=config.alarm_interval)
    workers.append(AlarmWorker(engine.backend, engine.clock, alarms_api, alarm_settings))
    if engine.leases is not None:  # one process at a time runs each job
        # ... and the live processes share each table's capacity (engine/throttle.py).
        throttle = engine.throttle
        workers.insert(0, coordinate(workers, engine.leases, lambda n: throttle.set_share(1 / n)))

    def start() -> None:
        for worker in workers:
            worker.start()

    def stop() -> None:
        for worker in workers:
            worker.stop()
        delivery.stop()
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
    metrics = MetricsSettings(interval=config.metrics_interval)
    return [
        TtlWorker(engine, ttl),
        StreamsWorker(engine, streams),
        MetricsWorker(engine, metrics),
        BackfillWorker(engine),  # resumes index backfills left by a restart or another process
        BackupsWorker(engine),  # resumes backups and restores, drops retired spaces
        AutoscalingWorker(engine, AutoscalingSettings(interval=config.autoscaling_interval)),
        ReplicationWorker(engine, ReplicationSettings(interval=config.replication_interval)),
    ]


def public_url(config: Config) -> str:
    """This server's URL as SNS subscribers reach it (SubscribeURL, UnsubscribeURL)."""
    if config.public_url:
        return config.public_url
    host = "127.0.0.1" if config.host in ("0.0.0.0", "::", "") else config.host
    return f"http://{host}:{config.port}"
