"""The Stripe worker's own record of what it applied at Stripe (``stripe_links``)."""

from __future__ import annotations

from services.runtime.outbound.links import ProviderLink


class StripeLink(ProviderLink):
    class Meta:
        table = "stripe_links"
        unique_together = (("entity", "entity_id"),)


MODELS_MODULE = __name__
