"""The fake Salesforce's Outbound Messages: shape, retries until Ack, batching."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.runtime.children import free_port
from tests.dev.fake_salesforce.receiver import Receiver, nack, receiver
from tests.fakes.salesforce_fake import SalesforceFake


@pytest.fixture
async def listener(salesforce_fake: SalesforceFake) -> AsyncIterator[Receiver]:
    async with receiver() as listening:
        await salesforce_fake.configure(outbound_url=listening.url, retry_max_s=0.2)
        yield listening


async def test_a_human_change_is_sent_as_salesforce_sends_it(
    salesforce_fake: SalesforceFake, listener: Receiver
) -> None:
    contact = await salesforce_fake.create(FirstName="Ada", LastName="Lovelace")
    await salesforce_fake.settle()
    [message] = listener.received
    assert message.headers["content-type"].startswith("text/xml")
    assert message.headers["soapaction"] == '""'
    assert message.org_id == salesforce_fake.org_id
    [(notification_id, object_type, fields)] = message.notifications
    assert notification_id.startswith("04l") and len(notification_id) == 18
    assert object_type == "sf:Contact"
    assert fields == {
        "Id": contact["Id"],
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "LastModifiedById": salesforce_fake.human_user_id,
        "SystemModstamp": contact["SystemModstamp"],
        "IsDeleted": "false",
    }  # no Email, Phone or External ID: fields without a value are left out
    [delivery] = await salesforce_fake.deliveries()
    assert (delivery["status"], delivery["acked"]) == (200, True)
    assert delivery["notification_ids"] == [notification_id]


async def test_each_change_is_a_notification_deletes_only_when_asked(
    salesforce_fake: SalesforceFake, listener: Receiver
) -> None:
    first = await salesforce_fake.create(LastName="A", Twoway_Id__c="cus_1")
    await salesforce_fake.settle()
    await salesforce_fake.hold_outbound()
    second = await salesforce_fake.create(LastName="B")
    await salesforce_fake.edit(first["Id"], Email="a@example.com")
    await salesforce_fake.delete(second["Id"], notify=False)
    await salesforce_fake.delete(first["Id"])
    await salesforce_fake.release_outbound()
    await salesforce_fake.settle()
    assert [len(r.notifications) for r in listener.received] == [1, 3]
    sent = listener.notifications()
    assert [f["Id"] for _, _, f in sent] == [first["Id"], second["Id"], first["Id"], first["Id"]]
    assert len({n for n, _, _ in sent}) == 4
    assert sent[0][2]["IsDeleted"] == "false"
    # A message carries the values at sending time: by then both were deleted.
    assert [f["IsDeleted"] for _, _, f in sent[1:]] == ["true", "true", "true"]
    assert sent[3][2]["Twoway_Id__c"] == "cus_1"
    assert sent[3][2]["Email"] == "a@example.com"
    assert sent[0][2]["SystemModstamp"] < sent[3][2]["SystemModstamp"]


async def test_a_message_is_sent_again_until_acked(
    salesforce_fake: SalesforceFake, listener: Receiver
) -> None:
    listener.script = [(500, "oops"), nack(), (200, "<not-soap/>"), (200, "plain text")]
    await salesforce_fake.create(LastName="Lovelace")
    await salesforce_fake.settle()
    deliveries = await salesforce_fake.deliveries()
    assert [(d["status"], d["acked"]) for d in deliveries] == [
        (500, False), (200, False), (200, False), (200, False), (200, True)
    ]  # fmt: skip
    assert len({tuple(d["notification_ids"]) for d in deliveries}) == 1
    assert [d["attempt"] for d in deliveries] == [1, 2, 3, 4, 5]
    assert len({r.notifications[0][0] for r in listener.received}) == 1


async def test_a_listener_that_is_down_is_tried_until_it_answers(
    salesforce_fake: SalesforceFake, listener: Receiver
) -> None:
    await salesforce_fake.configure(outbound_url=f"http://127.0.0.1:{free_port()}/down")
    await salesforce_fake.create(LastName="Lovelace")
    with pytest.raises(AssertionError):
        await salesforce_fake.settle(timeout=0.5)
    assert await salesforce_fake.pending() == 1
    refused = await salesforce_fake.deliveries()
    assert refused and all(d["error"] == "ConnectError" for d in refused)
    await salesforce_fake.configure(outbound_url=listener.url)
    await salesforce_fake.settle()
    assert len(listener.received) == 1
    assert (await salesforce_fake.deliveries())[-1]["acked"] is True


async def test_held_notifications_go_in_batches_of_a_hundred(
    salesforce_fake: SalesforceFake, listener: Receiver
) -> None:
    await salesforce_fake.hold_outbound()
    for i in range(150):
        await salesforce_fake.create(LastName=f"L{i}")
    assert await salesforce_fake.pending() == 150
    assert listener.received == []
    await salesforce_fake.release_outbound()
    await salesforce_fake.settle()
    assert [len(r.notifications) for r in listener.received] == [100, 50]
    assert len({n for n, _, _ in listener.notifications()}) == 150
    assert await salesforce_fake.pending() == 0


async def test_without_an_outbound_url_nothing_is_queued(salesforce_fake: SalesforceFake) -> None:
    await salesforce_fake.create(LastName="Lovelace")
    assert await salesforce_fake.pending() == 0
    await salesforce_fake.settle(timeout=1)
    assert await salesforce_fake.deliveries() == []


async def test_reset_drops_the_queue(salesforce_fake: SalesforceFake, listener: Receiver) -> None:
    await salesforce_fake.hold_outbound()
    await salesforce_fake.create(LastName="Lovelace")
    await salesforce_fake.reset()
    assert await salesforce_fake.pending() == 0
    assert await salesforce_fake.contacts() == []
