"""Adoption under random interleavings: API creates, a reconcile run, the worker starting and
being killed mid-request (redeliveries), lost answers, and Stripe forgetting its keys.

Whatever the order: never two Stripe customers for one local customer, never one Stripe
customer linked to two, every local customer linked to the one that carries its id; with
``TWOWAY_STRIPE_LINK_BY_EMAIL`` also never an email twice at Stripe. The orders come from fixed
seeds, so a failure replays.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from services.crud.customers.models import Customer
from services.crud.inbound.models import InboxEntry
from services.crud.outbox.models import OutboxEvent
from services.crud.settings import CrudSettings
from services.runtime.links.models import ExternalLink
from services.stripe_sync.settings import StripeSettings
from tests.conftest import WEBHOOK_SECRET, Broker
from tests.e2e.test_adoption import (
    all_synced,
    api,  # noqa: F401  (the fixture)
    existing,
    new,
    stripe_side,
    workers,  # noqa: F401  (the fixture)
)
from tests.fakes.stripe_fake import FakeStripe, Fault
from tests.repair.conftest import reconcile, stripe_customers
from tests.stripe_sync.conftest import Workers
from tests.waiting import eventually
from tests.webhook_gateway.events import webhook_url

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq, pytest.mark.localstripe]

SEEDS = (1, 2, 3)


@pytest.mark.parametrize("link_by_email", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
async def test_no_interleaving_makes_a_duplicate_or_a_double_link(
    api: httpx.AsyncClient,  # noqa: F811
    fake_stripe: FakeStripe,
    broker: Broker,
    workers: Workers,  # noqa: F811
    sync_settings: StripeSettings,
    settings: CrudSettings,
    tmp_path: Path,
    seed: int,
    link_by_email: bool,
) -> None:
    rng = random.Random(seed)
    stripe_customers(12)
    await fake_stripe.settle()
    await fake_stripe.register_webhook(webhook_url(api.gateway), WEBHOOK_SECRET)  # type: ignore[attr-defined]
    actions = [f"create:{e}" for e in existing(range(4)) + new(range(4))]
    actions += ["reconcile", "worker", "restart", "restart", "lost", "lost", "forget"]
    rng.shuffle(actions)

    running: asyncio.Task[None] | None = None
    run: asyncio.Task[object] | None = None
    for action in actions:
        if action.startswith("create:"):
            email = action.removeprefix("create:")
            made = await api.post("/customers", json={"name": "App customer", "email": email})
            # Reconcile may have imported the Stripe customer with that email already: the
            # app then finds it taken (and uses that customer), as it would any duplicate.
            assert made.status_code == 201 or (made.status_code == 409 and email.startswith("c")), (
                made.text
            )
        elif action == "reconcile":
            run = asyncio.ensure_future(reconcile(sync_settings, settings, tmp_path))
        elif action == "worker" and running is None:
            running = workers.start(link_by_email=link_by_email)
        elif action == "restart" and running is not None:
            await workers.stop(running)  # mid-request, maybe: its deliveries come back
            running = workers.start(link_by_email=link_by_email)
        elif action == "lost":
            fake_stripe.faults.append(
                Fault(status=500, after_handler=True, method="POST", path_prefix="/v1/customers")
            )
        elif action == "forget":  # a day passes for Stripe's keys and the recorded attempts
            fake_stripe.forget_idempotency_keys()
            long_ago = datetime.now(UTC) - timedelta(hours=25)
            await ExternalLink.filter(create_attempted_at__isnull=False).update(
                create_attempted_at=long_ago
            )
        # Part of the scenario: a random pause lets the worker, reconcile and the API overlap
        # differently from seed to seed.
        await asyncio.sleep(rng.uniform(0, 0.05))
    if running is None:
        running = workers.start(link_by_email=link_by_email)
    assert run is not None
    await run
    # Not ``System.quiet``: the handlings cut short by the restarts never settle, so its
    # counters cannot tell; what a user checks instead: every customer synced.
    await eventually(lambda: all_synced(api), timeout=60)

    theirs = await stripe_side(fake_stripe)
    carried = Counter(c["metadata"].get("twoway_id") for c in theirs)
    assert all(n == 1 for local, n in carried.items() if local), carried
    ours = await Customer.all()
    links = await ExternalLink.filter(
        provider="stripe", entity="customer", deleted=False, external_id__isnull=False
    )
    by_entity = {str(link.entity_id): str(link.external_id) for link in links}
    assert sorted(by_entity) == sorted(c.id for c in ours), (
        "every local customer linked, and only those",
        await history(set(by_entity) ^ {c.id for c in ours}),
    )
    assert len(set(by_entity.values())) == len(by_entity), "a Stripe customer linked twice"
    for customer in theirs:
        local = customer["metadata"].get("twoway_id")
        if local:
            assert by_entity.get(local) == customer["id"], "a duplicate carrying a local id"
    if link_by_email:
        emails = Counter(c["email"] for c in theirs)
        assert max(emails.values()) == 1, emails


async def history(entity_ids: set[str]) -> dict[str, object]:
    """What the database says of these entities: their links, outbox events and inbox rows."""
    found: dict[str, object] = {}
    for entity_id in entity_ids:
        found[entity_id] = {
            "links": await ExternalLink.filter(entity_id=entity_id).values(),
            "outbox": await OutboxEvent.filter(entity_id=entity_id).values_list(
                "routing_key", "created_at", "payload"
            ),
            "inbox": await InboxEntry.filter(entity_id=entity_id).values(),
        }
    return found
