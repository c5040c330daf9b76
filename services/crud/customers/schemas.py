"""Request bodies of the customer API. Limits follow what Stripe accepts, so that a customer
the API took never fails later, in the sync, for a reason the user could have been told now."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, field_validator

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9+()\-. ]{3,40}$")


def _name(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


def _email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value):
        raise ValueError("is not a valid email address")
    return value


def _phone(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not _PHONE.match(value):
        raise ValueError("is not a valid phone number (digits, spaces, + - . ( ) only)")
    return value


def _metadata(value: dict[str, str]) -> dict[str, str]:
    if len(value) > 50:
        raise ValueError("at most 50 keys")
    for key, item in value.items():
        if not key or len(key) > 40 or "[" in key or "]" in key:
            raise ValueError(f"key {key!r} must be 1-40 characters without square brackets")
        if len(item) > 500:
            raise ValueError(f"value of {key!r} is longer than 500 characters")
    return value


Name = Annotated[StrictStr, Field(max_length=200), AfterValidator(_name)]
Email = Annotated[StrictStr, Field(max_length=254), AfterValidator(_email)]
Phone = Annotated[StrictStr | None, AfterValidator(_phone)]
Metadata = Annotated[dict[StrictStr, StrictStr], AfterValidator(_metadata)]


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    email: Email
    phone: Phone = None
    metadata: Metadata = Field(default_factory=dict)


class CustomerPatch(BaseModel):
    """Only the fields present are changed; ``phone: null`` clears the phone."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    email: Email | None = None
    phone: Phone = None
    metadata: Metadata | None = None

    @field_validator("name", "email", "metadata")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs only for fields the client sent: an explicit null is refused, absence is fine.
        if value is None:
            raise ValueError("cannot be null")
        return value

    def changes(self) -> dict[str, object]:
        return self.model_dump(exclude_unset=True)
