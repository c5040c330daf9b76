"""Acme's settings: one class, read by its worker, the gateway and the repair jobs."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, field_validator

from services.runtime.settings import MetricsPort, ProviderSettings

WORKER_NEEDS = ("acme_api_url", "acme_api_token")
WEBHOOK_NEEDS = ("acme_webhook_secret",)


class AcmeSettings(ProviderSettings):
    # The worker's and the repair jobs'.
    acme_api_url: str | None = Field(default=None, validation_alias=AliasChoices("ACME_API_URL"))
    acme_api_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ACME_API_TOKEN")
    )
    acme_rate_limit: int = Field(
        default=50, ge=1, le=10_000, validation_alias=AliasChoices("TWOWAY_ACME_RATE_LIMIT")
    )
    """Requests per second to Acme, for the whole deployment."""
    acme_timeout_s: float = Field(
        default=10.0, gt=0, le=120, validation_alias=AliasChoices("TWOWAY_ACME_TIMEOUT")
    )
    prefetch: int = Field(
        default=50, ge=1, le=1000, validation_alias=AliasChoices("TWOWAY_ACME_SYNC_PREFETCH")
    )
    db_pool_size: int = Field(
        default=10, ge=1, le=500, validation_alias=AliasChoices("TWOWAY_ACME_SYNC_DB_POOL")
    )
    metrics_port: MetricsPort = 9107  # the worker's own default: see MetricsPort

    # The gateway's.
    acme_webhook_secret: SecretStr | None = Field(
        default=None, min_length=8, validation_alias=AliasChoices("ACME_WEBHOOK_SECRET")
    )
    acme_webhook_tolerance_s: int = Field(
        default=300, ge=1, le=3600, validation_alias=AliasChoices("TWOWAY_ACME_WEBHOOK_TOLERANCE")
    )
    acme_api_user: str = Field(default="twoway", validation_alias=AliasChoices("ACME_API_USER"))
    """The user of twoway's API token (``changed_by`` of its writes): not taken back in."""

    @field_validator("acme_api_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")
