"""What every ``/services/data`` request goes through before its handler: the request log,
injected faults, the session, and the daily API allocation (``Sforce-Limit-Info`` on every
answer; at the allocation, 403 ``REQUEST_LIMIT_EXCEEDED``)."""

from __future__ import annotations

import asyncio
import functools
import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from services.salesforce_sync.fake.errors import ApiError, not_found
from services.salesforce_sync.fake.org import Org

Call = dict[str, Any]
"""One request-log entry: ``at``, ``method``, ``path``, ``query``, ``status``, ``body``,
``user``, ``call_options`` (the ``Sforce-Call-Options`` header), and the ``contact_id`` /
``local_id`` it was about, when known."""
Handler = Callable[[Request, Org, Call], Awaitable[Response]]
_VERSION = re.compile(r"^[0-9]{2}\.0$")


def org_of(request: Request) -> Org:
    org: Org = request.app.state.org
    return org


def log_entry(org: Org, request: Request) -> Call:
    """A new entry in the log; what it is about as far as the request itself says (handlers
    add what they learn, and injected faults leave it so)."""
    params = request.path_params
    by_local_id = params.get("field") == org.config.external_id_field
    call: Call = {
        "at": time.time(),
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        "status": None,
        "body": None,
        "user": org.sessions.lookup(request.headers.get("authorization")),
        "contact_id": params.get("contact_id"),
        "local_id": params.get("value") if by_local_id else None,
        "call_options": request.headers.get("sforce-call-options"),
    }
    org.requests.append(call)
    return call


async def injected(org: Org, request: Request) -> Response | None:
    """The answer of a queued fault for this request, if one matches."""
    fault = org.faults.take(request.method, request.url.path)
    if fault is None:
        return None
    if fault.hang_s:
        await asyncio.sleep(fault.hang_s)
    return ApiError.one(fault.status, fault.error_code, fault.message).response()


async def json_body(request: Request, call: Call) -> Any:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        call["body"] = raw.decode(errors="replace")
        raise ApiError.one(400, "JSON_PARSER_ERROR", "The request body is not JSON") from None
    call["body"] = body
    return body


def api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        org = org_of(request)
        call = log_entry(org, request)
        response = await injected(org, request)
        if response is None:
            try:
                call["user"] = org.sessions.user(request.headers.get("authorization"))
                if not _VERSION.match(request.path_params.get("version", "")):
                    raise not_found()
                if org.used >= org.config.allocation:
                    raise ApiError.one(
                        403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."
                    )
                org.used += 1
                response = await handler(request, org, call)
            except ApiError as error:
                response = error.response()
        response.headers["Sforce-Limit-Info"] = f"api-usage={org.used}/{org.config.allocation}"
        call["status"] = response.status_code
        return response

    return endpoint
