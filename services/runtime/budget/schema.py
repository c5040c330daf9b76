"""The shared budget's tables (MySQL/MariaDB), created by ``twoway migrate`` (the core history's
``0002_earlier_releases``).

rate_budgets         one row per budget: its capacity, window and ``paused_until``
rate_budget_slots    ``capacity`` rows per budget; a row is free when ``free_at <= NOW(6)``;
                     ``holder``/``lease`` name the process and the turn that leased it
rate_budget_members  one row per process using the budget, refreshed by its heartbeat
"""

from __future__ import annotations

BUDGETS = "rate_budgets"
SLOTS = "rate_budget_slots"
MEMBERS = "rate_budget_members"
TABLES = (BUDGETS, SLOTS, MEMBERS)
