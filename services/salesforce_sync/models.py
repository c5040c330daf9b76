"""The Salesforce worker's own record of what it applied there (``salesforce_links``)."""

from __future__ import annotations

from services.runtime.outbound.links import ProviderLink


class SalesforceLink(ProviderLink):
    class Meta:
        table = "salesforce_links"
        unique_together = (("entity", "entity_id"),)


MODELS_MODULE = __name__
