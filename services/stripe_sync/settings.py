"""Settings of the stripe_sync worker, read once at start-up."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr

from services.runtime.settings import MetricsPort, ServiceSettings

TEST_MODE_RATE = 25
LIVE_MODE_RATE = 100
_TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")


class StripeSyncSettings(ServiceSettings):
    # The seed design called it STRIPE_RESTRICTED_KEY; both names work.
    stripe_api_key: SecretStr = Field(
        validation_alias=AliasChoices("STRIPE_API_KEY", "STRIPE_RESTRICTED_KEY"),
    )
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
    metrics_port: MetricsPort = 9104  # this role's own default: see MetricsPort
    link_by_email: bool = Field(
        default=False, validation_alias=AliasChoices("TWOWAY_STRIPE_LINK_BY_EMAIL")
    )
    """A create links the entity to the one Stripe object with its match key (a customer's
    email) that no entity holds, instead of creating another (as it always does while
    ``twoway reconcile stripe`` runs)."""

    @property
    def rate_limit(self) -> int:
        """Requests per second: as configured, else Stripe's limit for the key's mode."""
        if self.stripe_rate_limit is not None:
            return self.stripe_rate_limit
        key = self.stripe_api_key.get_secret_value()
        return TEST_MODE_RATE if key.startswith(_TEST_KEY_PREFIXES) else LIVE_MODE_RATE
