"""Salesforce in ``twoway dev``: the fake Salesforce as a child process, its Outbound Messages
sent to the gateway, unless the environment names a real org (``SALESFORCE_CLIENT_ID`` and
the rest of its set)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator

from services.runtime.providers import DevContext, DevRun
from services.runtime.settings import load
from services.salesforce_sync.fake.process import running_fake_salesforce
from services.salesforce_sync.settings import WORKER_NEEDS, SalesforceSettings


@contextlib.asynccontextmanager
async def dev(ctx: DevContext) -> AsyncIterator[DevRun]:
    real = load(SalesforceSettings, providers=ctx.providers)
    if all(getattr(real, name) is not None for name in WORKER_NEEDS):
        banner = [f"  Salesforce      the real org at {real.salesforce_login_url}", ""]
        yield DevRun(real, banner)
        return
    token = secrets.token_urlsafe(24)
    outbound_url = f"{ctx.gateway_url}/webhooks/salesforce/{token}"
    async with running_fake_salesforce(outbound_url=outbound_url) as fake:
        settings = load(
            SalesforceSettings,
            providers=ctx.providers,
            salesforce_login_url=fake.url,
            salesforce_client_id=fake.client_id,
            salesforce_client_secret=fake.client_secret,
            salesforce_org_id=fake.org_id,
            salesforce_webhook_token=token,
            salesforce_integration_user_id=fake.integration_user_id,
        )
        yield DevRun(settings, _fake_banner(fake.url, ctx.api_url))


def _fake_banner(url: str, api_url: str) -> list[str]:
    auth = '-H "Authorization: Bearer $TWOWAY_API_KEY"'
    return [
        f"  fake Salesforce {url}   (a fake, not Salesforce: Contacts, Outbound Messages)",
        "  Three systems: customers are Salesforce Contacts too.",
        f"  curl -s {url}/_fake/contacts   # the customer is a Contact; take its Id",
        f"  curl -s -XPATCH {url}/_fake/contacts/<Id> -H 'content-type: application/json' \\",
        '       -d \'{"Phone": "+1 555 0199"}\'   # a Salesforce user edits it',
        f"  curl -s {api_url}/customers {auth}   # the phone is here, and in Stripe",
        "  A failure, to see under Dead letters in the UI and replay from there:",
        f"  curl -s -XPOST {url}/_fake/faults -H 'content-type: application/json' \\",
        '       -d \'{"status": 400, "error_code": "INVALID_FIELD", "message": "refused"}\'',
        "  # then edit a customer in the UI: Salesforce refuses it once; replay it",
        "",
    ]
