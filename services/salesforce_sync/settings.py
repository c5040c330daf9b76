"""Settings of the salesforce_sync worker, read once at start-up."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, field_validator

from services.runtime.settings import MetricsPort, ServiceSettings


class SalesforceSyncSettings(ServiceSettings):
    salesforce_login_url: str = Field(validation_alias=AliasChoices("SALESFORCE_LOGIN_URL"))
    """Where tokens come from: ``https://login.salesforce.com``, ``https://test.salesforce.com``,
    or the org's My Domain URL (a local fake in tests and ``twoway dev``)."""
    salesforce_client_id: str = Field(validation_alias=AliasChoices("SALESFORCE_CLIENT_ID"))
    salesforce_client_secret: SecretStr = Field(
        validation_alias=AliasChoices("SALESFORCE_CLIENT_SECRET")
    )
    salesforce_api_version: str = Field(
        default="60.0",
        pattern=r"^[0-9]{2}\.0$",
        validation_alias=AliasChoices("SALESFORCE_API_VERSION"),
    )
    salesforce_external_id_field: str = Field(
        default="Twoway_Id__c",
        pattern=r"^[A-Za-z][A-Za-z0-9_]*__c$",
        validation_alias=AliasChoices("TWOWAY_SALESFORCE_EXTERNAL_ID_FIELD"),
    )
    """The Contact's External ID field holding the local id (custom, unique)."""
    daily_budget: int = Field(
        default=10_000,
        ge=1,
        le=5_000_000,
        validation_alias=AliasChoices("TWOWAY_SALESFORCE_DAILY_BUDGET"),
    )
    """Requests twoway may make in any rolling 24 hours, for the whole deployment: keep it
    under the org's allocation (Developer Edition: 15,000), leaving room for other clients."""
    budget_window_s: float = Field(
        default=86_400.0, gt=0, validation_alias=AliasChoices("TWOWAY_SALESFORCE_BUDGET_WINDOW_S")
    )
    salesforce_timeout_s: float = Field(
        default=20.0, gt=0, le=120, validation_alias=AliasChoices("TWOWAY_SALESFORCE_TIMEOUT")
    )
    prefetch: int = Field(
        default=50, ge=1, le=1000, validation_alias=AliasChoices("TWOWAY_SALESFORCE_SYNC_PREFETCH")
    )
    db_pool_size: int = Field(
        default=30, ge=1, le=500, validation_alias=AliasChoices("TWOWAY_SALESFORCE_SYNC_DB_POOL")
    )
    metrics_port: MetricsPort = 9105  # this role's own default: see MetricsPort

    @field_validator("salesforce_login_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")
