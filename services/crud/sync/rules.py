"""How a conflict is resolved: one rule per entity kind (``TWOWAY_CONFLICT_RULE[S]``).

A conflict is one path changed on both sides concurrently: the provider changed it while a
local change to it was not yet confirmed there. The rule names the winner:

- ``latest`` (default): the later change by timestamp. A provider stamps its changes with a
  coarse clock (Stripe: whole seconds), so the app's change only counts as later when it came
  after the end of the provider's tick; a tie goes to the provider, whose change may well have
  been the later one.
- ``app``: the app's value always wins.
- ``provider``: the provider's value always wins.

Whatever wins, both sides end equal: the loser's side is written with the winner's value.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Winner = Literal["app", "provider"]


class ConflictRule(StrEnum):
    LATEST = "latest"
    APP = "app"
    PROVIDER = "provider"

    def winner(self, app_at: float, provider_at: float, resolution: float) -> Winner:
        if self is ConflictRule.APP:
            return "app"
        if self is ConflictRule.PROVIDER:
            return "provider"
        return "app" if app_later(app_at, provider_at, resolution) else "provider"


def app_later(app_at: float, provider_at: float, resolution: float) -> bool:
    """The app's change certainly came after the provider's (whose clock ticks ``resolution``)."""
    return app_at >= provider_at + resolution


class ConflictRules:
    """The rule of each entity kind: one default, overridden per kind."""

    def __init__(
        self,
        default: ConflictRule = ConflictRule.LATEST,
        per_kind: dict[str, ConflictRule] | None = None,
    ) -> None:
        self.default = default
        self.per_kind = dict(per_kind or {})

    def __getitem__(self, kind: str) -> ConflictRule:
        return self.per_kind.get(kind, self.default)
