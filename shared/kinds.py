"""Enumerations every service agrees on, and the name of a change's origin."""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal, TypeAlias


class EntityKind(StrEnum):
    """Entity kinds twoway syncs. A new kind is a new slice plus one registry line."""

    CUSTOMER = "customer"
    PRODUCT = "product"


class Action(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


class Provider(StrEnum):
    """The services twoway syncs with. A change's origin is one of them, or the app."""

    STRIPE = "stripe"
    SALESFORCE = "salesforce"


APP: Final = "app"
"""The origin of a change made through the app's own API."""

Origin: TypeAlias = Literal["app"] | Provider
"""Where a change came from: the app (``"app"``) or the provider it was made at."""
