"""Settings of the webhook gateway, read once at start-up.

Each enabled provider's own settings (its secrets) are its settings class's, read beside
these: see ``services.webhook_gateway.app.provider_settings``.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field

from services.runtime.settings import HttpServiceSettings, MetricsPort


class GatewaySettings(HttpServiceSettings):
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1, validation_alias=AliasChoices("TWOWAY_WEBHOOK_MAX_BODY_BYTES")
    )
    publish_timeout_s: float = Field(
        default=5.0, gt=0, validation_alias=AliasChoices("TWOWAY_WEBHOOK_PUBLISH_TIMEOUT_S")
    )
    metrics_port: MetricsPort = 9103  # this role's own default: see MetricsPort
    """``/metrics`` is served here, never on the public webhook port."""
