"""The entity kinds the CRUD service serves: one registry line per kind.

A kind brings its slice (``services/crud/<kind>s/``: model, schemas, ``slice.py``); the API,
the writes, the inbound apply and the sync status are made from it.
"""

from __future__ import annotations

from services.crud.customers.slice import SLICE as CUSTOMERS
from services.crud.products.slice import SLICE as PRODUCTS
from services.crud.slices import EntitySlice
from shared.kinds import EntityKind
from shared.registry import Registry

ENTITIES: Registry[EntityKind, EntitySlice] = Registry("entity kinds")
ENTITIES.register(EntityKind.CUSTOMER, CUSTOMERS)
ENTITIES.register(EntityKind.PRODUCT, PRODUCTS)

INFRA_MODELS = (
    "services.crud.apikeys.models",
    "services.crud.outbox.models",
    "services.runtime.links.models",
    "services.crud.inbound.models",
    "services.crud.sync.models",
    "services.crud.ui.models",
)


def model_modules() -> list[str]:
    return [s.models_module for s in ENTITIES.values()] + list(INFRA_MODELS)
