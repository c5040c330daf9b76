"""The OpenAPI document at ``GET /openapi.json``: valid, with one meaningful id per operation
and the key required where the server requires it."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from services.crud.app import API_VERSION, api_endpoints
from services.crud.entities import ENTITIES
from services.crud.entity_api import EntityApi
from services.crud.ids import new_id
from services.crud.openapi import document
from services.crud.settings import CrudSettings
from shared.kinds import EntityKind

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]

OPEN = {"/healthz", "/readyz"}


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Each operation of ``spec`` as ``(METHOD, path, operation)``."""
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


async def test_the_live_document_passes_the_openapi_validator(crud: httpx.AsyncClient) -> None:
    spec = (await crud.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.1.")
    validate(spec)  # raises on the first breach, duplicate operation ids included


async def test_every_operation_has_its_own_meaningful_id_a_tag_and_a_summary(
    crud: httpx.AsyncClient,
) -> None:
    spec = (await crud.get("/openapi.json")).json()
    ids = {(method, path): op["operationId"] for method, path, op in operations(spec)}
    assert ids == {
        ("GET", "/healthz"): "checkHealth",
        ("GET", "/readyz"): "checkReadiness",
        ("GET", "/customers"): "listCustomers",
        ("POST", "/customers"): "createCustomer",
        ("GET", "/customers/{entity_id}"): "getCustomer",
        ("PATCH", "/customers/{entity_id}"): "updateCustomer",
        ("DELETE", "/customers/{entity_id}"): "deleteCustomer",
        ("GET", "/products"): "listProducts",
        ("POST", "/products"): "createProduct",
        ("GET", "/products/{entity_id}"): "getProduct",
        ("PATCH", "/products/{entity_id}"): "updateProduct",
        ("DELETE", "/products/{entity_id}"): "deleteProduct",
        ("GET", "/conflicts"): "listConflicts",
    }
    tags = {(method, path): op["tags"] for method, path, op in operations(spec)}
    for (method, path), tag in tags.items():
        expected = "operations" if path in OPEN else path.split("/")[1]
        assert tag == [expected], (method, path)
    assert [t["name"] for t in spec["tags"]] == [
        "operations",
        "customers",
        "products",
        "conflicts",
    ]
    for method, path, op in operations(spec):
        assert op["summary"].strip(), (method, path)


def test_every_registered_kind_gets_its_own_ids() -> None:
    settings = CrudSettings(database_url="sqlite://:memory:")
    spec = document(api_endpoints(settings), "t", API_VERSION)
    ids = [op["operationId"] for _, _, op in operations(spec)]
    assert len(ids) == len(set(ids))
    for entity in ENTITIES.values():
        # Five per kind, under the kind's own tag.
        tagged = [
            op["operationId"]
            for _, _, op in operations(spec)
            if op["tags"] == [entity.path.strip("/")]
        ]
        assert len(tagged) == 5, entity.kind


def test_a_new_kind_gets_its_ids_from_its_path_and_noun_alone() -> None:
    settings = CrudSettings(database_url="sqlite://:memory:")
    # A third kind: a slice with a path and noun of its own, and no code of its own.
    tiers = dataclasses.replace(
        ENTITIES[EntityKind.PRODUCT], path="/price-tiers", noun="price tier"
    )
    endpoints = [*api_endpoints(settings), *EntityApi(tiers, settings.providers).endpoints()]
    spec = document(endpoints, "t", API_VERSION)
    validate(spec)
    tier_ids = {
        (method, path): op["operationId"]
        for method, path, op in operations(spec)
        if op["tags"] == ["price-tiers"]
    }
    assert tier_ids == {
        ("GET", "/price-tiers"): "listPriceTiers",
        ("POST", "/price-tiers"): "createPriceTier",
        ("GET", "/price-tiers/{entity_id}"): "getPriceTier",
        ("PATCH", "/price-tiers/{entity_id}"): "updatePriceTier",
        ("DELETE", "/price-tiers/{entity_id}"): "deletePriceTier",
    }


def test_a_document_with_a_duplicate_operation_id_is_refused() -> None:
    settings = CrudSettings(database_url="sqlite://:memory:")
    endpoints = api_endpoints(settings)
    copy = dataclasses.replace(endpoints[-1], path="/elsewhere")
    with pytest.raises(ValueError, match="listConflicts"):
        document([*endpoints, copy], "t", API_VERSION)


async def test_the_document_asks_for_the_key_exactly_where_the_server_does(
    crud: httpx.AsyncClient,
) -> None:
    spec = (await crud.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"] == {
        "apiKey": {
            "type": "http",
            "scheme": "bearer",
            "description": "`twoway apikey create --scope read|write` prints a key",
        }
    }
    assert spec["security"] == [{"apiKey": []}]
    async with httpx.AsyncClient(base_url=str(crud.base_url), timeout=10) as anonymous:
        for method, path, op in operations(spec):
            # No ``security`` of its own: the document-wide one (the key) applies.
            secured = op.get("security", spec["security"]) != []
            assert secured == (path not in OPEN), (method, path)
            response = await anonymous.request(
                method, path.replace("{entity_id}", new_id()), headers={"If-Match": "*"}
            )
            assert (response.status_code == 401) == secured, (method, path, response.text)
        assert (await anonymous.get("/openapi.json")).status_code == 200
