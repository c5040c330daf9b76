"""The one gate in front of every CRUD route: ``Authorization: Bearer <key>``.

An ASGI middleware, so every route of every entity slice is behind it without asking:

| request                                   | answer |
|-------------------------------------------|--------|
| an open path (``/healthz``, ``/readyz``, ``/openapi.json``) | passed on, no key needed |
| the browser interface (``/ui/...``), which checks its own session cookie | passed on |
| no key, a malformed header, an unknown or revoked key | 401 ``unauthorized`` |
| a ``read`` key on a method that writes    | 403 ``insufficient_scope`` |
| the database cannot be asked              | 503 ``unavailable`` + ``Retry-After`` |
"""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from services.crud.apikeys.service import KeyVerifier
from services.crud.apikeys.service import Scope as KeyScope
from services.crud.http import database_unavailable, error_response, unavailable_response

log = logging.getLogger(__name__)

# The OpenAPI document holds no data and nothing a deployment configures (it says what the
# public source code says), and client generators and API browsers fetch it without a key.
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/openapi.json"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The browser interface has its own gate: a session cookie (services.crud.ui.guard).
UI_PREFIX = "/ui"


def bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


class ApiKeyAuth:
    """Checks the key and its scope, then hands the request on; ``verifier`` is read from
    ``app.state.api_keys`` (set by the lifespan) on each request."""

    def __init__(self, app: ASGIApp, open_paths: frozenset[str] = OPEN_PATHS) -> None:
        self.app = app
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        is_ui = path == UI_PREFIX or path.startswith(UI_PREFIX + "/")
        if scope["type"] == "http" and path not in self.open_paths and not is_ui:
            refusal = await self.refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def refusal(self, scope: Scope) -> Response | None:
        """The answer to a request that may not pass; None when it may."""
        token = bearer_token(Headers(scope=scope))
        if token is None:
            return error_response(
                401,
                "unauthorized",
                "send an API key: Authorization: Bearer <key>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        verifier: KeyVerifier = scope["app"].state.api_keys
        try:
            grant = await verifier.grant(token)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            log.warning("api key check: database unavailable (%s)", type(exc).__name__)
            return unavailable_response()
        if grant is None:
            return error_response(
                401,
                "unauthorized",
                "the API key is unknown or revoked",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        needed = KeyScope.READ if scope["method"] in READ_METHODS else KeyScope.WRITE
        if not grant.scope.allows(needed):
            return error_response(
                403,
                "insufficient_scope",
                f"this API key has the {grant.scope} scope; this request needs {needed}",
                headers={"WWW-Authenticate": f'Bearer error="insufficient_scope" scope="{needed}"'},
            )
        return None
