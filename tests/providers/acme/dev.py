"""Acme in ``twoway dev``: the test service in-process, its webhooks sent to the gateway."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator

from services.runtime.providers import DevContext, DevRun
from services.runtime.settings import load
from tests.providers.acme.server import running_acme
from tests.providers.acme.settings import AcmeSettings


@contextlib.asynccontextmanager
async def dev(ctx: DevContext) -> AsyncIterator[DevRun]:
    token, secret = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    webhook_url = f"{ctx.gateway_url}/webhooks/acme"
    async with running_acme(token, secret, webhook_url) as acme:
        settings = load(
            AcmeSettings,
            providers=ctx.providers,
            acme_api_url=acme.url,
            acme_api_token=token,
            acme_webhook_secret=secret,
        )
        banner = [
            f"  Acme            {acme.url}   (a test-only CRM: contacts, signed webhooks)",
            f"  curl -s -XPOST {acme.url}/_admin/contacts -H 'content-type: application/json' \\",
            '       -d \'{"name": "Ada", "email": "ada@example.com"}\'   # a person at Acme',
            "",
        ]
        yield DevRun(settings, banner)
