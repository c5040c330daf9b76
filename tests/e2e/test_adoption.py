"""Adopting a Stripe account that already holds customers, in every order against the worker.

The account holds 40 customers; the app creates 10 through the API, 5 of them with an email
the account already has. ``twoway reconcile stripe`` runs before ``stripe-sync`` starts, while
it runs, or after it handled part of the backlog. Whatever the order: 45 customers on each
side, each email once, each local customer linked to exactly one Stripe customer and that one
to no other, all synced.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.crud.app import Roles
from services.crud.customers.models import Customer
from services.crud.settings import CrudSettings
from services.runtime.links.models import ExternalLink
from services.runtime.repair.models import ReconcileRun
from services.stripe_sync.settings import StripeSettings
from tests.conftest import WEBHOOK_SECRET, Broker, crud_with
from tests.e2e.conftest import System
from tests.fakes.stripe_fake import FakeStripe
from tests.repair.conftest import reconcile, stripe_customers
from tests.stripe_sync.conftest import Workers
from tests.waiting import eventually
from tests.webhook_gateway.events import webhook_url

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq, pytest.mark.localstripe]

AT_STRIPE = 40


@pytest.fixture
async def api(
    settings: CrudSettings, db: None, broker: Broker, gateway: httpx.AsyncClient
) -> AsyncIterator[httpx.AsyncClient]:
    """CRUD with every role and the gateway; Stripe's webhooks are not pointed at it yet."""
    async with crud_with(settings, Roles(own_database=False, inbound=True, sync_results=True)) as c:
        c.gateway = gateway  # type: ignore[attr-defined]
        yield c


@pytest.fixture
async def workers(sync_settings: StripeSettings, broker: Broker) -> AsyncIterator[Workers]:
    """Stopped before the broker fixture's end, which waits for their consumers to be gone."""
    pool = Workers(sync_settings)
    try:
        yield pool
    finally:
        await pool.stop_all()


async def existing_account(api: httpx.AsyncClient, fake: FakeStripe) -> list[dict[str, Any]]:
    """The account as it was before twoway: its customers made with no one listening, then
    its webhooks pointed at the gateway."""
    made = stripe_customers(AT_STRIPE)
    await fake.settle()  # their customer.created events went nowhere
    await fake.register_webhook(webhook_url(api.gateway), WEBHOOK_SECRET)  # type: ignore[attr-defined]
    return made


async def app_creates(api: httpx.AsyncClient, emails: list[str]) -> None:
    for n, email in enumerate(emails):
        # A phone and metadata the account's customers do not have: a link must carry them over.
        made = await api.post(
            "/customers",
            json={
                "name": f"App customer {n}",
                "email": email,
                "phone": f"+44 20 7946 {n:04d}",
                "metadata": {"plan": "gold"},
            },
        )
        assert made.status_code == 201, made.text


def existing(numbers: range) -> list[str]:
    return [f"c{i}@example.com" for i in numbers]


def new(numbers: range) -> list[str]:
    return [f"new{i}@example.com" for i in numbers]


async def stripe_side(fake: FakeStripe) -> list[dict[str, Any]]:
    async with fake.client() as client:
        listed = await client.v1.customers.list_async(params={"limit": 100})
    return [c.to_dict() for c in listed.data]


async def assert_one_truth(api: httpx.AsyncClient, fake: FakeStripe, expected: int) -> None:
    theirs = await stripe_side(fake)
    assert len(theirs) == expected
    assert len({c["email"] for c in theirs}) == expected, "an email twice at Stripe"
    ours = await Customer.all()
    assert len(ours) == expected
    assert len({c.email for c in ours}) == expected
    links = await ExternalLink.filter(
        provider="stripe", entity="customer", deleted=False, external_id__isnull=False
    )
    assert sorted(str(link.entity_id) for link in links) == sorted(c.id for c in ours)
    assert sorted(str(link.external_id) for link in links) == sorted(c["id"] for c in theirs)
    at_stripe = {c["id"]: c for c in theirs}
    here = {c.id: c for c in ours}
    for link in links:
        there, local = at_stripe[str(link.external_id)], here[str(link.entity_id)]
        # One truth: every synced field holds the same value on both sides.
        assert (there["email"], there["name"], there["phone"]) == (
            local.email,
            local.name,
            local.phone,
        ), link.external_id
        app_keys = {k: v for k, v in there["metadata"].items() if k in local.metadata}
        assert app_keys == local.metadata, link.external_id
    for status in ("pending", "failed"):
        listed = await api.get("/customers", params={"sync_status": status, "limit": 100})
        assert listed.json()["data"] == [], status


async def all_synced(client: httpx.AsyncClient) -> bool:
    for status in ("pending", "failed"):
        listed = await client.get("/customers", params={"sync_status": status, "limit": 100})
        if listed.json()["data"]:
            return False
    return True


def system(api: httpx.AsyncClient, fake: FakeStripe, broker: Broker) -> System:
    return System(api, fake, broker)


async def test_reconcile_before_the_worker_starts(
    api: httpx.AsyncClient,
    fake_stripe: FakeStripe,
    broker: Broker,
    workers: Workers,
    sync_settings: StripeSettings,
    settings: CrudSettings,
    tmp_path: Path,
) -> None:
    """The issue's case: the creates wait in the queue while reconcile links by email."""
    moving = system(api, fake_stripe, broker)  # its counters start before any consumer
    await existing_account(api, fake_stripe)
    await app_creates(api, existing(range(5)) + new(range(5)))

    adopted = await reconcile(sync_settings, settings, tmp_path)
    assert adopted.code == 0, adopted.text
    assert adopted.report is not None
    counts = adopted.report["counts"]
    assert (counts["linked"], counts["imported"], counts["ambiguous"]) == (5, 35, 0)

    workers.start()
    await moving.quiet(timeout=60)
    await assert_one_truth(api, fake_stripe, 45)


async def test_reconcile_while_the_worker_runs_and_creates_arrive(
    api: httpx.AsyncClient,
    fake_stripe: FakeStripe,
    broker: Broker,
    workers: Workers,
    sync_settings: StripeSettings,
    settings: CrudSettings,
    tmp_path: Path,
) -> None:
    """Reconcile has started (its listing held at Stripe) when the app creates the ten; the
    worker handles them during the run."""
    moving = system(api, fake_stripe, broker)  # its counters start before any consumer
    await existing_account(api, fake_stripe)
    workers.start()
    fake_stripe.hold_listings()
    run = asyncio.ensure_future(reconcile(sync_settings, settings, tmp_path))
    try:
        await eventually(lambda: _held(fake_stripe))
        await eventually(lambda: ReconcileRun.filter(status="running").exists())
        await app_creates(api, existing(range(5)) + new(range(5)))
        await eventually(lambda: _linked_here(10), timeout=30)
    finally:
        fake_stripe.release_listings()
    adopted = await run
    assert adopted.code == 0, adopted.text
    await moving.quiet(timeout=60)
    await assert_one_truth(api, fake_stripe, 45)


@pytest.mark.parametrize(
    ("link_by_email", "handled_first"),
    [
        # Default settings: the worker had handled the new customers' creates.
        (False, new(range(5))),
        # TWOWAY_STRIPE_LINK_BY_EMAIL: it had handled some of each, before any reconcile.
        (True, existing(range(3)) + new(range(2))),
    ],
)
async def test_reconcile_after_part_of_the_backlog_was_handled(
    api: httpx.AsyncClient,
    fake_stripe: FakeStripe,
    broker: Broker,
    workers: Workers,
    sync_settings: StripeSettings,
    settings: CrudSettings,
    tmp_path: Path,
    link_by_email: bool,
    handled_first: list[str],
) -> None:
    moving = system(api, fake_stripe, broker)  # its counters start before any consumer
    await existing_account(api, fake_stripe)
    await app_creates(api, handled_first)
    first = workers.start(link_by_email=link_by_email)
    await eventually(lambda: _linked_here(len(handled_first)), timeout=30)
    await moving.quiet(timeout=30)
    await workers.stop(first)
    rest = [e for e in existing(range(5)) + new(range(5)) if e not in handled_first]
    await app_creates(api, rest)

    adopted = await reconcile(sync_settings, settings, tmp_path)
    assert adopted.code == 0, adopted.text

    workers.start(link_by_email=link_by_email)
    # Not ``System.quiet``: the first worker's stop leaves handlings its counters never see
    # settle; what a user checks instead: every customer synced.
    await eventually(lambda: all_synced(api), timeout=60)
    await assert_one_truth(api, fake_stripe, 45)


async def _held(fake: FakeStripe) -> bool:
    return fake.listings_holding > 0


async def _linked_here(count: int) -> bool:
    linked = await ExternalLink.filter(
        provider="stripe", entity="customer", external_id__isnull=False
    ).count()
    return linked >= count
