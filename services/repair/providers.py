"""The providers the repair jobs serve: one line each, from the provider's own package (its
settings, and how to open its ``Sources``)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from services.runtime.repair.source import Sources
from services.runtime.settings import ServiceSettings
from services.salesforce_sync.repair.sources import open_sources as salesforce_sources
from services.salesforce_sync.settings import SalesforceSyncSettings
from services.stripe_sync.repair.sources import open_sources as stripe_sources
from services.stripe_sync.settings import StripeSyncSettings
from shared.kinds import Provider
from shared.registry import Registry


@dataclass(frozen=True)
class RepairProvider:
    settings: type[ServiceSettings]
    """The provider's worker settings (its credentials and budget), read from the env."""
    open: Callable[[Any], AbstractAsyncContextManager[Sources]]


REPAIR_PROVIDERS: Registry[Provider, RepairProvider] = Registry("repair providers")
REPAIR_PROVIDERS.register(Provider.STRIPE, RepairProvider(StripeSyncSettings, stripe_sources))
REPAIR_PROVIDERS.register(
    Provider.SALESFORCE, RepairProvider(SalesforceSyncSettings, salesforce_sources)
)


def provider_names() -> list[str]:
    return [p.value for p in REPAIR_PROVIDERS]
