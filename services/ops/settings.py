"""Settings of the operators' commands (``twoway dlq``)."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from services.runtime.settings import ServiceSettings
from shared.topology import DEFAULT_RETRY_DELAYS_MS


class OpsSettings(ServiceSettings):
    # The commands connect with the services' own topology, so they must declare the same
    # retry tiers: other tiers would only add unused wait queues.
    retry_delays_ms: tuple[int, ...] = Field(
        default=DEFAULT_RETRY_DELAYS_MS, validation_alias=AliasChoices("TWOWAY_RETRY_DELAYS_MS")
    )
