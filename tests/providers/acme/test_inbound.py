"""A person's edit at Acme reaches the app through the gateway, and goes no further: the
worker writes nothing back (loop freedom)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from services.crud.app import Roles
from services.crud.settings import CrudSettings
from services.runtime.settings import ProviderSettings
from services.webhook_gateway.settings import GatewaySettings
from shared.kinds import Provider
from tests.conftest import TEST_RETRY_DELAYS_MS, crud_with
from tests.providers.acme.conftest import SECRET, contact_of, running_worker, worker_settings
from tests.providers.acme.names import ACME
from tests.providers.acme.server import RunningAcme
from tests.providers.acme.settings import AcmeSettings
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]


@pytest.fixture
def gateway_settings(test_vhost: str) -> GatewaySettings:
    return GatewaySettings(
        amqp_url=test_vhost, retry_delays_ms=TEST_RETRY_DELAYS_MS, metrics_port=0, providers=(ACME,)
    )


@pytest.fixture
async def crud_both(
    settings: CrudSettings, unbound: None, broker: object
) -> AsyncIterator[httpx.AsyncClient]:
    """API, relay, the inbound consumer and the sync results' (the shadow is confirmed)."""
    roles = Roles(own_database=False, inbound=True, sync_results=True)
    async with crud_with(settings.model_copy(update={"providers": (ACME,)}), roles) as client:
        yield client


@pytest.fixture
def gateway_providers(test_vhost: str) -> dict[Provider, ProviderSettings]:
    return {ACME: AcmeSettings(amqp_url=test_vhost, acme_webhook_secret=SECRET)}


async def test_a_persons_edit_at_acme_reaches_the_app_and_is_not_sent_back(
    settings: CrudSettings,
    crud_both: httpx.AsyncClient,
    gateway: httpx.AsyncClient,
    acme: RunningAcme,
) -> None:
    acme.acme.webhook_url = f"{str(gateway.base_url).rstrip('/')}/webhooks/acme"
    async with running_worker(worker_settings(settings, acme)):
        body = {"name": "Ada Lovelace", "email": "ada@example.com"}
        customer = (await crud_both.post("/customers", json=body)).json()
        contact = await contact_of(acme, customer["id"])
        async with httpx.AsyncClient(base_url=f"{acme.url}/_admin") as admin:
            await admin.patch(f"/contacts/{contact.id}", json={"phone": "+1 555 0199"})

        async def phone() -> object:
            found = (await crud_both.get(f"/customers/{customer['id']}")).json()
            acme_side = found["sync"]["acme"]
            return (
                found["phone"] == "+1 555 0199" and acme_side["synced_version"] == found["version"]
            )

        # Once the worker has seen the version the edit made, it has decided what to send.
        await eventually(phone, what="the phone in the app, its version seen by the worker")
    assert acme.acme.store.api_writes == 1
