"""Conflict records: written by the inbound merge, listed by ``GET /conflicts``.

``GET /conflicts?entity=customer&entity_id=..&provider=stripe&since=..&until=..&limit=..``
answers ``{"data": [...], "next_cursor"}``, newest first. Each record names the path, both
values and when each side changed it, the winner and the rule that chose it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise.backends.base.client import BaseDBAsyncClient

from services.crud.http import parse_query
from services.crud.openapi import Endpoint
from services.crud.sync import schemas
from services.crud.sync.merge import Merge
from services.crud.sync.models import ConflictRecord
from services.crud.sync.rules import ConflictRules
from services.runtime.metrics import CONFLICTS
from shared.commands import Upsert


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


async def record_conflicts(
    conn: BaseDBAsyncClient,
    command: Upsert,
    entity_id: str,
    result: Merge,
    rules: ConflictRules,
) -> None:
    if not result.conflicts:
        return
    rule = rules[command.entity.value]
    now = datetime.now(UTC)
    await ConflictRecord.bulk_create(
        [
            ConflictRecord(
                entity=command.entity.value,
                entity_id=entity_id,
                provider=command.provider.value,
                path=note.path,
                app_value=json.dumps(note.app_value),
                provider_value=json.dumps(note.provider_value),
                app_changed_at=_moment(note.app_at),
                provider_changed_at=_moment(note.provider_at),
                winner=note.winner,
                rule=rule.value,
                provider_event_id=command.provider_event_id,
                resolved_at=now,
            )
            for note in result.conflicts
        ],
        using_db=conn,
    )
    for note in result.conflicts:
        CONFLICTS.labels(command.entity.value, command.provider.value, note.winner).inc()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def render(record: ConflictRecord) -> dict[str, Any]:
    app_value, provider_value = json.loads(record.app_value), json.loads(record.provider_value)
    won = app_value if record.winner == "app" else provider_value
    return {
        "id": str(record.id),
        "entity": record.entity,
        "entity_id": record.entity_id,
        "provider": record.provider,
        "field": record.path,
        "app_value": app_value,
        "app_changed_at": _utc(record.app_changed_at),
        "provider_value": provider_value,
        "provider_changed_at": _utc(record.provider_changed_at),
        "winner": record.winner,
        "value": won,
        "rule": record.rule,
        "provider_event_id": record.provider_event_id,
        "resolved_at": _utc(record.resolved_at),
    }


async def list_conflicts(request: Request) -> Response:
    query = parse_query(request, schemas.ConflictQuery)
    rows = ConflictRecord.all().order_by("-id")
    if query.entity is not None:
        rows = rows.filter(entity=query.entity.value)
    if query.entity_id is not None:
        rows = rows.filter(entity_id=query.entity_id)
    if query.provider is not None:
        rows = rows.filter(provider=query.provider.value)
    if query.since is not None:
        rows = rows.filter(resolved_at__gte=query.since)
    if query.until is not None:
        rows = rows.filter(resolved_at__lt=query.until)
    if query.cursor is not None:
        rows = rows.filter(id__lt=int(query.cursor))
    found = await rows.limit(query.limit + 1)
    page = found[: query.limit]
    next_cursor = str(page[-1].id) if len(found) > query.limit else None
    return JSONResponse({"data": [render(r) for r in page], "next_cursor": next_cursor})


endpoints = [
    Endpoint(
        "GET",
        "/conflicts",
        list_conflicts,
        "conflicts resolved between the app and a provider, newest first",
        operation_id="listConflicts",
        tag="conflicts",
        returns=schemas.ConflictPage,
        query=schemas.ConflictQuery,
        errors=(422,),
    )
]
