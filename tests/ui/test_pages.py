"""The pages over HTTP: another kind's forms (checkbox, map), delete after a confirmation, the
dead letters page's replay and purge, and the drift page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import httpx
import pytest

from services.crud.inbound.models import InboxEntry
from services.runtime.bus import Bus, OutgoingMessage
from services.runtime.repair.models import RepairCursor
from services.stripe_sync.names import STRIPE_SYNC_QUEUE
from tests.conftest import Broker
from tests.ui.session import csrf_of, ui_client

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]


def url_of(crud: httpx.AsyncClient) -> str:
    return str(crud.base_url).rstrip("/")


async def test_a_product_is_made_and_edited_from_its_own_fields(crud: httpx.AsyncClient) -> None:
    async with ui_client(url_of(crud)) as client:
        form = await client.get("/ui/products/new")
        assert 'type="checkbox"' in form.text and "<textarea" in form.text
        assert 'for="f-unit_label"' in form.text
        made = await client.post(
            "/ui/products/new",
            data={"csrf": csrf_of(form.text), "name": "Widget", "metadata": "b=2\r\na = 1\r\n"},
        )
        assert made.status_code == 303
        entity_id = made.headers["location"].rsplit("/", 1)[-1]
        product = (await crud.get(f"/products/{entity_id}")).json()
        assert product["active"] is False and product["metadata"] == {"a": "1", "b": "2"}
        assert product["description"] is None

        edit = await client.get(f"/ui/products/{entity_id}/edit")
        was = dict(re.findall(r'name="(was\.[a-z_]+)" value="([^"]*)"', edit.text))
        changed = await client.post(
            f"/ui/products/{entity_id}/edit",
            data={
                "csrf": csrf_of(edit.text),
                "version": "1",
                **was,
                "name": "Widget",
                "active": "on",
                "metadata": "a=1\nb=2\n",
            },
        )
        assert changed.status_code == 303, re.findall(r'class="error"[^<]*<', changed.text)
        product = (await crud.get(f"/products/{entity_id}")).json()
        assert product["active"] is True and product["version"] == 2
        assert product["metadata"] == {"a": "1", "b": "2"}


async def test_delete_asks_first(crud: httpx.AsyncClient) -> None:
    async with ui_client(url_of(crud)) as client:
        created = await crud.post("/customers", json={"name": "Ada", "email": "ada@example.com"})
        entity_id = created.json()["id"]
        confirm = await client.get(f"/ui/customers/{entity_id}/delete")
        assert "Delete for good" in confirm.text
        assert (await crud.get(f"/customers/{entity_id}")).status_code == 200
        gone = await client.post(
            f"/ui/customers/{entity_id}/delete",
            data={"csrf": csrf_of(confirm.text), "version": "1"},
        )
        assert gone.status_code == 303
        assert (await crud.get(f"/customers/{entity_id}")).status_code == 404
        missing = await client.get(f"/ui/customers/{entity_id}")
        assert missing.status_code == 404


async def test_dead_letters_are_listed_replayed_and_purged(
    crud: httpx.AsyncClient, broker: Broker
) -> None:
    bus: Bus = crud.app.state.runtime.bus  # type: ignore[attr-defined]
    work = STRIPE_SYNC_QUEUE
    letters = [
        OutgoingMessage(
            work.dead_letter,
            json.dumps({"entity": "customer", "entity_id": f"id-{n}", "n": n}).encode(),
            f"m{n}",
            headers={"x-twoway-reason": "validation", "x-twoway-last-error": f"bad {n}"},
        )
        for n in range(3)
    ]
    assert await bus.publish("", letters) == [None] * 3
    async with ui_client(url_of(crud)) as client:
        page = await client.get("/ui/dead-letters", params={"queue": work.name})
        assert page.text.count('name="selected"') == 3
        assert 'href="/ui/customers/id-1"' in page.text
        replayed = await client.post(
            "/ui/dead-letters/replay",
            data={"csrf": csrf_of(page.text), "queue": work.name, "selected": ["m0", "m2"]},
        )
        assert replayed.status_code == 303
        after = await client.get(replayed.headers["location"])
        assert "2 message(s) replayed" in after.text
        assert after.text.count('name="selected"') == 1
        assert await broker.count(work.name) == 2
        confirm = await client.get("/ui/dead-letters/purge", params={"queue": work.name})
        assert "Purge 1 message(s)" in confirm.text
        assert await broker.count(work.dead_letter) == 1
        purged = await client.post(
            "/ui/dead-letters/purge", data={"csrf": csrf_of(confirm.text), "queue": work.name}
        )
        assert "1 message(s) purged" in (await client.get(purged.headers["location"])).text
        assert await broker.count(work.dead_letter) == 0
        overview = await client.get("/ui/overview")
        assert overview.status_code == 200 and work.name in overview.text


async def test_the_drift_page_shows_what_the_audit_recorded(crud: httpx.AsyncClient) -> None:
    created = await crud.post("/customers", json={"name": "Ada", "email": "ada@example.com"})
    entity_id = created.json()["id"]
    now = datetime.now(UTC)
    await InboxEntry.create(
        provider="stripe",
        event_id="audit:cus_drifted:1700000000000",
        entity="customer",
        external_id="cus_drifted",
        entity_id=entity_id,
        occurred_at=now,
        outcome="applied",
        payload="{}",
        received_at=now,
    )
    await RepairCursor.create(
        name="stripe:audit:customer", passes=3, info={"pages": 7}, updated_at=now
    )
    async with ui_client(url_of(crud)) as client:
        page = await client.get("/ui/drift")
        assert page.status_code == 200
        assert "stripe:audit:customer" in page.text and "&#34;pages&#34;: 7" in page.text
        assert f'href="/ui/customers/{entity_id}"' in page.text and "cus_drifted" in page.text
        assert "No reconcile run yet" in page.text
