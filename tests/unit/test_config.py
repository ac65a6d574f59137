"""Configuration precedence and the command line's documentation."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from dynastore.cli import main, serve
from dynastore.config import Config, ConfigError, load_config


def test_defaults() -> None:
    config = load_config({}, environ={})
    assert config == Config()
    assert config.auth_mode == "accept"
    assert config.database_url == "sqlite:///dynastore-data/dynastore.db"


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    toml = tmp_path / "dynastore.toml"
    toml.write_text('port = 9000\nregion = "eu-west-1"\ndata-dir = "/srv/d"\nworkers = 3\n')
    env = {"DYNASTORE_PORT": "9100", "DYNASTORE_ACCOUNT_ID": "123456789012"}
    config = load_config({"port": 9200}, config_file=toml, environ=env)
    assert config.port == 9200
    assert config.region == "eu-west-1"
    assert config.account_id == "123456789012"
    assert config.data_dir == Path("/srv/d")
    assert config.workers == 3


def test_credentials_file_turns_on_verification(tmp_path: Path) -> None:
    config = load_config({"credentials_file": tmp_path / "creds"}, environ={})
    assert config.auth_mode == "verify"
    assert load_config(
        {"credentials_file": tmp_path / "creds", "auth": "accept"}, environ={}
    ).auth_mode == ("accept")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"port": 0}, "port"),
        ({"workers": 0}, "workers"),
        ({"account_id": "12"}, "account_id"),
        ({"auth": "maybe"}, "auth"),
        ({"log_level": "loud"}, "log_level"),
        ({"table_status_delay": -1}, "table_status_delay"),
        ({"port": "eighty"}, "port"),
    ],
)
def test_bad_settings_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(overrides, environ={})


def test_unknown_file_setting_is_refused(tmp_path: Path) -> None:
    toml = tmp_path / "dynastore.toml"
    toml.write_text("colour = 'blue'\n")
    with pytest.raises(ConfigError, match="colour"):
        load_config({}, config_file=toml, environ={})


def test_every_serve_flag_is_documented() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for param in serve.params:
        assert isinstance(param, click.Option)
        assert param.help, f"{param.name} has no help text"
        assert param.opts[0] in result.output
    for flag in ("--host", "--port", "--data-dir", "--database", "--region", "--account-id",
                 "--credentials-file", "--auth", "--log-level", "--workers"):  # fmt: skip
        assert flag in result.output


def test_every_serve_flag_is_in_the_readme() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for param in serve.params:
        assert isinstance(param, click.Option)
        if param.name != "config_file":
            assert f"`{param.opts[0]}`" in readme, f"{param.opts[0]} missing from README"


def test_bad_flag_value_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["serve", "--port", "0"])
    assert result.exit_code == 2
    assert "port must be between" in result.output
