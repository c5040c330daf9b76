"""Signing in with an API key, and out.

The key travels once, in the body of a POST, and is never put in a URL, a cookie or a log: it
becomes a session (``sessions``). The sign-in form has no session to bind a CSRF token to, so
its token is a double submit: a random cookie and the same value in the form.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from services.crud.apikeys.service import KeyVerifier
from services.crud.ui import sessions
from services.crud.ui.guard import current_session, refused, signed_in
from services.crud.ui.sessions import SIGN_IN_PATH, Session
from services.crud.ui.templates import page


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/ui",
        httponly=True,
        samesite="strict",
        # uvicorn sets the scheme from TLS, or from X-Forwarded-Proto behind a trusted proxy.
        secure=request.scope.get("scheme") == "https",
    )


def _form(request: Request, error: str = "", status: int = 200) -> Response:
    token = request.cookies.get(sessions.SIGN_IN_COOKIE) or secrets.token_urlsafe(32)
    response = page(request, "sign_in.html", {"csrf": token, "error": error}, status=status)
    set_cookie(response, request, sessions.SIGN_IN_COOKIE, token, 3600)
    return response


async def sign_in_form(request: Request) -> Response:
    if await current_session(request) is not None:
        return RedirectResponse("/ui/", status_code=303)
    return _form(request)


async def sign_in(request: Request) -> Response:
    form = await request.form()
    token, key = form.get("csrf"), form.get("key")
    expected = request.cookies.get(sessions.SIGN_IN_COOKIE) or ""
    if not expected or not sessions.same_token(expected, token if isinstance(token, str) else None):
        return refused(request, 403, "The form's security token is missing or stale.")
    keys: KeyVerifier = request.app.state.api_keys
    grant = await keys.grant(key.strip()) if isinstance(key, str) and key.strip() else None
    if grant is None:
        return _form(request, "That key is unknown or revoked.", status=401)
    hours: float = request.app.state.runtime.settings.ui_session_hours
    lifetime = timedelta(hours=hours)
    session = await sessions.start(grant, lifetime)
    response = RedirectResponse("/ui/", status_code=303)
    set_cookie(response, request, sessions.COOKIE, session, int(lifetime.total_seconds()))
    response.delete_cookie(sessions.SIGN_IN_COOKIE, path="/ui")
    return response


@signed_in()
async def sign_out(request: Request, session: Session) -> Response:
    await sessions.end(session.token)
    response = RedirectResponse(SIGN_IN_PATH, status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/ui", httponly=True, samesite="strict")
    return response
