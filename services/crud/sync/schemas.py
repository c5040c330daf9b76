"""Query and response schemas of ``GET /conflicts`` (they also make its OpenAPI entry)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, JsonValue

from services.runtime.providers import RegisteredProvider
from shared.kinds import EntityKind, Provider


def _iso_8601(value: Any) -> Any:
    # pydantic alone would also read "0.5" as a Unix time.
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be an ISO 8601 time, e.g. 2026-11-29T10:00:00Z") from None
    return value


IsoTime = Annotated[AwareDatetime, BeforeValidator(_iso_8601)]


class ConflictQuery(BaseModel):
    """``GET /conflicts`` query parameters; others are ignored."""

    entity: EntityKind | None = Field(default=None, description="only this entity kind")
    entity_id: str | None = Field(default=None, max_length=64, description="only this entity")
    provider: RegisteredProvider | None = Field(default=None, description="only with this provider")
    since: IsoTime | None = Field(
        default=None, description="resolved at or after (ISO 8601, with its offset or Z)"
    )
    until: IsoTime | None = Field(
        default=None, description="resolved before (ISO 8601, with its offset or Z)"
    )
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(
        default=None,
        pattern=r"^[1-9][0-9]{0,17}$",
        description="`next_cursor` of the previous page",
    )


class Conflict(BaseModel):
    id: str
    entity: EntityKind
    entity_id: str
    provider: Provider
    field: str = Field(description="the path: `name`, or `metadata.<key>` for one map key")
    app_value: JsonValue = Field(description="the app's value (null: unset)")
    app_changed_at: datetime
    provider_value: JsonValue = Field(description="the provider's value (null: unset)")
    provider_changed_at: datetime = Field(description="at the provider's clock resolution")
    winner: Literal["app", "provider"]
    value: JsonValue = Field(description="the value both sides ended with")
    rule: Literal["latest", "app", "provider"]
    provider_event_id: str
    resolved_at: datetime


class ConflictPage(BaseModel):
    data: list[Conflict]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")
