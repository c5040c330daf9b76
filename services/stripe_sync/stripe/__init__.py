"""The Stripe provider: client, error mapping, calls through the budget, and one resource per
entity kind (``STRIPE_RESOURCES``: one line per kind)."""

from __future__ import annotations

from collections.abc import Callable

import stripe

from services.stripe_sync.stripe.calls import Caller
from services.stripe_sync.stripe.customers import StripeCustomers
from services.stripe_sync.stripe.products import StripeProducts
from services.stripe_sync.stripe.resource import StripeResource
from shared.kinds import EntityKind
from shared.registry import Registry

ResourceFactory = Callable[[stripe.StripeClient, Caller], StripeResource]

STRIPE_RESOURCES: Registry[EntityKind, ResourceFactory] = Registry("Stripe resources")
STRIPE_RESOURCES.register(EntityKind.CUSTOMER, StripeCustomers)
STRIPE_RESOURCES.register(EntityKind.PRODUCT, StripeProducts)
