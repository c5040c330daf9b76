"""``StripeObjects``: the ``ObjectSource`` of Stripe, one listing per entity kind (``KINDS``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import stripe

from services.runtime.repair.source import Page
from services.stripe_sync.repair import customers
from services.stripe_sync.stripe.calls import Caller
from shared.kinds import EntityKind, Provider
from shared.registry import Registry

Lister = Callable[[stripe.StripeClient, Caller, str | None], Awaitable[Page]]

KINDS: Registry[EntityKind, Lister] = Registry("repair kinds (stripe)")
KINDS.register(EntityKind.CUSTOMER, customers.page)


class StripeObjects:
    provider = Provider.STRIPE

    def __init__(self, client: stripe.StripeClient, call: Caller) -> None:
        self.client = client
        self.call = call

    async def page(self, kind: EntityKind, after: str | None) -> Page:
        return await KINDS[kind](self.client, self.call, after)
