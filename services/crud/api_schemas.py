"""Response bodies every entity kind's API shares: errors and the ``sync`` block.

They describe what the handlers send (the OpenAPI document is generated from them); the
schemathesis run in the test suite checks every response against them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.crud.ids import ID_PATTERN
from services.crud.validators import omitted_if_null
from services.runtime.providers import RegisteredProvider

SyncState = Literal["pending", "synced", "failed"]


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable: validation_error, not_found, ...")
    message: str
    fields: dict[str, str] = Field(description="the fields at fault, and what is wrong with each")


class ErrorBody(BaseModel):
    error: ErrorDetail


class SyncBlock(BaseModel):
    """Where one provider stands with one entity."""

    status: SyncState
    external_id: str | None
    synced_version: int | None
    last_error: str | None
    note: str | None = Field(
        default=None, description="what to know of a successful sync (e.g. archived, not deleted)"
    )
    updated_at: datetime | None


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, bool]


class ListQuery(BaseModel):
    """A collection's query parameters (``GET /customers``, ``GET /products``); others are
    ignored."""

    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description="`next_cursor` of the previous page",
        json_schema_extra=omitted_if_null,
    )
    sync_status: SyncState | None = Field(
        default=None,
        description="only the entities in this sync state at `provider`",
        json_schema_extra=omitted_if_null,
    )
    provider: RegisteredProvider | None = Field(
        default=None,
        description="the provider `sync_status` is about (default: the first provider of the "
        "deployment that syncs this kind)",
        json_schema_extra=omitted_if_null,
    )
