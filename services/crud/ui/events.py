"""An entity's recent events, both ways, as long as their tables keep them (retention):
what the app sent (the outbox: published yet or not) and what providers sent (the inbox: the
outcome of applying each). Both are found by the entity's own index."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.crud.inbound.models import InboxEntry
from services.crud.outbox.models import OutboxEvent
from shared.kinds import EntityKind

SHOWN = 20


@dataclass(frozen=True)
class Sent:
    at: datetime
    type: str
    version: int
    origin: str
    changed: str
    published_at: datetime | None


@dataclass(frozen=True)
class Received:
    at: datetime
    provider: str
    event_id: str
    outcome: str


def _payload(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def sent(kind: EntityKind, entity_id: str) -> list[Sent]:
    rows = (
        await OutboxEvent.filter(entity_id=entity_id, entity=kind.value)
        .order_by("-id")
        .limit(SHOWN)
    )
    out = []
    for row in rows:
        body = _payload(row.payload)
        out.append(
            Sent(
                row.created_at,
                row.routing_key,
                row.version,
                str(body.get("origin", "")),
                ", ".join(body.get("changed") or ()),
                row.published_at,
            )
        )
    return out


async def received(kind: EntityKind, entity_id: str) -> list[Received]:
    rows = (
        await InboxEntry.filter(entity=kind.value, entity_id=entity_id)
        .order_by("-received_at")
        .limit(SHOWN)
    )
    return [Received(r.received_at, r.provider, r.event_id, r.outcome) for r in rows]
