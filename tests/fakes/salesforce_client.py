"""twoway's own Salesforce client pointed at the fake, with a budget of its own: for tests of
the client and of what is built on it (the repair sources)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx

from services.runtime.budget import BudgetSpec, LocalBudget
from services.salesforce_sync.salesforce.client import SalesforceClient
from services.salesforce_sync.settings import SalesforceSettings
from tests.fakes.salesforce_fake import SalesforceFake


@contextlib.asynccontextmanager
async def client_of(fake: SalesforceFake) -> AsyncIterator[SalesforceClient]:
    settings = SalesforceSettings.model_validate(
        {
            "SALESFORCE_LOGIN_URL": fake.url,
            "SALESFORCE_CLIENT_ID": fake.client_id,
            "SALESFORCE_CLIENT_SECRET": fake.client_secret,
            "metrics_port": 0,
        }
    )
    spec = BudgetSpec("salesforce-test", limit=1000, window_s=60.0, pace=False)
    async with httpx.AsyncClient(timeout=5) as http, LocalBudget(spec) as budget:
        yield SalesforceClient(settings, http, budget)
