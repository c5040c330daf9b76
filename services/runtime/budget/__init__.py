"""Rate budgets: at most N requests to a provider in any window, shared by the deployment.

    async with open_budget(spec, database_url) as budget:
        async with budget.slot(lane="bulk"):
            ...  # one request to the provider

The exactness model: a request holds its slot from the moment it is let through until one
window after its answer. The server saw the request somewhere between those two instants, so
no window of the server's clock can meet more than ``limit`` of them, whatever the jitter or
the load on either side. The price is one round trip per window (under 1 % on loopback).
Against far-away servers that round trip is large (Stripe answers in ~300 ms, a quarter of a
1 s window); ``max_transit_s`` then ends a slot that long after sending when the answer comes
later: exact as long as every request reaches the server that soon, and a rare excess is
answered by a 429, which pauses the budget rather than failing anything.

Two implementations of one interface (``LaneBudget``):
- ``SharedBudget`` (MySQL/MariaDB): slot rows in the database all workers already use, on the
  database's clock; one budget for any number of processes. See ``shared``.
- ``LocalBudget`` (SQLite, ``twoway dev``: one process): the same model in memory.

Lanes: ``live`` (changes users just made) before ``bulk`` (reconcile, catch-up, audit); bulk
gets what live leaves. Windows are any length: 1 s for Stripe's per-second limit, 86,400 s
(with ``pace=False``) for a daily allocation such as Salesforce's.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from services.runtime.budget.base import BudgetSpec, Grant, Lane, LaneBudget, SlotExpired
from services.runtime.budget.local import LocalBudget
from services.runtime.budget.shared import SharedBudget, member_id
from services.runtime.budget.store import SlotStore

__all__ = [
    "BudgetSpec",
    "Grant",
    "Lane",
    "LaneBudget",
    "LocalBudget",
    "SharedBudget",
    "SlotExpired",
    "open_budget",
]


def open_budget(spec: BudgetSpec, database_url: str) -> LaneBudget:
    """The deployment's budget where the database can share it, else this process's own."""
    if urlsplit(database_url).scheme == "mysql":
        return SharedBudget(spec, SlotStore(database_url, spec.name, member_id()))
    return LocalBudget(spec)
