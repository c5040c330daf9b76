"""Request and response bodies of the product API. Field limits are Stripe's (product name up
to 250 characters, description 40,000, unit label 12; metadata as in
``services.crud.validators``), so that a product the API took never fails later, in the sync."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    field_validator,
)

from services.crud.api_schemas import SyncBlock
from services.crud.ids import ID_PATTERN
from services.crud.validators import NON_BLANK, Metadata, omitted_if_null

ProductId = Annotated[str, Field(pattern=ID_PATTERN)]


def _stripped(value: str | None) -> str | None:
    return None if value is None else value.strip()


ProductName = Annotated[
    StrictStr, Field(max_length=250, pattern=NON_BLANK), AfterValidator(_stripped)
]
Description = Annotated[
    Annotated[StrictStr, Field(min_length=1, max_length=40_000, pattern=NON_BLANK)] | None,
    AfterValidator(_stripped),
]
UnitLabel = Annotated[
    Annotated[StrictStr, Field(min_length=1, max_length=12, pattern=NON_BLANK)] | None,
    AfterValidator(_stripped),
]


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ProductName
    description: Description = None
    active: StrictBool = True
    metadata: Metadata = Field(default_factory=dict)
    unit_label: UnitLabel = None


class ProductPatch(BaseModel):
    """Only the fields present are changed; ``description`` or ``unit_label`` null clears it."""

    model_config = ConfigDict(extra="forbid")

    name: ProductName | None = Field(default=None, json_schema_extra=omitted_if_null)
    description: Description = None
    active: StrictBool | None = Field(default=None, json_schema_extra=omitted_if_null)
    metadata: Metadata | None = Field(default=None, json_schema_extra=omitted_if_null)
    unit_label: UnitLabel = None

    @field_validator("name", "active", "metadata")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs only for fields the client sent: an explicit null is refused, absence is fine.
        if value is None:
            raise ValueError("cannot be null")
        return value

    def changes(self) -> dict[str, object]:
        return self.model_dump(exclude_unset=True)


class Product(BaseModel):
    id: ProductId
    name: str
    description: str | None
    active: bool
    metadata: dict[str, str]
    unit_label: str | None
    version: int = Field(ge=1, description="starts at 1, one more per change")
    created_at: datetime
    updated_at: datetime
    sync: dict[str, SyncBlock] = Field(description="the product's state at each provider")


class ProductPage(BaseModel):
    data: list[Product]
    next_cursor: ProductId | None = Field(description="pass as `cursor` for the next page")
