"""The product slice: what the CRUD service needs to know of products, in one place."""

from __future__ import annotations

from services.crud.api_schemas import ListQuery
from services.crud.products import schemas
from services.crud.products.models import Product
from services.crud.slices import EntitySlice
from shared.kinds import EntityKind

SLICE = EntitySlice(
    kind=EntityKind.PRODUCT,
    model=Product,
    models_module="services.crud.products.models",
    create=schemas.ProductCreate,
    patch=schemas.ProductPatch,
    response=schemas.Product,
    page=schemas.ProductPage,
    list_query=ListQuery,
    path="/products",
    noun="product",
    delete_note="; a provider that keeps prices may archive it instead",
    search=("name",),
)
