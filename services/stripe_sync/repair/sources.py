"""Stripe's ``Sources``: its client on the deployment's rate budget (the jobs use its bulk
lane), listing objects and reading the Events API."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from services.runtime.repair.source import Sources
from services.stripe_sync.normalize import STRIPE_OBJECTS
from services.stripe_sync.ratelimit import stripe_budget
from services.stripe_sync.repair.events import StripeEvents
from services.stripe_sync.repair.objects import StripeObjects
from services.stripe_sync.settings import WORKER_NEEDS, StripeSettings
from services.stripe_sync.stripe.calls import Caller
from services.stripe_sync.stripe.client import build_client


@contextlib.asynccontextmanager
async def open_sources(settings: StripeSettings) -> AsyncIterator[Sources]:
    settings.require(*WORKER_NEEDS, provider="stripe")
    client, http_client = build_client(
        settings.api_key,
        settings.stripe_api_base,
        settings.stripe_timeout_s,
    )
    try:
        async with stripe_budget(settings) as budget:
            call = Caller(budget)
            yield Sources(
                StripeObjects(client, call),
                StripeEvents(client, call),
                tuple(STRIPE_OBJECTS.values()),
            )
    finally:
        await http_client.close_async()  # type: ignore[no-untyped-call]
