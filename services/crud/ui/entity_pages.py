"""The pages of any entity kind, made from its slice: list, detail, create, edit, delete.

``/ui/<kind>s``: the list (prefix search, sync-status filter per provider, cursor paging);
``/new``; ``/<id>``: fields, each provider's status, id (linked where the provider can build a
link), last error and note, where the shadow differs, and the entity's conflicts; ``/<id>/edit``
and ``/<id>/delete`` (which asks first). Edits name the version the page was rendered with: a
change made meanwhile shows both values and is never overwritten silently.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from services.crud.ids import is_id
from services.crud.records import (
    Duplicate,
    EntityService,
    NotFound,
    VersionMismatch,
    fields_of,
    flat,
)
from services.crud.settings import CrudSettings
from services.crud.slices import EntitySlice
from services.crud.sync.models import ConflictRecord
from services.crud.sync.status import SYNC_STATUSES, block, sync_blocks
from services.crud.synced import SyncedModel
from services.crud.ui import events
from services.crud.ui.forms import (
    FieldErrors,
    FormField,
    form_fields,
    parsed,
    raw,
    shown,
    validated,
)
from services.crud.ui.guard import READ_ONLY, refused, signed_in
from services.crud.ui.listing import ListFilter, page_ids
from services.crud.ui.provider_links import ProviderLinks
from services.crud.ui.sessions import Session
from services.crud.ui.templates import page
from services.runtime.links.models import ExternalLink
from services.runtime.links.shadow import Shadow
from services.runtime.providers import providers_of
from shared.kinds import Provider

PAGE_SIZE = 25
WAS = "was."
"""Hidden inputs with the values the form was rendered with: what the user changed."""


class EntityPages:
    def __init__(self, kind: EntitySlice, settings: CrudSettings) -> None:
        self.kind = kind
        self.settings = settings
        self.providers = providers_of(kind.kind, settings.providers)
        self.links = ProviderLinks(self.providers)
        self.base = f"/ui{kind.path}"
        self.create_fields = form_fields(kind.create)
        self.edit_fields = form_fields(kind.patch)
        self.columns = [f.name for f in self.create_fields if f.input != "map"][:3]

    def context(self, **extra: Any) -> dict[str, Any]:
        return {"kind": self.kind, "base": self.base, "providers": self.providers, **extra}

    def service(self, request: Request) -> EntityService:
        service: EntityService = request.app.state.services[self.kind.kind]
        return service

    async def row(self, request: Request) -> SyncedModel | None:
        entity_id: str = request.path_params["entity_id"]
        if not is_id(entity_id):
            return None
        row: SyncedModel | None = await self.kind.model.get_or_none(id=entity_id)
        return row

    def missing(self, request: Request) -> Response:
        return refused(request, 404, f"No such {self.kind.noun}: it may have been deleted.")

    # -- list -------------------------------------------------------------------------------

    def _filter(self, request: Request) -> ListFilter:
        query = request.query_params
        provider = query.get("provider", "")
        status = query.get("status", "")
        cursor = query.get("cursor") or None
        return ListFilter(
            prefix=query.get("q", "").strip()[:100],
            provider=Provider(provider) if provider in self.providers else None,
            status=next((s for s in SYNC_STATUSES if s == status), None),
            cursor=cursor if cursor and is_id(cursor) else None,
        )

    async def list_page(self, request: Request, session: Session) -> Response:
        chosen = self._filter(request)
        if chosen.status and not chosen.provider and self.providers:
            chosen = ListFilter(chosen.prefix, self.providers[0], chosen.status, chosen.cursor)
        ids = await page_ids(self.kind, chosen, PAGE_SIZE + 1)
        rows = await self.kind.model.filter(id__in=ids[:PAGE_SIZE]).order_by("id")
        blocks = await sync_blocks(self.kind.kind, {r.id: r.version for r in rows}, self.providers)
        next_url = None
        if len(ids) > PAGE_SIZE:
            params = {
                "q": chosen.prefix,
                "provider": chosen.provider.value if chosen.provider else "",
                "status": chosen.status or "",
                "cursor": ids[PAGE_SIZE - 1],
            }
            next_url = f"{self.base}?{urlencode({k: v for k, v in params.items() if v})}"
        items = [
            {
                "id": r.id,
                "cells": [shown_cell(getattr(r, c)) for c in self.columns],
                "sync": {p: blocks[r.id][p.value]["status"] for p in self.providers},
            }
            for r in rows
        ]
        return page(
            request,
            "entity_list.html",
            self.context(
                items=items,
                columns=self.columns,
                chosen=chosen,
                statuses=SYNC_STATUSES,
                next_url=next_url,
                first_page=chosen.cursor is None,
            ),
        )

    # -- detail -----------------------------------------------------------------------------

    async def detail(self, request: Request, session: Session) -> Response:
        row = await self.row(request)
        if row is None:
            return self.missing(request)
        links = {
            link.provider: link
            for link in await ExternalLink.filter(
                entity=self.kind.kind.value, entity_id=row.id, provider__in=list(self.providers)
            )
        }
        ours = flat(self.kind, row)
        providers = []
        for provider in self.providers:
            link = links.get(provider.value)
            theirs = Shadow.load(link.shadow).values() if link else {}
            providers.append(
                {
                    "name": provider.value,
                    **block(link, row.version),
                    "href": self.links.to(
                        provider, self.kind.kind, link.external_id if link else None
                    ),
                    "differences": [
                        (path, ours.get(path), value)
                        for path, value in sorted(theirs.items())
                        if ours.get(path) != value
                    ],
                }
            )
        conflicts = (
            await ConflictRecord.filter(entity=self.kind.kind.value, entity_id=row.id)
            .order_by("-resolved_at")
            .limit(20)
        )
        fields = [
            (f.label, shown(f, v))
            for f, v in zip(self.create_fields, self._values(row), strict=True)
        ]
        return page(
            request,
            "entity_detail.html",
            self.context(
                row=row,
                fields=fields,
                sync=providers,
                conflicts=conflicts,
                sent=await events.sent(self.kind.kind, row.id),
                received=await events.received(self.kind.kind, row.id),
            ),
        )

    def _values(self, row: SyncedModel) -> list[Any]:
        current = fields_of(self.kind, row)
        return [current.get(f.name) for f in self.create_fields]

    # -- create -----------------------------------------------------------------------------

    def _form(
        self,
        request: Request,
        fields: Sequence[FormField],
        values: dict[str, str],
        *,
        title: str,
        action: str,
        errors: dict[str, str] | None = None,
        was: dict[str, str] | None = None,
        version: int | None = None,
        meanwhile: list[tuple[str, str, str]] | None = None,
        status: int = 200,
    ) -> Response:
        return page(
            request,
            "entity_form.html",
            self.context(
                title=title,
                action=action,
                fields=fields,
                values=values,
                errors=errors or {},
                was=was,
                version=version,
                meanwhile=meanwhile,
            ),
            status=status,
        )

    async def new_form(self, request: Request, session: Session) -> Response:
        if not session.can_write:
            return refused(request, 403, READ_ONLY)
        defaults = {
            f.name: shown(f, info.default)
            for f, info in zip(
                self.create_fields, self.kind.create.model_fields.values(), strict=True
            )
            if not info.is_required() and info.default_factory is None
        }
        return self._form(
            request,
            self.create_fields,
            defaults,
            title=f"New {self.kind.noun}",
            action=f"{self.base}/new",
        )

    async def create(self, request: Request, session: Session) -> Response:
        form = await request.form()
        texts = {f.name: raw(f, form) for f in self.create_fields}
        try:
            values = {f.name: parsed(f, texts[f.name]) for f in self.create_fields}
            body = validated(self.kind.create, values)
            row = await self.written(self.service(request).create(body.model_dump()))
        except FieldErrors as exc:
            return self._form(
                request,
                self.create_fields,
                texts,
                title=f"New {self.kind.noun}",
                action=f"{self.base}/new",
                errors=exc.errors,
                status=exc.status,
            )
        return RedirectResponse(f"{self.base}/{row.id}", status_code=303)

    @staticmethod
    async def written(write: Awaitable[SyncedModel]) -> SyncedModel:
        """The write's row; a unique value taken by another entity is an error of its field."""
        try:
            return await write
        except Duplicate as exc:
            raise FieldErrors({u.field: u.problem for u in exc.unique}, status=409) from None

    # -- edit -------------------------------------------------------------------------------

    def _shown(self, row: SyncedModel) -> dict[str, str]:
        current = fields_of(self.kind, row)
        return {f.name: shown(f, current.get(f.name)) for f in self.edit_fields}

    async def edit_form(self, request: Request, session: Session) -> Response:
        if not session.can_write:
            return refused(request, 403, READ_ONLY)
        row = await self.row(request)
        if row is None:
            return self.missing(request)
        values = self._shown(row)
        return self._edit_form(request, row, values, was=values)

    def _edit_form(
        self, request: Request, row: Any, values: dict[str, str], was: dict[str, str], **extra: Any
    ) -> Response:
        """The edit form of ``row`` at its current version (``extra``: errors, meanwhile,
        status)."""
        return self._form(
            request,
            self.edit_fields,
            values,
            title=f"Edit {self.kind.noun} {row.id}",
            action=f"{self.base}/{row.id}/edit",
            was=was,
            version=row.version,
            **extra,
        )

    async def update(self, request: Request, session: Session) -> Response:
        row = await self.row(request)
        if row is None:
            return self.missing(request)
        form = await request.form()
        texts = {f.name: raw(f, form) for f in self.edit_fields}
        was = {f.name: raw(f, form, WAS) for f in self.edit_fields}
        touched = [f for f in self.edit_fields if texts[f.name] != was[f.name]]
        version = _int(form, "version")
        action, title = f"{self.base}/{row.id}/edit", f"Edit {self.kind.noun} {row.id}"
        try:
            changes = {f.name: parsed(f, texts[f.name]) for f in touched}
            body: Any = validated(self.kind.patch, changes)
            if version != row.version:
                raise VersionMismatch(row.version)
            await self.written(self.service(request).update(row.id, body.changes(), {version}))
        except FieldErrors as exc:
            return self._form(
                request,
                self.edit_fields,
                texts,
                title=title,
                action=action,
                errors=exc.errors,
                was=was,
                version=version,
                status=exc.status,
            )
        except (VersionMismatch, NotFound):
            return await self._changed_meanwhile(request, texts, touched)
        return RedirectResponse(f"{self.base}/{row.id}", status_code=303)

    async def _changed_meanwhile(
        self, request: Request, texts: dict[str, str], touched: list[FormField]
    ) -> Response:
        """The form again on the current version: the user's changes kept, the other fields
        as they are now, and each changed field's two values side by side."""
        row = await self.row(request)
        if row is None:
            return self.missing(request)
        now = self._shown(row)
        mine = {f.name for f in touched}
        values = {name: texts[name] if name in mine else value for name, value in now.items()}
        meanwhile = [
            (f.label, texts[f.name], now[f.name]) for f in touched if texts[f.name] != now[f.name]
        ]
        return self._edit_form(request, row, values, was=now, meanwhile=meanwhile, status=409)

    # -- delete -----------------------------------------------------------------------------

    async def delete_form(self, request: Request, session: Session) -> Response:
        if not session.can_write:
            return refused(request, 403, READ_ONLY)
        row = await self.row(request)
        if row is None:
            return self.missing(request)
        return page(request, "entity_delete.html", self.context(row=row))

    async def delete(self, request: Request, session: Session) -> Response:
        row = await self.row(request)
        if row is None:
            return self.missing(request)
        form = await request.form()
        try:
            await self.service(request).delete(row.id, {_int(form, "version")})
        except VersionMismatch:
            return refused(
                request, 409, f"The {self.kind.noun} changed meanwhile: look again before deleting."
            )
        except NotFound:
            pass
        return RedirectResponse(self.base, status_code=303)

    def routes(self) -> list[Route]:
        item = f"{self.kind.path}/{{entity_id}}"
        read, write = signed_in(), signed_in(write=True)
        return [
            Route(self.kind.path, read(self.list_page), methods=["GET"]),
            Route(f"{self.kind.path}/new", read(self.new_form), methods=["GET"]),
            Route(f"{self.kind.path}/new", write(self.create), methods=["POST"]),
            Route(item, read(self.detail), methods=["GET"]),
            Route(f"{item}/edit", read(self.edit_form), methods=["GET"]),
            Route(f"{item}/edit", write(self.update), methods=["POST"]),
            Route(f"{item}/delete", read(self.delete_form), methods=["GET"]),
            Route(f"{item}/delete", write(self.delete), methods=["POST"]),
        ]


def shown_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _int(form: FormData, name: str) -> int:
    value = form.get(name)
    try:
        return int(value) if isinstance(value, str) else 0
    except ValueError:
        return 0
