"""HTTP routes of the customer slice."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.crud.customers.models import Customer
from services.crud.customers.schemas import CustomerCreate, CustomerPatch
from services.crud.customers.service import (
    CustomerService,
    DuplicateEmail,
    NotFound,
    VersionMismatch,
    snapshot,
)
from services.crud.http import ApiError, etag, if_match_version, parse_body
from services.crud.sync.status import (
    SYNC_STATUSES,
    ids_with_status,
    sync_blocks,
    unsynced_blocks,
)
from shared.kinds import EntityKind, Provider

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


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
    return ApiError(404, "not_found", f"no customer {customer_id!r}")


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
    body = await parse_body(request, CustomerCreate)
    customer = await _write(request, _service(request).create(body.model_dump()))
    return created_response(customer)


async def get_customer(request: Request) -> Response:
    customer_id = request.path_params["customer_id"]
    customer = await Customer.get_or_none(id=customer_id)
    if customer is None:
        raise _not_found(customer_id)
    return await customer_response(customer)


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(
            422,
            "validation_error",
            "limit is out of range",
            {"limit": f"must be an integer from 1 to {MAX_LIMIT}"},
        )
    return int(raw)


async def list_customers(request: Request) -> Response:
    limit = _limit(request)
    query = Customer.all().order_by("id")
    cursor = request.query_params.get("cursor")
    if cursor:
        if len(cursor) > 36:
            raise ApiError(
                422,
                "validation_error",
                "cursor is invalid",
                {"cursor": "is not a cursor this API returned"},
            )
        query = query.filter(id__gt=cursor)
    sync_status = request.query_params.get("sync_status")
    if sync_status is not None:
        if sync_status not in SYNC_STATUSES:
            raise ApiError(
                422,
                "validation_error",
                "sync_status is invalid",
                {"sync_status": f"must be one of {', '.join(SYNC_STATUSES)}"},
            )
        ids = await ids_with_status(
            Customer._meta.db_table,
            EntityKind.CUSTOMER,
            Provider.STRIPE,
            sync_status,
            cursor or None,
            limit + 1,
        )
        query = query.filter(id__in=ids)
    rows = await query.limit(limit + 1)
    page = rows[:limit]
    next_cursor = page[-1].id if len(rows) > limit else None
    return JSONResponse({"data": await render_all(page), "next_cursor": next_cursor})


async def patch_customer(request: Request) -> Response:
    expected = if_match_version(request)
    body = await parse_body(request, CustomerPatch)
    customer = await _write(
        request,
        _service(request).update(request.path_params["customer_id"], body.changes(), expected),
    )
    return await customer_response(customer)


async def delete_customer(request: Request) -> Response:
    expected = if_match_version(request)
    await _write(request, _service(request).delete(request.path_params["customer_id"], expected))
    return Response(status_code=204)


routes = [
    Route("/customers", create_customer, methods=["POST"]),
    Route("/customers", list_customers, methods=["GET"]),
    Route("/customers/{customer_id}", get_customer, methods=["GET"]),
    Route("/customers/{customer_id}", patch_customer, methods=["PATCH"]),
    Route("/customers/{customer_id}", delete_customer, methods=["DELETE"]),
]
