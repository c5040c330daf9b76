"""The shared budget's tables (MySQL/MariaDB), created by ``twoway migrate`` and at start.

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
_FREE = "2000-01-01 00:00:00"

SCHEMA = (
    f"""CREATE TABLE IF NOT EXISTS {BUDGETS} (
        name VARCHAR(64) NOT NULL PRIMARY KEY,
        capacity INT NOT NULL,
        window_s DOUBLE NOT NULL,
        paused_until DATETIME(6) NOT NULL DEFAULT '{_FREE}'
    ) ENGINE=InnoDB""",
    f"""CREATE TABLE IF NOT EXISTS {SLOTS} (
        budget VARCHAR(64) NOT NULL,
        slot INT NOT NULL,
        free_at DATETIME(6) NOT NULL DEFAULT '{_FREE}',
        holder VARCHAR(96) NOT NULL DEFAULT '',
        lease BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (budget, slot),
        KEY {SLOTS}_free (budget, free_at),
        KEY {SLOTS}_holder (budget, holder, lease)
    ) ENGINE=InnoDB""",
    f"""CREATE TABLE IF NOT EXISTS {MEMBERS} (
        budget VARCHAR(64) NOT NULL,
        member VARCHAR(96) NOT NULL,
        seen_at DATETIME(6) NOT NULL,
        PRIMARY KEY (budget, member)
    ) ENGINE=InnoDB""",
)
