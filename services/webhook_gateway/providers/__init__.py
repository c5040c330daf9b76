"""The providers whose webhooks the gateway serves: one registry line per provider.

Each enabled one (``TWOWAY_PROVIDERS``) gets its route: ``POST /webhooks/stripe``,
``POST /webhooks/salesforce/{token}``.
"""

from __future__ import annotations

from collections.abc import Callable

from services.webhook_gateway.providers import salesforce, stripe
from services.webhook_gateway.providers.base import WebhookProvider
from services.webhook_gateway.settings import GatewaySettings
from shared.kinds import Provider
from shared.registry import Registry

ProviderFactory = Callable[[GatewaySettings], WebhookProvider]

PROVIDERS: Registry[Provider, ProviderFactory] = Registry("webhook providers")
PROVIDERS.register(Provider.STRIPE, stripe.from_settings)
PROVIDERS.register(Provider.SALESFORCE, salesforce.from_settings)
