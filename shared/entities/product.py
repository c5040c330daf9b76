"""Products on the wire (Stripe's Products: name, description, active, metadata, unit label)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.entities.base import EntityContract, EntityData, ProviderState
from shared.kinds import EntityKind

FIELDS = ("name", "description", "active", "metadata", "unit_label")


class ProductData(EntityData):
    synced_fields: ClassVar[tuple[str, ...]] = FIELDS

    name: str
    description: str | None
    active: bool
    metadata: dict[str, str]
    unit_label: str | None


class ProductState(ProviderState):
    synced_fields: ClassVar[tuple[str, ...]] = FIELDS

    name: str | None = None
    description: str | None = None
    active: bool | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    unit_label: str | None = None


CONTRACT = EntityContract(EntityKind.PRODUCT, ProductData, ProductState)
