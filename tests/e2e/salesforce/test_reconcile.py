"""``twoway reconcile salesforce``: an org with 500 Contacts adopted, 150 of them already here.

What a user checks afterwards: every Contact linked to exactly one local customer (by External
ID, else by email), the others imported, nothing duplicated on either side, nothing written to
Salesforce, and a second run that changes nothing at all."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from services.crud.customers.models import Customer
from services.crud.inbound.models import InboxEntry
from services.crud.outbox.models import OutboxEvent
from services.crud.settings import CrudSettings
from services.runtime.links.models import ExternalLink
from services.runtime.repair.models import ReconcileRun
from services.salesforce_sync.settings import SalesforceSettings
from tests.e2e.salesforce.conftest import reconcile
from tests.fakes.salesforce_fake import SalesforceFake
from tests.repair.conftest import local_customers, reconcile_state
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb]

CONTACTS = 500
HERE = 150
BY_EXTERNAL_ID = 20


async def org_of(fake: SalesforceFake, by_external_id: int = 0) -> tuple[list[Customer], list[Any]]:
    """CONTACTS Contacts, the first HERE of them also customers here (by email); the first
    ``by_external_id`` carry their local id already (an earlier integration's)."""
    rows = [{"name": f"Person N{i}", "email": f"n{i}@example.com"} for i in range(CONTACTS)]
    here = await local_customers(rows[:HERE])
    contacts = []
    for i, row in enumerate(rows):
        fields: dict[str, Any] = {"FirstName": "Person", "LastName": f"N{i}", "Email": row["email"]}
        if i < by_external_id:
            fields[fake.external_id_field] = here[i].id
        contacts.append(await fake.create(**fields))
    return here, contacts


async def test_an_org_is_adopted_each_contact_once_and_a_rerun_changes_nothing(
    db: None,
    salesforce_fake: SalesforceFake,
    salesforce_settings: SalesforceSettings,
    settings: CrudSettings,
    tmp_path: Path,
) -> None:
    here, contacts = await org_of(salesforce_fake, by_external_id=BY_EXTERNAL_ID)
    requests_before = len(await salesforce_fake.requests())

    first = await reconcile(salesforce_settings, settings, tmp_path)

    assert first.code == 0, first.text
    assert first.report is not None
    counts = first.report["counts"]
    assert (counts["linked"], counts["imported"], counts["pushed"]) == (HERE, CONTACTS - HERE, 0)
    assert (counts["ambiguous"], counts["failed"], counts["in_step"]) == (0, 0, 0)
    links = await ExternalLink.filter(provider="salesforce", entity="customer", deleted=False)
    assert sorted(str(link.external_id) for link in links) == sorted(c["Id"] for c in contacts)
    assert len({link.entity_id for link in links}) == CONTACTS  # each local customer once
    by_external = {link.external_id: link.entity_id for link in links}
    for customer, contact in zip(here, contacts, strict=False):
        assert by_external[contact["Id"]] == customer.id  # kept its id, linked
    assert await Customer.all().count() == CONTACTS  # nothing duplicated here
    calls = (await salesforce_fake.requests())[requests_before:]
    reads = [r for r in calls if r["path"].startswith("/services/data/")]
    assert reads and all(r["method"] == "GET" for r in reads), "reconcile wrote to Salesforce"
    assert len(reads) <= 2 * (CONTACTS // 200 + 1) + 2  # pages of 200, listed twice
    assert await OutboxEvent.filter(routing_key="customer.created").count() == CONTACTS - HERE
    assert f"imported  {CONTACTS - HERE:>8}" in first.text

    before = await reconcile_state()
    again = await reconcile(salesforce_settings, settings, tmp_path)

    assert again.code == 0, again.text
    assert again.report is not None
    counts = again.report["counts"]
    assert (counts["linked"], counts["in_step"], counts["imported"]) == (CONTACTS, CONTACTS, 0)
    assert (counts["pushed"], counts["ambiguous"], counts["failed"]) == (0, 0, 0)
    assert await reconcile_state() == before  # not one row touched
    runs = await ReconcileRun.filter(provider="salesforce").order_by("id")
    assert [r.status for r in runs] == ["done", "done"]


async def test_a_dry_run_writes_nothing(
    db: None,
    salesforce_fake: SalesforceFake,
    salesforce_settings: SalesforceSettings,
    settings: CrudSettings,
    tmp_path: Path,
) -> None:
    await salesforce_fake.create(LastName="Lovelace", Email="ada@example.com")
    await local_customers([{"name": "Grace Hopper", "email": "grace@example.com"}])
    before = await reconcile_state()

    dry = await reconcile(salesforce_settings, settings, tmp_path, "--dry-run")

    assert dry.code == 0, dry.text
    assert dry.report is not None and dry.report["dry_run"] is True
    counts = dry.report["counts"]
    assert (counts["imported"], counts["pushed"]) == (1, 1)
    assert await reconcile_state() == before
    assert await ReconcileRun.filter(provider="salesforce").count() == 0


async def test_a_run_killed_midway_goes_on_with_resume_to_the_same_end(
    db: None,
    salesforce_fake: SalesforceFake,
    salesforce_settings: SalesforceSettings,
    settings: CrudSettings,
    tmp_path: Path,
) -> None:
    await org_of(salesforce_fake)
    env = {
        **os.environ,
        "TWOWAY_DATABASE_URL": settings.database_url.get_secret_value(),
        "SALESFORCE_LOGIN_URL": salesforce_fake.url,
        "SALESFORCE_CLIENT_ID": salesforce_fake.client_id,
        "SALESFORCE_CLIENT_SECRET": salesforce_fake.client_secret,
        # One request a second: slow enough to be killed between two pages.
        "TWOWAY_SALESFORCE_DAILY_BUDGET": "1",
        "TWOWAY_SALESFORCE_BUDGET_WINDOW_S": "1",
        "TWOWAY_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.cli", "reconcile", "salesforce",
        "--report", str(tmp_path / "killed.json"),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip

    async def checkpointed() -> ReconcileRun | None:
        run = await ReconcileRun.filter(provider="salesforce", status="running").first()
        return run if run is not None and run.cursor is not None else None

    try:
        run = await eventually(checkpointed, timeout=30)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        _, err = await process.communicate()
    assert run is not None, f"the run never got going: {err.decode()[-2000:]}"
    killed = await ReconcileRun.get(id=run.id)
    assert killed.status == "running" and killed.phase == "link"
    assert 0 < sum(killed.counts.values()) < CONTACTS

    resumed = await reconcile(salesforce_settings, settings, tmp_path, "--resume")

    assert resumed.code == 0, resumed.text
    assert resumed.report is not None and resumed.report["run"] == run.id
    counts = resumed.report["counts"]
    assert (counts["linked"], counts["imported"], counts["failed"]) == (HERE, CONTACTS - HERE, 0)
    links = await ExternalLink.filter(provider="salesforce", entity="customer", deleted=False)
    assert len({link.external_id for link in links}) == CONTACTS
    assert len({link.entity_id for link in links}) == CONTACTS
    assert await Customer.all().count() == CONTACTS
    # Each Contact went through the inbound path once: the killed page's were found there.
    assert await InboxEntry.filter(event_id__startswith=f"reconcile:{run.id}:").count() == CONTACTS
