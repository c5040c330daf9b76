"""Settings of the operators' commands (``twoway dlq``)."""

from __future__ import annotations

from services.runtime.settings import ServiceSettings


class OpsSettings(ServiceSettings):
    """The commands connect with the services' own topology (retry tiers included), so they
    take the same settings as every service and nothing more."""
