"""OAuth 2.0 client credentials: ``POST /services/oauth2/token``, and the sessions it opens.

One client per fake (``config.CLIENT_ID`` / ``CLIENT_SECRET``), running as the integration
user. Tokens live until ``/_fake/tokens/expire`` (or a reset).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse

from services.salesforce_sync.fake.config import FakeConfig
from services.salesforce_sync.fake.errors import ApiError


class Sessions:
    def __init__(self, config: FakeConfig) -> None:
        self.config = config
        self.tokens: dict[str, str] = {}  # access token -> user id

    def open(self) -> str:
        token = f"{self.config.org_id[:15]}!{secrets.token_urlsafe(48)}"
        self.tokens[token] = self.config.integration_user_id
        return token

    def expire(self) -> None:
        self.tokens.clear()

    def lookup(self, authorization: str | None) -> str | None:
        """The user of the session an ``Authorization`` header names, if it is valid."""
        scheme, _, token = (authorization or "").partition(" ")
        return self.tokens.get(token.strip()) if scheme.lower() in ("bearer", "oauth") else None

    def user(self, authorization: str | None) -> str:
        """The session's user; 401 INVALID_SESSION_ID when there is no valid token."""
        user = self.lookup(authorization)
        if user is None:
            raise ApiError.one(401, "INVALID_SESSION_ID", "Session expired or invalid")
        return user


def _error(description: str, error: str = "invalid_client") -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=400)


async def token(request: Request, config: FakeConfig, sessions: Sessions) -> JSONResponse:
    # A urlencoded form (parsed here: Starlette's form parser needs python-multipart).
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
    grant = form.get("grant_type")
    if grant != "client_credentials":
        return _error("grant type not supported", "unsupported_grant_type")
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if client_id != config.client_id:
        return _error("invalid client credentials")
    if secret is None or not hmac.compare_digest(secret.encode(), config.client_secret.encode()):
        return _error("invalid client credentials")
    issued_at = str(int(time.time() * 1000))
    identity = f"{config.base_url}/id/{config.org_id}/{config.integration_user_id}"
    # As Salesforce signs it: HMAC-SHA256 of the identity URL and issue time, by the secret.
    mac = hmac.new(config.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256)
    return JSONResponse(
        {
            "access_token": sessions.open(),
            "instance_url": config.base_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(mac.digest()).decode(),
        }
    )
