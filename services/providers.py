"""The providers twoway syncs with: one registry line per provider package.

Imported on first use by ``services.runtime.providers.plugins()``; a provider's package
holds everything else of it (see ``ProviderPlugin``).
"""

from __future__ import annotations

from services.runtime.providers import register_package

register_package("services.stripe_sync.plugin")
register_package("services.salesforce_sync.plugin")
