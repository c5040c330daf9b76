"""Customers at Stripe (``/v1/customers``): the generic mapping, as it is."""

from __future__ import annotations

from services.stripe_sync.stripe.resource import StripeResource
from shared.kinds import EntityKind


class StripeCustomers(StripeResource):
    name = "customers"
    kind = EntityKind.CUSTOMER
