"""The drift audit for Salesforce: a change made in Salesforce that no Outbound Message told
the app about is found, listed by ``twoway drift report salesforce``, and repaired."""

from __future__ import annotations

import pytest

from services.crud.settings import CrudSettings
from services.repair.wiring import app_side, provider_side
from services.runtime.repair.audit import Audit
from services.salesforce_sync.names import SALESFORCE
from services.salesforce_sync.settings import SalesforceSettings
from shared.kinds import EntityKind
from tests.e2e.conftest import System
from tests.e2e.salesforce.conftest import drift_report
from tests.e2e.test_three_parties import assert_everywhere_equal, linked_customer, local
from tests.webhook_gateway.test_stripe_webhooks import STRIPE_SDK_WARNING

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.rabbitmq,
    pytest.mark.localstripe,
    pytest.mark.filterwarnings(STRIPE_SDK_WARNING),
]


async def test_a_change_no_message_told_of_is_found_and_repaired(
    three: System, settings: CrudSettings, salesforce_settings: SalesforceSettings
) -> None:
    assert three.salesforce is not None
    customer = await linked_customer(three, metadata={"team": "math"})
    code, text = await drift_report(salesforce_settings, settings)
    assert (code, text.splitlines()[0]) == (0, "1 customer objects at salesforce, 0 not linked "
                                            "here, 0 differences"), text  # fmt: skip
    await three.salesforce.drop_outbound()  # no Outbound Message for what follows
    contact_id = customer["sync"]["salesforce"]["external_id"]
    await three.salesforce.edit(contact_id, Phone="+1 555 0123")

    code, text = await drift_report(salesforce_settings, settings)

    assert code == 3, text
    line = f'drift    {contact_id} {customer["id"]} phone: app=null provider="+1 555 0123"'
    assert line in text

    async with provider_side(SALESFORCE, salesforce_settings) as sources:
        target = app_side(settings, SALESFORCE)
        audit = Audit(sources.objects, target, EntityKind.CUSTOMER, period_s=1, max_rate=100)
        await audit.step()
    await three.quiet()

    here = await local(three, customer["id"])
    assert (here["phone"], here["version"]) == ("+1 555 0123", 2)
    assert here["metadata"] == {"team": "math"}  # a Contact holds no metadata: left alone
    await assert_everywhere_equal(three, here)  # repaired at Stripe too
    assert (await drift_report(salesforce_settings, settings))[0] == 0
