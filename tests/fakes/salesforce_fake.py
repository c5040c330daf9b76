"""The fake Salesforce (``services/salesforce_sync/fake``, a child process) seen from tests:
its ``/_fake/`` control routes over httpx."""

from __future__ import annotations

from typing import Any

import httpx

from services.salesforce_sync.fake.process import FakeSalesforceProcess

CONTACT_PATH = "/sobjects/Contact"


class SalesforceFake:
    def __init__(self, process: FakeSalesforceProcess, http: httpx.AsyncClient) -> None:
        self.process = process
        self.url = process.url
        self.client_id = process.client_id
        self.client_secret = process.client_secret
        self.org_id = process.org_id
        self.integration_user_id = process.integration_user_id
        self.human_user_id = process.human_user_id
        self.external_id_field = process.external_id_field
        self._http = http

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self._http.request(method, f"{self.url}/_fake{path}", **kwargs)
        if response.status_code >= 400 and response.status_code != 404:
            raise AssertionError(f"{method} /_fake{path}: {response.status_code} {response.text}")
        return response

    # --- state and configuration ------------------------------------------------------------
    async def reset(self, *, config: bool = False) -> None:
        """Everything forgotten (contacts, faults, usage, tokens, outbound queue and logs);
        ``config``: the launch configuration back too (else it is kept)."""
        await self._call("POST", "/reset", params={"config": str(config).lower()})
        if config:
            self.external_id_field = self.process.external_id_field
            self.org_id = self.process.org_id

    async def configure(
        self,
        outbound_url: str | None = None,
        allocation: int | None = None,
        **more: Any,
    ) -> dict[str, Any]:
        """Set what is given (``more``: ``external_id_unique``, ``org_id``,
        ``external_id_field``, ``retry_initial_s``, ``retry_max_s``, ``outbound_timeout_s``,
        ``clock_ahead_s``)."""
        changes = {"outbound_url": outbound_url, "allocation": allocation}
        body = {k: v for k, v in changes.items() if v is not None} | more
        config: dict[str, Any] = (await self._call("POST", "/config", json=body)).json()
        self.external_id_field = config["external_id_field"]
        self.org_id = config["org_id"]
        return config

    async def drop_outbound(self) -> None:
        """No Outbound Message is configured any more: changes from now on send none (as if
        their messages were dropped after 24 hours of failed deliveries)."""
        await self._call("POST", "/config", json={"outbound_url": None})

    # --- contacts (Salesforce field names) ----------------------------------------------------
    async def contacts(self, include_deleted: bool = False) -> list[dict[str, Any]]:
        params = {"include_deleted": "true"} if include_deleted else {}
        found: list[dict[str, Any]] = (await self._call("GET", "/contacts", params=params)).json()
        return found

    async def contact(self, contact_id: str) -> dict[str, Any] | None:
        """The Contact, deleted or not (``IsDeleted``); None when there is none."""
        response = await self._call("GET", f"/contacts/{contact_id}")
        found: dict[str, Any] | None = response.json() if response.status_code == 200 else None
        return found

    async def contact_by_local_id(self, local_id: str) -> dict[str, Any] | None:
        """The live Contact whose External ID is ``local_id``."""
        response = await self._call("GET", "/contacts", params={"local_id": local_id})
        found: list[dict[str, Any]] = response.json()
        if len(found) > 1:
            raise AssertionError(f"{len(found)} Contacts have the External ID {local_id}")
        return found[0] if found else None

    async def create(self, **fields: Any) -> dict[str, Any]:
        """A Contact made by a person in Salesforce (queues an Outbound Message)."""
        return await self._write("POST", "/contacts", fields)

    async def edit(self, contact_id: str, **fields: Any) -> dict[str, Any]:
        """A person's edit in Salesforce (queues an Outbound Message)."""
        return await self._write("PATCH", f"/contacts/{contact_id}", fields)

    async def drift(self, contact_id: str, **fields: Any) -> dict[str, Any]:
        """Change the Contact with no trace (no ``SystemModstamp``, no Outbound Message): only
        the drift audit can find it."""
        return await self._write("POST", f"/contacts/{contact_id}/drift", fields)

    async def delete(self, contact_id: str, notify: bool = True) -> None:
        """A person deletes the Contact; ``notify``: an Outbound Message with ``IsDeleted``
        true follows (an org's delete flow; plain workflow rules send none)."""
        response = await self._call(
            "DELETE", f"/contacts/{contact_id}", params={"notify": str(notify).lower()}
        )
        if response.status_code != 204:
            raise AssertionError(f"delete {contact_id}: {response.status_code} {response.text}")

    async def _write(self, method: str, path: str, fields: dict[str, Any]) -> dict[str, Any]:
        response = await self._http.request(method, f"{self.url}/_fake{path}", json=fields)
        if response.status_code not in (200, 201):
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
        contact: dict[str, Any] = response.json()
        return contact

    # --- faults, usage, sessions ----------------------------------------------------------------
    async def fault(
        self,
        status: int,
        error_code: str,
        message: str = "fault",
        *,
        count: int = 1,
        method: str | None = None,
        path_prefix: str = "/services/data/",
        hang_s: float = 0.0,
    ) -> None:
        """The next ``count`` matching requests are answered ``status`` with ``error_code``."""
        fault = {"status": status, "error_code": error_code, "message": message, "count": count,
                 "method": method, "path_prefix": path_prefix, "hang_s": hang_s}  # fmt: skip
        await self._call("POST", "/faults", json=fault)

    async def set_usage(self, used: int, allocation: int) -> None:
        await self._call("PUT", "/usage", json={"used": used, "allocation": allocation})

    async def usage(self) -> tuple[int, int]:
        body = (await self._call("GET", "/usage")).json()
        return int(body["used"]), int(body["allocation"])

    async def expire_tokens(self) -> None:
        """Every session ends: the next API request is answered 401 INVALID_SESSION_ID."""
        await self._call("POST", "/tokens/expire")

    # --- the request log -----------------------------------------------------------------------
    async def requests(self) -> list[dict[str, Any]]:
        """Every request to the API and the token endpoint: ``method``, ``path``, ``query``,
        ``status``, ``at``, ``body`` (JSON; the token request's is not kept), ``user``,
        ``call_options``, ``contact_id``, ``local_id``."""
        log: list[dict[str, Any]] = (await self._call("GET", "/requests")).json()
        return log

    async def api_writes(self, local_id: str | None = None) -> list[dict[str, Any]]:
        """POST/PATCH/DELETE on Contact by the integration user (about ``local_id``)."""
        return [
            r
            for r in await self.requests()
            if r["method"] in ("POST", "PATCH", "DELETE")
            and CONTACT_PATH in r["path"]
            and r["user"] == self.integration_user_id
            and (local_id is None or r["local_id"] == local_id)
        ]

    # --- Outbound Messages ---------------------------------------------------------------------
    async def hold_outbound(self) -> None:
        await self._call("POST", "/outbound/hold")

    async def release_outbound(self) -> None:
        await self._call("POST", "/outbound/release")

    async def pending(self) -> int:
        """Notifications not yet acknowledged (queued or in flight)."""
        return int((await self._call("GET", "/outbound")).json()["pending"])

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every notification was acknowledged; AssertionError after ``timeout``."""
        response = await self._http.post(
            f"{self.url}/_fake/outbound/settle",
            params={"timeout": str(timeout)},
            timeout=timeout + 5,
        )
        if response.status_code != 200:
            raise AssertionError(f"outbound messages not settled: {response.text}")

    async def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery attempt: ``at``, ``attempt``, ``notification_ids``, ``contact_ids``,
        ``status`` (None: no answer), ``error``, ``acked``."""
        log: list[dict[str, Any]] = (await self._call("GET", "/outbound/deliveries")).json()
        return log
