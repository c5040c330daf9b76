"""Settings of the webhook gateway, read once at start-up."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator

from services.runtime.settings import HttpServiceSettings, MetricsPort
from shared.kinds import Provider

StripeMode = Literal["test", "live"]
_TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")


def split_list(value: str) -> tuple[str, ...]:
    """``"a, b,,c"`` -> ``("a", "b", "c")``."""
    return tuple(part.strip() for part in value.split(",") if part.strip())


class GatewaySettings(HttpServiceSettings):
    stripe_webhook_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("STRIPE_WEBHOOK_SECRET", "WEBHOOK_SECRET"),
        min_length=1,
    )
    """One secret, or several separated by commas: a delivery signed with any of them is
    authentic, so a secret can be rotated with overlap. Needed only with stripe in
    ``TWOWAY_PROVIDERS``: a gateway serving Salesforce alone holds no Stripe secret."""
    stripe_mode: StripeMode | None = Field(
        default=None, validation_alias=AliasChoices("TWOWAY_STRIPE_MODE")
    )
    """Events of the other mode (``livemode``) are ignored. Defaults from the key's prefix."""
    # Read only for its prefix (test or live): the gateway never calls Stripe.
    stripe_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("STRIPE_API_KEY", "STRIPE_RESTRICTED_KEY")
    )
    stripe_connect_accounts: str = Field(
        default="", validation_alias=AliasChoices("TWOWAY_STRIPE_CONNECT_ACCOUNTS")
    )
    """Connected accounts (``acct_...``, comma-separated) whose events are applied; events of
    any other account are ignored. Empty: only the platform account's own events."""
    webhook_tolerance_s: int = Field(
        default=300, ge=1, validation_alias=AliasChoices("TWOWAY_WEBHOOK_TOLERANCE_S")
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1, validation_alias=AliasChoices("TWOWAY_WEBHOOK_MAX_BODY_BYTES")
    )
    publish_timeout_s: float = Field(
        default=5.0, gt=0, validation_alias=AliasChoices("TWOWAY_WEBHOOK_PUBLISH_TIMEOUT_S")
    )
    metrics_port: MetricsPort = 9103  # this role's own default: see MetricsPort
    """``/metrics`` is served here, never on the public webhook port."""
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
    salesforce_external_id_field: str = Field(
        default="Twoway_Id__c",
        pattern=r"^[A-Za-z][A-Za-z0-9_]*__c$",
        validation_alias=AliasChoices("TWOWAY_SALESFORCE_EXTERNAL_ID_FIELD"),
    )

    @field_validator("stripe_webhook_secret")
    @classmethod
    def _some_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not split_list(value.get_secret_value()):
            raise ValueError("must hold at least one secret (comma-separated for several)")
        return value

    @model_validator(mode="after")
    def _salesforce_complete(self) -> GatewaySettings:
        if Provider.SALESFORCE in self.providers and (
            self.salesforce_org_id is None or self.salesforce_webhook_token is None
        ):
            raise ValueError(
                "SALESFORCE_ORG_ID and TWOWAY_SALESFORCE_WEBHOOK_TOKEN are required with "
                "salesforce in TWOWAY_PROVIDERS"
            )
        return self

    @model_validator(mode="after")
    def _stripe_complete(self) -> GatewaySettings:
        if Provider.STRIPE not in self.providers:
            return self
        if self.stripe_webhook_secret is None:
            raise ValueError("STRIPE_WEBHOOK_SECRET is required with stripe in TWOWAY_PROVIDERS")
        if self.stripe_mode is None:
            if self.stripe_api_key is None:
                raise ValueError(
                    "TWOWAY_STRIPE_MODE: set test or live (no STRIPE_API_KEY to tell it from)"
                )
            key = self.stripe_api_key.get_secret_value()
            self.stripe_mode = "test" if key.startswith(_TEST_KEY_PREFIXES) else "live"
        return self

    @property
    def webhook_secrets(self) -> tuple[SecretStr, ...]:
        if self.stripe_webhook_secret is None:
            return ()
        return tuple(
            SecretStr(s) for s in split_list(self.stripe_webhook_secret.get_secret_value())
        )

    @property
    def connect_accounts(self) -> frozenset[str]:
        return frozenset(split_list(self.stripe_connect_accounts))
