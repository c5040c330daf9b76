"""Stripe in ``twoway dev``: localstripe as a child process, unless ``STRIPE_API_KEY`` names a
real account (then its webhooks come through ``stripe listen``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from services.runtime.providers import DevContext, DevRun
from services.runtime.settings import ConfigError, load
from services.stripe_sync.fake import running_fake_stripe
from services.stripe_sync.settings import StripeSettings


def webhook_url(ctx: DevContext) -> str:
    return f"{ctx.gateway_url}/webhooks/stripe"


@contextlib.asynccontextmanager
async def dev(ctx: DevContext) -> AsyncIterator[DevRun]:
    settings = load(StripeSettings, providers=ctx.providers)
    if settings.stripe_api_key is not None:
        if settings.stripe_webhook_secret is None:
            raise ConfigError(
                "STRIPE_API_KEY is set but STRIPE_WEBHOOK_SECRET is not: run "
                f"`stripe listen --forward-to {webhook_url(ctx)}` and set the secret it prints"
            )
        yield DevRun(settings, _real_banner(ctx))
        return
    async with running_fake_stripe(webhook_url(ctx)) as fake:
        settings = load(
            StripeSettings,
            providers=ctx.providers,
            stripe_api_key=fake.api_key,
            stripe_api_base=fake.url,
            stripe_webhook_secret=fake.webhook_secret,
            stripe_mode="test",
        )
        yield DevRun(settings, _fake_banner(fake.url, fake.api_key))


def _real_banner(ctx: DevContext) -> list[str]:
    return [
        "  Stripe          the real API (STRIPE_API_KEY)",
        f"  forward webhooks with: stripe listen --forward-to {webhook_url(ctx)}",
        "",
    ]


def _fake_banner(url: str, key: str) -> list[str]:
    return [
        f"  fake Stripe     {url}   (localstripe, API key {key})",
        f"  curl -s {url}/v1/customers -u {key}:   # the customer is in Stripe",
        f"  curl -s {url}/v1/customers/<cus_id> -u {key}: -d name=Grace   # edit it there",
        f"  curl -s {url}/v1/products -u {key}:   # products too",
        "",
    ]
