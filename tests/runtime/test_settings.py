"""Configuration: read from the environment once, bad values refused with one clear line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from services.crud.settings import CrudSettings
from services.runtime.settings import ConfigError, load, normalize_database_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("mysql://u:p@db:3306/app", "mysql://u:p@db:3306/app"),
        ("mysql+pymysql://u:p@db:3306/app", "mysql://u:p@db:3306/app"),
        ("mysql+aiomysql://u:p@db/app", "mysql://u:p@db/app"),
        ("mariadb://u:p@db/app", "mysql://u:p@db/app"),
        ("sqlite://twoway.db", "sqlite://twoway.db"),
        ("sqlite:///var/lib/twoway.db", "sqlite:///var/lib/twoway.db"),
    ],
)
def test_database_urls_in_every_accepted_form(raw: str, expected: str) -> None:
    assert normalize_database_url(raw) == expected


@pytest.mark.parametrize(
    "raw", ["postgres://u@h/db", "not a url", "mysql://u:p@/nodb", "mysql://u:p@h:99999/db"]
)
def test_bad_database_urls_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        normalize_database_url(raw)


def test_seed_design_variable_name_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWOWAY_DATABASE_URL", raising=False)
    monkeypatch.setenv("SQL_ENGINE_URI", "mysql+pymysql://app:secret@db:3306/app")
    settings = load(CrudSettings)
    assert settings.database_url.get_secret_value() == "mysql://app:secret@db:3306/app"
    assert "secret" not in repr(settings)


def test_a_bad_value_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWOWAY_AMQP_URL", "http://nope")
    monkeypatch.setenv("TWOWAY_RELAY_BATCH_SIZE", "lots")
    with pytest.raises(ConfigError) as info:
        load(CrudSettings)
    message = str(info.value)
    assert "\n" not in message
    assert "TWOWAY_AMQP_URL" in message and "TWOWAY_RELAY_BATCH_SIZE" in message


@pytest.mark.parametrize(
    "url",
    ["amqp://u:s3cret@h:99999/", "amqp://u:s3cret@h/?heartbeat=often", "amqp://u:s3cret@h:x/"],
)
def test_an_amqp_url_the_publisher_cannot_read_is_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("TWOWAY_AMQP_URL", url)
    with pytest.raises(ConfigError) as info:
        load(CrudSettings)
    assert "TWOWAY_AMQP_URL" in str(info.value)
    assert "s3cret" not in str(info.value)


def test_the_cli_exits_with_one_line_on_bad_config() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "migrate"],
        env={"TWOWAY_DATABASE_URL": "oracle://x", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "TWOWAY_DATABASE_URL" in result.stderr
