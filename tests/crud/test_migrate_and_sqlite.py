"""`twoway migrate` on both dialects, and the whole CRUD path on the embedded SQLite default."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from shared.events import parse_event
from tests.conftest import Broker
from tests.waiting import eventually


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
def test_migrate_on_an_up_to_date_database_does_nothing(test_database: str, tmp_path: Path) -> None:
    result = run_migrate(test_database, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "schema up to date (0 applied now)"


def test_migrate_is_idempotent_on_sqlite(tmp_path: Path) -> None:
    first = run_migrate("sqlite://twoway.db", tmp_path)
    assert first.returncode == 0, first.stderr
    assert "applied twoway.0001_initial" in first.stdout
    again = run_migrate("sqlite://twoway.db", tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "schema up to date (0 applied now)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.rabbitmq
async def test_twoway_crud_on_the_sqlite_default(
    tmp_path: Path, test_vhost: str, broker: Broker
) -> None:
    """`twoway migrate` then `twoway crud` with no database configured: an SQLite file."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("TWOWAY_DATABASE_URL", "SQL_ENGINE_URI")
    }
    env["TWOWAY_AMQP_URL"] = test_vhost
    env["TWOWAY_METRICS_PORT"] = "0"
    assert (
        subprocess.run(
            [sys.executable, "-m", "services.cli", "migrate"],
            env=env,
            cwd=tmp_path,
            timeout=120,
            capture_output=True,
        ).returncode
        == 0
    )
    key = subprocess.run(
        [sys.executable, "-m", "services.cli", "apikey", "create", "--scope", "write"],
        env=env,
        cwd=tmp_path,
        timeout=120,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    port = free_port()
    tap = await broker.tap()
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "crud", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}
        ) as client:

            async def answering() -> bool:
                with contextlib.suppress(httpx.HTTPError):
                    return (await client.get("/healthz")).status_code == 200
                return False

            await eventually(answering, timeout=10, interval=0.1, what="crud answering /healthz")
            created = await client.post("/customers", json={"name": "S", "email": "s@x.io"})
            assert created.status_code == 201, created.text
            cid = created.json()["id"]
            patched = await client.patch(f"/customers/{cid}", json={"name": "T"})
            assert patched.json()["version"] == 2
            dup = await client.post("/customers", json={"name": "S", "email": "s@x.io"})
            assert dup.status_code == 409
            messages = await tap.collect(2)
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert (tmp_path / "twoway.db").exists()
    events = [parse_event(m.body) for m in messages]
    assert [(e.type, e.version) for e in events] == [
        ("customer.created", 1),
        ("customer.updated", 2),
    ]
