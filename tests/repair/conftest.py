"""Fixtures for the repair jobs: every table (the jobs' own too), customers made at the fake
Stripe or here the way an adopting team has them, and the jobs run in-process."""

from __future__ import annotations

import argparse
import asyncio
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.crud.customers.models import Customer
from services.crud.ids import new_id
from services.crud.inbound.models import InboxEntry
from services.crud.outbox.models import OutboxEvent
from services.crud.settings import CrudSettings
from services.repair import reconcile_command
from services.runtime.links.models import ExternalLink
from services.runtime.repair.progress import Progress
from services.stripe_sync.settings import StripeSettings
from tests.e2e.conftest import system  # noqa: F401 - the whole deployment, on this db
from tests.stripe_sync.conftest import (  # noqa: F401 - every table (the jobs' too), empty
    db,
    sync_settings,
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


async def reconcile_state() -> dict[str, Any]:
    """Everything a reconcile may write, as a user or the other services would read it."""
    customers = await Customer.all().order_by("id").values_list("id", "version", "updated_at")
    links = (
        await ExternalLink.all()
        .order_by("id")
        .values_list("external_id", "entity_id", "updated_at", "shadow")
    )
    return {
        "customers": customers,
        "links": links,
        "outbox": await OutboxEvent.all().count(),
        "inbox": await InboxEntry.all().count(),
    }


async def reconcile(
    sync: StripeSettings,
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
