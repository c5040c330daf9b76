"""``create_app(config)``: the fake org as a Starlette app (its sender runs in the lifespan)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.salesforce_sync.fake import control, query, rest
from services.salesforce_sync.fake.auth import token
from services.salesforce_sync.fake.config import FakeConfig
from services.salesforce_sync.fake.gate import injected, log_entry, org_of
from services.salesforce_sync.fake.org import Org


async def _token(request: Request) -> Response:
    org = org_of(request)
    call = log_entry(org, request)  # the body holds the secret: not logged
    response = await injected(org, request) or await token(request, org.config, org.sessions)
    call["status"] = response.status_code
    return response


def create_app(config: FakeConfig | None = None) -> Starlette:
    org = Org(config or FakeConfig())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient() as http:
            org.outbound.start(http)
            try:
                yield
            finally:
                await org.outbound.stop()

    app = Starlette(
        routes=[
            Route("/services/oauth2/token", _token, methods=["POST"]),
            *query.ROUTES,
            *rest.ROUTES,
            *control.ROUTES,
        ],
        lifespan=lifespan,
    )
    app.state.org = org
    return app
