"""Fixtures for the repair jobs: every table (the jobs' own too), customers made at the fake
Stripe or here the way an adopting team has them, and the jobs run in-process."""

from __future__ import annotations

import argparse
import asyncio
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tortoise import connections

from services.crud.customers.models import Customer
from services.crud.ids import new_id
from services.crud.settings import CrudSettings
from services.migrate import all_model_modules
from services.repair import reconcile_command
from services.runtime.budget.schema import TABLES as BUDGET_TABLES
from services.runtime.db import close_db, init_db
from services.runtime.repair.progress import Progress
from services.stripe_sync.settings import StripeSyncSettings
from tests.conftest import TEST_RETRY_DELAYS_MS, truncate_all
from tests.e2e.conftest import system  # noqa: F401 - the whole deployment, on this db
from tests.fakes.stripe_fake import API_KEY, FakeStripe


@pytest.fixture
async def db(settings: CrudSettings) -> AsyncIterator[None]:
    """Every service's tables and the repair jobs', all empty; no budget member left over."""
    await init_db(settings.database_url.get_secret_value(), all_model_modules())
    await truncate_all()
    for table in BUDGET_TABLES:
        await connections.get("default").execute_script(f"DELETE FROM `{table}`")
    try:
        yield
    finally:
        await close_db()


@pytest.fixture
def sync_settings(settings: CrudSettings, fake_stripe: FakeStripe) -> StripeSyncSettings:
    return StripeSyncSettings(
        database_url=settings.database_url,
        amqp_url=settings.amqp_url,
        stripe_api_key=API_KEY,
        stripe_api_base=fake_stripe.url,
        stripe_timeout_s=5.0,
        retry_delays_ms=TEST_RETRY_DELAYS_MS,
    )


def stripe_customers(count: int, prefix: str = "c", **extra: Any) -> list[dict[str, Any]]:
    """``count`` customers made at the fake Stripe (in its store: no request in the log)."""
    from localstripe.resources import Customer as StripeCustomer

    made = []
    for i in range(count):
        customer = StripeCustomer._api_create(
            name=f"Customer {prefix}{i}", email=f"{prefix}{i}@example.com", **extra
        )
        made.append({"id": customer.id, "name": customer.name, "email": customer.email})
    return made


async def local_customers(rows: list[dict[str, Any]]) -> list[Customer]:
    """Customers in the app's table as a team adopting twoway loads them (SQL, not the API):
    no event, never synced."""
    now = datetime.now(UTC)
    made = []
    for row in rows:
        made.append(
            await Customer.create(
                id=new_id(),
                name=row["name"],
                email=row["email"],
                phone=row.get("phone"),
                metadata=row.get("metadata", {}),
                version=1,
                field_clock={},
                created_at=now,
                updated_at=now,
            )
        )
    return made


@dataclass
class Outcome:
    code: int
    text: str
    report: dict[str, Any] | None


async def reconcile(
    sync: StripeSyncSettings,
    crud: CrudSettings,
    tmp_path: Path,
    *flags: str,
) -> Outcome:
    """``twoway reconcile stripe <flags>`` in this process, on its database pool."""
    import json

    parser = argparse.ArgumentParser()
    reconcile_command.add_arguments(parser)
    report = tmp_path / f"report-{uuid.uuid4().hex}.json"
    args = parser.parse_args(["stripe", "--report", str(report), *flags])
    out = io.StringIO()
    code = await reconcile_command.main(
        args, sync, crud, out, Progress(enabled=False), own_database=False
    )
    text = await asyncio.to_thread(_read, report)
    body = json.loads(text) if text is not None else None
    return Outcome(code, out.getvalue(), body)


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None
