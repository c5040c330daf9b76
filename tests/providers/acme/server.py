"""The Acme test service: a small CRM's REST API, its webhooks and its change log, run
in-process by uvicorn on a free loopback port (``running_acme``).

API (``Authorization: Bearer <token>``; its user is ``api_user``, written as ``changed_by``):

    GET    /v1/account                       the account the token belongs to
    POST   /v1/contacts                      409 ``duplicate_twoway_id`` (with the id) if taken
    GET    /v1/contacts?after=<id>&limit=n   live contacts by id; ``next``: the next ``after``
    GET    /v1/contacts?twoway_id=<id>       the live contact holding that twoway id
    GET|PATCH|DELETE /v1/contacts/{id}       404 once deleted
    GET    /v1/changes?after=<cursor>&limit=n  the change log, oldest first; 410 when dropped
    GET    /v1/changes/latest                the newest entry (null when none)

Errors: ``{"error": {"code", "message"}}``; 401 bad token, 404, 409, 422 invalid, and whatever
an injected fault says. Every change (API or person, unless ``notify`` is false) is POSTed to
the webhook URL as ``{id, type, created, object}``, signed ``Acme-Signature: t=<unix>,v1=<hex>``
(HMAC-SHA256 of ``f"{t}.{body}"``), in order, retried on a non-2xx answer a few times.

``/_admin/...`` (no auth) is the tests' side: a person's creates, edits and deletes, drift, the
objects as they are (deleted ones too), the count of API writes, the webhook URL, faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.providers.acme.store import Change, Invalid, Store
from tests.waiting import ended, eventually

log = logging.getLogger(__name__)

PERSON = "person"
DELIVERY_DELAYS_S = (0.1, 0.3, 1.0)
"""A delivery is tried once, then again after each of these; then dropped."""
MAX_PAGE = 100


def sign(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def error(status: int, code: str, message: str = "", **more: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **more}}, status)


@dataclass
class Acme:
    """One running service's configuration and state."""

    token: str
    webhook_secret: str
    account_id: str = "acct_acme_test"
    api_user: str = "twoway"
    webhook_url: str | None = None
    store: Store = field(default_factory=Store)
    faults: list[tuple[int, str]] = field(default_factory=list)
    """Answers the next API requests get instead of theirs: (status, code)."""
    deliveries: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    delivered: int = 0

    def notify(self, change: Change) -> None:
        event = {
            "id": f"evt_{change.seq}",
            "type": f"contact.{change.type}",
            "created": change.at_ms // 1000,
            "object": change.object,
        }
        self.deliveries.put_nowait(json.dumps(event).encode())

    async def deliver(self) -> None:
        """Send the webhooks one by one, in order, for as long as the service runs."""
        async with httpx.AsyncClient(timeout=5) as http:
            while True:
                body = await self.deliveries.get()
                for delay in (0.0, *DELIVERY_DELAYS_S):
                    await asyncio.sleep(delay)  # the service's own retry backoff
                    if await self._post(http, body):
                        self.delivered += 1
                        break

    async def _post(self, http: httpx.AsyncClient, body: bytes) -> bool:
        if self.webhook_url is None:
            return True
        signature = sign(self.webhook_secret, body, int(time.time()))
        headers = {"Acme-Signature": signature, "Content-Type": "application/json"}
        try:
            response = await http.post(self.webhook_url, content=body, headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            log.info("acme webhook not delivered", extra={"error": type(exc).__name__})
            return False
        return response.is_success


Handler = Callable[[Request, Acme], Awaitable[Response]]


def api(handler: Handler, acme: Acme) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        offered = request.headers.get("authorization", "").removeprefix("Bearer ").encode()
        if not hmac.compare_digest(offered, acme.token.encode()):
            return error(401, "unauthorized", "a bearer token of this account is needed")
        if acme.faults:
            status, code = acme.faults.pop(0)
            return error(status, code, "an injected fault")
        try:
            return await handler(request, acme)
        except Invalid as exc:
            return error(422, "invalid", str(exc))

    return endpoint


def admin(handler: Handler, acme: Acme) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request, acme)
        except Invalid as exc:
            return error(422, "invalid", str(exc))

    return endpoint


def _limit(request: Request) -> int:
    return max(1, min(MAX_PAGE, int(request.query_params.get("limit", MAX_PAGE))))


# --- the API --------------------------------------------------------------------------------
async def account(request: Request, acme: Acme) -> Response:
    return JSONResponse({"id": acme.account_id, "name": "Acme (tests)", "user": acme.api_user})


async def create_contact(request: Request, acme: Acme) -> Response:
    values = await request.json()
    twoway_id = values.get("twoway_id")
    taken = acme.store.by_twoway_id(twoway_id) if twoway_id else None
    if taken is not None:
        return error(409, "duplicate_twoway_id", "a live contact holds it", id=taken.id)
    contact, change = acme.store.create(values, acme.api_user)
    acme.store.api_writes += 1
    acme.notify(change)
    return JSONResponse(contact.snapshot(), 201)


async def list_contacts(request: Request, acme: Acme) -> Response:
    twoway_id = request.query_params.get("twoway_id")
    if twoway_id is not None:
        found = acme.store.by_twoway_id(twoway_id)
        return JSONResponse({"data": [found.snapshot()] if found else [], "next": None})
    items, after = acme.store.page(request.query_params.get("after"), _limit(request))
    return JSONResponse({"data": [c.snapshot() for c in items], "next": after})


async def contact(request: Request, acme: Acme) -> Response:
    found = acme.store.live(request.path_params["id"])
    if found is None:
        return error(404, "not_found", "no such contact")
    if request.method == "GET":
        return JSONResponse(found.snapshot())
    if request.method == "DELETE":
        acme.notify(acme.store.delete(found, acme.api_user))
        acme.store.api_writes += 1
        return Response(status_code=204)
    change = acme.store.edit(found, await request.json(), acme.api_user)
    assert change is not None
    acme.store.api_writes += 1
    acme.notify(change)
    return JSONResponse(found.snapshot())


async def changes(request: Request, acme: Acme) -> Response:
    after = request.query_params.get("after", "0")
    if not after.isdigit():
        return error(400, "bad_cursor", "not a cursor of this change log")
    limit = _limit(request)
    found = acme.store.changes_after(int(after), limit + 1)
    if found is None:
        return error(410, "cursor_expired", "older changes were dropped")
    page = found[:limit]
    more = len(found) > limit
    return JSONResponse(
        {"data": [c.entry() for c in page], "next": str(page[-1].seq) if more else None}
    )


async def latest_change(request: Request, acme: Acme) -> Response:
    acme.store.expire()
    newest = acme.store.changes[-1].entry() if acme.store.changes else None
    return JSONResponse({"data": newest})


# --- the tests' side ------------------------------------------------------------------------
def _notify(request: Request, body: dict[str, Any]) -> bool:
    return bool(body.pop("notify", request.query_params.get("notify", "true") != "false"))


async def person_create(request: Request, acme: Acme) -> Response:
    body = await request.json()
    notify = _notify(request, body)
    contact, change = acme.store.create(body, PERSON)
    if notify:
        acme.notify(change)
    return JSONResponse(contact.snapshot(), 201)


async def person_contact(request: Request, acme: Acme) -> Response:
    found = acme.store.contacts.get(request.path_params["id"])
    if found is None:
        return error(404, "not_found", "no such contact")
    if request.method == "GET":
        return JSONResponse(found.snapshot())
    if found.deleted:
        return error(404, "not_found", "deleted")
    body = await request.json() if request.method == "PATCH" else {}
    notify = _notify(request, body)
    change: Change | None
    if request.method == "DELETE":
        change = acme.store.delete(found, PERSON)
    else:
        change = acme.store.edit(found, body, PERSON)
    if notify and change is not None:
        acme.notify(change)
    return JSONResponse(found.snapshot())


async def drift(request: Request, acme: Acme) -> Response:
    found = acme.store.live(request.path_params["id"])
    if found is None:
        return error(404, "not_found", "no such contact")
    acme.store.edit(found, await request.json(), PERSON, log=False)
    return JSONResponse(found.snapshot())


async def writes(request: Request, acme: Acme) -> Response:
    return JSONResponse({"writes": acme.store.api_writes, "delivered": acme.delivered})


async def configure(request: Request, acme: Acme) -> Response:
    body = await request.json()
    if "webhook_url" in body:
        acme.webhook_url = body["webhook_url"]
    if "retention_s" in body:
        acme.store.retention_s = float(body["retention_s"])
    return JSONResponse({"webhook_url": acme.webhook_url, "retention_s": acme.store.retention_s})


async def faults(request: Request, acme: Acme) -> Response:
    body = await request.json()
    acme.faults.extend(
        [(int(body["status"]), str(body.get("code", "fault")))] * body.get("times", 1)
    )
    return JSONResponse({"pending": len(acme.faults)})


async def trim(request: Request, acme: Acme) -> Response:
    acme.store.trim(int((await request.json())["through"]))
    return JSONResponse({"kept": len(acme.store.changes)})


def create_app(acme: Acme) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sender = asyncio.create_task(acme.deliver())
        try:
            yield
        finally:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)

    routes = [
        Route("/v1/account", api(account, acme)),
        Route("/v1/contacts", api(create_contact, acme), methods=["POST"]),
        Route("/v1/contacts", api(list_contacts, acme), methods=["GET"]),
        Route("/v1/contacts/{id}", api(contact, acme), methods=["GET", "PATCH", "DELETE"]),
        Route("/v1/changes", api(changes, acme)),
        Route("/v1/changes/latest", api(latest_change, acme)),
        Route("/_admin/contacts", admin(person_create, acme), methods=["POST"]),
        Route(
            "/_admin/contacts/{id}", admin(person_contact, acme), methods=["GET", "PATCH", "DELETE"]
        ),
        Route("/_admin/contacts/{id}/drift", admin(drift, acme), methods=["POST"]),
        Route("/_admin/writes", admin(writes, acme)),
        Route("/_admin/config", admin(configure, acme), methods=["POST"]),
        Route("/_admin/faults", admin(faults, acme), methods=["POST"]),
        Route("/_admin/changes/trim", admin(trim, acme), methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


@dataclass(frozen=True)
class RunningAcme:
    url: str
    acme: Acme


@contextlib.asynccontextmanager
async def running_acme(
    token: str, webhook_secret: str, webhook_url: str | None = None, **options: Any
) -> AsyncIterator[RunningAcme]:
    """The service on a free 127.0.0.1 port until the block ends."""
    acme = Acme(token, webhook_secret, webhook_url=webhook_url, **options)
    config = uvicorn.Config(
        create_app(acme), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    def started() -> bool:
        if task.done():
            task.result()
            raise RuntimeError("the Acme service stopped before it started")
        return server.started

    await eventually(started, interval=0.01, what="the Acme service started")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield RunningAcme(f"http://127.0.0.1:{port}", acme)
    finally:
        server.should_exit = True
        await ended(task, 30.0, "the Acme service's shutdown")
        task.result()
