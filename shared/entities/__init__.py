"""The entity kinds twoway syncs: ``KINDS[kind]`` is its wire contract. One line per kind."""

from __future__ import annotations

from shared.entities import customer, product
from shared.entities.base import EntityContract, EntityData, ProviderState
from shared.kinds import EntityKind
from shared.registry import Registry

KINDS: Registry[EntityKind, EntityContract] = Registry("entity kinds")
KINDS.register(EntityKind.CUSTOMER, customer.CONTRACT)
KINDS.register(EntityKind.PRODUCT, product.CONTRACT)

__all__ = ["KINDS", "EntityContract", "EntityData", "ProviderState"]
