"""Stripe's rate budget: ``STRIPE_RATE_LIMIT`` requests in any 1 s window, for the deployment.

Stripe's limit belongs to the account (25/s in test mode, 100/s live), so every stripe-sync
process, and later reconcile and catch-up, takes its slots from one budget named ``stripe``:
rows in the shared database under MySQL/MariaDB, in memory under SQLite (one process). How
the budget stays exact, and what its lanes do, is in ``services.runtime.budget``.
"""

from __future__ import annotations

from services.runtime.budget import BudgetSpec, LaneBudget, open_budget
from services.stripe_sync.settings import StripeSettings

BUDGET_NAME = "stripe"
WINDOW_S = 1.0
HOLD_MARGIN_S = 1.0
"""A request may hold its slot this much longer than ``TWOWAY_STRIPE_TIMEOUT``."""


def stripe_budget_spec(settings: StripeSettings) -> BudgetSpec:
    return BudgetSpec(
        name=BUDGET_NAME,
        limit=settings.rate_limit,
        window_s=WINDOW_S,
        max_hold_s=settings.stripe_timeout_s + HOLD_MARGIN_S,
        max_transit_s=settings.stripe_max_transit_s,
    )


def stripe_budget(settings: StripeSettings) -> LaneBudget:
    """The budget every Stripe request of this process takes its slot from."""
    return open_budget(stripe_budget_spec(settings), settings.database_url.get_secret_value())
