"""Acme's REST API over httpx: the bearer token, the rate budget, metrics and errors.

Its failures in the runtime's taxonomy (``services.runtime.errors``):

    an answer
    ├── 429, 5xx                -> Retryable (429's ``Retry-After`` asks for the wait)
    ├── 401, 403                -> Permanent (auth)
    └── other 4xx (422 invalid) -> Permanent, the error code in its reason
    no answer (timeout, connection) -> Retryable
"""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

import httpx

from services.runtime.budget import Lane, LaneBudget
from services.runtime.errors import Permanent, Retryable
from tests.providers.acme.metrics import ACME_LATENCY, ACME_REQUESTS
from tests.providers.acme.settings import WORKER_NEEDS, AcmeSettings


def code_of(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return "error"
    found = body.get("error", {}).get("code") if isinstance(body, dict) else None
    return str(found or "error")


def classify(response: httpx.Response) -> Retryable | Permanent:
    status, code = response.status_code, code_of(response)
    detail = f"acme {status} {code}: {response.text[:200]}"
    if status == 429:
        retry_after = response.headers.get("retry-after")
        return Retryable(detail, float(retry_after) if retry_after else None)
    if status >= 500:
        return Retryable(detail)
    return Permanent(detail, reason=f"acme_{status}_{code}")


class AcmeClient:
    def __init__(self, settings: AcmeSettings, http: httpx.AsyncClient, budget: LaneBudget) -> None:
        settings.require(*WORKER_NEEDS, provider="acme")
        assert settings.acme_api_url is not None and settings.acme_api_token is not None
        self.settings = settings
        self.http = http
        self.budget = budget
        self._base = f"{settings.acme_api_url}/v1"
        self._auth = {"Authorization": f"Bearer {settings.acme_api_token.get_secret_value()}"}

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
    ) -> httpx.Response:
        """One API request under ``/v1``; answers in ``accept`` (besides 2xx) are returned,
        other failures raised in the runtime's taxonomy."""
        async with self.budget.slot(lane):
            started = time.perf_counter()
            try:
                response = await self.http.request(
                    method, f"{self._base}{path}", json=json, params=params, headers=self._auth
                )
            except httpx.TimeoutException:
                ACME_REQUESTS.labels(operation, "timeout").inc()
                raise Retryable(f"acme {operation}: timed out") from None
            except httpx.HTTPError as exc:
                ACME_REQUESTS.labels(operation, "connection_error").inc()
                raise Retryable(f"acme {operation}: {type(exc).__name__}") from None
        ACME_LATENCY.labels(operation).observe(time.perf_counter() - started)
        ACME_REQUESTS.labels(operation, str(response.status_code)).inc()
        if response.is_success or response.status_code in accept:
            return response
        raise classify(response)
