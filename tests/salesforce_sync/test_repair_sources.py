"""Salesforce's sources for the repair jobs against the fake org: Contacts page by page in
``Id`` order, and every change (deletes too) after a ``SystemModstamp`` cursor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from services.runtime.repair.source import CursorExpired
from services.salesforce_sync.repair import changes as changes_module
from services.salesforce_sync.repair.changes import SalesforceChanges
from services.salesforce_sync.repair.objects import PAGE_SIZE, SalesforceObjects
from services.salesforce_sync.salesforce.client import SalesforceClient
from shared.commands import Delete, Upsert
from shared.kinds import EntityKind
from tests.fakes.salesforce_client import client_of
from tests.fakes.salesforce_fake import SalesforceFake


@pytest.fixture
async def client(salesforce_fake: SalesforceFake) -> AsyncIterator[SalesforceClient]:
    async with client_of(salesforce_fake) as client:
        yield client


async def test_objects_come_in_id_order_a_page_at_a_time_live_ones_only(
    client: SalesforceClient, salesforce_fake: SalesforceFake
) -> None:
    made = [
        await salesforce_fake.create(LastName=f"N{i}", Email=f"n{i}@example.com", Phone=None)
        for i in range(PAGE_SIZE + 50)
    ]
    gone = made.pop()
    await salesforce_fake.delete(gone["Id"], notify=False)
    objects = SalesforceObjects(client)

    first = await objects.page(EntityKind.CUSTOMER, None)
    assert len(first.items) == PAGE_SIZE and first.after == first.items[-1].external_id
    second = await objects.page(EntityKind.CUSTOMER, first.after)
    assert second.after is None
    seen = [item.external_id for item in first.items + second.items]
    assert seen == sorted(c["Id"] for c in made)  # each once, the deleted one left out
    item = first.items[0]
    contact = next(c for c in made if c["Id"] == item.external_id)
    assert item.command.data == {
        "name": contact["LastName"], "email": contact["Email"], "phone": None, "metadata": {}
    }  # fmt: skip
    assert item.keys == {"email": contact["Email"]}
    assert item.holds == frozenset({"name", "email", "phone"})
    assert (
        item.command.occurred_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        == contact["SystemModstamp"]
    )
    # Every read is a GET in the bulk lane, naming twoway as the client.
    reads = [r for r in await salesforce_fake.requests() if "/query" in r["path"]]
    assert len(reads) == 2 and {r["call_options"] for r in reads} == {"client=twoway"}


async def test_changes_after_the_cursor_come_oldest_first_deletes_included(
    client: SalesforceClient, salesforce_fake: SalesforceFake
) -> None:
    ada = await salesforce_fake.create(FirstName="Ada", LastName="Lovelace")
    source = SalesforceChanges(client)
    newest = await source.newest()
    assert newest is not None
    cursor, at = newest
    assert cursor.endswith(f"|{ada['Id']}") and at.tzinfo is not None

    grace = await salesforce_fake.create(FirstName="Grace", LastName="Hopper")
    await salesforce_fake.edit(ada["Id"], Phone="+1 555 0100")
    await salesforce_fake.delete(grace["Id"], notify=False)
    # twoway's own write (the integration user's): not read back.
    await client.request(
        "contacts.upsert", "PATCH", "/sobjects/Contact/Twoway_Id__c/cus_x", json={"LastName": "X"}
    )

    page = await source.since(cursor)

    assert not page.more
    kinds = [(type(c).__name__, c.external_id) for c in page.commands]
    assert kinds == [("Upsert", ada["Id"]), ("Delete", grace["Id"])]  # Grace's create: superseded
    upsert, delete = page.commands
    assert isinstance(upsert, Upsert) and isinstance(delete, Delete)
    assert upsert.data["phone"] == "+1 555 0100" and upsert.data["name"] == "Ada Lovelace"
    assert upsert.provider_event_id.startswith(f"changes:{ada['Id']}:")
    assert page.cursor is not None and page.cursor != cursor
    assert page.cursor_at is not None and page.cursor_at >= delete.occurred_at  # not behind
    again = await source.since(page.cursor)
    assert (again.commands, again.cursor, again.more) == ([], page.cursor, False)


async def test_an_org_clock_ahead_of_ours_never_puts_the_position_behind_a_change_read(
    client: SalesforceClient, salesforce_fake: SalesforceFake
) -> None:
    # Salesforce stamps changes with its own clock; the read time is ours.
    await salesforce_fake.configure(clock_ahead_s=60)
    source = SalesforceChanges(client)
    start = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    made = await salesforce_fake.create(LastName="Ahead")

    page = await source.since(f"{start}|")

    assert [c.external_id for c in page.commands] == [made["Id"]] and not page.more
    assert page.cursor_at is not None and page.cursor_at >= page.commands[0].occurred_at
    assert page.cursor_at - datetime.now(UTC) > timedelta(seconds=50)  # the org's time, not ours
    again = await source.since(page.cursor)  # nothing new: the position does not fall back
    assert again.commands == [] and again.cursor_at == page.cursor_at


async def test_many_changes_come_in_pages_and_a_bad_cursor_is_expired(
    client: SalesforceClient, salesforce_fake: SalesforceFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(changes_module, "PAGE_SIZE", 3)
    made = [await salesforce_fake.create(LastName=f"N{i}") for i in range(7)]
    source = SalesforceChanges(client)
    start = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    cursor = f"{start}|"
    seen: list[str] = []
    while True:
        page = await source.since(cursor)
        seen += [c.external_id for c in page.commands]
        assert page.cursor is not None
        cursor = page.cursor
        if not page.more:
            break
    assert seen == [c["Id"] for c in made]
    with pytest.raises(CursorExpired):
        await source.since("not a cursor")
