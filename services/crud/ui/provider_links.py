"""How each provider links an object's id to its own page: one registry line per provider.

The crud service holds no provider keys and calls no provider: a link is built from settings.
"""

from __future__ import annotations

from collections.abc import Callable

from services.crud.settings import CrudSettings
from shared.kinds import EntityKind, Provider
from shared.registry import Registry

LinkBuilder = Callable[[CrudSettings, EntityKind, str], str | None]


def stripe_dashboard(settings: CrudSettings, kind: EntityKind, external_id: str) -> str | None:
    if settings.ui_stripe_dashboard == "off":
        return None
    mode = "/test" if settings.ui_stripe_dashboard == "test" else ""
    return f"https://dashboard.stripe.com{mode}/{kind.value}s/{external_id}"


def salesforce_record(settings: CrudSettings, kind: EntityKind, external_id: str) -> str | None:
    base = settings.ui_salesforce_url.rstrip("/")
    return f"{base}/{external_id}" if base else None


PROVIDER_LINKS: Registry[Provider, LinkBuilder] = Registry("provider links")
PROVIDER_LINKS.register(Provider.STRIPE, stripe_dashboard)
PROVIDER_LINKS.register(Provider.SALESFORCE, salesforce_record)


def link_to(
    settings: CrudSettings, provider: Provider, kind: EntityKind, external_id: str | None
) -> str | None:
    if not external_id or provider not in PROVIDER_LINKS:
        return None
    return PROVIDER_LINKS[provider](settings, kind, external_id)
