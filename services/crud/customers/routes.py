"""HTTP routes of the customer slice."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.crud.customers import schemas
from services.crud.customers.models import Customer
from services.crud.customers.service import (
    CustomerService,
    DuplicateEmail,
    NotFound,
    VersionMismatch,
    snapshot,
)
from services.crud.http import ApiError, etag, if_match_version, parse_body, parse_query
from services.crud.ids import is_id
from services.crud.openapi import Endpoint
from services.crud.sync.status import ids_with_status, sync_blocks, unsynced_blocks
from shared.kinds import EntityKind, Provider


def render(customer: Customer) -> dict[str, Any]:
    return snapshot(customer).model_dump(mode="json")


async def render_all(customers: list[Customer]) -> list[dict[str, Any]]:
    """Customers with their ``sync`` block (status at each provider)."""
    blocks = await sync_blocks(EntityKind.CUSTOMER, {c.id: c.version for c in customers})
    return [{**render(c), "sync": blocks[c.id]} for c in customers]


async def customer_response(customer: Customer, status: int = 200) -> JSONResponse:
    (body,) = await render_all([customer])
    return JSONResponse(body, status_code=status, headers={"ETag": etag(customer.version)})


def created_response(customer: Customer) -> JSONResponse:
    # Just created through the API: no provider can have it yet, so no link to look up.
    body = {**render(customer), "sync": unsynced_blocks()}
    return JSONResponse(body, status_code=201, headers={"ETag": etag(customer.version)})


def _service(request: Request) -> CustomerService:
    service: CustomerService = request.app.state.customers
    return service


def _not_found(customer_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no customer {customer_id[:64]!r}")


def _customer_id(request: Request) -> str:
    """The id in the path; one of a form this API never hands out is a 404 at once."""
    customer_id: str = request.path_params["customer_id"]
    if not is_id(customer_id):
        raise _not_found(customer_id)
    return customer_id


async def _write(request: Request, call: Any) -> Any:
    customer_id = request.path_params.get("customer_id", "")
    try:
        return await call
    except NotFound:
        raise _not_found(customer_id) from None
    except VersionMismatch as exc:
        raise ApiError(
            412, "precondition_failed", f"If-Match does not match the current version {exc.current}"
        ) from None
    except DuplicateEmail:
        raise ApiError(
            409,
            "duplicate_email",
            "another customer has this email",
            {"email": "already used by another customer"},
        ) from None


async def create_customer(request: Request) -> Response:
    body = await parse_body(request, schemas.CustomerCreate)
    customer = await _write(request, _service(request).create(body.model_dump()))
    return created_response(customer)


async def get_customer(request: Request) -> Response:
    customer_id = _customer_id(request)
    customer = await Customer.get_or_none(id=customer_id)
    if customer is None:
        raise _not_found(customer_id)
    return await customer_response(customer)


async def list_customers(request: Request) -> Response:
    params = parse_query(request, schemas.CustomerListQuery)
    query = Customer.all().order_by("id")
    if params.cursor is not None:
        query = query.filter(id__gt=params.cursor)
    if params.sync_status is not None:
        ids = await ids_with_status(
            Customer._meta.db_table,
            EntityKind.CUSTOMER,
            Provider.STRIPE,
            params.sync_status,
            params.cursor,
            params.limit + 1,
        )
        query = query.filter(id__in=ids)
    rows = await query.limit(params.limit + 1)
    page = rows[: params.limit]
    next_cursor = page[-1].id if len(rows) > params.limit else None
    return JSONResponse({"data": await render_all(page), "next_cursor": next_cursor})


async def patch_customer(request: Request) -> Response:
    customer_id = _customer_id(request)
    body = await parse_body(request, schemas.CustomerPatch)
    expected = if_match_version(request)
    customer = await _write(
        request, _service(request).update(customer_id, body.changes(), expected)
    )
    return await customer_response(customer)


async def delete_customer(request: Request) -> Response:
    # Required: a delete reaches Stripe, where it cancels the customer's subscriptions.
    customer_id = _customer_id(request)
    expected = if_match_version(request, required=True)
    await _write(request, _service(request).delete(customer_id, expected))
    return Response(status_code=204)


_BODY_ERRORS = (400, 408, 413, 415, 422)
endpoints = [
    Endpoint(
        "POST",
        "/customers",
        create_customer,
        "create a customer",
        ok=201,
        returns=schemas.Customer,
        body=schemas.CustomerCreate,
        etag=True,
        errors=(*_BODY_ERRORS, 409),
    ),
    Endpoint(
        "GET",
        "/customers",
        list_customers,
        "list customers, oldest first",
        returns=schemas.CustomerPage,
        query=schemas.CustomerListQuery,
        errors=(422,),
    ),
    Endpoint(
        "GET",
        "/customers/{customer_id}",
        get_customer,
        "one customer",
        returns=schemas.Customer,
        etag=True,
        errors=(404,),
    ),
    Endpoint(
        "PATCH",
        "/customers/{customer_id}",
        patch_customer,
        "change some fields",
        returns=schemas.Customer,
        body=schemas.CustomerPatch,
        if_match="optional",
        etag=True,
        errors=(*_BODY_ERRORS, 404, 409, 412),
    ),
    Endpoint(
        "DELETE",
        "/customers/{customer_id}",
        delete_customer,
        "delete a customer (and, through the sync, at Stripe)",
        ok=204,
        if_match="required",
        errors=(404, 412, 428),
    ),
]
