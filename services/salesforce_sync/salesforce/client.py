"""Salesforce's REST API over plain httpx: sign-in, the daily budget, errors and usage.

Why not aiosalesforce (async, on httpx): its ``base_url`` check only accepts
``https://*.my.salesforce.com``, which keeps a local fake (tests, ``twoway dev``) out, and
twoway needs few calls (upsert, delete, and a query for the repair jobs); a small typed client
on httpx, which twoway already uses, serves them.

- **Sign-in**: OAuth 2.0 client credentials (``POST {login}/services/oauth2/token``); the token
  and its ``instance_url`` are cached, and fetched again once on 401 ``INVALID_SESSION_ID``.
- **Budget**: every API request takes a slot of the deployment's budget (``salesforce``:
  ``TWOWAY_SALESFORCE_DAILY_BUDGET`` requests in any rolling ``TWOWAY_SALESFORCE_BUDGET_WINDOW_S``),
  so twoway stops before the org's allocation runs out: the work waits, nothing is
  dead-lettered. ``REQUEST_LIMIT_EXCEEDED`` pauses the whole deployment.
- **Usage**: ``Sforce-Limit-Info: api-usage=n/m`` from every answer goes to ``/metrics``.
- **Origin**: every request carries ``Sforce-Call-Options: client=twoway``, so Salesforce
  records twoway as the client of its writes (Change Data Capture's ``changeOrigin``).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from services.runtime.budget import Lane, LaneBudget
from services.runtime.errors import Permanent, Retryable
from services.salesforce_sync.metrics import (
    SALESFORCE_API_USAGE,
    SALESFORCE_LATENCY,
    SALESFORCE_REQUESTS,
)
from services.salesforce_sync.salesforce.errors import LIMIT_PAUSE_S, classify, codes_of
from services.salesforce_sync.settings import WORKER_NEEDS, SalesforceSettings

_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
CALL_OPTIONS = "client=twoway"


@dataclass(frozen=True)
class Token:
    access_token: str
    instance_url: str
    user_id: str | None = None
    """The user the client runs as (the integration user): the identity URL's last part."""


class SalesforceClient:
    def __init__(
        self, settings: SalesforceSettings, http: httpx.AsyncClient, budget: LaneBudget
    ) -> None:
        settings.require(*WORKER_NEEDS, provider="salesforce")
        self.settings = settings
        self.http = http
        self.budget = budget
        self._token: Token | None = None
        self._signing_in = asyncio.Lock()

    async def token(self, stale: Token | None = None) -> Token:
        """The cached token, signing in when there is none (or it is ``stale``)."""
        async with self._signing_in:
            if self._token is None or self._token is stale:
                self._token = await self._sign_in()
            return self._token

    async def _sign_in(self) -> Token:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.settings.salesforce_client_id,
            "client_secret": _secret(self.settings.salesforce_client_secret),
        }
        url = f"{self.settings.salesforce_login_url}/services/oauth2/token"
        try:
            response = await self.http.post(url, data=form)
        except httpx.HTTPError as exc:
            raise Retryable(f"salesforce sign-in: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise Retryable(f"salesforce sign-in: {response.status_code}")
        if response.status_code != 200:
            # The error body names the problem, never the secret.
            raise Permanent(f"salesforce sign-in refused: {response.text[:200]}", "salesforce_auth")
        body = response.json()
        identity = body.get("id")
        user_id = identity.rstrip("/").rpartition("/")[2] if isinstance(identity, str) else None
        return Token(str(body["access_token"]), str(body["instance_url"]).rstrip("/"), user_id)

    async def request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        accept: Collection[int] = (),
        lane: Lane = "live",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One API request under ``/services/data/vXX.X``; answers in ``accept`` (besides
        2xx) are returned, other failures raised in the runtime's taxonomy."""
        token = await self.token()
        for attempt in (1, 2):
            response = await self._send(operation, method, path, token, json, params, lane, headers)
            if (
                response.status_code == 401
                and attempt == 1
                and "INVALID_SESSION_ID" in codes_of(response)
            ):
                token = await self.token(stale=token)
                continue
            break
        if response.is_success or response.status_code in accept:
            return response
        error = classify(response)
        if "REQUEST_LIMIT_EXCEEDED" in codes_of(response):
            self.budget.slow_down(LIMIT_PAUSE_S)
        raise error

    async def _send(
        self,
        operation: str,
        method: str,
        path: str,
        token: Token,
        json: Any,
        params: dict[str, str] | None,
        lane: Lane,
        extra_headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        url = f"{token.instance_url}/services/data/v{self.settings.salesforce_api_version}{path}"
        headers = {
            "Authorization": f"Bearer {token.access_token}",
            "Sforce-Call-Options": CALL_OPTIONS,
            **(extra_headers or {}),
        }
        async with self.budget.slot(lane):
            started = time.perf_counter()
            try:
                response = await self.http.request(
                    method, url, json=json, params=params, headers=headers
                )
            except httpx.TimeoutException:
                SALESFORCE_REQUESTS.labels(operation, "timeout").inc()
                raise Retryable(f"salesforce {operation}: timed out") from None
            except httpx.HTTPError as exc:
                SALESFORCE_REQUESTS.labels(operation, "connection_error").inc()
                raise Retryable(f"salesforce {operation}: {type(exc).__name__}") from None
        SALESFORCE_LATENCY.labels(operation).observe(time.perf_counter() - started)
        SALESFORCE_REQUESTS.labels(operation, str(response.status_code)).inc()
        usage = _USAGE.search(response.headers.get("sforce-limit-info", ""))
        if usage:
            SALESFORCE_API_USAGE.labels("used").set(int(usage.group(1)))
            SALESFORCE_API_USAGE.labels("allocation").set(int(usage.group(2)))
        return response


def _secret(value: SecretStr | None) -> str:
    return "" if value is None else value.get_secret_value()
