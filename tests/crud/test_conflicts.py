"""Conflicts through the inbound apply on the real MariaDB: recorded once, listed by the API,
decided by the kind's configured rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.crud.customers.models import Customer
from services.crud.customers.slice import SLICE as CUSTOMERS
from services.crud.inbound.apply import Applier, Outcome
from services.crud.records import EntityService
from services.crud.settings import CrudSettings
from services.crud.sync.rules import ConflictRule
from tests.crud.inbound_helpers import at, outbox, upsert

pytestmark = [pytest.mark.mariadb]


async def concurrent_rename(
    applier: Applier, app_name: str, stripe_name: str, event_id: str | None = None
) -> Customer:
    """An app rename not yet confirmed at Stripe, and a Stripe rename (later by the clock)."""
    service = EntityService(CUSTOMERS, lambda: None)
    local = await service.create({"name": "Ada", "email": "ada@example.com"})
    assert await applier(upsert(0, local_id=local.id, initial=True)) is Outcome.NOOP
    await service.update(local.id, {"name": app_name})
    await applier(upsert(5, local_id=local.id, name=stripe_name, event_id=event_id))
    return await Customer.get(id=local.id)


@pytest.mark.parametrize(
    ("rule", "name", "resent"),
    [
        (ConflictRule.LATEST, "Stripe", "Stripe"),  # Stripe's change is the later one
        (ConflictRule.PROVIDER, "Stripe", "Stripe"),
        (ConflictRule.APP, "App", "App"),
    ],
)
async def test_each_rule_picks_its_winner_and_resends_it_to_stripe(
    db: None, rule: ConflictRule, name: str, resent: str
) -> None:
    customer = await concurrent_rename(
        Applier(CrudSettings(conflict_rule=rule).rules()), "App", "Stripe"
    )
    assert customer.name == name
    last = json.loads((await outbox())[-1]["payload"])
    # Whoever won, Stripe is sent the winner again: the app's write may still land there.
    assert last["resend"] == ["name"] and last["data"]["name"] == resent


async def test_rules_are_configured_per_kind_from_the_environment(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWOWAY_CONFLICT_RULE", "provider")
    monkeypatch.setenv("TWOWAY_CONFLICT_RULES", '{"customer": "app"}')
    rules = CrudSettings().rules()
    assert rules["customer"] is ConflictRule.APP and rules["product"] is ConflictRule.PROVIDER
    customer = await concurrent_rename(Applier(rules), "App", "Stripe")
    assert customer.name == "App"


async def test_a_redelivered_event_records_its_conflict_once(crud: httpx.AsyncClient) -> None:
    applier = Applier()
    customer = await concurrent_rename(applier, "App", "Stripe", event_id="evt_rename")
    again = upsert(5, local_id=customer.id, name="Stripe", event_id="evt_rename")
    assert await applier(again) is Outcome.DUPLICATE
    other = upsert(6, local_id=customer.id, name="Stripe")  # the same state again: no conflict
    assert await applier(other) is Outcome.NOOP
    body = (await crud.get("/conflicts", params={"entity_id": customer.id})).json()
    (conflict,) = body["data"]
    assert conflict == {
        "id": conflict["id"],
        "entity": "customer",
        "entity_id": customer.id,
        "provider": "stripe",
        "field": "name",
        "app_value": "App",
        "app_changed_at": conflict["app_changed_at"],
        "provider_value": "Stripe",
        "provider_changed_at": at(5).isoformat().replace("+00:00", "Z"),
        "winner": "provider",
        "value": "Stripe",
        "rule": "latest",
        "provider_event_id": conflict["provider_event_id"],
        "resolved_at": conflict["resolved_at"],
    }
    assert body["next_cursor"] is None


async def test_conflicts_are_filtered_and_paged(crud: httpx.AsyncClient) -> None:
    applier = Applier()
    service = EntityService(CUSTOMERS, lambda: None)
    ids = []
    for n in range(3):
        local = await service.create({"name": "Ada", "email": f"c{n}@example.com"})
        await applier(
            upsert(
                0,
                external_id=f"cus_{n}",
                local_id=local.id,
                initial=True,
                email=f"c{n}@example.com",
            )
        )
        await service.update(local.id, {"name": f"App {n}"})
        await applier(
            upsert(
                5,
                external_id=f"cus_{n}",
                local_id=local.id,
                email=f"c{n}@example.com",
                name=f"Stripe {n}",
            )
        )
        ids.append(local.id)

    first = (await crud.get("/conflicts", params={"limit": "2"})).json()
    assert [c["entity_id"] for c in first["data"]] == [ids[2], ids[1]]  # newest first
    rest = (await crud.get("/conflicts", params={"cursor": first["next_cursor"]})).json()
    assert [c["entity_id"] for c in rest["data"]] == [ids[0]] and rest["next_cursor"] is None
    one = (await crud.get("/conflicts", params={"entity_id": ids[1]})).json()["data"]
    assert [c["value"] for c in one] == ["Stripe 1"]
    now = datetime.now(UTC)
    for params, count in [
        ({"provider": "stripe", "entity": "customer"}, 3),
        ({"since": (now - timedelta(minutes=5)).isoformat()}, 3),
        ({"until": (now - timedelta(minutes=5)).isoformat()}, 0),
        ({"since": (now + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")}, 0),
    ]:
        got = (await crud.get("/conflicts", params=params)).json()["data"]
        assert len(got) == count, params


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("provider", "paypal"),
        ("entity", "invoice"),
        ("since", "yesterday"),
        ("until", "0.5"),
        ("since", "2026-11-29T10:00:00"),  # no offset: which time zone?
        ("cursor", "abc"),
        ("limit", "0"),
    ],
)
async def test_a_bad_filter_is_a_422_naming_it(
    crud: httpx.AsyncClient, name: str, value: str
) -> None:
    response = await crud.get("/conflicts", params={name: value})
    assert response.status_code == 422
    assert name in response.json()["error"]["fields"]
