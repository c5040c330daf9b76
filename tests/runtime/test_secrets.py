"""Secrets never show: not in a setting's repr, not in a start-up error, not in a log line.

The password holds ``/``, ``?`` and ``#``, which end the user-info part of a URL early: read
naively, part of it becomes a "port" that an error message quotes. It must work, raw or
percent-encoded, and never be printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pymysql
import pytest

from services.crud.settings import CrudSettings
from services.runtime.settings import ConfigError, load
from services.stripe_sync.settings import StripeSettings
from services.webhook_gateway.settings import GatewaySettings
from tests.conftest import DB_HOST, DB_NAME, NAMESPACE
from tests.servers import MARIADB

PASSWORD = "Zq9/Xk7?Wm3#Vp5"
PIECES = ("Zq9", "Xk7", "Wm3", "Vp5")
USER = f"{NAMESPACE}_pw"[:32]


def assert_hidden(text: str) -> None:
    for piece in PIECES:
        assert piece not in text, f"a piece of the password shows: {text[:300]}"


def test_settings_accept_the_raw_password_and_never_show_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TWOWAY_DATABASE_URL", f"mysql://app:{PASSWORD}@db:3306/app")
    monkeypatch.setenv("TWOWAY_AMQP_URL", f"amqp://app:{PASSWORD}@mq:5672/")
    settings = load(CrudSettings)
    assert_hidden(repr(settings) + str(settings) + settings.model_dump_json())
    assert settings.database_url.get_secret_value() == (
        "mysql://app:Zq9%2FXk7%3FWm3%23Vp5@db:3306/app"
    )


@pytest.mark.parametrize(
    "url",
    [
        f"mysql://app:{PASSWORD}@db:x/app",
        f"mysql://app:{PASSWORD}@/app",
        f"mysql://app:{PASSWORD}@db",
        f"oracle://app:{PASSWORD}@db/app",
        f"mysql://app:{PASSWORD}db/app",
    ],
)
def test_a_bad_database_url_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("TWOWAY_DATABASE_URL", url)
    with pytest.raises(ConfigError) as info:
        load(CrudSettings)
    assert "TWOWAY_DATABASE_URL" in str(info.value)
    assert_hidden(str(info.value))


def test_keys_and_webhook_secrets_stay_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", f"sk_test_{PASSWORD}")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", f"whsec_{PASSWORD},whsec_Zq9other")
    shown = repr(load(StripeSettings)) + repr(load(GatewaySettings))
    assert_hidden(shown)
    monkeypatch.setenv("STRIPE_RATE_LIMIT", "-1")
    with pytest.raises(ConfigError) as info:
        load(StripeSettings)
    assert_hidden(str(info.value))


@pytest.fixture
def database_user() -> Iterator[str]:
    """A MariaDB user whose password is :data:`PASSWORD`, allowed on the test database."""
    conn = pymysql.connect(host=DB_HOST, port=MARIADB.port, user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{USER}'@'%'")
            cur.execute(f"CREATE USER '{USER}'@'%%' IDENTIFIED BY %s", (PASSWORD,))
            cur.execute(f"GRANT ALL ON `{DB_NAME}`.* TO '{USER}'@'%'")
        yield USER
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{USER}'@'%'")
        conn.close()


def twoway(*argv: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TWOWAY_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.mariadb
def test_the_raw_password_connects_and_no_output_shows_it(
    test_database: str, database_user: str
) -> None:
    url = f"mysql://{database_user}:{PASSWORD}@{MARIADB.where()}/{DB_NAME}"
    done = twoway("migrate", database_url=url)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "schema up to date" in done.stdout  # it connected, with the raw password
    assert_hidden(done.stdout + done.stderr)

    refused = twoway("apikey", "list", database_url=url.replace("Vp5", "Vp6"))
    assert refused.returncode != 0
    assert "Access denied" in refused.stderr
    assert_hidden(refused.stdout + refused.stderr)
