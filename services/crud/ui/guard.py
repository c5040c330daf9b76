"""What stands in front of every ``/ui/`` page: security headers and the session check.

| request                                        | answer                         |
|------------------------------------------------|--------------------------------|
| no live session (none, signed out, expired, key revoked), GET | 303 to the sign-in page |
| no live session, POST                          | 401                            |
| POST without the session's CSRF token          | 403                            |
| POST to a write action with a read key         | 403                            |

The headers go on every response under ``/ui/``, the sign-in page and errors included.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.crud.apikeys.service import KeyVerifier
from services.crud.ui import sessions
from services.crud.ui.sessions import SIGN_IN_PATH, Session
from services.crud.ui.templates import page

SECURITY_HEADERS = {
    # No inline script or style anywhere: the pages load only their own files.
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}

READ_ONLY = "This needs a write key; you signed in with a read key."

Handler = Callable[[Request, Session], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def refused(request: Request, status: int, message: str) -> Response:
    return page(request, "error.html", {"message": message}, status=status)


async def current_session(request: Request) -> Session | None:
    keys: KeyVerifier = request.app.state.api_keys
    return await sessions.find(request.cookies.get(sessions.COOKIE), keys)


def signed_in(*, write: bool = False) -> Callable[[Handler], Endpoint]:
    """A page for signed-in users; its POSTs need the CSRF token, and ``write``, a write key."""

    def wrap(handler: Handler) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            session = await current_session(request)
            if session is None:
                if request.method in ("GET", "HEAD"):
                    return RedirectResponse(SIGN_IN_PATH, status_code=303)
                return refused(request, 401, "Your session has ended: sign in again.")
            request.state.session = session
            if request.method == "POST":
                form = await request.form()
                token = form.get("csrf")
                if not sessions.same_token(session.csrf, token if isinstance(token, str) else None):
                    return refused(request, 403, "The form's security token is missing or stale.")
                if write and not session.can_write:
                    return refused(request, 403, READ_ONLY)
            return await handler(request, session)

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    return wrap
