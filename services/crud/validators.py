"""Field types every entity kind's request bodies share, with the limits Stripe enforces.

Whatever the API accepts must also be accepted by the provider later, or the entity ends in a
dead-letter queue for a reason the client could have been told at once. So the limits here are
Stripe's (customers and products alike):

- metadata: at most 50 keys at Stripe, and twoway adds its own (``twoway_id``), so 49 for the
  user; keys 1-40 characters without square brackets; values 1-500 characters (an empty value
  means "unset" at Stripe, so it could not round-trip); ``twoway_id`` is reserved;
- phone: at most 20 characters.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictStr

from shared.bookkeeping import LOCAL_ID_METADATA_KEY

METADATA_MAX_KEYS = 49
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 500
PHONE_MAX = 20
RESERVED_METADATA_KEYS = frozenset({LOCAL_ID_METADATA_KEY})

# The patterns are part of the types, so the OpenAPI document states exactly what is accepted.
NON_BLANK = r"\S"
EMAIL = r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$"
PHONE = r"^[0-9+()\-. ]*[0-9][0-9+()\-. ]*$"
METADATA_KEY = r"^[^\[\]]+$"


def _stripped(value: str) -> str:
    return value.strip()


def _stripped_or_none(value: str | None) -> str | None:
    return None if value is None else value.strip()


def _metadata_key(key: str) -> str:
    if "[" in key or "]" in key:
        raise ValueError("must not contain square brackets")
    if key in RESERVED_METADATA_KEYS:
        raise ValueError(f"{key!r} is reserved for twoway's own bookkeeping")
    return key


def _metadata_schema(schema: dict[str, Any]) -> None:
    # pydantic has no place for a key pattern but patternProperties, which would leave other
    # keys unconstrained: state it where JSON Schema means it, on the key names.
    schema.setdefault("propertyNames", {})["pattern"] = METADATA_KEY
    schema["description"] = f"{', '.join(sorted(RESERVED_METADATA_KEYS))} is reserved"


def omitted_if_null(schema: dict[str, Any]) -> None:
    """``json_schema_extra`` of an optional field whose None means "not sent": clients may
    leave it out but never send null, so the document shows the value's schema alone."""
    branches = [b for b in schema.pop("anyOf", []) if b.get("type") != "null"]
    if len(branches) == 1:
        schema.update(branches[0])
    schema.pop("default", None)


MetadataKey = Annotated[
    StrictStr,
    Field(min_length=1, max_length=METADATA_KEY_MAX),
    AfterValidator(_metadata_key),
]
MetadataValue = Annotated[StrictStr, Field(min_length=1, max_length=METADATA_VALUE_MAX)]
Metadata = Annotated[
    dict[MetadataKey, MetadataValue],
    Field(max_length=METADATA_MAX_KEYS, json_schema_extra=_metadata_schema),
]

Name = Annotated[StrictStr, Field(max_length=200, pattern=NON_BLANK), AfterValidator(_stripped)]
Email = Annotated[StrictStr, Field(max_length=254, pattern=EMAIL), AfterValidator(_stripped)]
PhoneNumber = Annotated[StrictStr, Field(min_length=3, max_length=PHONE_MAX, pattern=PHONE)]
Phone = Annotated[PhoneNumber | None, AfterValidator(_stripped_or_none)]
