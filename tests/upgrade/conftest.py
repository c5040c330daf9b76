"""A database made by an earlier twoway, upgraded by ``twoway migrate``, under the full stack.

``old_database`` (parametrized with the release's commit) builds that release's schema from the
captured DDL, fills it as that release did (``fill``), runs ``twoway migrate`` on it, and keeps
every row as it was before and right after. ``settings`` and ``db`` point the services (the e2e
``system``) at it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
import pytest

from services.crud.settings import CrudSettings
from services.migrate import all_model_modules
from services.runtime.db import close_db, init_db
from tests.conftest import DB_HOST, NAMESPACE, TEST_RETRY_DELAYS_MS
from tests.e2e.conftest import (  # noqa: F401  (the services, on the upgraded database)
    sync_settings,
    system,
)
from tests.fakes.stripe_fake import FakeStripe
from tests.upgrade import fill

SCHEMAS = Path(__file__).parent / "schemas"
UPGRADE_DB = f"{NAMESPACE}_upgrade"
UPGRADE_URL = f"mysql://root:@{DB_HOST}:3306/{UPGRADE_DB}"

Rows = dict[str, list[dict[str, Any]]]


def connect(database: str | None = UPGRADE_DB) -> pymysql.Connection[Any]:
    return pymysql.connect(
        host=DB_HOST,
        user="root",
        password="",
        database=database,
        cursorclass=pymysql.cursors.DictCursor,
        # No transaction left open: its metadata locks would make the upgrade's ALTERs wait.
        autocommit=True,
    )


def fresh_database(name: str = UPGRADE_DB) -> None:
    conn = connect(None)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
            cur.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    finally:
        conn.close()


def build_schema(conn: pymysql.Connection[Any], release: str) -> None:
    """The schema ``twoway migrate`` made at ``release``, from its captured DDL."""
    text = (SCHEMAS / f"{release}.mysql.sql").read_text()
    statements = [s.strip() for s in text.split(";\n") if "CREATE TABLE" in s]
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement[statement.index("CREATE TABLE") :])
    conn.commit()


def dump(conn: pymysql.Connection[Any], tables: list[str] | None = None) -> Rows:
    """Every row of ``tables`` (default: all but the migration record), in key order."""
    with conn.cursor() as cur:
        if tables is None:
            cur.execute("SHOW TABLES")
            tables = sorted(
                t
                for (t,) in (tuple(r.values()) for r in cur.fetchall())
                if t != "tortoise_migrations"
            )
        rows: Rows = {}
        for table in tables:
            cur.execute(f"SELECT * FROM `{table}`")
            found = list(cur.fetchall())
            rows[table] = sorted(found, key=lambda r: [str(v) for v in r.values()])
    return rows


def twoway(*args: str, url: str = UPGRADE_URL, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env={**os.environ, "TWOWAY_DATABASE_URL": url, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


@dataclass
class Upgrade:
    release: str
    filled: fill.Filled
    before: Rows
    after: Rows
    migrate: subprocess.CompletedProcess[str]


@pytest.fixture
async def old_database(request: pytest.FixtureRequest, fake_stripe: FakeStripe) -> Upgrade:
    release = str(request.param)
    fresh_database()
    conn = connect()
    try:
        build_schema(conn, release)
        async with fake_stripe.client() as client:
            ids = await fill.stripe_side(client)
            if release == "5f874e2":
                filled = fill.fill_5f874e2(conn, ids)
            else:
                product = await client.v1.products.create_async(
                    params={
                        "name": "Widget",
                        "description": "A fine widget",
                        "metadata": {"twoway_id": fill.ID["p1"]},
                    }
                )
                filled = fill.fill_3bc598a(conn, ids, str(product.id))
        before = dump(conn)
        result = twoway("migrate")
        after = dump(conn, list(before))
    finally:
        conn.close()
    return Upgrade(release, filled, before, after, result)


@pytest.fixture
def settings(old_database: Upgrade, test_vhost: str) -> CrudSettings:
    return CrudSettings(
        database_url=UPGRADE_URL,
        amqp_url=test_vhost,
        retry_delays_ms=TEST_RETRY_DELAYS_MS,
        relay_poll_interval_s=0.2,
        metrics_port=0,
    )


@pytest.fixture
async def db(settings: CrudSettings) -> AsyncIterator[None]:
    """The upgraded database as it is: nothing emptied."""
    await init_db(settings.database_url.get_secret_value(), all_model_modules())
    try:
        yield
    finally:
        await close_db()
