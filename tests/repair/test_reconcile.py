"""``twoway reconcile stripe``: an existing Stripe account adopted, on MariaDB and localstripe.

What a user checks afterwards: every Stripe customer linked to exactly one local customer, the
ones that were only at Stripe imported, nothing duplicated on either side, nothing written to
Stripe, and a second run that changes nothing at all.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.crud.customers.models import Customer
from services.crud.inbound.models import InboxEntry
from services.crud.outbox.models import OutboxEvent
from services.crud.settings import CrudSettings
from services.runtime.links.models import ExternalLink
from services.runtime.repair.models import ReconcileRun
from services.stripe_sync.settings import StripeSettings
from tests.fakes.stripe_fake import FakeStripe
from tests.repair.conftest import local_customers, reconcile, reconcile_state, stripe_customers
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.localstripe]


async def test_backfill_links_each_once_imports_the_rest_and_a_rerun_changes_nothing(
    db: None,
    fake_stripe: FakeStripe,
    sync_settings: StripeSettings,
    settings: CrudSettings,
    tmp_path: Path,
) -> None:
    at_stripe = stripe_customers(1000)
    here = await local_customers(at_stripe[::3][:300])
    assert len(here) == 300

    first = await reconcile(sync_settings, settings, tmp_path)

    assert first.code == 0, first.text
    assert first.report is not None
    counts = first.report["counts"]
    assert (counts["linked"], counts["imported"], counts["pushed"]) == (300, 700, 0)
    assert (counts["ambiguous"], counts["failed"], counts["in_step"]) == (0, 0, 0)
    links = await ExternalLink.filter(provider="stripe", entity="customer", deleted=False)
    assert sorted(str(link.external_id) for link in links) == sorted(c["id"] for c in at_stripe)
    assert len({link.entity_id for link in links}) == 1000  # each local customer linked once
    by_external = {link.external_id: link.entity_id for link in links}
    by_email = {c["email"]: c["id"] for c in at_stripe}
    for customer in here:  # the local ones kept their ids and are linked by email
        assert by_external[by_email[customer.email]] == customer.id
    assert await Customer.all().count() == 1000  # nothing duplicated here
    assert len([c for c in fake_stripe.api_calls() if c.method != "GET"]) == 0
    imported = await OutboxEvent.filter(routing_key="customer.created").count()
    assert imported == 700  # announced like any change from Stripe
    assert "imported       700" in first.text

    before = await reconcile_state()
    second = await reconcile(sync_settings, settings, tmp_path)

    assert second.code == 0, second.text
    assert second.report is not None
    assert second.report["counts"]["linked"] == 1000
    assert second.report["counts"]["in_step"] == 1000
    assert second.report["counts"]["imported"] == 0
    assert await reconcile_state() == before
    assert await ReconcileRun.filter(status="done").count() == 2


async def test_a_run_killed_midway_goes_on_with_resume_to_the_same_end(
    db: None,
    fake_stripe: FakeStripe,
    sync_settings: StripeSettings,
    settings: CrudSettings,
    tmp_path: Path,
) -> None:
    at_stripe = stripe_customers(500)
    await local_customers(at_stripe[:150])
    env = {
        **os.environ,
        "TWOWAY_DATABASE_URL": settings.database_url.get_secret_value(),
        "STRIPE_API_KEY": sync_settings.stripe_api_key.get_secret_value(),
        "STRIPE_API_BASE": fake_stripe.url,
        "STRIPE_RATE_LIMIT": "3",  # slow enough to be killed between two pages
        "TWOWAY_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.cli", "reconcile", "stripe",
        "--report", str(tmp_path / "killed.json"),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:

        async def checkpointed() -> ReconcileRun | None:
            run = await ReconcileRun.filter(status="running").first()
            return run if run is not None and run.cursor is not None else None

        run: ReconcileRun | None = await eventually(
            checkpointed, timeout=30, what="its first link page checkpointed"
        )
        assert run is not None
        process.send_signal(signal.SIGKILL)
    finally:
        if process.returncode is None:
            process.kill()
        await process.communicate()
    killed = await ReconcileRun.get(id=run.id)
    assert killed.status == "running" and killed.phase == "link"
    assert 0 < sum(killed.counts.values()) < 500

    resumed = await reconcile(sync_settings, settings, tmp_path, "--resume")

    assert resumed.code == 0, resumed.text
    assert resumed.report is not None and resumed.report["run"] == run.id
    counts = resumed.report["counts"]
    assert (counts["linked"], counts["imported"], counts["failed"]) == (150, 350, 0)
    links = await ExternalLink.filter(provider="stripe", entity="customer", deleted=False)
    assert sorted(str(link.external_id) for link in links) == sorted(c["id"] for c in at_stripe)
    assert len({link.entity_id for link in links}) == 500
    assert await Customer.all().count() == 500
    assert await OutboxEvent.filter(routing_key="customer.created").count() == 350
    # Each object went through the inbound path once: the killed page's were found there.
    assert await InboxEntry.filter(event_id__startswith=f"reconcile:{run.id}:").count() == 500


async def test_ambiguous_claims_are_left_alone_and_local_only_customers_pushed(
    system: Any,
    sync_settings: StripeSettings,
    settings: CrudSettings,
    tmp_path: Path,
) -> None:
    system.fake.webhook_mode = "capture"  # the account as it was before twoway heard of it
    (held,) = await local_customers([{"name": "Twin", "email": "twin@example.com"}])
    claimed = await local_customers([{"name": "Claimed", "email": "claimed@example.com"}])
    only_here = await local_customers(
        [{"name": f"Only here {i}", "email": f"only{i}@example.com"} for i in range(3)]
    )
    twins = [stripe_customers(1, prefix=f"twin{i}")[0] for i in range(2)]
    for twin in twins:  # two Stripe customers with the email of one local customer
        await _stripe_update(system.fake, twin["id"], email="twin@example.com")
    for i in range(2):  # two Stripe customers saying they are the same local customer
        stripe_customers(1, prefix=f"dup{i}", metadata={"twoway_id": claimed[0].id})
    (alone,) = stripe_customers(1, prefix="alone")
    system.fake.webhook_mode = "deliver"
    await system.quiet()
    before = await reconcile_state()

    dry = await reconcile(sync_settings, settings, tmp_path, "--dry-run")

    assert dry.code == 0, dry.text
    assert dry.report is not None
    expected = {"linked": 0, "imported": 1, "ambiguous": 4, "failed": 0, "pushed": 3, "held": 2}
    assert {k: dry.report["counts"][k] for k in expected} == expected
    assert await reconcile_state() == before  # a dry run writes nothing
    assert await ReconcileRun.all().count() == 0

    real = await reconcile(sync_settings, settings, tmp_path)

    assert real.report is not None
    assert {k: real.report["counts"][k] for k in expected} == expected
    ambiguous = {o["external_id"] for o in real.report["objects"] if o["verdict"] == "ambiguous"}
    assert twins[0]["id"] in ambiguous and twins[1]["id"] in ambiguous
    assert alone["id"] not in ambiguous
    await system.quiet()
    from localstripe.resources import store

    at_stripe = [o for k, o in store.items() if k.startswith("customer:")]
    by_local: dict[str, int] = {}
    for obj in at_stripe:
        local_id = (obj.metadata or {}).get("twoway_id")
        by_local[local_id] = by_local.get(local_id, 0) + 1
    for customer in only_here:  # pushed: created at Stripe once, through stripe-sync
        assert by_local.get(customer.id) == 1
    assert held.id not in by_local  # never pushed: a Stripe customer claims it
    assert by_local.get(claimed[0].id) == 2  # the two claimants, untouched
    links = await ExternalLink.filter(entity_id=held.id)
    assert links == []


async def _stripe_update(fake: FakeStripe, external_id: str, **params: Any) -> None:
    async with fake.client() as client:
        await client.v1.customers.update_async(external_id, params=params)  # type: ignore[arg-type]


async def test_products_are_adopted_the_same_way(
    db: None,
    fake_stripe: FakeStripe,
    sync_settings: StripeSettings,
    settings: CrudSettings,
    tmp_path: Path,
) -> None:
    """``--kind product``: products have no match key, so what Stripe has is imported, what
    only the app has is pushed, and a second run changes nothing."""
    from localstripe.resources import Product as StripeProduct

    from services.crud.products.models import Product

    made = [StripeProduct._api_create(name=f"Widget {i}") for i in range(30)]
    await Product.create(
        id="01a2290e-0000-7000-8000-000000000001",
        name="Only here",
        version=1,
        created_at=datetime.now(UTC),
        updated_at=datetime.now(UTC),
    )

    first = await reconcile(sync_settings, settings, tmp_path, "--kind", "product")
    assert first.code == 0, first.text
    assert first.report is not None
    counts = first.report["counts"]
    assert (counts["imported"], counts["pushed"], counts["failed"]) == (30, 1, 0)
    links = await ExternalLink.filter(provider="stripe", entity="product", deleted=False)
    assert sorted(str(link.external_id) for link in links) == sorted(p.id for p in made)
    assert await Product.all().count() == 31
    pushed = await OutboxEvent.filter(routing_key="product.updated").count()
    assert pushed == 1  # the one only here, through the outbox

    second = await reconcile(sync_settings, settings, tmp_path, "--kind", "product")
    assert second.report is not None
    assert second.report["counts"]["imported"] == 0
    assert second.report["counts"]["in_step"] == 30
