"""API keys: every CRUD route but /healthz, /readyz and /openapi.json needs one, with the
right scope."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx
import pytest

from services.crud.apikeys.models import ApiKey
from services.crud.apikeys.service import Scope, create_key, digest, revoke_key
from services.crud.app import Roles
from services.crud.settings import CrudSettings
from tests.conftest import Broker, api_client, crud_with
from tests.crud.test_api import ADA, outbox_count

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer tw_not_a_key_we_made"},
        {"Authorization": "Bearer " + "x" * 10_000},
    ],
    ids=["none", "empty", "basic", "unknown", "huge"],
)
async def test_no_or_bad_key_is_401_on_every_route(
    crud: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    created = (await crud.post("/customers", json=ADA)).json()
    url = f"/customers/{created['id']}"
    async with httpx.AsyncClient(base_url=str(crud.base_url), headers=headers) as anonymous:
        for method, path, body in [
            ("GET", "/customers", None),
            ("POST", "/customers", {**ADA, "email": "b@example.com"}),
            ("GET", url, None),
            ("PATCH", url, {"name": "Mallory"}),
            ("DELETE", url, None),
            ("GET", "/nothing-here", None),
        ]:
            response = await anonymous.request(method, path, json=body)
            await assert_error(response, 401, "unauthorized")
            assert response.headers["www-authenticate"].startswith("Bearer")
        assert (await anonymous.get("/healthz")).status_code == 200
        assert (await anonymous.get("/readyz")).status_code == 200
        assert (await anonymous.get("/openapi.json")).status_code == 200
    assert (await crud.get(url)).json() == created
    assert await outbox_count() == 1


async def test_a_read_key_reads_but_never_writes(crud: httpx.AsyncClient) -> None:
    created = (await crud.post("/customers", json=ADA)).json()
    url = f"/customers/{created['id']}"
    async with api_client(str(crud.base_url), Scope.READ) as reader:
        assert (await reader.get(url)).json() == created
        assert (await reader.get("/customers")).status_code == 200
        assert (await reader.get("/openapi.json")).status_code == 200
        for method, path, body in [
            ("POST", "/customers", {**ADA, "email": "b@example.com"}),
            ("PATCH", url, {"name": "Mallory"}),
            ("DELETE", url, None),
        ]:
            response = await reader.request(method, path, json=body, headers={"If-Match": "*"})
            await assert_error(response, 403, "insufficient_scope")
    assert (await crud.get(url)).json() == created
    assert await outbox_count() == 1


async def test_a_revoked_key_stops_working(
    settings: CrudSettings, db: None, broker: Broker
) -> None:
    uncached = settings.model_copy(update={"api_key_cache_s": 0})
    async with crud_with(uncached, Roles(own_database=False)) as crud:
        row, key = await create_key(Scope.WRITE, "to revoke")
        assert (await crud.get("/customers", headers=bearer(key))).status_code == 200
        assert await revoke_key(row.id)
        assert not await revoke_key(row.id)  # once
        await assert_error(await crud.get("/customers", headers=bearer(key)), 401, "unauthorized")


async def test_a_remembered_key_is_revoked_within_the_cache_time(
    settings: CrudSettings, db: None, broker: Broker
) -> None:
    cached = settings.model_copy(update={"api_key_cache_s": 0.5})
    async with crud_with(cached, Roles(own_database=False)) as crud:
        row, key = await create_key(Scope.WRITE)
        assert (await crud.get("/customers", headers=bearer(key))).status_code == 200
        await revoke_key(row.id)
        await asyncio.sleep(0.6)  # scenario: the key cache's 0.5 s pass
        await assert_error(await crud.get("/customers", headers=bearer(key)), 401, "unauthorized")


async def test_only_a_hash_is_stored(crud: httpx.AsyncClient) -> None:
    row, key = await create_key(Scope.READ, "audit")
    stored = await ApiKey.get(id=row.id)
    assert key.startswith("tw_") and len(key) > 40
    assert stored.key_hash == digest(key) and key not in stored.key_hash
    assert stored.prefix == key[:8]


def twoway(settings: CrudSettings, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TWOWAY_DATABASE_URL": settings.database_url.get_secret_value()}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "apikey", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_apikey_command(crud: httpx.AsyncClient, settings: CrudSettings) -> None:
    made = await asyncio.to_thread(twoway, settings, "create", "--scope", "read", "--name", "bi")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("tw_") and "not shown again" in made.stderr
    async with httpx.AsyncClient(base_url=str(crud.base_url), headers=bearer(key)) as client:
        assert (await client.get("/customers")).status_code == 200

    listed = await asyncio.to_thread(twoway, settings, "list")
    (line,) = [line for line in listed.stdout.splitlines() if line.endswith(" bi")]
    assert key not in listed.stdout and key[:8] in line and " read " in line
    key_id = line.split()[0]

    revoked = await asyncio.to_thread(twoway, settings, "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    again = await asyncio.to_thread(twoway, settings, "revoke", key_id)
    assert again.returncode == 1
    assert "revoked" in (await asyncio.to_thread(twoway, settings, "list")).stdout
    bad_scope = await asyncio.to_thread(twoway, settings, "create", "--scope", "admin")
    assert bad_scope.returncode == 2
