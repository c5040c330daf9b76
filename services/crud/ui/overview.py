"""The overview: per provider and kind, synced / pending / failed; the outbox backlog and its
oldest age; dead letters per queue; the last webhook per provider; conflicts in the last 24 h.

The counts come from one ``Figures``, counted anew when older than ``ttl_s`` seconds: however
many pages are open, the database counts at most once per period.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import Response
from tortoise import connections

from services.crud.entities import ENTITIES
from services.crud.inbound.models import InboxEntry
from services.crud.sync.models import ConflictRecord
from services.crud.sync.status import STATUS_CONDITIONS
from services.crud.ui.guard import Endpoint, signed_in
from services.crud.ui.sessions import Session
from services.crud.ui.templates import page
from services.runtime.bus import BusError
from services.runtime.db import dialect
from services.runtime.providers import providers_of
from services.runtime.queues import QueueAdmin
from shared.kinds import Provider
from shared.topology import WorkQueue

log = logging.getLogger(__name__)
WAIT_PAST = 3
"""Figures older than this many periods are not shown: the page waits for new ones."""


@dataclass
class Figures:
    at: datetime
    sync: list[dict[str, Any]] = field(default_factory=list)
    outbox_backlog: int = 0
    outbox_oldest_s: float = 0.0
    dead_letters: dict[str, int | None] = field(default_factory=dict)
    """Per work queue; None when the broker could not be asked."""
    last_webhook: dict[str, datetime | None] = field(default_factory=dict)
    conflicts_24h: int = 0
    budgets: list[dict[str, Any]] = field(default_factory=list)
    """Each shared rate budget (Stripe's per second, Salesforce's per day): slots taken now."""


async def sync_counts(kind_table: str, kind: str, provider: str) -> dict[str, int]:
    mark = "?" if dialect() == "sqlite" else "%s"
    synced, failed = STATUS_CONDITIONS["synced"], STATUS_CONDITIONS["failed"]
    rows = await connections.get("default").execute_query_dict(
        f"SELECT COUNT(*) AS total, "
        f"SUM(CASE WHEN {synced} THEN 1 ELSE 0 END) AS synced, "
        f"SUM(CASE WHEN {failed} THEN 1 ELSE 0 END) AS failed "
        f"FROM {kind_table} t LEFT JOIN external_links l "
        f"ON l.entity = {mark} AND l.entity_id = t.id AND l.provider = {mark}",
        [kind, provider],
    )
    total, done, bad = (int(rows[0][k] or 0) for k in ("total", "synced", "failed"))
    return {"synced": done, "pending": total - done - bad, "failed": bad}


async def budgets_in_use() -> list[dict[str, Any]]:
    """The shared budgets' use (MySQL/MariaDB: with SQLite they live in one process's memory).

    Counted over each budget's ``(budget, free_at)`` index: as many rows as its capacity at
    most, never an entity table."""
    if dialect() != "mysql":
        return []
    rows = await connections.get("default").execute_query_dict(
        "SELECT b.name AS name, b.capacity AS capacity, b.window_s AS window_s, "
        "b.paused_until > NOW(6) AS paused, (SELECT COUNT(*) FROM rate_budget_slots s "
        "WHERE s.budget = b.name AND s.free_at > NOW(6)) AS used FROM rate_budgets b "
        "ORDER BY b.name"
    )
    return [{**r, "paused": bool(r["paused"])} for r in rows]


class Overview:
    """Serves the figures it has and, when they are older than ``ttl_s``, counts anew in the
    background. A page load waits for a count only when nobody has looked for a while (the
    figures are older than ``WAIT_PAST`` periods), so the database counts at most once a period
    and a page never shows figures much older than that."""

    def __init__(
        self, providers: tuple[Provider, ...], queues: tuple[WorkQueue, ...], ttl_s: float = 5.0
    ) -> None:
        self.providers = providers
        self.queues = queues
        self.ttl_s = ttl_s
        self._figures: Figures | None = None
        self._taken = 0.0
        self._counting: asyncio.Task[Figures] | None = None

    async def figures(self, state: State) -> Figures:
        age = time.monotonic() - self._taken
        if (self._figures is None or age > self.ttl_s) and self._counting is None:
            self._counting = asyncio.create_task(self._count(state), name="ui-overview")
        if self._figures is None or age > WAIT_PAST * self.ttl_s:
            # Nobody looked for a while: these figures would mislead; the new ones are coming.
            assert self._counting is not None
            return await asyncio.shield(self._counting)
        return self._figures

    async def _count(self, state: State) -> Figures:
        try:
            figures = await self._compute(state)
        except Exception:
            if self._figures is None:
                raise  # the first page load is waiting: it answers the error
            log.warning("overview: counting failed; the page shows the previous figures")
            return self._figures
        finally:
            self._counting = None
        self._figures, self._taken = figures, time.monotonic()
        return figures

    async def _compute(self, state: State) -> Figures:
        now = datetime.now(UTC)
        figures = Figures(at=now)
        for kind, slice_ in ENTITIES.items():
            for provider in providers_of(kind):
                if provider not in self.providers:
                    continue
                counts = await sync_counts(slice_.model._meta.db_table, kind.value, provider.value)
                figures.sync.append(
                    {"kind": slice_.path.strip("/"), "provider": provider.value, **counts}
                )
        figures.outbox_backlog, figures.outbox_oldest_s = await state.runtime.relay().backlog()
        admin: QueueAdmin = state.queue_admin
        for work in self.queues:
            try:
                figures.dead_letters[work.name] = await admin.count(work.dead_letter)
            except BusError:
                figures.dead_letters[work.name] = None
        for provider in self.providers:
            last = await InboxEntry.filter(provider=provider.value).order_by("-received_at").first()
            figures.last_webhook[provider.value] = last.received_at if last else None
        figures.budgets = await budgets_in_use()
        figures.conflicts_24h = await ConflictRecord.filter(
            resolved_at__gte=now - timedelta(hours=24)
        ).count()
        return figures

    async def show(self, request: Request, session: Session) -> Response:
        figures = await self.figures(request.app.state)
        return page(request, "overview.html", {"figures": figures})

    def endpoint(self) -> Endpoint:
        return signed_in()(self.show)
