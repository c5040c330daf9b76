"""The customer slice: what the CRUD service needs to know of customers, in one place."""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from services.crud.api_schemas import ListQuery
from services.crud.customers import schemas
from services.crud.customers.models import Customer
from services.crud.slices import EntitySlice, Unique
from services.crud.synced import SyncedModel
from shared.entities import ProviderState
from shared.kinds import EntityKind


async def by_email(conn: BaseDBAsyncClient, state: ProviderState) -> SyncedModel | None:
    """A provider's new customer is the local one with its email, if any (emails are unique)."""
    email = getattr(state, "email", None)
    if not email:
        return None
    found: SyncedModel | None = (
        await Customer.filter(email=email).using_db(conn).select_for_update().first()
    )
    return found


SLICE = EntitySlice(
    kind=EntityKind.CUSTOMER,
    model=Customer,
    models_module="services.crud.customers.models",
    create=schemas.CustomerCreate,
    patch=schemas.CustomerPatch,
    response=schemas.Customer,
    page=schemas.CustomerPage,
    list_query=ListQuery,
    path="/customers",
    noun="customer",
    unique=(Unique("email", "duplicate_email", "already used by another customer"),),
    match=by_email,
    search=("email", "name"),
)
