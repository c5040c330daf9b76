"""localstripe in-process, with what tests need in front of it.

localstripe (GPL) is only ever loaded here, in the test process. In front of it sit:
- a request log (time, method, path, status) to check rate budgets and call counts;
- an Idempotency-Key cache (localstripe ignores the header; real Stripe replays the first result);
- Stripe's rate limit (``rate_limit``): requests over it within 1 s are answered 429;
- fault injection: queued faults answer 429/5xx/4xx or hang, before or *after* the real handler
  ran (the latter is "Stripe did it but the client never heard");
- Stripe's rule that an empty value unsets a field or metadata key (localstripe stores the
  empty string, so the echo of a removal would not look like what was sent);
- products as Stripe has them: ``unit_label``, and ``product.updated``/``product.deleted``
  events (localstripe only emits ``product.created``): the product tests' inbound updates and
  deletes are these events, signed by the fake and sent to the real gateway;
- webhook delivery without localstripe's fixed 1 s delay, signed like Stripe, tracked so a test
  can wait for every delivery to settle, or capture events instead of delivering them;
- ``stripe_like``: events carry what real Stripe adds and localstripe omits: ``request``
  (``id`` and the ``idempotency_key`` of the API request that made the change) and, on
  updates, ``data.previous_attributes`` (the changed attributes' prior values; metadata key by
  key). Off, the events are localstripe's own;
- ``hold()`` / ``release()``: requests carrying a twoway Idempotency-Key wait until released,
  as a slow Stripe answer would keep them (the dashboard's own requests go through);
- Search (``GET /v1/customers/search``, ``/v1/products/search``), which localstripe lacks, as
  Stripe documents it for the clauses twoway uses (``field:'value'``,
  ``metadata['key']:'value'``, joined by ``AND``), with its lag: an object written less than
  ``search_lag_s`` ago is not found yet (Stripe: "up to a minute");
- ``forget_idempotency_keys()``: what Stripe does to a key after 24 hours;
- ``hold_listings()`` / ``release_listings()``: whole listings (``GET /v1/customers`` and
  ``/v1/products`` without a filter: what reconcile reads) wait until released, so a test can
  act while a reconcile run is under way.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import hmac
import json
import secrets
import string
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import stripe
from aiohttp import web

from tests.waiting import eventually

API_KEY = "sk_test_twoway_fake_key"

# The API request being handled: what a Stripe event's ``request`` names.
_REQUEST: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "stripe_fake_request", default=None
)


@dataclass
class Fault:
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    hang_s: float = 0.0
    after_handler: bool = False
    method: str | None = None
    path_prefix: str = "/v1/"

    def matches(self, request: web.Request) -> bool:
        return (self.method is None or request.method == self.method) and request.path.startswith(
            self.path_prefix
        )


@dataclass
class Call:
    at: float
    method: str
    path: str
    status: int
    idempotency_key: str | None
    form: dict[str, str]


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _empty_values_unset(resources: Any) -> None:
    """Customers and products: ``phone=""`` becomes null and ``metadata[key]=""`` removes the
    key, as at Stripe; ``active=false`` is a boolean. Patched on the classes once per process
    (localstripe's store is module-global too)."""
    customer = resources.Customer
    if getattr(customer._update, "twoway_unsets", False):
        return
    update = resources.StripeObject._update

    def _update(self: Any, **data: Any) -> None:
        metadata = data.get("metadata")
        removed: list[str] = []
        if isinstance(metadata, dict):
            removed = [key for key, value in metadata.items() if value == ""]
            data["metadata"] = {k: v for k, v in metadata.items() if v != ""}
        if "active" in data:
            data["active"] = resources.try_convert_to_bool(data["active"])
        update(self, **{k: None if v == "" else v for k, v in data.items()})
        for key in removed:
            (self.metadata or {}).pop(key, None)

    _update.twoway_unsets = True  # type: ignore[attr-defined]
    customer._update = _update
    resources.Product._update = _update


def _products_like_stripe(resources: Any) -> None:
    """Products as Stripe has them: ``unit_label`` (localstripe lacks it), and the
    ``product.updated`` and ``product.deleted`` events (localstripe only sends
    ``product.created``). Patched on the class once per process."""
    product = resources.Product
    if getattr(product, "unit_label", "missing") is None:
        return
    product.unit_label = None  # exported as a property; ``_update`` may now set it
    init = product.__init__

    def __init__(self: Any, *args: Any, unit_label: Any = None, **kwargs: Any) -> None:
        self.unit_label = unit_label  # before the created event exports the product
        init(self, *args, **kwargs)

    def _api_update(cls: Any, id: str, **data: Any) -> Any:
        obj = resources.StripeObject._api_update.__func__(cls, id, **data)
        resources.schedule_webhook(resources.Event("product.updated", obj))
        return obj

    def _api_delete(cls: Any, id: str) -> Any:
        obj = cls._api_retrieve(id)
        resources.schedule_webhook(resources.Event("product.deleted", obj))
        return resources.StripeObject._api_delete.__func__(cls, id)

    product.__init__ = __init__
    product._api_update = classmethod(_api_update)
    product._api_delete = classmethod(_api_delete)


def _random_id(length: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


class FakeStripe:
    def __init__(self, stripe_like: bool = False) -> None:
        self.stripe_like = stripe_like
        self._states: dict[str, dict[str, Any]] = {}
        self._held: asyncio.Event | None = None
        self.holding = 0
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        # Stripe's own limit, enforced as Stripe would: more than this many requests arriving
        # within 1 s are answered 429 (None: no limit).
        self.rate_limit: int | None = None
        self._arrivals: list[float] = []
        self.webhook_mode = "deliver"  # or "capture"
        self.captured: list[dict[str, Any]] = []
        # The Idempotency-Key of the request behind each captured event (None: not twoway's).
        self.captured_keys: list[str | None] = []
        self.deliveries: list[httpx.Response | BaseException] = []
        self._idem: dict[str, tuple[int, bytes, str]] = {}
        self.search_lag_s = 0.0
        self._listings_held: asyncio.Event | None = None
        self.listings_holding = 0
        self._written: dict[str, float] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self._http: httpx.AsyncClient | None = None

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        import localstripe.resources as resources
        import localstripe.server as server
        import localstripe.webhooks as webhooks

        resources.store.dump_to_disk = lambda: None  # type: ignore[method-assign]
        resources.store.clear()
        webhooks._webhooks.clear()
        resources.schedule_webhook = self._schedule_webhook
        # Ids from the system's randomness: hypothesis re-seeds ``random`` for every example,
        # which would have localstripe make the same ids again (409 Conflict).
        resources.random_id = _random_id
        _empty_values_unset(resources)
        _products_like_stripe(resources)

        app = web.Application(
            middlewares=[
                self._record_mw,
                self._hold_mw,
                self._fault_mw,
                self._events_mw,
                self._idempotency_mw,
                server.error_middleware,
                server.auth_middleware,
            ]
        )
        app.on_response_prepare.append(server.add_cors_headers)
        # Before localstripe's routes, whose ``/v1/customers/{id}`` would take "search" for an id.
        for name in ("customer", "product"):
            app.router.add_get(f"/v1/{name}s/search", self._search_handler(name))
        for route in server.app.router.routes():
            if route.method == "HEAD":
                continue
            app.router.add_route(route.method, route.resource.canonical, route.handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._http = httpx.AsyncClient(timeout=10)

    async def stop(self) -> None:
        await self.settle()
        if self._http is not None:
            await self._http.aclose()
        if self._runner is not None:
            await self._runner.cleanup()

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[stripe.StripeClient]:
        """A stripe SDK client on this fake (as a user's code or the dashboard would act)."""
        http_client = stripe.HTTPXClient()
        try:
            yield stripe.StripeClient(
                API_KEY,
                http_client=http_client,
                base_addresses={"api": self.url},
                max_network_retries=0,
            )
        finally:
            await http_client.close_async()

    # --- webhooks --------------------------------------------------------------------------
    async def register_webhook(
        self, url: str, secret: str, events: list[str] | None = None
    ) -> None:
        import localstripe.webhooks as webhooks

        webhooks.register_webhook("twoway", url, secret, events)

    def _schedule_webhook(self, event: Any) -> None:
        payload = event._export()
        if self.stripe_like:
            self._add_stripe_fields(payload)
        if self.webhook_mode == "capture":
            self.captured.append(payload)
            self.captured_keys.append((_REQUEST.get() or {}).get("idempotency_key"))
            return
        task = asyncio.ensure_future(self.deliver(payload))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def deliver(
        self, event: dict[str, Any], *, secret: str | None = None, timestamp: int | None = None
    ) -> httpx.Response | None:
        """Sign and POST ``event`` to every registered endpoint (as Stripe would)."""
        import localstripe.webhooks as webhooks

        assert self._http is not None
        payload = json.dumps(event, indent=2, sort_keys=True).encode()
        last: httpx.Response | None = None
        for hook in list(webhooks._webhooks.values()):
            if hook.events is not None and event["type"] not in hook.events:
                continue
            header = sign(payload, secret or hook.secret, timestamp or int(time.time()))
            try:
                last = await self._http.post(
                    hook.url,
                    content=payload,
                    headers={
                        "Content-Type": "application/json; charset=utf-8",
                        "Stripe-Signature": header,
                    },
                )
                self.deliveries.append(last)
            except httpx.HTTPError as exc:
                self.deliveries.append(exc)
        return last

    def take_captured(self) -> list[tuple[dict[str, Any], bool]]:
        """The captured events so far, each with whether twoway's own request made it; the
        capture is emptied."""
        taken = [
            (event, (key or "").startswith("twoway-"))
            for event, key in zip(self.captured, self.captured_keys, strict=True)
        ]
        self.captured.clear()
        self.captured_keys.clear()
        return taken

    def _add_stripe_fields(self, payload: dict[str, Any]) -> None:
        payload["request"] = _REQUEST.get() or {"id": None, "idempotency_key": None}
        obj = payload["data"]["object"]
        before = self._states.get(obj["id"])
        self._states[obj["id"]] = json.loads(json.dumps(obj))
        if not payload["type"].endswith(".updated") or before is None:
            return
        previous: dict[str, Any] = {}
        for key, value in obj.items():
            if key == "metadata":
                old = before.get("metadata") or {}
                new = value or {}
                changed = {k: old.get(k) for k in set(old) | set(new) if old.get(k) != new.get(k)}
                if changed:
                    previous["metadata"] = changed
            elif before.get(key) != value:
                previous[key] = before.get(key)
        payload["data"]["previous_attributes"] = previous

    @property
    def delivering(self) -> int:
        """Webhook deliveries under way (sent, not yet answered)."""
        return len(self._pending)

    async def settle(self) -> None:
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    # --- holding twoway's requests ---------------------------------------------------------
    def hold(self) -> None:
        """From now on, twoway's requests wait (the dashboard's go through)."""
        if self._held is None:
            self._held = asyncio.Event()

    def release(self) -> None:
        """Let every held request through, and stop holding."""
        if self._held is not None:
            self._held.set()
            self._held = None

    async def held(self, count: int, timeout: float = 10.0) -> None:
        """Wait until ``count`` requests are being held."""
        await eventually(
            lambda: self.holding >= count, timeout, what=f"{count} requests held at the fake"
        )

    def hold_listings(self) -> None:
        if self._listings_held is None:
            self._listings_held = asyncio.Event()

    def release_listings(self) -> None:
        if self._listings_held is not None:
            self._listings_held.set()
            self._listings_held = None

    def _whole_listing(self, request: web.Request) -> bool:
        return (
            request.method == "GET"
            and request.path in ("/v1/customers", "/v1/products")
            and "email" not in request.query
        )

    # --- middlewares -------------------------------------------------------------------------
    @web.middleware
    async def _hold_mw(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key") or ""
        listings = self._listings_held
        if listings is not None and self._whole_listing(request):
            self.listings_holding += 1
            try:
                await listings.wait()
            finally:
                self.listings_holding -= 1
        gate = self._held
        if gate is not None and key.startswith("twoway-"):
            self.holding += 1
            try:
                await gate.wait()
            finally:
                self.holding -= 1
        token = _REQUEST.set({"id": f"req_{id(request):x}", "idempotency_key": key or None})
        try:
            return await handler(request)
        finally:
            _REQUEST.reset(token)

    @web.middleware
    async def _record_mw(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        at = time.monotonic()
        form = dict(await request.post()) if request.method == "POST" else {}
        status = 599
        try:
            response = await handler(request)
            status = response.status
            if request.method == "POST" and status < 300 and isinstance(response, web.Response):
                written = json.loads(bytes(response.body or b"{}"))  # type: ignore[arg-type]
                if isinstance(written, dict) and isinstance(written.get("id"), str):
                    self._written[written["id"]] = time.monotonic()
            return response
        finally:
            if request.path.startswith("/v1/"):
                self.calls.append(
                    Call(
                        at,
                        request.method,
                        request.path,
                        status,
                        request.headers.get("Idempotency-Key"),
                        {k: str(v) for k, v in form.items()},
                    )
                )

    @web.middleware
    async def _fault_mw(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if self.rate_limit is not None and request.path.startswith("/v1/"):
            now = time.monotonic()
            self._arrivals = [t for t in self._arrivals if now - t < 1.0]
            if len(self._arrivals) >= self.rate_limit:
                body = {"error": {"type": "invalid_request_error", "code": "rate_limit",
                                  "message": "Too many requests"}}  # fmt: skip
                return web.json_response(body, status=429)
            self._arrivals.append(now)
        fault = next((f for f in self.faults if f.matches(request)), None)
        if fault is None:
            return await handler(request)
        self.faults.remove(fault)
        if fault.after_handler:
            await handler(request)
        if fault.hang_s:
            await asyncio.sleep(fault.hang_s)  # scenario: the injected fault is a slow answer
        body = fault.body or {"error": {"type": "api_error", "message": "injected fault"}}
        return web.json_response(body, status=fault.status, headers=fault.headers)

    @web.middleware
    async def _events_mw(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """``GET /v1/events`` as Stripe lists them (localstripe knows neither ``types[]`` nor
        ``ending_before``, and lists oldest first): newest first; ``ending_before=<id>``: the
        events just newer than ``<id>`` (404 for an unknown id); ``starting_after``: older."""
        if request.method != "GET" or request.path != "/v1/events":
            return await handler(request)
        from localstripe.resources import store

        query = request.query
        types = {v for k, v in query.items() if k == "types[]" or k.startswith("types[")}
        events = [o for k, o in store.items() if k.startswith("event:")]  # oldest first
        if types:
            events = [e for e in events if e.type in types]
        ids = [e.id for e in events]
        limit = int(query.get("limit", "10"))
        newest_first = list(reversed(events))
        if "ending_before" in query:
            cursor = query["ending_before"]
            if cursor not in ids and not store.get(f"event:{cursor}"):
                return web.json_response(
                    {"error": {"type": "invalid_request_error", "code": "resource_missing",
                               "message": f"No such event: '{cursor}'"}},
                    status=404,
                )  # fmt: skip
            newer = events[ids.index(cursor) + 1 :] if cursor in ids else []
            page, more = newer[:limit], len(newer) > limit
            data = list(reversed(page))
        else:
            start = 0
            if "starting_after" in query and query["starting_after"] in ids:
                start = newest_first.index(store[f"event:{query['starting_after']}"]) + 1
            data = newest_first[start : start + limit]
            more = len(newest_first) > start + limit
        body = {"object": "list", "url": "/v1/events", "has_more": more,
                "data": [e._export() for e in data]}  # fmt: skip
        return web.json_response(body)

    @web.middleware
    async def _idempotency_mw(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            return await handler(request)
        if key in self._idem:
            status, body, ctype = self._idem[key]
            return web.Response(
                status=status,
                body=body,
                content_type=ctype,
                headers={"Idempotent-Replayed": "true"},
            )
        response = await handler(request)
        if isinstance(response, web.Response) and response.status < 500:
            self._idem[key] = (
                response.status,
                bytes(response.body or b""),  # type: ignore[arg-type]
                response.content_type,
            )
        return response

    # --- Search ------------------------------------------------------------------------------
    def _search_handler(self, name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def search(request: web.Request) -> web.StreamResponse:
            from localstripe.resources import store

            try:
                clauses = _search_clauses(request.query.get("query", ""))
            except ValueError as exc:
                body = {"error": {"type": "invalid_request_error", "message": str(exc)}}
                return web.json_response(body, status=400)
            now = time.monotonic()
            found = []
            for key, obj in list(store.items()):
                if not key.startswith(f"{name}:"):
                    continue
                written = self._written.get(obj.id, 0.0)
                if now - written < self.search_lag_s:
                    continue
                exported = obj._export()
                if all(_clause_holds(exported, path, value) for path, value in clauses):
                    found.append(exported)
            limit = int(request.query.get("limit", "10"))
            return web.json_response(
                {
                    "object": "search_result",
                    "url": f"/v1/{name}s/search",
                    "has_more": len(found) > limit,
                    "next_page": None,
                    "data": found[:limit],
                }
            )

        return search

    def forget_idempotency_keys(self) -> None:
        """Stripe keeps a key for 24 hours; then a request with it runs anew."""
        self._idem.clear()

    # --- helpers for assertions --------------------------------------------------------------
    def api_calls(self, method: str | None = None, prefix: str = "/v1/customers") -> list[Call]:
        return [
            c
            for c in self.calls
            if c.path.startswith(prefix) and (method is None or c.method == method)
        ]

    def max_per_window(self, window_s: float = 1.0, prefix: str = "/v1/") -> int:
        times = sorted(c.at for c in self.calls if c.path.startswith(prefix))
        best, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] >= window_s:
                start += 1
            best = max(best, end - start + 1)
        return best


def _search_clauses(query: str) -> list[tuple[tuple[str, ...], str]]:
    """``email:'a@b.c' AND metadata['twoway_id']:'x'`` -> [(("email",), "a@b.c"), ...]."""
    clauses = []
    for part in (p.strip() for p in query.split(" AND ")):
        field, sep, quoted = part.partition(":")
        if not sep or len(quoted) < 2 or quoted[0] != "'" or quoted[-1] != "'":
            raise ValueError(f"unsupported search clause: {part!r}")
        if field.startswith("metadata[") and field.endswith("]"):
            path: tuple[str, ...] = ("metadata", field[len("metadata[") : -1].strip("'\""))
        else:
            path = (field,)
        clauses.append((path, quoted[1:-1]))
    return clauses


def _clause_holds(obj: dict[str, Any], path: tuple[str, ...], value: str) -> bool:
    current: Any = obj
    for step in path:
        if not isinstance(current, dict):
            return False
        current = current.get(step)
    return bool(current == value)
