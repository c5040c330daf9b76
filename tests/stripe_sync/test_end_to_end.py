"""Through the API: a customer written to the CRUD service reaches Stripe; its status shows."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fakes.stripe_fake import FakeStripe, Fault
from tests.stripe_sync.conftest import Workers, by_local_id, stripe_customers
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq, pytest.mark.localstripe]


async def sync_of(client: httpx.AsyncClient, customer_id: str) -> dict[str, Any]:
    response = await client.get(f"/customers/{customer_id}")
    assert response.status_code == 200
    return dict(response.json()["sync"]["stripe"])


async def listed(client: httpx.AsyncClient, status: str) -> list[str]:
    response = await client.get("/customers", params={"sync_status": status})
    assert response.status_code == 200
    return [c["id"] for c in response.json()["data"]]


async def test_customer_lifecycle_reaches_stripe_and_status_follows(
    crud_consumers: httpx.AsyncClient, workers: Workers, fake_stripe: FakeStripe
) -> None:
    client = crud_consumers
    workers.start()
    created = await client.post(
        "/customers", json={"name": "Ada", "email": "ada@example.com", "metadata": {"k": "v"}}
    )
    assert created.status_code == 201
    customer_id = created.json()["id"]
    assert created.json()["sync"]["stripe"]["status"] == "pending"

    async def status_is(wanted: str, version: int) -> dict[str, Any] | None:
        sync = await sync_of(client, customer_id)
        ok = sync["status"] == wanted and (sync["synced_version"] or 0) >= version
        return sync if ok else None

    sync = await eventually(lambda: status_is("synced", 1))
    (stripe_customer,) = by_local_id()[customer_id]
    assert sync["external_id"] == stripe_customer.id and sync["last_error"] is None
    assert sync["updated_at"] is not None
    assert await listed(client, "synced") == [customer_id]

    fake_stripe.faults.append(
        Fault(status=402, body={"error": {"type": "card_error", "message": "declined"}})
    )
    patched = await client.patch(f"/customers/{customer_id}", json={"name": "Ada L."})
    assert patched.json()["sync"]["stripe"]["status"] == "pending"

    async def failed() -> dict[str, Any] | None:
        sync = await sync_of(client, customer_id)
        return sync if sync["status"] == "failed" else None

    sync = await eventually(failed)
    assert "declined" in sync["last_error"] and sync["synced_version"] == 1
    assert await listed(client, "failed") == [customer_id]
    assert await listed(client, "synced") == []

    # The next change goes through and heals the status.
    await client.patch(f"/customers/{customer_id}", json={"name": "Ada Lovelace"})
    await eventually(lambda: status_is("synced", 3))
    assert stripe_customers()[stripe_customer.id].name == "Ada Lovelace"
    assert await listed(client, "failed") == []

    deleted = await client.delete(f"/customers/{customer_id}", headers={"If-Match": "*"})
    assert deleted.status_code == 204
    await eventually(lambda: stripe_customers() == {})
