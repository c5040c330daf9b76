"""Upgrading a database made by an earlier twoway: ``twoway migrate``, then the whole stack on it.

One test per earlier schema: 5f874e2 (the first, five tables) and 3bc598a (the last made without
migrations). Each checks that no row and no value was lost, and that the stack works on the
upgraded data: an update reaches Stripe, a Stripe change comes back, the outbox rows left
unpublished are published and sent, and (3bc598a) a key made before still works.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import System
from tests.fakes.stripe_fake import FakeStripe
from tests.upgrade.conftest import Rows, Upgrade, twoway
from tests.upgrade.fill import ID

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq, pytest.mark.localstripe]

# What the upgrade rewrites on purpose, checked on its own below: the outbox payloads of the
# first event format, and the link table's columns whose meaning moved.
REWRITTEN = {("outbox", "payload"), ("stripe_links", "external_id")}
DROPPED = {
    ("stripe_links", "metadata_keys"),
    ("stripe_links", "from_provider"),
    ("stripe_links", "provider_email"),
}


def _kept(table: str, row: dict[str, Any], columns: set[str]) -> str:
    """The row's values of ``columns`` (the old ones) as they must have stayed."""
    kept = {c: v for c, v in row.items() if c in columns and (table, c) not in REWRITTEN | DROPPED}
    return json.dumps(kept, default=str, sort_keys=True)


def assert_nothing_lost(before: Rows, after: Rows) -> None:
    """Every old row is still there with every old value (new columns aside)."""
    for table, rows in before.items():
        assert table in after, f"table {table} is gone"
        columns = set(rows[0]) if rows else set()
        kept_after = {_kept(table, r, columns) for r in after[table]}
        for row in rows:
            kept = _kept(table, row, columns)
            assert kept in kept_after, f"{table}: a row changed or vanished: {kept}"
        assert len(after[table]) == len(rows), table


def assert_events_keep_their_meaning(before: Rows, after: Rows) -> None:
    """Every outbox row still says what it said: same snapshot, and the paths it was to send."""
    old = {r["id"]: json.loads(r["payload"]) for r in before["outbox"]}
    for row in after["outbox"]:
        event = json.loads(row["payload"])
        was = old[row["id"]]
        assert event["data"] == was["data"]
        if "changed" in was:
            assert event["changed"] == was["changed"]
        elif event["type"].endswith(("created", "updated")):
            assert set(event["changed"]) >= {"name", "email", "phone"}
        if event["origin"] != "app":
            assert event["origin"] in event["external_ids"]


def assert_link_meaning_carried(up: Upgrade) -> None:
    """5f874e2's worker columns, carried: what it wrote is per path now, and a customer it knew
    only as made in Stripe has its Stripe id."""
    links = {r["entity_id"]: r for r in up.after["stripe_links"]}
    if up.release == "5f874e2":
        assert json.loads(links[ID["c1"]]["field_versions"]) == {
            "email": 2,
            "metadata.plan": 2,
            "name": 2,
            "phone": 2,
        }
        assert links[ID["c3"]]["external_id"] == up.filled.stripe_ids["c3"]
    for row in up.before["stripe_links"]:
        if row["external_id"] is not None:
            assert links[row["entity_id"]]["external_id"] == row["external_id"]
    # ... and folded into the one record of each entity at each provider.
    one = {(r["entity_id"], r["provider"]): r for r in up.after["external_links"]}
    for worker_table, provider in (("stripe_links", "stripe"), ("salesforce_links", "salesforce")):
        for row in up.after.get(worker_table, []):
            folded = one[(row["entity_id"], provider)]
            assert folded["external_id"] == row["external_id"]
            assert json.loads(folded["field_versions"]) == json.loads(row["field_versions"])
            assert folded["handled_version"] == row["version"]


async def stripe_customers(fake: FakeStripe) -> list[dict[str, Any]]:
    async with fake.client() as client:
        listed = await client.v1.customers.list_async(params={"limit": 100})
    return [c.to_dict() for c in listed.data]


@pytest.mark.parametrize("old_database", ["5f874e2", "3bc598a"], indirect=True)
async def test_an_earlier_database_is_upgraded_and_runs(
    old_database: Upgrade, system: System, fake_stripe: FakeStripe
) -> None:
    up = old_database
    assert up.migrate.returncode == 0, up.migrate.stderr
    assert "applied twoway." in up.migrate.stdout
    assert_nothing_lost(up.before, up.after)
    assert_events_keep_their_meaning(up.before, up.after)
    assert_link_meaning_carried(up)

    # The outbox rows left unpublished are published and sent: c1's third version and c2.
    await system.quiet(timeout=30)
    by_email = {c["email"]: c for c in await stripe_customers(fake_stripe)}
    assert len(by_email) == 3, "one Stripe customer per email"
    assert by_email["ada@example.com"]["name"] == "Ada King"
    assert by_email["bo@example.com"]["metadata"]["twoway_id"] == ID["c2"]
    assert by_email["cy@example.com"]["id"] == up.filled.stripe_ids["c3"]

    # An update through the API reaches Stripe.
    key = up.filled.old_key
    if key is None:  # 5f874e2 had no API keys: the upgrade notes' one step for the user
        made = twoway("apikey", "create", "--scope", "write", "--name", "after upgrade")
        assert made.returncode == 0, made.stderr
        key = made.stdout.split()[-1] if made.stdout.split()[-1].startswith("tw_") else None
        assert key, made.stdout
    async with httpx.AsyncClient(
        base_url=str(system.api.base_url), headers={"Authorization": f"Bearer {key}"}
    ) as api:
        got = await api.get(f"/customers/{ID['c1']}")
        assert got.status_code == 200, got.text
        changed = await api.patch(
            f"/customers/{ID['c1']}",
            json={"phone": "+1 555 0199"},
            headers={"If-Match": got.headers["etag"]},
        )
        assert changed.status_code == 200, changed.text
        await system.quiet(timeout=30)
        async with fake_stripe.client() as client:
            ada = await client.v1.customers.retrieve_async(up.filled.stripe_ids["c1"])
        assert ada.phone == "+1 555 0199"

        # A change made in Stripe comes back.
        async with fake_stripe.client() as client:
            await client.v1.customers.update_async(
                up.filled.stripe_ids["c3"], params={"name": "Denton True Young"}
            )
        await system.quiet(timeout=30)
        cy = await api.get(f"/customers/{ID['c3']}")
        assert cy.json()["name"] == "Denton True Young"

        if up.release == "3bc598a":
            product = await api.get(f"/products/{ID['p1']}")
            assert product.status_code == 200
            assert product.json()["description"] == "A fine widget"
            conflicts = await api.get("/conflicts", params={"entity_id": ID["c1"]})
            assert [c["field"] for c in conflicts.json()["data"]] == ["name"]
