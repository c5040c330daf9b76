"""Customers on the wire."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.entities.base import EntityContract, EntityData, ProviderState
from shared.kinds import EntityKind

FIELDS = ("name", "email", "phone", "metadata")


class CustomerData(EntityData):
    synced_fields: ClassVar[tuple[str, ...]] = FIELDS

    name: str
    email: str
    phone: str | None
    metadata: dict[str, str]


class CustomerState(ProviderState):
    synced_fields: ClassVar[tuple[str, ...]] = FIELDS
    match_fields: ClassVar[tuple[str, ...]] = ("email",)

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


CONTRACT = EntityContract(EntityKind.CUSTOMER, CustomerData, CustomerState)
