"""The entity kinds the CRUD service serves: one registry line per kind.

A kind brings its Tortoise models module and its HTTP endpoints (routes that document
themselves in the OpenAPI document, all behind the API-key check). Products will be a new slice
(``services/crud/products/``) and one ``ENTITIES.register`` line here.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.crud.customers import routes as customer_routes
from services.crud.openapi import Endpoint
from shared.kinds import EntityKind
from shared.registry import Registry


@dataclass(frozen=True)
class EntitySlice:
    models_module: str
    endpoints: list[Endpoint]


ENTITIES: Registry[EntityKind, EntitySlice] = Registry("entity kinds")
ENTITIES.register(
    EntityKind.CUSTOMER,
    EntitySlice("services.crud.customers.models", list(customer_routes.endpoints)),
)

INFRA_MODELS = (
    "services.crud.apikeys.models",
    "services.crud.outbox.models",
    "services.crud.links.models",
    "services.crud.inbound.models",
    "services.crud.sync.models",
)


def model_modules() -> list[str]:
    return [s.models_module for s in ENTITIES.values()] + list(INFRA_MODELS)
