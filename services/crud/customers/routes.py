"""HTTP routes of the customer slice."""

from __future__ import annotations

from typing import Any, cast

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
from services.crud.http import (
    ApiError,
    etag,
    if_match_version,
    parse_body,
    query_choice,
    query_id,
    query_int,
)
from services.crud.ids import is_id
from services.crud.sync.status import (
    SYNC_STATUSES,
    SyncStatus,
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
    body = await parse_body(request, CustomerCreate)
    customer = await _write(request, _service(request).create(body.model_dump()))
    return created_response(customer)


async def get_customer(request: Request) -> Response:
    customer_id = _customer_id(request)
    customer = await Customer.get_or_none(id=customer_id)
    if customer is None:
        raise _not_found(customer_id)
    return await customer_response(customer)


async def list_customers(request: Request) -> Response:
    limit = query_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    cursor = query_id(request, "cursor")
    sync_status = query_choice(request, "sync_status", SYNC_STATUSES)
    query = Customer.all().order_by("id")
    if cursor is not None:
        query = query.filter(id__gt=cursor)
    if sync_status is not None:
        ids = await ids_with_status(
            Customer._meta.db_table,
            EntityKind.CUSTOMER,
            Provider.STRIPE,
            cast(SyncStatus, sync_status),
            cursor,
            limit + 1,
        )
        query = query.filter(id__in=ids)
    rows = await query.limit(limit + 1)
    page = rows[:limit]
    next_cursor = page[-1].id if len(rows) > limit else None
    return JSONResponse({"data": await render_all(page), "next_cursor": next_cursor})


async def patch_customer(request: Request) -> Response:
    customer_id = _customer_id(request)
    expected = if_match_version(request)
    body = await parse_body(request, CustomerPatch)
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


routes = [
    Route("/customers", create_customer, methods=["POST"]),
    Route("/customers", list_customers, methods=["GET"]),
    Route("/customers/{customer_id}", get_customer, methods=["GET"]),
    Route("/customers/{customer_id}", patch_customer, methods=["PATCH"]),
    Route("/customers/{customer_id}", delete_customer, methods=["DELETE"]),
]
