"""Salesforce's settings: one class, read by its worker, the gateway and the repair jobs."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.runtime.settings import MetricsPort, ProviderSettings

WORKER_NEEDS = ("salesforce_login_url", "salesforce_client_id", "salesforce_client_secret")
WEBHOOK_NEEDS = ("salesforce_org_id", "salesforce_webhook_token")


class SalesforceSettings(ProviderSettings):
    # The worker's and the repair jobs'.
    salesforce_login_url: str | None = Field(
        default=None, validation_alias=AliasChoices("SALESFORCE_LOGIN_URL")
    )
    """Where tokens come from: ``https://login.salesforce.com``, ``https://test.salesforce.com``,
    or the org's My Domain URL (a local fake in tests and ``twoway dev``)."""
    salesforce_client_id: str | None = Field(
        default=None, validation_alias=AliasChoices("SALESFORCE_CLIENT_ID")
    )
    salesforce_client_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SALESFORCE_CLIENT_SECRET")
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
    metrics_port: MetricsPort = 9105  # the worker's own default: see MetricsPort

    # The gateway's.
    salesforce_org_id: str | None = Field(
        default=None,
        pattern=r"^00D[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$",
        validation_alias=AliasChoices("SALESFORCE_ORG_ID"),
    )
    """The org whose Outbound Messages are taken; others are refused."""
    salesforce_webhook_token: SecretStr | None = Field(
        default=None,
        min_length=16,
        validation_alias=AliasChoices("TWOWAY_SALESFORCE_WEBHOOK_TOKEN"),
    )
    """The secret in the Outbound Message's endpoint URL (``.../webhooks/salesforce/<token>``)."""
    salesforce_integration_user_id: str | None = Field(
        default=None, validation_alias=AliasChoices("SALESFORCE_INTEGRATION_USER_ID")
    )
    """The user twoway writes as: its changes are not taken back in (loops)."""

    @field_validator("salesforce_login_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")


class SalesforceLinks(BaseSettings):
    """What the UI needs to link record ids to the org (no secret)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    ui_salesforce_url: str = Field(
        default="", validation_alias=AliasChoices("TWOWAY_UI_SALESFORCE_URL")
    )
    """The Salesforce org's instance URL; set, the UI links record ids to the org."""
