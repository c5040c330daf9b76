"""The conflicts page: the newest resolutions first (``conflicts.resolved_at`` is indexed),
filtered by kind and provider; both sides' values and the rule applied."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from services.crud.entities import ENTITIES
from services.crud.sync.models import ConflictRecord
from services.crud.ui.guard import signed_in
from services.crud.ui.sessions import Session
from services.crud.ui.templates import page
from services.runtime.providers import provider_names
from shared.kinds import EntityKind

SHOWN = 100


@signed_in()
async def conflicts(request: Request, session: Session) -> Response:
    kind = request.query_params.get("kind", "")
    provider = request.query_params.get("provider", "")
    query = ConflictRecord.all()
    if kind in set(EntityKind):
        query = query.filter(entity=kind)
    if provider in provider_names():
        query = query.filter(provider=provider)
    rows = await query.order_by("-resolved_at").limit(SHOWN)
    paths = {k.value: s.path for k, s in ENTITIES.items()}
    return page(
        request,
        "conflicts.html",
        {
            "rows": rows,
            "paths": paths,
            "kinds": [k.value for k in ENTITIES],
            "all_providers": provider_names(),
            "kind": kind,
            "provider": provider,
        },
    )
