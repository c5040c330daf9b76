"""Inbox retention: a row goes once its event can no longer be delivered again.

The inbox row is what makes a redelivered event change nothing, so it must outlive every
redelivery: Stripe retries a failed delivery for up to three days, hence a default of seven
(``TWOWAY_INBOX_RETENTION_HOURS``) and a floor of three, enforced by the settings. Rows are aged
by when they were received: Stripe's retries follow the first attempt, whatever the event's own
time. An event older than the retention that still arrives (a resend from the dashboard) is
simply not recognized as seen; the usual rules still hold for it: it is stale against the link's
newest event, or a no-op when the state is already equal.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.crud.inbound.models import InboxEntry
from services.runtime.cancel import raise_if_cancelling
from services.runtime.db import is_transient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionConfig:
    retention: timedelta = timedelta(days=7)
    every_s: float = 3600.0
    # Rows deleted per statement: a first purge after months must not be one huge transaction.
    batch_size: int = 1000


class InboxRetention:
    def __init__(self, config: RetentionConfig | None = None) -> None:
        self.config = config or RetentionConfig()

    async def run(self) -> None:
        """Purge now, then every ``every_s``, until cancelled. A failed round is only logged:
        the next one deletes what it left, the rows are just kept a little longer."""
        while True:
            try:
                await self.purge()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                raise_if_cancelling()
                if is_transient(exc):
                    log.warning("inbox purge postponed: %s", exc)
                else:
                    log.exception("inbox purge failed")
            await asyncio.sleep(self.config.every_s)

    async def purge(self, now: datetime | None = None) -> int:
        """Delete rows received longer ago than the retention; return how many."""
        cutoff = (now or datetime.now(UTC)) - self.config.retention
        total = 0
        while True:
            ids = (
                await InboxEntry.filter(received_at__lt=cutoff)
                .limit(self.config.batch_size)
                .values_list("id", flat=True)
            )
            if ids:
                total += await InboxEntry.filter(id__in=list(ids)).delete()
            if len(ids) < self.config.batch_size:
                break
        if total:
            log.info("purged inbox rows", extra={"rows": total})
        return total
