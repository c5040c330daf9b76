"""The ``/ui`` mount: every page, the static files, and the security headers on all of them."""

from __future__ import annotations

from pathlib import Path

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from services.crud.entities import ENTITIES
from services.crud.settings import CrudSettings
from services.crud.ui import sign_in
from services.crud.ui.conflicts import conflicts
from services.crud.ui.dead_letters import DeadLetterPages
from services.crud.ui.drift import drift
from services.crud.ui.entity_pages import EntityPages
from services.crud.ui.guard import SecurityHeaders, refused
from services.crud.ui.overview import Overview

PREFIX = "/ui"


async def home(request: Request) -> Response:
    return RedirectResponse(f"{PREFIX}/overview", status_code=303)


async def not_found(request: Request) -> Response:
    return refused(request, 404, "There is no such page.")


def ui_mount(settings: CrudSettings) -> Mount:
    overview = Overview(settings.providers, settings.work_queues())
    routes: list[BaseRoute] = [
        Route("/", home, methods=["GET"]),
        Route("/login", sign_in.sign_in_form, methods=["GET"]),
        Route("/login", sign_in.sign_in, methods=["POST"]),
        Route("/logout", sign_in.sign_out, methods=["POST"]),
        Route("/overview", overview.endpoint(), methods=["GET"]),
        Route("/conflicts", conflicts, methods=["GET"]),
        Route("/drift", drift, methods=["GET"]),
        *DeadLetterPages(settings).routes(),
    ]
    for kind in ENTITIES.values():
        routes.extend(EntityPages(kind, settings).routes())
    static = StaticFiles(directory=Path(__file__).parent / "static")
    routes.append(Mount("/static", app=static, name="ui_static"))
    # Last: any other path under /ui is a page of ours too (headers, HTML), not the API's 404.
    routes.append(Route("/{rest:path}", not_found, methods=["GET", "POST"]))
    return Mount(PREFIX, routes=routes, middleware=[Middleware(SecurityHeaders)])
