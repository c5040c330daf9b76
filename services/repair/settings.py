"""Settings of the repair jobs, besides the provider's (``StripeSettings``) and the conflict
rules (``CrudSettings``), which they read too."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from services.runtime.settings import METRICS_PORT_SETTING, ServiceSettings
from shared.topology import DEFAULT_RETRY_DELAYS_MS


class RepairSettings(ServiceSettings):
    catchup_interval_s: float = Field(
        default=600.0, gt=0, le=86_400, validation_alias=AliasChoices("TWOWAY_CATCHUP_INTERVAL")
    )
    """Seconds between two reads of the provider's event log (and one at start)."""
    audit_period_s: float = Field(
        default=86_400.0, gt=0, validation_alias=AliasChoices("TWOWAY_AUDIT_PERIOD")
    )
    """Seconds one audit pass over every object should take (pages are spread over it)."""
    audit_max_rate: float = Field(
        default=1.0, gt=0, le=100, validation_alias=AliasChoices("TWOWAY_AUDIT_MAX_RATE")
    )
    """Listing requests per second the audit sends at most (100 objects each)."""
    metrics_port: int | None = Field(
        default=None, ge=0, le=65535, validation_alias=AliasChoices(METRICS_PORT_SETTING)
    )
    """Unset: the provider's own default for its repair job (Stripe's 9106, Salesforce's 9108),
    so the repair jobs of two providers can share a host."""
    retry_delays_ms: tuple[int, ...] = Field(
        default=DEFAULT_RETRY_DELAYS_MS, validation_alias=AliasChoices("TWOWAY_RETRY_DELAYS_MS")
    )
