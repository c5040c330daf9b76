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
from starlette.routing import Route
from tortoise.backends.base.client import BaseDBAsyncClient

from services.crud.http import ApiError
from services.crud.sync.merge import Merge
from services.crud.sync.models import ConflictRecord
from services.crud.sync.rules import ConflictRules
from services.runtime.metrics import CONFLICTS
from shared.commands import CustomerUpsert

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


async def record_conflicts(
    conn: BaseDBAsyncClient,
    command: CustomerUpsert,
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


def _invalid(name: str, problem: str) -> ApiError:
    return ApiError(422, "validation_error", f"{name} is invalid", {name: problem})


def _time(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(name, "must be an ISO 8601 time, e.g. 2026-11-29T10:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _int(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or not low <= int(raw) <= high:
        raise _invalid(name, f"must be an integer from {low} to {high}")
    return int(raw)


async def list_conflicts(request: Request) -> Response:
    limit = _int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT) or DEFAULT_LIMIT
    query = ConflictRecord.all().order_by("-id")
    for name in ("entity", "entity_id", "provider"):
        value = request.query_params.get(name)
        if value is not None:
            query = query.filter(**{name: value})
    since, until = _time(request, "since"), _time(request, "until")
    if since is not None:
        query = query.filter(resolved_at__gte=since)
    if until is not None:
        query = query.filter(resolved_at__lt=until)
    cursor = _int(request, "cursor", None, 1, 2**63 - 1)
    if cursor is not None:
        query = query.filter(id__lt=cursor)
    rows = await query.limit(limit + 1)
    page = rows[:limit]
    next_cursor = str(page[-1].id) if len(rows) > limit else None
    return JSONResponse({"data": [render(r) for r in page], "next_cursor": next_cursor})


routes = [Route("/conflicts", list_conflicts, methods=["GET"])]
