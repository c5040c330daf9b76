"""Salesforce's repair jobs end to end: the three-party deployment (``test_three_parties``),
and the repair role and commands run for Salesforce in this process."""

from __future__ import annotations

import argparse
import asyncio
import io
import uuid
from pathlib import Path
from typing import Any

from services.crud.settings import CrudSettings
from services.repair import drift_command, reconcile_command
from services.repair.main import main as repair_main
from services.repair.settings import RepairSettings
from services.runtime.amqp import AmqpBus
from services.runtime.repair.progress import Progress
from services.salesforce_sync.names import SALESFORCE
from services.salesforce_sync.settings import SalesforceSettings
from tests.e2e.test_three_parties import (  # noqa: F401 - the deployment with Salesforce
    gateway_providers,
    gateway_settings,
    salesforce_overrides,
    salesforce_settings,
    settings,
    three,
)
from tests.repair.conftest import Outcome


async def repair_role(
    crud: CrudSettings, sync: SalesforceSettings, **overrides: Any
) -> asyncio.Task[None]:
    """``twoway repair salesforce`` in this process (catch-up and audit: hourly, unless told)."""
    repair = RepairSettings(
        database_url=crud.database_url,
        amqp_url=crud.amqp_url,
        retry_delays_ms=crud.retry_delays_ms,
        **{"catchup_interval_s": 3600.0, "audit_period_s": 3600.0, **overrides},
    )
    bus = AmqpBus(crud.amqp_url.get_secret_value(), crud.retry_delays_ms)
    job = repair_main(repair, sync, crud, provider=SALESFORCE, bus=bus, own_database=False)
    return asyncio.create_task(job)


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def reconcile(
    sync: SalesforceSettings, crud: CrudSettings, tmp_path: Path, *flags: str
) -> Outcome:
    """``twoway reconcile salesforce <flags>`` in this process, on its database pool."""
    import json

    parser = argparse.ArgumentParser()
    reconcile_command.add_arguments(parser)
    report = tmp_path / f"report-{uuid.uuid4().hex}.json"
    args = parser.parse_args(["salesforce", "--report", str(report), *flags])
    out = io.StringIO()
    code = await reconcile_command.main(
        args, sync, crud, out, Progress(enabled=False), own_database=False
    )
    text = await asyncio.to_thread(lambda: report.read_text() if report.exists() else None)
    return Outcome(code, out.getvalue(), json.loads(text) if text is not None else None)


async def drift_report(sync: SalesforceSettings, crud: CrudSettings) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    drift_command.add_arguments(parser)
    out = io.StringIO()
    args = parser.parse_args(["report", "salesforce"])
    code = await drift_command.main(args, sync, crud, out, False)
    return code, out.getvalue()
