"""Settings of the CRUD service (API, relay and its consumers)."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from services.runtime.settings import DEFAULT_METRICS_PORT, MetricsPort, ServiceSettings
from shared.topology import DEFAULT_RETRY_DELAYS_MS


class CrudSettings(ServiceSettings):
    relay_batch_size: int = Field(
        default=500, ge=1, le=5000, validation_alias=AliasChoices("TWOWAY_RELAY_BATCH_SIZE")
    )
    relay_poll_interval_s: float = Field(
        default=0.5, gt=0, le=1.0, validation_alias=AliasChoices("TWOWAY_RELAY_POLL_INTERVAL")
    )
    outbox_retention_hours: float = Field(
        default=168.0, gt=0, validation_alias=AliasChoices("TWOWAY_OUTBOX_RETENTION_HOURS")
    )
    retry_delays_ms: tuple[int, ...] = Field(
        default=DEFAULT_RETRY_DELAYS_MS, validation_alias=AliasChoices("TWOWAY_RETRY_DELAYS_MS")
    )
    metrics_port: MetricsPort = DEFAULT_METRICS_PORT
    """Used by the roles without the API (relay, consumers); the API serves ``/metrics``."""
