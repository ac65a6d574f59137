"""Configuration: one frozen Config built from defaults, dynastore.toml, DYNASTORE_* and flags.

Precedence, lowest to highest: built-in defaults, the TOML file, environment variables,
command-line flags. The result is passed down explicitly; nothing reads it globally.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

AUTH_MODES = ("verify", "accept")
LOG_LEVELS = ("debug", "info", "warning", "error")
SYNC_MODES = ("normal", "full")


class ConfigError(ValueError):
    """A setting has a value Dynastore cannot use."""


@dataclass(frozen=True)
class Config:
    """Every server setting. Build with `load_config`; never mutate."""

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = field(default_factory=lambda: Path("dynastore-data"))
    database: str | None = None
    region: str = "us-east-1"
    account_id: str = "000000000000"
    credentials_file: Path | None = None
    auth: str | None = None
    log_level: str = "info"
    workers: int = 1
    table_status_delay: float = 0.0
    burst_seconds: float = 300.0
    item_collection_limit: int = 10 * 1024**3
    table_limit: int = 2500
    table_operation_limit: int = 500
    sync: str = "normal"
    ttl_delay: float = 10.0
    ttl_interval: float = 1.0
    ttl_change_window: float = 3600.0
    stream_retention: float = 86400.0
    stream_interval: float = 10.0
    stream_shard_seconds: float = 14400.0
    stream_shard_records: int = 0
    metrics_interval: float = 60.0
    alarm_interval: float = 10.0
    autoscaling_interval: float = 60.0
    replication_interval: float = 0.5
    lease_seconds: float = 10.0
    public_url: str | None = None
    max_body_bytes: int = 16 * 1024 * 1024 + 64 * 1024

    @property
    def auth_mode(self) -> str:
        """`verify` when a credentials file is given (unless set), otherwise `accept`."""
        if self.auth:
            return self.auth
        return "verify" if self.credentials_file else "accept"

    @property
    def database_url(self) -> str:
        """The storage URL; SQLite in the data directory by default."""
        return self.database or f"sqlite:///{self.data_dir / 'dynastore.db'}"


_PATH_FIELDS = {"data_dir", "credentials_file"}
_INT_FIELDS = {
    "port",
    "workers",
    "max_body_bytes",
    "stream_shard_records",
    "item_collection_limit",
    "table_limit",
    "table_operation_limit",
}
_FLOAT_FIELDS = {
    "table_status_delay",
    "burst_seconds",
    "ttl_delay",
    "ttl_interval",
    "ttl_change_window",
    "stream_retention",
    "stream_interval",
    "stream_shard_seconds",
    "metrics_interval",
    "alarm_interval",
    "autoscaling_interval",
    "replication_interval",
    "lease_seconds",
}


def number_type(name: str) -> type[int] | type[float] | None:
    """`int` or `float` for a numeric setting (a Config field name), else None."""
    if name in _INT_FIELDS:
        return int
    if name in _FLOAT_FIELDS:
        return float
    return None


def _coerce(name: str, value: Any) -> Any:
    if value is None:
        return None
    try:
        if name in _PATH_FIELDS:
            return Path(value)
        number = number_type(name)
        if number is not None:
            return number(value)
    except (TypeError, ValueError):
        raise ConfigError(f"invalid value for {name}: {value!r}") from None
    return str(value)


def _check(config: Config) -> Config:
    if config.auth is not None and config.auth not in AUTH_MODES:
        raise ConfigError(f"auth must be one of {', '.join(AUTH_MODES)}")
    if config.log_level not in LOG_LEVELS:
        raise ConfigError(f"log_level must be one of {', '.join(LOG_LEVELS)}")
    if config.sync not in SYNC_MODES:
        raise ConfigError(f"sync must be one of {', '.join(SYNC_MODES)}")
    if not 0 < config.port < 65536:
        raise ConfigError("port must be between 1 and 65535")
    if config.workers < 1:
        raise ConfigError("workers must be at least 1")
    if config.table_status_delay < 0:
        raise ConfigError("table_status_delay must not be negative")
    if config.burst_seconds < 1:
        raise ConfigError("burst_seconds must be at least 1")
    if config.item_collection_limit < 1:
        raise ConfigError("item_collection_limit must be positive")
    if config.table_limit < 1 or config.table_operation_limit < 2:
        raise ConfigError("table_limit must be at least 1, table_operation_limit at least 2")
    _check_background(config)
    if len(config.account_id) != 12 or not config.account_id.isdigit():
        raise ConfigError("account_id must be 12 digits")
    return config


def _check_background(config: Config) -> None:
    """The TTL and streams settings."""
    for name in ("ttl_delay", "ttl_change_window", "stream_shard_seconds", "stream_shard_records"):
        if getattr(config, name) < 0:
            raise ConfigError(f"{name} must not be negative")
    for name in (
        "ttl_interval",
        "stream_interval",
        "stream_retention",
        "metrics_interval",
        "alarm_interval",
        "autoscaling_interval",
        "replication_interval",
        "lease_seconds",
    ):
        if getattr(config, name) <= 0:
            raise ConfigError(f"{name} must be positive")


def load_config(
    overrides: Mapping[str, Any] | None = None,
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Merge the TOML file, DYNASTORE_* variables and explicit overrides (flags) into a Config.

    `config_file` defaults to ./dynastore.toml when that exists; keys use the field names
    (`data_dir`, `table_status_delay`, ... — dashes are accepted too).
    """
    env = os.environ if environ is None else environ
    names = {f.name for f in fields(Config)}
    values: dict[str, Any] = {}
    path = config_file or (Path(env["DYNASTORE_CONFIG"]) if "DYNASTORE_CONFIG" in env else None)
    if path is None and Path("dynastore.toml").is_file():
        path = Path("dynastore.toml")
    if path is not None:
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from None
        for key, value in data.items():
            name = key.replace("-", "_")
            if name not in names:
                raise ConfigError(f"unknown setting {key!r} in {path}")
            values[name] = value
    for name in names:
        env_value = env.get(f"DYNASTORE_{name.upper()}")
        if env_value is not None:
            values[name] = env_value
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = value
    coerced = {name: _coerce(name, value) for name, value in values.items()}
    return _check(replace(Config(), **coerced))
