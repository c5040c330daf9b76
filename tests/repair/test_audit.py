"""The drift audit: a change made at Stripe behind twoway's back (no webhook) is found and
repaired by the merge's rules; ``twoway drift report`` lists it until then."""

from __future__ import annotations

import argparse
import io
from typing import Any

import pytest
from prometheus_client import REGISTRY

from services.crud.repair.target import CrudTarget
from services.crud.settings import CrudSettings
from services.crud.sync.models import ConflictRecord
from services.crud.sync.rules import ConflictRule, ConflictRules
from services.repair import drift_command
from services.repair.wiring import app_side, provider_side
from services.runtime.repair.audit import Audit
from services.stripe_sync.names import STRIPE
from services.stripe_sync.settings import StripeSettings
from shared.kinds import EntityKind
from tests.e2e.conftest import System, stripe_state
from tests.webhook_gateway.test_stripe_webhooks import STRIPE_SDK_WARNING

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.rabbitmq,
    pytest.mark.localstripe,
    pytest.mark.filterwarnings(STRIPE_SDK_WARNING),
]

LABELS = {"provider": "stripe", "entity": "customer"}


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name, LABELS) or 0.0


async def synced_customer(system: System, name: str, email: str) -> tuple[str, str]:
    created = await system.api.post("/customers", json={"name": name, "email": email})
    customer_id = created.json()["id"]
    await system.quiet()
    customer = (await system.api.get(f"/customers/{customer_id}")).json()
    return customer_id, customer["sync"]["stripe"]["external_id"]


async def drift_report(sync: StripeSettings, crud: CrudSettings) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    drift_command.add_arguments(parser)
    out = io.StringIO()
    code = await drift_command.main(parser.parse_args(["report"]), sync, crud, out, False)
    return code, out.getvalue()


async def audit_pass(sync: StripeSettings, target: CrudTarget) -> None:
    async with provider_side(STRIPE, sync) as stripe:
        audit = Audit(stripe.objects, target, EntityKind.CUSTOMER, period_s=1, max_rate=100)
        await audit.step()


async def test_a_change_behind_twoways_back_is_found_and_repaired(
    system: System, sync_settings: StripeSettings, settings: CrudSettings
) -> None:
    ada, ada_external = await synced_customer(system, "Ada", "ada@example.com")
    system.fake.webhook_mode = "capture"  # no webhook tells twoway about what follows
    async with system.fake.client() as stripe:
        params: Any = {"name": "Ada Lovelace", "metadata": {"team": "math"}}
        await stripe.v1.customers.update_async(ada_external, params=params)
    found, repaired = sample("twoway_drift_found_total"), sample("twoway_drift_repaired_total")

    code, text = await drift_report(sync_settings, settings)

    assert code == 3, text
    assert f'drift    {ada_external} {ada} name: app="Ada" provider="Ada Lovelace"' in text
    assert f'drift    {ada_external} {ada} metadata.team: app=null provider="math"' in text

    await audit_pass(sync_settings, app_side(settings, STRIPE))
    await system.quiet()

    customer = (await system.api.get(f"/customers/{ada}")).json()
    assert (customer["name"], customer["metadata"]) == ("Ada Lovelace", {"team": "math"})
    assert customer["version"] == 2 and customer["sync"]["stripe"]["status"] == "synced"
    assert sample("twoway_drift_found_total") == found + 1
    assert sample("twoway_drift_repaired_total") == repaired + 1
    assert sample("twoway_drift_objects") == 0
    assert (await drift_report(sync_settings, settings))[0] == 0
    # Nothing left: no second repair.
    await audit_pass(sync_settings, app_side(settings, STRIPE))
    assert sample("twoway_drift_found_total") == found + 1


async def test_a_drift_that_conflicts_with_a_local_change_follows_the_rule(
    system: System, sync_settings: StripeSettings, settings: CrudSettings
) -> None:
    ada, ada_external = await synced_customer(system, "Ada", "ada@example.com")
    system.fake.webhook_mode = "capture"
    system.fake.hold()  # the app's own change is still on its way to Stripe
    patched = await system.api.patch(f"/customers/{ada}", json={"name": "Ada (app)"})
    assert patched.status_code == 200
    await system.fake.held(1)
    async with system.fake.client() as stripe:
        await stripe.v1.customers.update_async(ada_external, params={"name": "Ada (dashboard)"})

    rules = ConflictRules(per_kind={"customer": ConflictRule.APP})
    await audit_pass(sync_settings, CrudTarget(STRIPE, rules))
    system.fake.release()
    system.fake.webhook_mode = "deliver"
    await system.quiet()

    customer = (await system.api.get(f"/customers/{ada}")).json()
    assert customer["name"] == "Ada (app)"
    assert stripe_state(ada_external)["name"] == "Ada (app)"
    conflicts = await ConflictRecord.filter(entity_id=ada)
    assert [(c.path, c.winner) for c in conflicts] == [("name", "app")]
