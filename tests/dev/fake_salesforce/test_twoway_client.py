"""twoway's own Salesforce client (services/salesforce_sync) against the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from services.runtime.errors import Permanent, Retryable
from services.salesforce_sync.salesforce.contacts import SalesforceContacts
from shared.entities.customer import CustomerData
from tests.fakes.salesforce_client import client_of
from tests.fakes.salesforce_fake import SalesforceFake


@pytest.fixture
async def contacts(salesforce_fake: SalesforceFake) -> AsyncIterator[SalesforceContacts]:
    async with client_of(salesforce_fake) as client:
        yield SalesforceContacts(client)


def customer(local_id: str = "cus_1", name: str = "Ada King Lovelace") -> CustomerData:
    now = datetime.now(UTC)
    return CustomerData(id=local_id, version=1, created_at=now, updated_at=now, name=name,
                        email="ada@example.com", phone=None, metadata={"k": "v"})  # fmt: skip


async def test_create_upsert_update_delete(
    contacts: SalesforceContacts, salesforce_fake: SalesforceFake
) -> None:
    contact_id = await contacts.create(customer(), key="k1")
    found = await salesforce_fake.contact_by_local_id("cus_1")
    assert found is not None and found["Id"] == contact_id
    assert (found["FirstName"], found["LastName"], found["Email"]) == (
        "Ada King",
        "Lovelace",
        "ada@example.com",
    )
    assert found["LastModifiedById"] == salesforce_fake.integration_user_id
    # A redelivered create is an upsert of the same Contact.
    assert await contacts.create(customer(), key="k1") == contact_id
    assert len(await salesforce_fake.contacts()) == 1

    await contacts.update(contact_id, "cus_1", {"phone": "+1 555 0100"}, key="k2")
    last = (await salesforce_fake.api_writes("cus_1"))[-1]
    assert (last["method"], last["body"]) == ("PATCH", {"Phone": "+1 555 0100"})
    # Every write names twoway as its client (Change Data Capture's changeOrigin).
    writes = await salesforce_fake.api_writes()
    assert writes and {w["call_options"] for w in writes} == {"client=twoway"}
    assert (await salesforce_fake.contact(contact_id) or {})["Phone"] == "+1 555 0100"

    await contacts.delete(contact_id, key="k3")
    assert (await salesforce_fake.contact(contact_id) or {})["IsDeleted"] is True
    await contacts.delete(contact_id, key="k3")  # already deleted: fine
    writes = await salesforce_fake.api_writes("cus_1")
    assert [(w["method"], w["status"]) for w in writes] == [
        ("PATCH", 201),
        ("PATCH", 200),
        ("PATCH", 204),
        ("DELETE", 204),
        ("DELETE", 404),
    ]  # fmt: skip  (create, its redelivery: upserts by External ID; the update: by Id)


async def test_an_expired_session_is_signed_in_again_once(
    contacts: SalesforceContacts, salesforce_fake: SalesforceFake
) -> None:
    contact_id = await contacts.create(customer(), key="k1")
    await salesforce_fake.expire_tokens()
    await contacts.update(contact_id, "cus_1", {"name": "Ada Byron"}, key="k2")
    assert (await salesforce_fake.contact(contact_id) or {})["FirstName"] == "Ada"
    log = [(r["path"].rsplit("/", 2)[-2], r["status"]) for r in await salesforce_fake.requests()]
    assert log == [("oauth2", 200), ("Twoway_Id__c", 201), ("Contact", 401),
                   ("oauth2", 200), ("Contact", 204)]  # fmt: skip


async def test_salesforces_answers_in_the_runtimes_taxonomy(
    contacts: SalesforceContacts, salesforce_fake: SalesforceFake
) -> None:
    with pytest.raises(Permanent, match="REQUIRED_FIELD_MISSING"):
        await contacts.create(customer(name=" "), key="k1")
    await salesforce_fake.fault(503, "SERVER_UNAVAILABLE")
    with pytest.raises(Retryable):
        await contacts.create(customer(), key="k1")
    await salesforce_fake.fault(400, "UNABLE_TO_LOCK_ROW")
    with pytest.raises(Retryable):
        await contacts.create(customer(), key="k1")
    await salesforce_fake.fault(401, "INVALID_SESSION_ID", count=2)
    with pytest.raises(Permanent, match="INVALID_SESSION_ID"):
        await contacts.create(customer(), key="k1")
    # Last: the client then pauses its whole budget for minutes.
    await salesforce_fake.set_usage(used=5, allocation=5)
    with pytest.raises(Retryable, match="REQUEST_LIMIT_EXCEEDED"):
        await contacts.create(customer(), key="k1")
    assert await salesforce_fake.contacts() == []
