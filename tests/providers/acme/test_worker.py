"""The Acme worker on the real database and broker: its account binding (``acme_accounts``,
made by its own migration) and a customer synced end to end."""

from __future__ import annotations

import httpx
import pytest
from tortoise import connections

from services.crud.settings import CrudSettings
from tests.providers.acme.accounts import OtherAccount, bound_accounts
from tests.providers.acme.conftest import (
    SECRET,
    TOKEN,
    contact_of,
    running_worker,
    worker_settings,
)
from tests.providers.acme.main import main
from tests.providers.acme.server import RunningAcme, running_acme
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]


async def test_the_worker_binds_the_deployment_to_its_account_and_refuses_another(
    settings: CrudSettings, unbound: None, broker: object, acme: RunningAcme
) -> None:
    ours = worker_settings(settings, acme)
    async with running_worker(ours) as task:
        await eventually(bound_accounts, what="the account bound")
        assert not task.done()
    assert await bound_accounts() == ["acct_acme_test"]
    async with running_acme(TOKEN, SECRET, account_id="acct_other") as other:
        with pytest.raises(OtherAccount) as refused:
            await main(worker_settings(settings, other), own_database=False)
    assert "acct_other" in str(refused.value) and "\n" not in str(refused.value)


async def test_a_customer_made_in_the_app_is_created_changed_and_deleted_at_acme(
    settings: CrudSettings, unbound: None, crud: httpx.AsyncClient, acme: RunningAcme
) -> None:
    async with running_worker(worker_settings(settings, acme)):
        body = {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+1 555 0100"}
        customer = (await crud.post("/customers", json=body)).json()
        contact = await contact_of(acme, customer["id"])
        assert (contact.name, contact.email, contact.phone) == (
            "Ada Lovelace",
            "ada@example.com",
            "+1 555 0100",
        )
        await crud.patch(f"/customers/{customer['id']}", json={"name": "Ada King"})
        await eventually(lambda: bool(contact.name == "Ada King"), what="the new name at Acme")
        await crud.delete(f"/customers/{customer['id']}", headers={"If-Match": "*"})
        await eventually(lambda: bool(contact.deleted), what="the contact deleted")
    assert acme.acme.store.api_writes == 3


async def test_migrate_applied_acmes_own_migration(db: None) -> None:
    _, rows = await connections.get("default").execute_query(
        "SELECT name FROM tortoise_migrations WHERE app = 'acme'"
    )
    assert [r["name"] for r in rows] == ["0001_acme_accounts"]
