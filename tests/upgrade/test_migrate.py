"""``twoway migrate`` itself, on MariaDB and on SQLite: the lock, ``--check``, ``--sql``, the
model check, a failed migration run again, and the services' start-up check."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.runtime.schema import runner
from services.runtime.schema.history import SchemaApp
from tests.upgrade.conftest import (
    SCHEMAS,
    UPGRADE_DB,
    UPGRADE_URL,
    build_schema,
    connect,
    fresh_database,
    twoway,
)

REFERENCE_DB = f"{UPGRADE_DB}_ref"


class Database:
    """One empty database of a dialect, and how to read its schema and run SQL on it."""

    def __init__(self, dialect: str, tmp_path: Path) -> None:
        self.dialect = dialect
        if dialect == "mysql":
            fresh_database()
            self.url = UPGRADE_URL
        else:
            self.path = tmp_path / "twoway.db"
            self.url = f"sqlite://{self.path}"

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if self.dialect == "mysql":
            conn = connect()
            try:
                with conn.cursor() as cur:
                    cur.execute(sql, params)
                    return list(cur.fetchall())
            finally:
                conn.close()
        db = sqlite3.connect(self.path)
        try:
            rows = db.execute(sql.replace("%s", "?"), params).fetchall()
            db.commit()
            return rows
        finally:
            db.close()

    def build(self, release: str) -> None:
        if self.dialect == "mysql":
            conn = connect()
            try:
                build_schema(conn, release)
            finally:
                conn.close()
        else:
            db = sqlite3.connect(self.path)
            db.executescript((SCHEMAS / f"{release}.sqlite.sql").read_text())
            db.close()

    def tables(self) -> set[str]:
        if self.dialect == "mysql":
            return {next(iter(r.values())) for r in self.execute("SHOW TABLES")}
        rows = self.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r[0] for r in rows}


@pytest.fixture(params=["mysql", "sqlite"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "mysql":
        request.applymarker(pytest.mark.mariadb)
    yield Database(str(request.param), tmp_path)


def migrate(database: Database, *args: str) -> subprocess.CompletedProcess[str]:
    return twoway("migrate", *args, url=database.url)


def test_three_at_once_one_applies_and_all_succeed(database: Database) -> None:
    env = {"TWOWAY_DATABASE_URL": database.url}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "services.cli", "migrate"],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outs = [(run.wait(timeout=180), *run.communicate()) for run in runs]
    assert [code for code, _, _ in outs] == [0, 0, 0], [err for _, _, err in outs]
    appliers = [out for _, out, _ in outs if "applied twoway.0001_initial" in out]
    assert len(appliers) == 1, [out for _, out, _ in outs]
    idle = [out for _, out, _ in outs if out.strip() == "schema up to date (0 applied now)"]
    assert len(idle) == 2


def test_check_lists_what_is_pending_then_passes(database: Database) -> None:
    pending = migrate(database, "--check")
    assert pending.returncode == 1
    assert "pending: twoway.0001_initial" in pending.stdout
    assert "pending: stripe.0002_field_versions" in pending.stdout
    assert migrate(database).returncode == 0
    done = migrate(database, "--check")
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip() == "schema up to date"


def test_sql_prints_what_it_would_run_and_applies_nothing(database: Database) -> None:
    printed = migrate(database, "--sql")
    assert printed.returncode == 0, printed.stderr
    assert "-- twoway.0001_initial" in printed.stdout
    assert re.search(r"CREATE TABLE [`\"]customers[`\"]", printed.stdout)
    assert "customers" not in database.tables()
    assert migrate(database, "--check").returncode == 1


def test_a_failed_migration_says_which_and_finishes_when_run_again(database: Database) -> None:
    """MySQL keeps the half of a migration that ran (SQLite rolls it back): running it again
    finishes it."""
    database.build("5f874e2")
    # A row the data step cannot read makes the core history's second migration fail after
    # its schema changes ran.
    database.execute(
        "INSERT INTO outbox (event_id, routing_key, entity, entity_id, version, payload, "
        "created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            "00000000-0000-4000-8000-0000000000ff",
            "customer.created",
            "customer",
            "x",
            1,
            "{not json",
            "2026-11-20 10:00:00",
        ),
    )
    failed = migrate(database)
    assert failed.returncode == 1
    (line,) = failed.stderr.strip().splitlines()
    assert line.startswith("twoway migrate: migration twoway.0002_earlier_releases failed: ")
    # MySQL's DDL is not transactional: half of it ran. SQLite's is: none of it did.
    assert ("products" in database.tables()) == (database.dialect == "mysql")
    database.execute("DELETE FROM outbox WHERE payload = %s", ("{not json",))
    again = migrate(database)
    assert again.returncode == 0, again.stderr
    assert "applied twoway.0002_earlier_releases" in again.stdout
    assert migrate(database, "--check").returncode == 0


def _normalized_mysql(database: str) -> dict[str, list[str]]:
    conn = connect(database)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW TABLES")
            tables = sorted(next(iter(r.values())) for r in cur.fetchall())
            shape = {}
            for table in tables:
                cur.execute(f"SHOW CREATE TABLE `{table}`")
                body = cur.fetchone()["Create Table"]
                lines = body.splitlines()[1:-1]
                shape[table] = sorted(line.strip().rstrip(",") for line in lines)
            return shape
    finally:
        conn.close()


@pytest.mark.mariadb
@pytest.mark.parametrize("release", ["5f874e2", "3bc598a"])
def test_an_upgraded_schema_is_the_schema_of_a_new_install(release: str) -> None:
    fresh_database(REFERENCE_DB)
    reference = f"mysql://root:@127.0.0.1:3306/{REFERENCE_DB}"
    assert twoway("migrate", url=reference).returncode == 0
    fresh_database()
    conn = connect()
    try:
        build_schema(conn, release)
    finally:
        conn.close()
    assert twoway("migrate").returncode == 0
    assert _normalized_mysql(UPGRADE_DB) == _normalized_mysql(REFERENCE_DB)


def test_the_models_have_their_migrations() -> None:
    """What CI runs: a model changed without a migration fails it."""
    checked = subprocess.run(
        [sys.executable, "-m", "services.cli", "migrate", "--check-models"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def test_the_model_check_finds_a_field_without_migration() -> None:
    drifted = SchemaApp("tests.upgrade.drifted.migrations", ("tests.upgrade.drifted.models",))
    assert await runner.model_changes([drifted]) == ["drifted: Add field nickname to Gadget"]


def _start(command: str, database: Database) -> subprocess.CompletedProcess[str]:
    return twoway(
        command,
        url=database.url,
        STRIPE_API_KEY="sk_test_not_used",
        TWOWAY_METRICS_PORT="0",
    )


def test_services_refuse_to_start_on_a_database_behind_their_code(database: Database) -> None:
    refused = _start("crud", database)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "twoway: the database lacks migration twoway.0001_initial: run `twoway migrate`"
    )
    assert migrate(database).returncode == 0
    database.execute(
        "DELETE FROM tortoise_migrations WHERE app = %s AND name = %s",
        ("stripe", "0002_field_versions"),
    )
    worker = _start("stripe-sync", database)
    assert worker.returncode == 2
    assert worker.stderr.strip() == (
        "twoway: the database lacks migration stripe.0002_field_versions: run `twoway migrate`"
    )


@pytest.mark.mariadb
def test_code_runs_on_a_newer_schema_after_an_additive_migration(tmp_path: Path) -> None:
    """A newer release added a column and recorded its migration: this code still starts."""
    database = Database("mysql", tmp_path)
    assert migrate(database).returncode == 0
    database.execute("ALTER TABLE api_keys ADD COLUMN note VARCHAR(100) NULL")
    database.execute(
        "INSERT INTO tortoise_migrations (app, name, applied_at) VALUES (%s, %s, NOW())",
        ("twoway", "9999_from_a_newer_release"),
    )
    made = twoway("apikey", "create", "--scope", "read", url=database.url)
    assert made.returncode == 0, made.stderr
    listed = twoway("apikey", "list", url=database.url)
    assert listed.returncode == 0 and "read" in listed.stdout, listed.stderr
