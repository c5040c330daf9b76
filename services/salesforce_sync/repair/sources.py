"""Salesforce's ``Sources``: its client on the deployment's daily budget (the jobs use its
bulk lane), listing records with SOQL and reading their changes back."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx

from services.runtime.repair.source import Sources
from services.salesforce_sync.main import salesforce_budget
from services.salesforce_sync.normalize import SALESFORCE_OBJECTS
from services.salesforce_sync.repair.changes import SalesforceChanges
from services.salesforce_sync.repair.objects import SalesforceObjects
from services.salesforce_sync.salesforce.client import SalesforceClient
from services.salesforce_sync.settings import SalesforceSettings


@contextlib.asynccontextmanager
async def open_sources(settings: SalesforceSettings) -> AsyncIterator[Sources]:
    async with (
        httpx.AsyncClient(timeout=settings.salesforce_timeout_s) as http,
        salesforce_budget(settings) as budget,
    ):
        client = SalesforceClient(settings, http, budget)
        kinds = tuple(SALESFORCE_OBJECTS.values())
        yield Sources(SalesforceObjects(client), SalesforceChanges(client, kinds[0]), kinds)
