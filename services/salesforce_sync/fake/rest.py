"""The sObject REST routes for Contact under ``/services/data/vNN.0/sobjects/Contact``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.salesforce_sync.fake.errors import ApiError, not_found
from services.salesforce_sync.fake.gate import Call, api, json_body
from services.salesforce_sync.fake.org import Org
from services.salesforce_sync.fake.store import Contact

BASE = "/services/data/v{version}/sobjects/Contact"


def _saved(contact: Contact, created: bool | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": contact.id, "success": True, "errors": []}
    if created is not None:
        body["created"] = created
    return body


def _fields(request: Request, org: Org) -> list[str] | None:
    raw = request.query_params.get("fields")
    if not raw:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    known = {"Id", "IsDeleted", "FirstName", "LastName", "Name", "Email", "Phone",
             "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById",
             "SystemModstamp", org.config.external_id_field}  # fmt: skip
    for name in names:
        if name not in known:
            raise ApiError.one(
                400, "INVALID_FIELD", f"No such column '{name}' on entity 'Contact'", [name]
            )
    return names


def _about(call: Call, contact: Contact | None, local_id: str | None = None) -> None:
    if contact is not None:
        call["contact_id"] = contact.id
        local_id = local_id or contact.external_id
    call["local_id"] = local_id


def _ambiguous(request: Request, matches: list[Contact]) -> JSONResponse:
    version = request.path_params["version"]
    urls = [f"/services/data/v{version}/sobjects/Contact/{c.id}" for c in matches]
    return JSONResponse(urls, status_code=300)


@api
async def create(request: Request, org: Org, call: Call) -> Response:
    body = await json_body(request, call)
    if isinstance(body, dict) and isinstance(body.get(org.config.external_id_field), str):
        call["local_id"] = body[org.config.external_id_field]
    contact = org.create(body, call["user"])
    _about(call, contact)
    return JSONResponse(_saved(contact), status_code=201)


@api
async def record(request: Request, org: Org, call: Call) -> Response:
    contact_id = request.path_params["contact_id"]
    _about(call, org.contacts.records.get(contact_id))  # deleted or not: the log says whose
    contact = org.contacts.get(contact_id)
    if request.method == "GET":
        fields = _fields(request, org)
        return JSONResponse(org.view(contact, request.path_params["version"], fields))
    if request.method == "PATCH":
        org.update(contact, await json_body(request, call), call["user"])
    else:
        org.delete(contact, call["user"], notify=False)
    return Response(status_code=204)


def _external_field(request: Request, org: Org) -> str:
    field = request.path_params["field"]
    if field != org.config.external_id_field:
        raise ApiError.one(
            404,
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {field}",
        )
    return str(field)


@api
async def by_external_id(request: Request, org: Org, call: Call) -> Response:
    field = _external_field(request, org)
    value: str = request.path_params["value"]
    call["local_id"] = value
    matches = org.contacts.matching(value)
    if request.method == "GET":
        if len(matches) > 1:
            return _ambiguous(request, matches)
        if not matches:
            raise not_found()
        _about(call, matches[0])
        fields = _fields(request, org)
        return JSONResponse(org.view(matches[0], request.path_params["version"], fields))
    body = await json_body(request, call)
    if isinstance(body, dict):
        for name in ("Id", field):
            if name in body:
                raise ApiError.one(
                    400,
                    "INVALID_FIELD",
                    f"{name} must not be in the body of an upsert: the record is named by "
                    f"{field} in the URL",
                    [name],
                )
    if len(matches) > 1:
        return _ambiguous(request, matches)
    if matches:
        org.update(matches[0], body, call["user"])
        _about(call, matches[0], value)
        return JSONResponse(_saved(matches[0], created=False), status_code=200)
    if request.query_params.get("updateOnly", "").lower() == "true":
        raise not_found()
    values = {**body, field: value} if isinstance(body, dict) else body
    contact = org.create(values, call["user"])
    _about(call, contact, value)
    return JSONResponse(_saved(contact, created=True), status_code=201)


@api
async def unknown(request: Request, org: Org, call: Call) -> Response:
    raise not_found()


ROUTES = [
    Route(BASE, create, methods=["POST"]),
    Route(BASE + "/", create, methods=["POST"]),
    Route(BASE + "/{contact_id}", record, methods=["GET", "PATCH", "DELETE"]),
    Route(BASE + "/{field}/{value}", by_external_id, methods=["GET", "PATCH"]),
    Route("/services/data/{rest:path}", unknown, methods=["GET", "POST", "PATCH", "DELETE", "PUT"]),
]
