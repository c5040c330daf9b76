"""`twoway migrate` on both dialects, and the whole CRUD path on the embedded SQLite default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from services.crud.app import create_app
from services.crud.settings import CrudSettings
from shared.events import parse_event
from tests.conftest import Broker, serve


def run_migrate(database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TWOWAY_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "migrate"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.mariadb
def test_migrate_is_idempotent_on_mariadb(test_database: str, tmp_path: Path) -> None:
    for _ in range(2):
        result = run_migrate(test_database, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "customers" in result.stdout and "outbox" in result.stdout


def test_migrate_is_idempotent_on_sqlite(tmp_path: Path) -> None:
    for _ in range(2):
        result = run_migrate("sqlite://twoway.db", tmp_path)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "twoway.db").exists()


@pytest.mark.rabbitmq
async def test_crud_and_relay_on_sqlite(
    tmp_path: Path, settings: CrudSettings, broker: Broker
) -> None:
    url = f"sqlite://{tmp_path / 'app.db'}"
    assert run_migrate(url, tmp_path).returncode == 0
    sqlite_settings = settings.model_copy(
        update={"database_url": CrudSettings(database_url=url).database_url}
    )
    tap = await broker.tap()
    async with (
        serve(create_app(sqlite_settings)) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        created = await client.post("/customers", json={"name": "S", "email": "s@x.io"})
        assert created.status_code == 201
        cid = created.json()["id"]
        assert (await client.patch(f"/customers/{cid}", json={"name": "T"})).json()["version"] == 2
        dup = await client.post("/customers", json={"name": "S", "email": "s@x.io"})
        assert dup.status_code == 409
        messages = await tap.collect(2)
    events = [parse_event(m.body) for m in messages]
    assert [(e.type, e.version) for e in events] == [
        ("customer.created", 1),
        ("customer.updated", 2),
    ]
