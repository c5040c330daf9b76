"""``/_fake/...``: the fake's own control routes (no Salesforce has them), for tests and demos.

A human user's edits (as in Salesforce's UI: they queue Outbound Messages, by
``HUMAN_USER_ID``), drift (values changed with no trace: no stamp, no Outbound Message),
configuration, faults, API usage, the request log, token expiry, and the
outbound queue (hold, release, settle, deliveries).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.salesforce_sync.fake.config import API_VERSION
from services.salesforce_sync.fake.errors import ApiError
from services.salesforce_sync.fake.faults import Fault
from services.salesforce_sync.fake.fields import checked
from services.salesforce_sync.fake.gate import org_of
from services.salesforce_sync.fake.org import Org
from services.salesforce_sync.fake.store import Contact

_CONFIGURABLE = {
    "outbound_url": (str, type(None)),
    "org_id": (str,),
    "external_id_field": (str,),
    "external_id_unique": (bool,),
    "allocation": (int,),
    "retry_initial_s": (int, float),
    "retry_max_s": (int, float),
    "outbound_timeout_s": (int, float),
    "clock_ahead_s": (int, float),
}
_CUSTOM_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*__c$")


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


def _flag(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    return default if raw is None else raw.lower() in ("1", "true", "yes")


async def _json(request: Request) -> dict[str, Any]:
    body = await request.json() if await request.body() else {}
    if not isinstance(body, dict):
        raise ValueError("a JSON object is expected")
    return body


def _shown(org: Org, contact: Contact) -> dict[str, Any]:
    return org.view(contact, API_VERSION)


async def reset(request: Request) -> Response:
    await org_of(request).reset(config=_flag(request, "config", False))
    return Response(status_code=204)


async def config(request: Request) -> Response:
    org = org_of(request)
    if request.method == "POST":
        changes = await _json(request)
        for name, value in changes.items():
            if name not in _CONFIGURABLE or not isinstance(value, _CONFIGURABLE[name]):
                return _bad(f"cannot set {name} to {value!r}")
        if "external_id_field" in changes and not _CUSTOM_FIELD.match(changes["external_id_field"]):
            return _bad("external_id_field must be a custom field name (ending in __c)")
        if changes.get("allocation", 1) < 1:
            return _bad("allocation must be at least 1")
        for name, value in changes.items():
            setattr(org.config, name, value)
    return JSONResponse(org.config.public())


async def contacts(request: Request) -> Response:
    org = org_of(request)
    if request.method == "POST":
        try:
            contact = org.create(await _json(request), org.config.human_user_id)
        except ApiError as error:
            return error.response()
        return JSONResponse(_shown(org, contact), status_code=201)
    include_deleted = _flag(request, "include_deleted", False)
    local_id = request.query_params.get("local_id")
    found = [
        _shown(org, c)
        for c in org.contacts.records.values()
        if (include_deleted or not c.is_deleted) and (local_id is None or c.external_id == local_id)
    ]
    return JSONResponse(found)


async def contact(request: Request) -> Response:
    org = org_of(request)
    found = org.contacts.records.get(request.path_params["contact_id"])
    if found is None:
        return JSONResponse(None, status_code=404)
    try:
        if request.method == "PATCH":
            org.update(org.contacts.get(found.id), await _json(request), org.config.human_user_id)
        elif request.method == "DELETE":
            notify = _flag(request, "notify", True)
            org.delete(org.contacts.get(found.id), org.config.human_user_id, notify=notify)
            return Response(status_code=204)
    except ApiError as error:
        return error.response()
    return JSONResponse(_shown(org, found))


async def drift(request: Request) -> Response:
    """Change a Contact's values with no trace: ``SystemModstamp`` stays and no Outbound
    Message is queued, so neither a webhook nor catch-up sees it (only the drift audit can)."""
    org = org_of(request)
    try:
        found = org.contacts.get(request.path_params["contact_id"])
        values = checked(await _json(request), org.config.external_id_field, creating=False)
        if org.config.external_id_field in values:
            return _bad("drift changes values, not the External ID")
    except ApiError as error:
        return error.response()
    found.values.update(values)
    return JSONResponse(_shown(org, found))


async def faults(request: Request) -> Response:
    org = org_of(request)
    if request.method == "POST":
        try:
            org.faults.add(Fault(**await _json(request)))
        except (TypeError, ValueError) as exc:
            return _bad(str(exc))
    elif request.method == "DELETE":
        org.faults.queued.clear()
    return JSONResponse([f.public() for f in org.faults.queued])


async def usage(request: Request) -> Response:
    org = org_of(request)
    if request.method == "PUT":
        body = await _json(request)
        used, allocation = body.get("used"), body.get("allocation", org.config.allocation)
        if not isinstance(used, int) or not isinstance(allocation, int) or allocation < 1:
            return _bad("used and allocation are integers, allocation at least 1")
        org.used, org.config.allocation = max(0, used), allocation
    return JSONResponse({"used": org.used, "allocation": org.config.allocation})


async def requests(request: Request) -> Response:
    return JSONResponse(org_of(request).requests)


async def expire_tokens(request: Request) -> Response:
    org_of(request).sessions.expire()
    return Response(status_code=204)


def _outbound_state(org: Org) -> dict[str, Any]:
    outbound = org.outbound
    return {
        "pending": outbound.count,
        "queued": len(outbound.pending),
        "in_flight": len(outbound.in_flight),
        "held": outbound.held,
        "deliveries": len(outbound.deliveries),
    }


async def outbound(request: Request) -> Response:
    org = org_of(request)
    action = request.path_params.get("action")
    if action not in (None, "hold", "release"):
        return JSONResponse({"error": f"no action {action}"}, status_code=404)
    if action == "hold":
        org.outbound.hold()
    elif action == "release":
        org.outbound.release()
    return JSONResponse(_outbound_state(org))


async def settle(request: Request) -> Response:
    """Answers once no notification is pending or in flight; 504 after ``timeout`` s."""
    org = org_of(request)
    try:
        timeout = float(request.query_params.get("timeout", "10"))
    except ValueError:
        return _bad("timeout must be a number of seconds")
    settled = await org.outbound.settled(timeout)
    return JSONResponse(_outbound_state(org), status_code=200 if settled else 504)


async def deliveries(request: Request) -> Response:
    return JSONResponse(org_of(request).outbound.deliveries)


ROUTES = [
    Route("/_fake/reset", reset, methods=["POST"]),
    Route("/_fake/config", config, methods=["GET", "POST"]),
    Route("/_fake/contacts", contacts, methods=["GET", "POST"]),
    Route("/_fake/contacts/{contact_id}", contact, methods=["GET", "PATCH", "DELETE"]),
    Route("/_fake/contacts/{contact_id}/drift", drift, methods=["POST"]),
    Route("/_fake/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/_fake/usage", usage, methods=["GET", "PUT"]),
    Route("/_fake/requests", requests, methods=["GET"]),
    Route("/_fake/tokens/expire", expire_tokens, methods=["POST"]),
    Route("/_fake/outbound", outbound, methods=["GET"]),
    Route("/_fake/outbound/settle", settle, methods=["POST"]),
    Route("/_fake/outbound/deliveries", deliveries, methods=["GET"]),
    Route("/_fake/outbound/{action:str}", outbound, methods=["POST"]),
]
