"""The Jinja2 environment of the pages, and ``page()``, the one way a handler answers HTML.

Autoescaping is on for every template (``.html``): a value shown is never markup.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from services.crud.entities import ENTITIES

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def utc(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)


TEMPLATES.env.filters["utc"] = utc
TEMPLATES.env.filters["as_json"] = as_json


def nav() -> list[tuple[str, str]]:
    """The menu: one entry per registered kind, then the operators' pages."""
    return [(s.path.strip("/").capitalize(), f"/ui{s.path}") for s in ENTITIES.values()] + [
        ("Dead letters", "/ui/dead-letters"),
        ("Conflicts", "/ui/conflicts"),
        ("Drift", "/ui/drift"),
    ]


def page(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> Response:
    session = getattr(request.state, "session", None)
    return TEMPLATES.TemplateResponse(
        request,
        name,
        {"session": session, "nav": nav(), **(context or {})},
        status_code=status,
    )
