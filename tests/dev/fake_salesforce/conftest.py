"""An API client signed in to the fake Salesforce (the ``salesforce_fake`` fixture's)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.fakes.salesforce_fake import SalesforceFake

API = "/services/data/v60.0"


async def sign_in(fake: SalesforceFake, http: httpx.AsyncClient) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
    }
    response = await http.post(f"{fake.url}/services/oauth2/token", data=form)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture
async def api(salesforce_fake: SalesforceFake) -> AsyncIterator[httpx.AsyncClient]:
    """A client on ``/services/data/v60.0`` with a valid Bearer token."""
    async with httpx.AsyncClient(base_url=salesforce_fake.url + API, timeout=10) as http:
        http.headers["Authorization"] = f"Bearer {await sign_in(salesforce_fake, http)}"
        yield http
