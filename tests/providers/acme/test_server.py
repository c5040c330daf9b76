"""The Acme test service itself: auth, the contacts API, the change log, signed webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import serve
from tests.providers.acme.server import RunningAcme, running_acme
from tests.providers.acme.webhooks import AcmeWebhooks
from tests.waiting import eventually

TOKEN = "acme-test-token"
SECRET = "acme-webhook-secret"


@pytest.fixture
async def acme() -> AsyncIterator[RunningAcme]:
    async with running_acme(TOKEN, SECRET) as running:
        yield running


@pytest.fixture
async def api(acme: RunningAcme) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=f"{acme.url}/v1", headers=headers) as client:
        yield client


async def test_a_request_without_the_token_is_refused(acme: RunningAcme) -> None:
    async with httpx.AsyncClient(base_url=acme.url) as client:
        assert (await client.get("/v1/account")).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await client.get("/v1/contacts", headers=wrong)).status_code == 401


async def test_contacts_are_created_read_changed_and_deleted(api: httpx.AsyncClient) -> None:
    created = await api.post(
        "/contacts", json={"name": "Ada", "email": "ada@example.com", "twoway_id": "c1"}
    )
    assert created.status_code == 201
    contact = created.json()
    assert contact["changed_by"] == "twoway" and contact["updated_at"].endswith("Z")
    again = await api.post("/contacts", json={"name": "Ada", "twoway_id": "c1"})
    assert again.status_code == 409 and again.json()["error"]["id"] == contact["id"]
    patched = (await api.patch(f"/contacts/{contact['id']}", json={"phone": "+1 555"})).json()
    assert patched["phone"] == "+1 555" and patched["updated_at"] > contact["updated_at"]
    assert (await api.post("/contacts", json={"email": "nope"})).status_code == 422
    assert (await api.delete(f"/contacts/{contact['id']}")).status_code == 204
    assert (await api.get(f"/contacts/{contact['id']}")).status_code == 404
    assert (await api.delete(f"/contacts/{contact['id']}")).status_code == 404


async def test_the_list_and_the_change_log_page_by_cursor(
    acme: RunningAcme, api: httpx.AsyncClient
) -> None:
    ids = [(await api.post("/contacts", json={"name": f"n{i}"})).json()["id"] for i in range(5)]
    await api.delete(f"/contacts/{ids[0]}")
    first = (await api.get("/contacts", params={"limit": 2})).json()
    rest = (await api.get("/contacts", params={"after": first["next"], "limit": 10})).json()
    assert [c["id"] for c in first["data"] + rest["data"]] == ids[1:]
    assert rest["next"] is None
    log = (await api.get("/changes", params={"after": "0", "limit": 4})).json()
    assert [e["type"] for e in log["data"]] == ["upsert"] * 4 and log["next"] == "4"
    tail = (await api.get("/changes", params={"after": log["next"]})).json()
    assert [e["type"] for e in tail["data"]] == ["upsert", "delete"]
    assert (await api.get("/changes/latest")).json()["data"]["cursor"] == "6"
    async with httpx.AsyncClient(base_url=f"{acme.url}/_admin") as admin:
        await admin.post("/changes/trim", json={"through": 3})
        assert (await admin.get("/writes")).json()["writes"] == 6
    assert (await api.get("/changes", params={"after": "1"})).status_code == 410
    assert len((await api.get("/changes", params={"after": "3"})).json()["data"]) == 3


async def test_a_drift_changes_the_contact_and_nothing_else(
    acme: RunningAcme, api: httpx.AsyncClient
) -> None:
    async with httpx.AsyncClient(base_url=f"{acme.url}/_admin") as admin:
        made = (await admin.post("/contacts", json={"name": "Ada", "notify": False})).json()
        await admin.post(f"/contacts/{made['id']}/drift", json={"name": "Grace"})
        assert (await admin.get(f"/contacts/{made['id']}")).json()["name"] == "Grace"
        assert (await admin.get("/writes")).json()["writes"] == 0
    log = (await api.get("/changes")).json()["data"]
    assert [e["object"]["name"] for e in log] == ["Ada"]
    assert log[0]["object"]["changed_by"] == "person"


async def test_webhooks_are_signed_and_delivered_again_after_a_failure(
    acme: RunningAcme, api: httpx.AsyncClient
) -> None:
    received: list[dict[str, Any]] = []
    answers = [503]
    verifier = AcmeWebhooks(SecretStr(SECRET), api_user="twoway")

    async def hook(request: Request) -> Response:
        body = await request.body()
        if answers:
            return Response(status_code=answers.pop())
        received.append(dict(verifier.verify(body, request.headers, {})))
        return Response(status_code=200)

    receiver = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    async with serve(receiver) as url, httpx.AsyncClient(base_url=f"{acme.url}/_admin") as admin:
        await admin.post("/config", json={"webhook_url": f"{url}/hook"})
        await api.post("/contacts", json={"name": "Ada"})
        made = (await admin.post("/contacts", json={"name": "Bob"})).json()
        await admin.patch(f"/contacts/{made['id']}", json={"name": "Bo", "notify": False})
        await admin.delete(f"/contacts/{made['id']}")
        await eventually(lambda: len(received) == 3, what="three webhooks")
    assert [e["type"] for e in received] == ["contact.upsert", "contact.upsert", "contact.delete"]
    assert [e["object"]["changed_by"] for e in received] == ["twoway", "person", "person"]
    assert [e["id"] for e in received] == ["evt_1", "evt_2", "evt_4"]
