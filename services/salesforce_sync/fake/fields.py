"""The Contact's fields and Salesforce's checks of a write (create, update, upsert)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from services.salesforce_sync.fake.errors import ApiError

# Writable fields with their labels and lengths, as a standard org has them.
WRITABLE: dict[str, tuple[str, int]] = {
    "FirstName": ("First Name", 40),
    "LastName": ("Last Name", 80),
    "Email": ("Email", 80),
    "Phone": ("Business Phone", 40),
}
EXTERNAL_ID_LENGTH = 255
READ_ONLY = frozenset(
    {
        "Id",
        "IsDeleted",
        "Name",
        "CreatedDate",
        "CreatedById",
        "LastModifiedDate",
        "LastModifiedById",
        "SystemModstamp",
    }
)
# Close to what Salesforce accepts; it is stricter than this about domains.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def checked(body: Any, external_id_field: str, *, creating: bool) -> dict[str, str | None]:
    """The write's values (empty strings read as null), or the ApiError Salesforce answers."""
    if not isinstance(body, Mapping):
        raise ApiError.one(
            400, "JSON_PARSER_ERROR", "Cannot deserialize instance of Contact from the body"
        )
    values: dict[str, str | None] = {}
    for name, value in body.items():
        if name in READ_ONLY:
            raise ApiError.one(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {name}. Please check the security settings of "
                "this field and verify that it is read/write for your profile or permission set.",
                [name],
            )
        if name not in WRITABLE and name != external_id_field:
            raise ApiError.one(
                400, "INVALID_FIELD", f"No such column '{name}' on sobject of type Contact", [name]
            )
        if value is not None and not isinstance(value, str):
            raise ApiError.one(
                400,
                "JSON_PARSER_ERROR",
                f"Cannot deserialize instance of string from {type(value).__name__} value "
                f"at [{name}]",
                [name],
            )
        values[name] = value or None
    problems: list[tuple[str, str, list[str]]] = []
    if (creating and not values.get("LastName")) or (
        "LastName" in values and not values["LastName"]
    ):
        problems.append(
            ("REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", ["LastName"])
        )
    for name, value in values.items():
        label, length = WRITABLE.get(name, (name, EXTERNAL_ID_LENGTH))
        if value is not None and len(value) > length:
            problems.append(
                (
                    "STRING_TOO_LONG",
                    f"{label}: data value too large: {value[:40]} (max length={length})",
                    [name],
                )
            )
    email = values.get("Email")
    if email is not None and len(email) <= WRITABLE["Email"][1] and not _EMAIL.match(email):
        problems.append(
            ("INVALID_EMAIL_ADDRESS", f"Email: invalid email address: {email}", ["Email"])
        )
    if problems:
        raise ApiError(400, problems)
    return values
