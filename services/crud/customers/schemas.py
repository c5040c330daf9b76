"""Request and response bodies of the customer API. Field limits are Stripe's (see
``services.crud.validators``), so that a customer the API took never fails later, in the sync,
for a reason the user could have been told now."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.crud.api_schemas import SyncBlock
from services.crud.ids import ID_PATTERN
from services.crud.validators import Email, Metadata, Name, Phone, omitted_if_null

CustomerId = Annotated[str, Field(pattern=ID_PATTERN)]


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    email: Email
    phone: Phone = None
    metadata: Metadata = Field(default_factory=dict)


class CustomerPatch(BaseModel):
    """Only the fields present are changed; ``phone: null`` clears the phone."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = Field(default=None, json_schema_extra=omitted_if_null)
    email: Email | None = Field(default=None, json_schema_extra=omitted_if_null)
    phone: Phone = None
    metadata: Metadata | None = Field(default=None, json_schema_extra=omitted_if_null)

    @field_validator("name", "email", "metadata")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs only for fields the client sent: an explicit null is refused, absence is fine.
        if value is None:
            raise ValueError("cannot be null")
        return value

    def changes(self) -> dict[str, object]:
        return self.model_dump(exclude_unset=True)


class Customer(BaseModel):
    id: CustomerId
    name: str
    email: str
    phone: str | None
    metadata: dict[str, str]
    version: int = Field(ge=1, description="starts at 1, one more per change")
    created_at: datetime
    updated_at: datetime
    sync: dict[str, SyncBlock] = Field(description="the customer's state at each provider")


class CustomerPage(BaseModel):
    data: list[Customer]
    next_cursor: CustomerId | None = Field(description="pass as `cursor` for the next page")
