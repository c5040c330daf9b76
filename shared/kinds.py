"""Enumerations every service agrees on."""

from __future__ import annotations

from enum import StrEnum


class EntityKind(StrEnum):
    """Entity kinds twoway syncs. A new kind is a new slice plus one registry line."""

    CUSTOMER = "customer"


class Action(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


class Provider(StrEnum):
    STRIPE = "stripe"


class Origin(StrEnum):
    """Where a change came from: the app's own API, or a provider (through its webhooks)."""

    APP = "app"
    STRIPE = "stripe"
