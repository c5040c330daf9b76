"""Outbound Messages: the org's queue of notifications and the task that delivers them.

Every Contact created or updated (and deleted, when a delete flow is asked for) queues one
notification with its own Id, while an outbound URL is configured. One sender posts the
oldest pending notifications, up to 100 in one SOAP message, and sends that same message
again (same notification Ids) until the answer holds ``<Ack>true</Ack>``: after a non-2xx
answer, a timeout, a refused connection or ``<Ack>false</Ack>``, it waits ``retry_initial_s``,
doubling up to ``retry_max_s``. As at Salesforce, the sObject carries the record's values at
the time of sending, not of queueing. Messages go one at a time (a retried message holds up
the rest; Salesforce would send others meanwhile, in any order).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from services.runtime.cancel import nap
from services.salesforce_sync.fake import ids, soap
from services.salesforce_sync.fake.config import API_VERSION, FakeConfig

Render = Callable[[str], Mapping[str, str | None] | None]
"""A Contact's outbound fields by its Id (None: it is gone)."""


@dataclass(frozen=True)
class Notification:
    id: str
    contact_id: str


class Outbound:
    def __init__(self, config: FakeConfig, render: Render) -> None:
        self.config = config
        self.render = render
        self.action_id = ids.new_id(ids.ACTION)
        self.pending: deque[Notification] = deque()
        self.in_flight: list[Notification] = []
        self.held = False
        self.deliveries: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None

    @property
    def count(self) -> int:
        """Notifications not yet acknowledged: pending and in flight."""
        return len(self.pending) + len(self.in_flight)

    def notify(self, contact_id: str) -> None:
        if self.config.outbound_url is None:
            return  # no outbound message configured in this org
        self.pending.append(Notification(ids.new_id(ids.NOTIFICATION), contact_id))
        self._idle.clear()
        self._wake.set()

    def hold(self) -> None:
        """Stop sending (queued notifications wait) until ``release``."""
        self.held = True

    def release(self) -> None:
        self.held = False
        self._wake.set()

    def start(self, http: httpx.AsyncClient) -> None:
        self._http = http
        self._task = asyncio.create_task(self._run(), name="fake-salesforce-outbound")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def reset(self) -> None:
        """Drop every notification, the log and the hold; the sender starts afresh."""
        await self.stop()
        self.pending.clear()
        self.in_flight = []
        self.deliveries.clear()
        self.held = False
        self._idle.set()
        if self._http is not None:
            self.start(self._http)

    async def settled(self, timeout: float) -> bool:
        """Wait until no notification is pending or in flight; whether that happened."""
        return await nap(self._idle, timeout)

    async def _until(self, ready: Callable[[], bool]) -> None:
        while not ready():
            self._wake.clear()
            await self._wake.wait()

    async def _run(self) -> None:
        while True:
            await self._until(lambda: bool(self.pending) and not self.held)
            size = min(len(self.pending), soap.MAX_NOTIFICATIONS)
            batch = [self.pending.popleft() for _ in range(size)]
            self.in_flight = batch
            delay = self.config.retry_initial_s
            attempt = 1
            while True:
                await self._until(lambda: not self.held)
                if await self._send(batch, attempt):
                    break
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.retry_max_s)
                attempt += 1
            self.in_flight = []
            if not self.pending:
                self._idle.set()

    def _message(self, batch: list[Notification]) -> bytes | None:
        items = []
        for notification in batch:
            fields = self.render(notification.contact_id)
            if fields is not None:
                items.append((notification.id, soap.sobject("Contact", fields)))
        if not items:
            return None
        org = self.config.org_id
        soap_base = f"{self.config.base_url}/services/Soap"
        return soap.message(
            items,
            org_id=org,
            action_id=self.action_id,
            enterprise_url=f"{soap_base}/c/{API_VERSION}/{org[:15]}",
            partner_url=f"{soap_base}/u/{API_VERSION}/{org[:15]}",
        )

    async def _send(self, batch: list[Notification], attempt: int) -> bool:
        """One delivery attempt; whether it was acknowledged. Logged either way."""
        assert self._http is not None
        body = self._message(batch)
        if body is None:
            return True  # nothing left to say
        status: int | None = None
        error: str | None = None
        acked = False
        url = self.config.outbound_url
        try:
            if url is None:
                raise LookupError("no outbound URL")
            response = await self._http.post(
                url,
                content=body,
                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
                timeout=self.config.outbound_timeout_s,
            )
            status = response.status_code
            acked = response.is_success and soap.acked(response.content)
        except (httpx.HTTPError, httpx.InvalidURL, LookupError) as exc:
            error = type(exc).__name__
        self.deliveries.append(
            {
                "at": time.time(),
                "attempt": attempt,
                "notification_ids": [n.id for n in batch],
                "contact_ids": [n.contact_id for n in batch],
                "status": status,
                "error": error,
                "acked": acked,
            }
        )
        return acked
