"""The drift page: what the repair jobs record, per provider.

- the drift audit's progress (``repair_cursors``: passes, how far, its own figures);
- each drift it found and handed to the inbound merge: an inbox row whose event id starts with
  ``audit:`` (the audit's synthetic ids), with the merge's outcome and the entity;
- the reconcile runs (``reconcile_runs``): status, phase, counts and notes for a person.

The repair jobs' tables are read with plain SQL: they are not the crud service's models. The
page calls no provider (the crud service holds no provider keys).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from tortoise import connections

from services.crud.entities import ENTITIES
from services.crud.inbound.models import InboxEntry
from services.crud.ui.guard import signed_in
from services.crud.ui.sessions import Session
from services.crud.ui.templates import page
from shared.kinds import Provider

SHOWN = 50
AUDIT_EVENT_PREFIX = "audit:"


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@signed_in()
async def drift(request: Request, session: Session) -> Response:
    conn = connections.get("default")
    cursors = await conn.execute_query_dict(
        "SELECT name, passes, cursor_at, info FROM repair_cursors ORDER BY name"
    )
    runs = await conn.execute_query_dict(
        "SELECT provider, entity, status, phase, counts, notes, started_at, finished_at "
        f"FROM reconcile_runs ORDER BY id DESC LIMIT {SHOWN}"
    )
    providers: tuple[Provider, ...] = request.app.state.runtime.settings.providers
    found = {
        p.value: await InboxEntry.filter(provider=p.value, event_id__startswith=AUDIT_EVENT_PREFIX)
        .order_by("-id")
        .limit(SHOWN)
        for p in providers
    }
    return page(
        request,
        "drift.html",
        {
            "cursors": [{**c, "info": _json(c["info"])} for c in cursors],
            "runs": [
                {**r, "counts": _json(r["counts"]), "notes": _json(r["notes"]) or []} for r in runs
            ],
            "found": found,
            "paths": {k.value: s.path for k, s in ENTITIES.items()},
        },
    )
