"""Stripe's settings: one class, read by its worker, the gateway and the repair jobs."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.runtime.settings import MetricsPort, ProviderSettings

TEST_MODE_RATE = 25
LIVE_MODE_RATE = 100
_TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")

StripeMode = Literal["test", "live"]


def split_list(value: str) -> tuple[str, ...]:
    """``"a, b,,c"`` -> ``("a", "b", "c")``."""
    return tuple(part.strip() for part in value.split(",") if part.strip())


WORKER_NEEDS = ("stripe_api_key",)
WEBHOOK_NEEDS = ("stripe_webhook_secret",)


class StripeSettings(ProviderSettings):
    # The seed design called it STRIPE_RESTRICTED_KEY; both names work.
    stripe_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("STRIPE_API_KEY", "STRIPE_RESTRICTED_KEY"),
    )
    """The worker's and the repair jobs' key; the gateway reads only its prefix (its mode)."""
    stripe_api_base: str | None = Field(
        default=None, validation_alias=AliasChoices("STRIPE_API_BASE")
    )
    stripe_rate_limit: int | None = Field(
        default=None, ge=1, le=10_000, validation_alias=AliasChoices("STRIPE_RATE_LIMIT")
    )
    """Requests per second for the whole deployment, however many processes share it."""
    stripe_max_transit_s: float | None = Field(
        default=None, gt=0, le=1, validation_alias=AliasChoices("TWOWAY_STRIPE_MAX_TRANSIT")
    )
    """Unset: the budget counts each request until its answer (never over, even under load).
    Against real Stripe, e.g. 0.05 uses the budget fully despite slow answers (see
    ``services.runtime.budget``)."""
    stripe_timeout_s: float = Field(
        default=20.0, gt=0, le=120, validation_alias=AliasChoices("TWOWAY_STRIPE_TIMEOUT")
    )
    prefetch: int = Field(
        default=100, ge=1, le=1000, validation_alias=AliasChoices("TWOWAY_STRIPE_SYNC_PREFETCH")
    )
    db_pool_size: int = Field(
        default=50, ge=1, le=500, validation_alias=AliasChoices("TWOWAY_STRIPE_SYNC_DB_POOL")
    )
    """Each request in flight holds its entity's row lock, so a connection: at 100 req/s and
    ~300 ms per Stripe answer, 30 or more. A ``maxsize`` in the database URL wins."""
    metrics_port: MetricsPort = 9104  # the worker's own default: see MetricsPort
    link_by_email: bool = Field(
        default=False, validation_alias=AliasChoices("TWOWAY_STRIPE_LINK_BY_EMAIL")
    )
    """A create links the entity to the one Stripe object with its match key (a customer's
    email) that no entity holds, instead of creating another (as it always does while
    ``twoway reconcile stripe`` runs)."""

    # The gateway's.
    stripe_webhook_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("STRIPE_WEBHOOK_SECRET", "WEBHOOK_SECRET"),
        min_length=1,
    )
    """One secret, or several separated by commas: a delivery signed with any of them is
    authentic, so a secret can be rotated with overlap."""
    stripe_mode: StripeMode | None = Field(
        default=None, validation_alias=AliasChoices("TWOWAY_STRIPE_MODE")
    )
    """Events of the other mode (``livemode``) are ignored. Defaults from the key's prefix."""
    stripe_connect_accounts: str = Field(
        default="", validation_alias=AliasChoices("TWOWAY_STRIPE_CONNECT_ACCOUNTS")
    )
    """Connected accounts (``acct_...``, comma-separated) whose events are applied; events of
    any other account are ignored. Empty: only the platform account's own events."""
    webhook_tolerance_s: int = Field(
        default=300, ge=1, validation_alias=AliasChoices("TWOWAY_WEBHOOK_TOLERANCE_S")
    )

    @field_validator("stripe_webhook_secret")
    @classmethod
    def _some_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not split_list(value.get_secret_value()):
            raise ValueError("must hold at least one secret (comma-separated for several)")
        return value

    @model_validator(mode="after")
    def _mode_from_key(self) -> StripeSettings:
        if self.stripe_mode is None and self.stripe_api_key is not None:
            key = self.stripe_api_key.get_secret_value()
            self.stripe_mode = "test" if key.startswith(_TEST_KEY_PREFIXES) else "live"
        return self

    @property
    def api_key(self) -> str:
        """The key (``require("stripe_api_key")`` has run where it is needed)."""
        assert self.stripe_api_key is not None, "STRIPE_API_KEY is required"
        return self.stripe_api_key.get_secret_value()

    @property
    def rate_limit(self) -> int:
        """Requests per second: as configured, else Stripe's limit for the key's mode."""
        if self.stripe_rate_limit is not None:
            return self.stripe_rate_limit
        return TEST_MODE_RATE if self.api_key.startswith(_TEST_KEY_PREFIXES) else LIVE_MODE_RATE

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


class StripeLinks(BaseSettings):
    """What the UI needs to link Stripe ids to Stripe's dashboard (no secret)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    ui_stripe_dashboard: Literal["off", "test", "live"] = Field(
        default="off", validation_alias=AliasChoices("TWOWAY_UI_STRIPE_DASHBOARD")
    )
    """Whether the UI links Stripe ids to Stripe's dashboard, in test or live mode."""
