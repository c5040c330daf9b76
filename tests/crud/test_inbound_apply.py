"""Applying inbound commands on the real MariaDB: inbox, resolution, order safety, no echo."""

from __future__ import annotations

import json

import pytest

from services.crud.customers.models import Customer
from services.crud.customers.slice import SLICE as CUSTOMERS
from services.crud.inbound.apply import Applier, LinkConflict, Outcome, Unrepresentable
from services.crud.records import EntityService
from services.runtime.links.models import ExternalLink
from tests.crud.inbound_helpers import delete, inbox_outcomes, linked, outbox, upsert

pytestmark = [pytest.mark.mariadb]

apply = Applier()


def service() -> EntityService:
    return EntityService(CUSTOMERS, lambda: None)


async def test_a_new_external_customer_is_created_linked_and_announced(db: None) -> None:
    outcome = await apply(upsert(name="Ada", phone="+44 1", metadata={"plan": "pro"}))
    assert outcome is Outcome.APPLIED
    customer = await linked()
    assert customer is not None
    assert (customer.name, customer.email, customer.phone) == ("Ada", "ada@example.com", "+44 1")
    assert customer.metadata == {"plan": "pro"} and customer.version == 1
    (event,) = await outbox()
    payload = json.loads(event["payload"])
    assert event["routing_key"] == "customer.created" and payload["origin"] == "stripe"
    assert payload["entity_id"] == customer.id
    link = await ExternalLink.get(provider="stripe", external_id="cus_1")
    assert link.synced_version == 1 and not link.deleted


async def test_a_duplicate_delivery_changes_nothing(db: None) -> None:
    command = upsert(name="Ada")
    assert await apply(command) is Outcome.APPLIED
    before = await linked()
    assert await apply(command) is Outcome.DUPLICATE
    # Even a redelivery carrying other content (it never does) is recognised by its event id.
    renamed = command.model_copy(update={"data": {**command.data, "name": "X"}})
    assert await apply(renamed) is Outcome.DUPLICATE
    after = await linked()
    assert after is not None and before is not None
    assert (after.name, after.version) == ("Ada", before.version)
    assert len(await outbox()) == 1 and await inbox_outcomes() == ["applied"]


async def test_an_update_equal_to_local_state_is_a_no_op(db: None) -> None:
    """The echo of our own outbound write: no version bump, no event, so no loop."""
    local = await service().create(
        {"name": "Ada", "email": "ada@example.com", "phone": None, "metadata": {"k": "v"}}
    )
    echo = upsert(local_id=local.id, initial=True, metadata={"k": "v"})
    assert await apply(echo) is Outcome.NOOP
    again = upsert(second=1, local_id=local.id, metadata={"k": "v"})
    assert await apply(again) is Outcome.NOOP
    customer = await Customer.get(id=local.id)
    assert customer.version == 1
    assert [e["routing_key"] for e in await outbox()] == ["customer.created"]  # the app's own
    assert await linked() == customer


async def test_a_real_change_bumps_the_version_once_with_origin_stripe(db: None) -> None:
    await apply(upsert(0, name="Ada"))
    assert await apply(upsert(1, name="Ada King")) is Outcome.APPLIED
    customer = await linked()
    assert customer is not None and (customer.name, customer.version) == ("Ada King", 2)
    events = await outbox()
    assert [e["routing_key"] for e in events] == ["customer.created", "customer.updated"]
    assert json.loads(events[1]["payload"])["origin"] == "stripe"


async def test_resolution_by_local_id_in_metadata(db: None) -> None:
    local = await service().create({"name": "Ada", "email": "old@example.com", "metadata": {}})
    assert await apply(upsert(local_id=local.id, email="new@example.com")) is Outcome.APPLIED
    assert await Customer.all().count() == 1
    customer = await linked()
    assert customer is not None and customer.id == local.id
    assert customer.email == "new@example.com"


async def test_an_unlinked_customer_with_the_same_email_is_linked_not_duplicated(
    db: None,
) -> None:
    local = await service().create({"name": "Ada", "email": "ada@example.com", "metadata": {}})
    assert await apply(upsert(name="Ada L.")) is Outcome.APPLIED
    assert await Customer.all().count() == 1
    customer = await linked()
    assert customer is not None and customer.id == local.id and customer.name == "Ada L."


async def test_an_email_owned_by_a_customer_linked_elsewhere_is_a_conflict(db: None) -> None:
    await apply(upsert(external_id="cus_1"))
    with pytest.raises(LinkConflict):
        await apply(upsert(external_id="cus_2"))
    assert await Customer.all().count() == 1
    assert await inbox_outcomes() == ["applied"]  # the refused command left no trace


async def test_an_older_command_is_recorded_and_skipped(db: None) -> None:
    await apply(upsert(5, name="Newer"))
    assert await apply(upsert(3, name="Older")) is Outcome.STALE
    customer = await linked()
    assert customer is not None and (customer.name, customer.version) == ("Newer", 1)
    assert await inbox_outcomes() == ["applied", "stale"]


async def test_a_creation_event_loses_a_same_second_tie(db: None) -> None:
    await apply(upsert(7, name="Changed"))
    assert await apply(upsert(7, name="Created", initial=True)) is Outcome.STALE
    assert await apply(upsert(7, name="Changed again")) is Outcome.APPLIED
    customer = await linked()
    assert customer is not None and customer.name == "Changed again"


async def test_a_delete_is_never_undone_by_a_late_update(db: None) -> None:
    await apply(upsert(0))
    customer = await linked()
    assert customer is not None
    assert await apply(delete(5)) is Outcome.APPLIED
    assert await Customer.get_or_none(id=customer.id) is None
    assert await apply(upsert(3, name="Late")) is Outcome.GONE
    assert await apply(upsert(9, name="Even later")) is Outcome.GONE
    assert await apply(delete(6)) is Outcome.GONE
    assert await Customer.all().count() == 0
    events = await outbox()
    assert [e["routing_key"] for e in events] == ["customer.created", "customer.deleted"]
    assert json.loads(events[1]["payload"])["origin"] == "stripe"


async def test_a_delete_of_an_unknown_external_id_prevents_its_resurrection(db: None) -> None:
    assert await apply(delete(5, external_id="cus_9")) is Outcome.GONE
    assert await apply(upsert(1, external_id="cus_9", initial=True)) is Outcome.GONE
    assert await Customer.all().count() == 0 and await outbox() == []
    assert await inbox_outcomes() == ["gone", "gone"]


async def test_an_update_for_a_customer_deleted_here_does_not_bring_it_back(db: None) -> None:
    await apply(upsert(0))
    customer = await linked()
    assert customer is not None
    await service().delete(customer.id)
    assert await apply(upsert(1, name="Still here?")) is Outcome.GONE
    assert await apply(upsert(2, local_id=customer.id, external_id="cus_2")) is Outcome.GONE
    assert await Customer.all().count() == 0


@pytest.mark.parametrize(
    "fields",
    [{"email": None}, {"name": None}, {"email": "not-an-email"}, {"phone": "call me"}],
)
async def test_a_provider_state_twoway_cannot_hold_is_refused_whole(
    db: None, fields: dict[str, object]
) -> None:
    with pytest.raises(Unrepresentable):
        await apply(upsert(**fields))
    assert await Customer.all().count() == 0
    assert await outbox() == [] and await inbox_outcomes() == []


async def test_echoes_of_earlier_local_writes_change_nothing_in_any_order(db: None) -> None:
    """N writes through the app, then Stripe's echo of each, late and shuffled: no loop."""
    svc = service()
    local = await svc.create({"name": "v0", "email": "ada@example.com", "metadata": {}})
    for i in range(1, 6):
        await svc.update(local.id, {"name": f"v{i}"})
    echoes = [upsert(i, local_id=local.id, initial=i == 0, name=f"v{i}") for i in range(6)]
    for echo in [echoes[k] for k in (3, 0, 5, 1, 4, 2)]:
        assert await apply(echo) in (Outcome.ECHO, Outcome.NOOP, Outcome.STALE)
    customer = await Customer.get(id=local.id)
    assert (customer.name, customer.version) == ("v5", 6)
    events = await outbox()
    assert len(events) == 6
    assert {json.loads(e["payload"])["origin"] for e in events} == {"app"}


async def test_a_stripe_change_back_to_an_old_value_is_applied(db: None) -> None:
    svc = service()
    local = await svc.create({"name": "A", "email": "ada@example.com", "metadata": {}})
    await svc.update(local.id, {"name": "B"})
    assert await apply(upsert(1, local_id=local.id, name="A")) is Outcome.ECHO
    assert await apply(upsert(2, local_id=local.id, name="C")) is Outcome.APPLIED
    # After Stripe's own change, "A" is no longer an echo of ours: someone set it there.
    assert await apply(upsert(3, local_id=local.id, name="A")) is Outcome.APPLIED
    customer = await Customer.get(id=local.id)
    assert (customer.name, customer.version) == ("A", 4)


async def test_a_first_link_sends_the_values_only_the_app_holds(db: None) -> None:
    """Linking by email an app customer with a phone and metadata to a Stripe customer with
    neither: the app's values go to Stripe (one event that re-sends them), the merged name
    stays, and once Stripe holds them both sides agree."""
    local = await service().create(
        {"name": "Ada", "email": "ada@example.com", "phone": "+44 1", "metadata": {"tier": "gold"}}
    )
    assert await apply(upsert(name="Ada L.")) is Outcome.APPLIED
    customer = await linked()
    assert customer is not None and customer.id == local.id
    assert (customer.name, customer.phone, customer.metadata) == (
        "Ada L.",
        "+44 1",
        {"tier": "gold"},
    )
    last = json.loads((await outbox())[-1]["payload"])
    assert set(last["resend"]) >= {"phone", "metadata.tier"}, last
    link = await ExternalLink.get(provider="stripe", external_id="cus_1")
    assert link.status == "pending"  # Stripe does not hold the app's values yet


async def test_a_later_change_on_a_linked_customer_resends_nothing(db: None) -> None:
    """Only the first link re-sends: afterwards a provider's change is merged as usual."""
    await service().create(
        {"name": "Ada", "email": "ada@example.com", "phone": "+44 1", "metadata": {}}
    )
    await apply(upsert(phone="+44 1"))
    before = len(await outbox())
    assert await apply(upsert(second=5, phone="+44 1", name="Ada L.")) is Outcome.APPLIED
    events = await outbox()
    assert len(events) == before + 1
    assert json.loads(events[-1]["payload"])["resend"] == []
