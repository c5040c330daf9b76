"""Settings of the CRUD service (API, relay and its consumers)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import AliasChoices, Field, model_validator

from services.crud.sync.rules import ConflictRule, ConflictRules
from services.runtime.settings import HttpServiceSettings, MetricsPort
from shared.kinds import EntityKind


class CrudSettings(HttpServiceSettings):
    relay_batch_size: int = Field(
        default=500, ge=1, le=5000, validation_alias=AliasChoices("TWOWAY_RELAY_BATCH_SIZE")
    )
    relay_poll_interval_s: float = Field(
        default=0.5, gt=0, le=1.0, validation_alias=AliasChoices("TWOWAY_RELAY_POLL_INTERVAL")
    )
    outbox_retention_hours: float = Field(
        default=168.0, gt=0, validation_alias=AliasChoices("TWOWAY_OUTBOX_RETENTION_HOURS")
    )
    # Inbox rows (the proof an event was applied) must outlive Stripe's redeliveries.
    inbox_retention_hours: float = Field(
        default=168.0, validation_alias=AliasChoices("TWOWAY_INBOX_RETENTION_HOURS")
    )
    metrics_port: MetricsPort = 9102  # this role's own default: see MetricsPort
    """Every role serves ``/metrics`` here, never on the API's own (public) port."""
    api_key_cache_s: float = Field(
        default=5.0, ge=0, le=300, validation_alias=AliasChoices("TWOWAY_API_KEY_CACHE_S")
    )
    """How long a process trusts a key it checked: a revoked key stops working within this."""
    conflict_rule: ConflictRule = Field(
        default=ConflictRule.LATEST, validation_alias=AliasChoices("TWOWAY_CONFLICT_RULE")
    )
    conflict_rules: dict[EntityKind, ConflictRule] = Field(
        default_factory=dict, validation_alias=AliasChoices("TWOWAY_CONFLICT_RULES")
    )
    """Per entity kind, as JSON: ``{"customer": "app"}``; kinds not named take the default."""

    ui_session_hours: float = Field(
        default=8.0, gt=0, le=24 * 30, validation_alias=AliasChoices("TWOWAY_UI_SESSION_HOURS")
    )
    """How long a browser sign-in lasts (``/ui/``)."""

    def rules(self) -> ConflictRules:
        return ConflictRules(
            self.conflict_rule, {kind.value: rule for kind, rule in self.conflict_rules.items()}
        )

    @model_validator(mode="after")
    def _outlives_redeliveries(self) -> CrudSettings:
        from services.runtime.providers import plugin

        windows = [(plugin(p).redelivery_window, p) for p in self.providers]
        window, provider = max(windows, default=(timedelta(0), ""))
        floor = window.total_seconds() / 3600
        if self.inbox_retention_hours <= floor:
            span = f"{floor / 24:g} days" if floor % 24 == 0 else f"{floor:g} hours"
            raise ValueError(
                f"TWOWAY_INBOX_RETENTION_HOURS must exceed {floor:g} hours: {provider} "
                f"redelivers a webhook for up to {span}, and a redelivery whose inbox row is "
                "gone could be applied again"
            )
        return self
