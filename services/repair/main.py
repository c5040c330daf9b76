"""``twoway repair PROVIDER``: catch-up of missed webhooks and the drift audit, for one provider.

Run one per deployment (a second one does the same work again, harmlessly: the inbox dedupes
what catch-up hands on, and the merge finds nothing left to repair).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.crud.settings import CrudSettings
from services.repair.settings import RepairSettings
from services.repair.wiring import app_side, database, provider_side
from services.runtime.amqp import AmqpBus
from services.runtime.bus import Bus
from services.runtime.metrics import serve_metrics
from services.runtime.repair.audit import Audit
from services.runtime.repair.catchup import CatchUp, publisher
from services.runtime.settings import ServiceSettings
from shared.kinds import Provider

log = logging.getLogger(__name__)


async def main(
    repair: RepairSettings,
    sync: ServiceSettings,
    crud: CrudSettings,
    *,
    provider: Provider,
    bus: Bus | None = None,
    own_database: bool = True,
    metrics_port: int | None = None,
) -> None:
    """Run catch-up and one audit per entity kind of ``provider`` until cancelled; ``sync``:
    its settings (its ``ProviderPlugin.settings``)."""
    bus = bus or AmqpBus(repair.amqp_url.get_secret_value(), repair.retry_delays_ms)
    try:
        async with (
            database(repair.database_url.get_secret_value(), own_database),
            provider_side(provider, sync) as sources,
            contextlib.AsyncExitStack() as stack,
        ):
            if metrics_port is not None:
                await stack.enter_async_context(serve_metrics(metrics_port))
            await bus.connect()
            target = app_side(crud, provider)
            jobs = [CatchUp(sources.events, publisher(bus), repair.catchup_interval_s).run()]
            for kind in sources.kinds:
                audit = Audit(
                    sources.objects, target, kind, repair.audit_period_s, repair.audit_max_rate
                )
                jobs.append(audit.run())
            log.info(
                "repair running",
                extra={
                    "provider": provider.value,
                    "catchup_interval_s": repair.catchup_interval_s,
                    "audit_period_s": repair.audit_period_s,
                },
            )
            await asyncio.gather(*jobs)
    finally:
        await bus.close()
