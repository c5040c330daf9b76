"""The contract suite's harness for Acme: the test service run per test, driven through its
``/_admin`` routes as a person at Acme would, and read back in the app's paths."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from services.runtime.settings import ProviderSettings
from shared.kinds import EntityKind
from tests.providers.acme.names import ACME
from tests.providers.acme.normalize import FIELDS
from tests.providers.acme.server import running_acme
from tests.providers.acme.settings import AcmeSettings

Flat = Mapping[str, Any]


def acme_fields(fields: Flat) -> dict[str, Any]:
    """The app's paths as an Acme contact's fields (they are the same; metadata has no place)."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"an Acme contact holds no {', '.join(sorted(unknown))}")
    return dict(fields)


class AcmeHarness:
    name = ACME

    def __init__(self) -> None:
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("the Acme service runs only within settings()")
        return self._http

    def kinds(self) -> tuple[EntityKind, ...]:
        return (EntityKind.CUSTOMER,)

    def sample(self, kind: EntityKind, n: int) -> dict[str, Any]:
        return {
            "name": f"Acme Customer {n}",
            "email": f"acme-{n}@example.com",
            "phone": f"+1 555 {n:04d}",
        }

    def change(self, kind: EntityKind, n: int) -> dict[str, Any]:
        return {"name": f"Acme Renamed {n}"}

    @contextlib.asynccontextmanager
    async def settings(
        self, base: Mapping[str, Any], gateway_url: str
    ) -> AsyncIterator[ProviderSettings]:
        token, secret = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        async with (
            running_acme(token, secret, f"{gateway_url}/webhooks/acme") as acme,
            httpx.AsyncClient(base_url=f"{acme.url}/_admin", timeout=10) as http,
        ):
            self._http = http
            try:
                yield AcmeSettings(
                    **base, acme_api_url=acme.url, acme_api_token=token, acme_webhook_secret=secret
                )
            finally:
                self._http = None

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.http.request(method, path, **kwargs)
        if response.status_code >= 400 and response.status_code != 404:
            raise AssertionError(f"{method} /_admin{path}: {response.status_code} {response.text}")
        return response

    async def remote(self, kind: EntityKind, external_id: str) -> Flat | None:
        response = await self._call("GET", f"/contacts/{external_id}")
        if response.status_code == 404:
            return None
        contact: dict[str, Any] = response.json()
        return None if contact["deleted"] else {name: contact[name] for name in FIELDS}

    async def create_remote(self, kind: EntityKind, fields: Flat, notify: bool = True) -> str:
        body = {**acme_fields(fields), "notify": notify}
        return str((await self._call("POST", "/contacts", json=body)).json()["id"])

    async def edit_remote(
        self, kind: EntityKind, external_id: str, fields: Flat, notify: bool = True
    ) -> None:
        body = {**acme_fields(fields), "notify": notify}
        await self._found(await self._call("PATCH", f"/contacts/{external_id}", json=body))

    async def delete_remote(self, kind: EntityKind, external_id: str, notify: bool = True) -> None:
        params = {"notify": str(notify).lower()}
        await self._found(await self._call("DELETE", f"/contacts/{external_id}", params=params))

    async def drift(self, kind: EntityKind, external_id: str, fields: Flat) -> None:
        path = f"/contacts/{external_id}/drift"
        await self._found(await self._call("POST", path, json=acme_fields(fields)))

    async def writes(self) -> int:
        return int((await self._call("GET", "/writes")).json()["writes"])

    @staticmethod
    async def _found(response: httpx.Response) -> None:
        if response.status_code == 404:
            raise AssertionError(f"no live Acme contact at {response.request.url}")


HARNESS = AcmeHarness
