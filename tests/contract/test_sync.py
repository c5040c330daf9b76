"""Both directions for every entity kind, with every service running (``tests/e2e``): what the
app does reaches Stripe, what Stripe does comes back, and nothing loops.

localstripe only emits ``product.created``; the fake Stripe adds ``product.updated`` and
``product.deleted`` as Stripe sends them, signed like Stripe's and delivered to the real
gateway, so products' inbound updates and deletes are those events.
"""

from __future__ import annotations

from typing import Any

import pytest

from services.runtime.links.models import ExternalLink
from services.runtime.providers import all_work_queues
from shared.bookkeeping import LOCAL_ID_METADATA_KEY
from shared.kinds import EntityKind
from tests.conftest import Broker
from tests.contract.cases import CASES, KindCase, stripe_object
from tests.e2e.conftest import System
from tests.fakes.stripe_fake import Fault
from tests.waiting import eventually
from tests.webhook_gateway.test_stripe_webhooks import STRIPE_SDK_WARNING

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.rabbitmq,
    pytest.mark.localstripe,
    pytest.mark.filterwarnings(STRIPE_SDK_WARNING),
]


async def synced(system: System, case: KindCase, n: int = 1) -> tuple[dict[str, Any], str]:
    """An entity made through the API, at Stripe, everything settled."""
    created = await system.api.post(case.path, json=case.create(n))
    assert created.status_code == 201, created.text
    one = f"{case.path}/{created.json()['id']}"

    async def linked() -> dict[str, Any] | None:
        body: dict[str, Any] = (await system.api.get(one)).json()
        stripe = body["sync"]["stripe"]
        return body if stripe["status"] == "synced" and stripe["external_id"] else None

    assert await eventually(linked), "never synced to Stripe"
    await system.quiet()
    body = (await system.api.get(one)).json()
    return body, body["sync"]["stripe"]["external_id"]


async def local(system: System, case: KindCase, entity_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await system.api.get(f"{case.path}/{entity_id}")).json()
    return body


def assert_no_dead_letters(system: System) -> Any:
    async def check() -> None:
        for work in all_work_queues():
            assert await system.broker.count(work.dead_letter) == 0, work.dead_letter

    return check()


async def test_app_changes_reach_stripe_path_by_path(system: System, case: KindCase) -> None:
    entity, external_id = await synced(system, case)
    at_stripe = stripe_object(case, external_id)
    assert all(at_stripe[k] == v for k, v in case.create(1).items())
    assert at_stripe["metadata"][LOCAL_ID_METADATA_KEY] == entity["id"]

    field = case.edits[-1]
    calls = len(system.fake.calls)
    patched = await system.api.patch(
        f"{case.path}/{entity['id']}", json={field: case.value(field, "9")}
    )
    assert patched.status_code == 200
    await system.quiet()
    (update,) = [c for c in system.fake.calls[calls:] if c.method == "POST"]
    assert set(update.form) == {field, f"metadata[{LOCAL_ID_METADATA_KEY}]"}  # only the change
    assert stripe_object(case, external_id)[field] == case.value(field, "9")

    one = f"{case.path}/{entity['id']}"
    assert (await system.api.delete(one, headers={"If-Match": '"2"'})).status_code == 204
    await system.quiet()
    assert stripe_object(case, external_id) == {}
    await assert_no_dead_letters(system)


async def test_stripe_changes_come_back(system: System, case: KindCase) -> None:
    async with system.fake.client() as client:
        made = await case.resource(client).create_async(params=case.create(7))
        await system.quiet()
        found = (await system.api.get(case.path)).json()["data"]
        (entity,) = [e for e in found if e["sync"]["stripe"]["external_id"] == made.id]
        assert all(entity[k] == v for k, v in case.create(7).items())

        field = case.edits[0]
        await case.resource(client).update_async(made.id, params={field: case.value(field, "8")})
        await system.quiet()
        assert (await local(system, case, entity["id"]))[field] == case.value(field, "8")

        await case.resource(client).delete_async(made.id)
        await system.quiet()
    assert (await system.api.get(f"{case.path}/{entity['id']}")).status_code == 404
    await assert_no_dead_letters(system)


async def test_app_edits_reach_stripe_once_and_the_system_falls_silent(
    system: System, case: KindCase, broker: Broker
) -> None:
    entity, external_id = await synced(system, case)
    calls = len(system.fake.calls)
    field = case.edits[0]
    for n in range(1, 4):
        response = await system.api.patch(
            f"{case.path}/{entity['id']}", json={field: case.value(field, f"{n}")}
        )
        assert response.status_code == 200
    await system.quiet()
    writes = [c for c in system.fake.calls[calls:] if c.method == "POST"]
    assert len(writes) == 3 and system.fake.calls[calls:] == writes  # no reads either
    final = await local(system, case, entity["id"])
    assert final["version"] == entity["version"] + 3
    assert final["sync"]["stripe"]["synced_version"] == final["version"]
    assert stripe_object(case, external_id)[field] == case.value(field, "3")
    before = await system.snapshot()
    tap = await broker.tap()
    assert await tap.quiet(1.0) == [] and await system.snapshot() == before


async def test_a_product_stripe_keeps_for_its_prices_is_archived_not_dead_lettered(
    system: System,
) -> None:
    case = CASES[EntityKind.PRODUCT]
    entity, external_id = await synced(system, case)
    system.fake.faults.append(
        Fault(
            status=400,
            method="DELETE",
            path_prefix="/v1/products/",
            body={
                "error": {
                    "type": "invalid_request_error",
                    "message": "This product cannot be deleted because it has one or more "
                    "user-created prices.",
                }
            },
        )
    )
    one = f"{case.path}/{entity['id']}"
    assert (await system.api.delete(one, headers={"If-Match": '"1"'})).status_code == 204
    await system.quiet()
    at_stripe = stripe_object(case, external_id)
    assert at_stripe and at_stripe["active"] is False  # archived, still there
    await assert_no_dead_letters(system)
    link = await ExternalLink.get(entity="product", entity_id=entity["id"], provider="stripe")
    assert link.note is not None and "archived" in link.note
