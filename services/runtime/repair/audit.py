"""The drift audit: every object at the provider compared with its local entity, a page at a
time, forever; a difference is repaired through the inbound merge.

Pacing: one listing request (100 objects) at most every ``1 / max_rate`` seconds, and spread so
that a pass over every object takes about ``period_s`` (from the previous pass's page count), in
the budget's bulk lane. The cursor lives in ``repair_cursors``, so a restart goes on where the
audit was.

Drift is an object holding a value twoway did not know it to hold (not the shadow's): a change
it never heard of. The object's state as read is then applied as an inbound command (synthetic
id ``audit:<external id>:<ms>``): the merge and the conflict rules decide, path by path, as for
any webhook; a local change on its way to the provider is no drift. The gauge
``twoway_drift_objects`` counts objects still differing after that (e.g. the app's value won and
is on its way back, or the provider's state cannot be held here); ``twoway_drift_repaired_total``
counts repairs.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable

from services.runtime.metrics import (
    AUDIT_OBJECTS,
    AUDIT_PASSES,
    DRIFT_FOUND,
    DRIFT_OBJECTS,
    DRIFT_REPAIRED,
)
from services.runtime.repair import cursors
from services.runtime.repair.retry import patiently
from services.runtime.repair.source import ObjectSource, Observed
from services.runtime.repair.target import LocalTarget, Result
from shared.kinds import EntityKind

log = logging.getLogger(__name__)

EVENT_TYPE = "audit"


class Audit:
    def __init__(
        self,
        source: ObjectSource,
        target: LocalTarget,
        kind: EntityKind,
        period_s: float,
        max_rate: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.source = source
        self.target = target
        self.kind = kind
        self.period_s = period_s
        self.max_rate = max_rate
        self.sleep = sleep
        self.name = f"{source.provider.value}:audit:{kind.value}"
        self.labels = (source.provider.value, kind.value)
        self.drifting: set[str] = set()

    async def run(self) -> None:
        while True:
            try:
                wait = await self.step()
            except Exception:
                log.exception("audit step failed", extra={"job": self.name})
                wait = 1 / self.max_rate
            await self.sleep(wait)

    async def step(self) -> float:
        """Audit one page; how long to wait before the next one."""
        state = await cursors.load(self.name)
        after = state.cursor if state is not None else None
        info = dict(state.info) if state is not None else {}
        page = await patiently(functools.partial(self.source.page, self.kind, after), self.name)
        for item in page.items:
            await self.check(item)
        info["pages"] = int(info.get("pages", 0)) + 1
        passes = state.passes if state is not None else 0
        if page.after is None:
            info["pages_per_pass"] = info["pages"]
            info["pages"] = 0
            passes += 1
            AUDIT_PASSES.labels(*self.labels).inc()
        await cursors.save(self.name, page.after, passes=passes, info=info)
        DRIFT_OBJECTS.labels(*self.labels).set(len(self.drifting))
        pages = max(int(info.get("pages_per_pass") or 0), 1)
        return max(1 / self.max_rate, self.period_s / pages)

    async def check(self, item: Observed) -> Result | None:
        """Compare one object; repair it if it drifted. The repair's result, if one was made."""
        AUDIT_OBJECTS.labels(*self.labels).inc()
        (look,) = await self.target.looks(self.kind, [item])
        if not look.drifting:
            self.drifting.discard(item.external_id)
            return None
        DRIFT_FOUND.labels(*self.labels).inc()
        event_id = f"audit:{item.external_id}:{int(time.time() * 1000)}"
        result = await self.target.apply(item.as_command(event_id, EVENT_TYPE))
        if result.wrote:
            DRIFT_REPAIRED.labels(*self.labels).inc()
        (after,) = await self.target.looks(self.kind, [item])
        if after.drifting or any(not d.pending for d in after.differences):
            self.drifting.add(item.external_id)
        else:
            self.drifting.discard(item.external_id)
        log.info(
            "drift",
            extra={
                "job": self.name,
                "external_id": item.external_id,
                "paths": [d.path for d in look.differences if not d.known],
                "verdict": result.verdict.value,
                "repaired": result.wrote,
            },
        )
        return result
