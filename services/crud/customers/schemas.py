"""Request and response bodies of the customer API. Field limits are Stripe's (see
``services.crud.validators``), so that a customer the API took never fails later, in the sync,
for a reason the user could have been told now."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from services.crud.validators import Email, Metadata, Name, Phone


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    email: Email
    phone: Phone = None
    metadata: Metadata = Field(default_factory=dict)


class CustomerPatch(BaseModel):
    """Only the fields present are changed; ``phone: null`` clears the phone."""

    model_config = ConfigDict(extra="forbid")

    # ``SkipJsonSchema``: null is the "not sent" marker here, never a value a client may send.
    name: Name | SkipJsonSchema[None] = None
    email: Email | SkipJsonSchema[None] = None
    phone: Phone = None
    metadata: Metadata | SkipJsonSchema[None] = None

    @field_validator("name", "email", "metadata")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs only for fields the client sent: an explicit null is refused, absence is fine.
        if value is None:
            raise ValueError("cannot be null")
        return value

    def changes(self) -> dict[str, object]:
        return self.model_dump(exclude_unset=True)
