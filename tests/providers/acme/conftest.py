"""Fixtures of Acme's own tests: the service, a worker, the database with every model's table."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from tortoise import connections

from services.crud.settings import CrudSettings
from services.migrate import all_model_modules
from services.runtime.db import close_db, init_db
from tests.conftest import TEST_RETRY_DELAYS_MS, truncate_all
from tests.providers.acme.accounts import TABLE
from tests.providers.acme.main import main
from tests.providers.acme.server import RunningAcme, running_acme
from tests.providers.acme.settings import AcmeSettings
from tests.providers.acme.store import Contact
from tests.waiting import ended, eventually

TOKEN = "acme-worker-token"
SECRET = "acme-webhook-secret"


@pytest.fixture
async def db(settings: CrudSettings) -> AsyncIterator[None]:
    """Every model's table (the worker's among them), empty, as the stripe_sync tests have it."""
    await init_db(settings.database_url.get_secret_value(), all_model_modules())
    await truncate_all()
    try:
        yield
    finally:
        await close_db()


@pytest.fixture
async def unbound(db: None) -> None:
    """No account bound: the table is the migration's, which the suite's truncation skips."""
    await connections.get("default").execute_script(f"DELETE FROM {TABLE}")


@pytest.fixture
async def acme() -> AsyncIterator[RunningAcme]:
    async with running_acme(TOKEN, SECRET) as running:
        yield running


def worker_settings(settings: CrudSettings, acme: RunningAcme) -> AcmeSettings:
    return AcmeSettings(
        database_url=settings.database_url,
        amqp_url=settings.amqp_url,
        retry_delays_ms=TEST_RETRY_DELAYS_MS,
        providers=("acme",),
        acme_api_url=acme.url,
        acme_api_token=TOKEN,
        acme_timeout_s=2.0,
    )


@contextlib.asynccontextmanager
async def running_worker(settings: AcmeSettings) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(main(settings, own_database=False))
    try:
        yield task
    finally:
        task.cancel()
        await ended(task, 30.0, "the Acme worker's shutdown")


def by_twoway_id(acme: RunningAcme, local_id: str) -> Contact | None:
    return next((c for c in acme.acme.store.contacts.values() if c.twoway_id == local_id), None)


async def contact_of(acme: RunningAcme, local_id: str) -> Contact:
    """The contact the worker made for ``local_id``, once it is there."""
    found: Contact | None = await eventually(
        lambda: by_twoway_id(acme, local_id), what=f"the contact of {local_id}"
    )
    assert found is not None
    return found
