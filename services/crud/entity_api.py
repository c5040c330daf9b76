"""The HTTP API of any entity kind, made from its slice: create, get, list, patch, delete.

``/<kind>s``: ``POST`` (201), ``GET`` (cursor paging, ``sync_status`` and ``provider``
filters); ``/<kind>s/{id}``: ``GET``, ``PATCH`` (``If-Match`` optional), ``DELETE``
(``If-Match`` required: a delete reaches every provider). Responses carry the entity, its
``sync`` block per provider and ``ETag: "<version>"``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from services.crud.http import (
    ApiError,
    JSONResponse,
    etag,
    if_match_version,
    parse_body,
    parse_query,
)
from services.crud.ids import is_id
from services.crud.openapi import Endpoint
from services.crud.records import Duplicate, EntityService, NotFound, VersionMismatch, snapshot
from services.crud.slices import EntitySlice
from services.crud.sync.status import ids_with_status, sync_blocks, unsynced_blocks
from services.crud.synced import SyncedModel
from services.runtime.providers import providers_of
from shared.kinds import Provider

T = TypeVar("T")
BODY_ERRORS = (400, 408, 413, 415, 422)


class EntityApi:
    def __init__(self, kind: EntitySlice, providers: Sequence[Provider]) -> None:
        self.kind = kind
        # The deployment's providers that sync this kind: those the sync block shows.
        self.providers = providers_of(kind.kind, providers)

    def render(self, row: SyncedModel) -> dict[str, Any]:
        return snapshot(self.kind, row).model_dump(mode="json")

    async def render_all(self, rows: list[SyncedModel]) -> list[dict[str, Any]]:
        """The entities with their ``sync`` block (status at each provider)."""
        blocks = await sync_blocks(self.kind.kind, {r.id: r.version for r in rows}, self.providers)
        return [{**self.render(r), "sync": blocks[r.id]} for r in rows]

    async def one(self, row: SyncedModel) -> JSONResponse:
        (body,) = await self.render_all([row])
        return JSONResponse(body, headers={"ETag": etag(row.version)})

    def service(self, request: Request) -> EntityService:
        service: EntityService = request.app.state.services[self.kind.kind]
        return service

    def not_found(self, entity_id: str) -> ApiError:
        return ApiError(404, "not_found", f"no {self.kind.noun} {entity_id[:64]!r}")

    def entity_id(self, request: Request) -> str:
        """The id in the path; one of a form this API never hands out is a 404 at once."""
        entity_id: str = request.path_params["entity_id"]
        if not is_id(entity_id):
            raise self.not_found(entity_id)
        return entity_id

    async def write(self, request: Request, call: Awaitable[T]) -> T:
        try:
            return await call
        except NotFound:
            raise self.not_found(request.path_params.get("entity_id", "")) from None
        except VersionMismatch as exc:
            raise ApiError(
                412,
                "precondition_failed",
                f"If-Match does not match the current version {exc.current}",
            ) from None
        except Duplicate as exc:
            first = exc.unique[0]
            raise ApiError(
                409,
                first.code,
                f"another {self.kind.noun} has this {first.field}",
                {u.field: u.problem for u in exc.unique},
            ) from None

    async def create(self, request: Request) -> Response:
        body = await parse_body(request, self.kind.create)
        row = await self.write(request, self.service(request).create(body.model_dump()))
        # Just created through the API: no provider can have it yet, so no link to look up.
        created = {**self.render(row), "sync": unsynced_blocks(self.providers)}
        return JSONResponse(created, status_code=201, headers={"ETag": etag(row.version)})

    async def get(self, request: Request) -> Response:
        entity_id = self.entity_id(request)
        row = await self.kind.model.get_or_none(id=entity_id)
        if row is None:
            raise self.not_found(entity_id)
        return await self.one(row)

    async def list_page(self, request: Request) -> Response:
        params: Any = parse_query(request, self.kind.list_query)
        query = self.kind.model.all().order_by("id")
        if params.cursor is not None:
            query = query.filter(id__gt=params.cursor)
        if params.sync_status is not None:
            ids = await ids_with_status(
                self.kind.model._meta.db_table,
                self.kind.kind,
                self.status_provider(params.provider),
                params.sync_status,
                params.cursor,
                params.limit + 1,
            )
            query = query.filter(id__in=ids)
        rows = await query.limit(params.limit + 1)
        page = rows[: params.limit]
        next_cursor = page[-1].id if len(rows) > params.limit else None
        return JSONResponse({"data": await self.render_all(page), "next_cursor": next_cursor})

    def status_provider(self, asked: Provider | None) -> Provider:
        """The provider a ``sync_status`` filter is about: the one asked for, else the first
        of the deployment's that syncs this kind."""
        if asked is not None:
            return asked
        if not self.providers:
            raise ApiError(
                400,
                "invalid_query",
                f"no provider of this deployment syncs {self.kind.noun}s",
                {"provider": "no provider of this deployment syncs this kind"},
            )
        return self.providers[0]

    async def patch(self, request: Request) -> Response:
        entity_id = self.entity_id(request)
        body: Any = await parse_body(request, self.kind.patch)
        expected = if_match_version(request)
        update = self.service(request).update(entity_id, body.changes(), expected)
        return await self.one(await self.write(request, update))

    async def delete(self, request: Request) -> Response:
        # Required: a delete reaches every provider (at Stripe, deleting a customer cancels
        # its subscriptions).
        entity_id = self.entity_id(request)
        expected = if_match_version(request, required=True)
        await self.write(request, self.service(request).delete(entity_id, expected))
        return Response(status_code=204)

    def endpoints(self) -> list[Endpoint]:
        """The kind's five operations, their ids and tag made from its path and noun
        (``/customers``, ``customer``: ``listCustomers``, ``getCustomer``, tag ``customers``)."""
        kind, path, noun = self.kind, self.kind.path, self.kind.noun
        one, many, tag = pascal_case(noun), pascal_case(path), path.strip("/")
        item = f"{path}/{{entity_id}}"
        conflicts = (409,) if kind.unique else ()
        return [
            Endpoint(
                "POST",
                path,
                self.create,
                f"create a {noun}",
                operation_id=f"create{one}",
                tag=tag,
                ok=201,
                returns=kind.response,
                body=kind.create,
                etag=True,
                errors=(*BODY_ERRORS, *conflicts),
            ),
            Endpoint(
                "GET",
                path,
                self.list_page,
                f"list {noun}s, oldest first",
                operation_id=f"list{many}",
                tag=tag,
                returns=kind.page,
                query=kind.list_query,
                errors=(422,),
            ),
            Endpoint(
                "GET",
                item,
                self.get,
                f"read one {noun}",
                operation_id=f"get{one}",
                tag=tag,
                returns=kind.response,
                etag=True,
                errors=(404,),
            ),
            Endpoint(
                "PATCH",
                item,
                self.patch,
                f"change some of a {noun}'s fields",
                operation_id=f"update{one}",
                tag=tag,
                returns=kind.response,
                body=kind.patch,
                if_match="optional",
                etag=True,
                errors=(*BODY_ERRORS, 404, *conflicts, 412),
            ),
            Endpoint(
                "DELETE",
                item,
                self.delete,
                f"delete a {noun} (and, through the sync, at every provider{kind.delete_note})",
                operation_id=f"delete{one}",
                tag=tag,
                ok=204,
                if_match="required",
                errors=(404, 412, 428),
            ),
        ]


def pascal_case(words: str) -> str:
    """``"price tier"``, ``"/price-tiers"``: ``"PriceTier"``, ``"PriceTiers"``."""
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[^0-9A-Za-z]+", words))
