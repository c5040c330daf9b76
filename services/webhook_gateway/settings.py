"""Settings of the webhook gateway, read once at start-up."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr

from services.runtime.settings import ServiceSettings
from shared.topology import DEFAULT_RETRY_DELAYS_MS


class GatewaySettings(ServiceSettings):
    stripe_webhook_secret: SecretStr = Field(
        validation_alias=AliasChoices("STRIPE_WEBHOOK_SECRET", "WEBHOOK_SECRET"), min_length=1
    )
    webhook_tolerance_s: int = Field(
        default=300, ge=1, validation_alias=AliasChoices("TWOWAY_WEBHOOK_TOLERANCE_S")
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1, validation_alias=AliasChoices("TWOWAY_WEBHOOK_MAX_BODY_BYTES")
    )
    publish_timeout_s: float = Field(
        default=5.0, gt=0, validation_alias=AliasChoices("TWOWAY_WEBHOOK_PUBLISH_TIMEOUT_S")
    )
    # The gateway declares the whole topology like every service; its retry tiers must match.
    retry_delays_ms: tuple[int, ...] = Field(
        default=DEFAULT_RETRY_DELAYS_MS, validation_alias=AliasChoices("TWOWAY_RETRY_DELAYS_MS")
    )
