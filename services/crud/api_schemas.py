"""Response bodies every entity kind's API shares: errors and the ``sync`` block.

They describe what the handlers send (the OpenAPI document is generated from them); the
schemathesis run in the test suite checks every response against them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

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
    updated_at: datetime | None


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, bool]
