"""The `dynastore` command: thin flag parsing that builds a Config and starts the server."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from dynastore import __version__
from dynastore.config import (
    AUTH_MODES,
    LOG_LEVELS,
    SYNC_MODES,
    ConfigError,
    load_config,
    number_type,
)


@click.group()
@click.version_option(__version__, prog_name="dynastore")
def main() -> None:
    """Dynastore: a self-hosted, DynamoDB-compatible database server."""


# Every flag but --config sets the Config field of its name; in --help order.
_FLAGS = {
    "--host": "Address to listen on.  [default: 127.0.0.1]",
    "--port": "Port to listen on.  [default: 8000]",
    "--data-dir": "Directory of the embedded SQLite store.  [default: ./dynastore-data]",
    "--database": "Storage URL, e.g. sqlite:///path/to/file.db.  [default: SQLite in --data-dir]",
    "--region": "Region used when a request names none.  [default: us-east-1]",
    "--account-id": "Account id of keys not in the credentials file.  [default: 000000000000]",
    "--credentials-file": "AWS credentials file (INI: aws_access_key_id, aws_secret_access_key, "
    "account_id).",
    "--auth": "verify: check SigV4 signatures against the credentials file; accept: any key "
    "(still parsed for region).  [default: verify with a credentials file, else accept]",
    "--log-level": "Log verbosity.  [default: info]",
    "--workers": "Server processes sharing the store.  [default: 1]",
    "--table-status-delay": "Seconds tables stay CREATING/UPDATING/DELETING.  [default: 0]",
    "--burst-seconds": "Unused provisioned capacity kept as burst credit, in seconds.  "
    "[default: 300]",
    "--item-collection-limit": "Bytes an item collection (one partition key of a table with "
    "local secondary indexes) may hold.  [default: 10737418240, DynamoDB's 10 GB]",
    "--table-limit": "Tables per account and region (DynamoDB's soft quota).  [default: 2500]",
    "--table-operation-limit": "Tables of an account and region CREATING, UPDATING or DELETING "
    "at once (half of them creations with secondary indexes).  [default: 500]",
    "--sync": "normal: durable across process crashes; full: also across power loss (fsync per "
    "commit).  [default: normal]",
    "--ttl-delay": "Seconds after an item's TTL before the sweeper deletes it.  [default: 10]",
    "--ttl-interval": "Seconds between two TTL sweeps.  [default: 1]",
    "--ttl-change-window": "Seconds before a table's TTL setting may change again.  "
    "[default: 3600]",
    "--stream-retention": "Seconds stream records stay readable.  [default: 86400]",
    "--stream-interval": "Seconds between two stream trimming / shard rollover steps.  "
    "[default: 10]",
    "--stream-shard-seconds": "Age at which an open stream shard closes and a child opens "
    "(0: never).  [default: 14400]",
    "--stream-shard-records": "Records at which an open stream shard closes (0: no limit).  "
    "[default: 0]",
    "--metrics-interval": "Seconds between two flushes of the DynamoDB CloudWatch metrics.  "
    "[default: 60]",
    "--alarm-interval": "Seconds between two evaluations of every CloudWatch alarm.  [default: 10]",
    "--autoscaling-interval": "Seconds between two evaluations of the Application Auto Scaling "
    "target tracking policies (one alarm period).  [default: 60]",
    "--replication-interval": "Seconds between two global-table replication steps when nothing "
    "is pending.  [default: 0.5]",
    "--lease-seconds": "With several processes on one store: how long a process that stopped "
    "renewing keeps a background job (TTL, streams, alarms, ...) before another takes it over.  "
    "[default: 10]",
    "--public-url": "This server's URL as SNS http subscribers reach it (SubscribeURL).  "
    "[default: http://HOST:PORT]",
}
# Flags whose type is not their setting's: paths and choices (numbers come from Config).
_FLAG_TYPES: dict[str, Any] = {
    "--data-dir": click.Path(path_type=Path, file_okay=False),
    "--credentials-file": click.Path(path_type=Path, dir_okay=False, exists=True),
    "--auth": click.Choice(AUTH_MODES),
    "--log-level": click.Choice(LOG_LEVELS),
    "--sync": click.Choice(SYNC_MODES),
}

_Command = TypeVar("_Command", bound=Callable[..., Any])


def _setting_options(command: _Command) -> _Command:
    """One option per `_FLAGS` entry, as a stack of ``@click.option`` in that order."""
    for flag, text in reversed(_FLAGS.items()):
        kind = _FLAG_TYPES.get(flag) or number_type(flag[2:].replace("-", "_"))
        command = click.option(flag, type=kind, help=text)(command)
    return command


@main.command()
@_setting_options
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Settings file.  [default: ./dynastore.toml when present]",
)
def serve(config_file: Path | None, **flags: Any) -> None:
    """Start the server. Settings come from flags, DYNASTORE_* variables and dynastore.toml."""
    try:
        config = load_config(flags, config_file=config_file)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    _configure_logging(config.log_level)
    import uvicorn

    from dynastore.app import check_store
    from dynastore.server.http import GuardedHttpToolsProtocol
    from dynastore.services.kms.keystore import MasterKeyError

    try:
        check_store(config)  # fail here, with a message, rather than in each worker process
    except (ConfigError, MasterKeyError) as exc:
        raise click.ClickException(str(exc)) from None

    # Each worker process builds its own app from the environment (uvicorn's factory).
    os.environ["DYNASTORE_RESOLVED_CONFIG"] = _encode(config_file, flags)
    uvicorn.run(
        "dynastore.cli:create_app",
        factory=True,
        host=config.host,
        port=config.port,
        workers=config.workers,
        log_level=config.log_level,
        access_log=False,
        # httptools with limits on request heads (size, time); bodies: server/http.py.
        http=GuardedHttpToolsProtocol,
        loop="uvloop",
        lifespan="on",
        server_header=False,
        proxy_headers=False,  # no proxy in front by default; saves a middleware per request
        date_header=False,
        timeout_keep_alive=60,
    )


def _configure_logging(level: str) -> None:
    """Log to stderr at `level` (once per process: --workers processes are started anew)."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def _encode(config_file: Path | None, flags: dict[str, Any]) -> str:
    import orjson

    data = {k: str(v) if isinstance(v, Path) else v for k, v in flags.items() if v is not None}
    if config_file is not None:
        data["__config_file"] = str(config_file)
    return orjson.dumps(data).decode()


def create_app() -> Any:
    """uvicorn factory: rebuild the Config in this process and wire the application."""
    import orjson

    from dynastore.app import build_app

    data = orjson.loads(os.environ.get("DYNASTORE_RESOLVED_CONFIG", "{}"))
    config_file = data.pop("__config_file", None)
    config = load_config(data, config_file=Path(config_file) if config_file else None)
    _configure_logging(config.log_level)
    return build_app(config)
