"""Browser sessions: a sign-in with an API key becomes a random cookie token.

The cookie carries a 256-bit random token; the server keeps only its SHA-256 (``ui_sessions``),
with the id of the key that signed in, an expiry and, after sign-out, when it ended. Each
request finds its row by the hash and re-checks the key through the key cache, so:

- a forged or altered cookie finds no row (the token is the secret; nothing in it is trusted);
- a signed-out or expired cookie finds no live row, even when replayed;
- a revoked key ends its sessions within the key cache time (``TWOWAY_API_KEY_CACHE_S``).

The CSRF token of a session is an HMAC of a fixed label under the session's own token: a page
can carry it, a cross-site form cannot know it, and nothing more is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.crud.apikeys.service import Grant, KeyVerifier
from services.crud.ui.models import UiSession

SIGN_IN_PATH = "/ui/login"
COOKIE = "twoway_ui"
SIGN_IN_COOKIE = "twoway_ui_signin"
"""The sign-in form's own CSRF token (double submit): there is no session yet."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def csrf_token(token: str) -> str:
    key = token.encode("utf-8", "surrogateescape")
    return hmac.new(key, b"twoway-ui-csrf", "sha256").hexdigest()


def same_token(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


@dataclass(frozen=True)
class Session:
    """Who is signed in on this request."""

    token: str
    grant: Grant

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)

    @property
    def can_write(self) -> bool:
        return self.grant.scope == "write"


async def start(grant: Grant, lifetime: timedelta) -> str:
    """A new session for ``grant``; its cookie token."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    # Ended or not, an expired session is of no use: each sign-in sweeps them (indexed).
    await UiSession.filter(expires_at__lt=now).delete()
    await UiSession.create(
        id=_hash(token), key_id=grant.key_id, created_at=now, expires_at=now + lifetime
    )
    return token


async def find(token: str | None, keys: KeyVerifier) -> Session | None:
    """The live session of a cookie token, if its key still works."""
    if not token or len(token) > 100:
        return None
    row = await UiSession.filter(
        id=_hash(token), ended_at__isnull=True, expires_at__gt=datetime.now(UTC)
    ).first()
    if row is None:
        return None
    grant = await keys.grant_of_id(row.key_id)
    return None if grant is None else Session(token, grant)


async def end(token: str) -> None:
    await UiSession.filter(id=_hash(token), ended_at__isnull=True).update(
        ended_at=datetime.now(UTC)
    )
