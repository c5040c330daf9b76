"""The Salesforce provider: client (sign-in, budget, usage), errors, and one resource per
entity kind it syncs (``SALESFORCE_RESOURCES``: one line per kind)."""

from __future__ import annotations

from collections.abc import Callable

from services.runtime.outbound.resource import Resource
from services.salesforce_sync.salesforce.client import SalesforceClient
from services.salesforce_sync.salesforce.contacts import SalesforceContacts
from shared.kinds import EntityKind
from shared.registry import Registry

SALESFORCE_RESOURCES: Registry[EntityKind, Callable[[SalesforceClient], Resource]] = Registry(
    "Salesforce resources"
)
SALESFORCE_RESOURCES.register(EntityKind.CUSTOMER, SalesforceContacts)
