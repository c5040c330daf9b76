"""``twoway reconcile <provider>``: adopt what already exists, in three phases.

1. scan: page through every object of the kind at the provider and note what each claims
   (``Claims``): ambiguities need the whole listing to be told;
2. link: page through them again, and for each object
   - linked already and equal here: nothing to do (``in_step``);
   - claimed along with another object: ``ambiguous``, left alone and reported;
   - else applied through the inbound path as a command with the synthetic event id
     ``reconcile:<run>:<external id>``: linked (by link, twoway id or match key; the merge and
     its conflict rules decide each field that differs), imported, or refused (``failed``);
3. push: local entities with no live link that no object claims are sent to the provider
   through the outbox, exactly like an API write would be.

Provider reads go through the rate budget's bulk lane (the source's business) and wait out
retryable failures (429s included) for as long as they last, page by page; a run is only marked
done after its last page. The checkpoint (``runs``) is saved after every page.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from services.runtime.repair import runs
from services.runtime.repair.claims import Claims
from services.runtime.repair.progress import Progress
from services.runtime.repair.retry import patiently
from services.runtime.repair.runs import RunState
from services.runtime.repair.source import ObjectSource, Observed, Page
from services.runtime.repair.target import LocalTarget, Result, Verdict
from shared.kinds import EntityKind

log = logging.getLogger(__name__)

PUSH_BATCH = 100
EVENT_TYPE = "reconcile"


@dataclass(frozen=True)
class Options:
    kind: EntityKind
    dry_run: bool = False
    resume: bool = False


async def pages(source: ObjectSource, kind: EntityKind, after: str | None) -> AsyncIterator[Page]:
    """Every page from cursor ``after`` on; a page whose read fails is read again. The next
    page is read while the caller works on this one, so the reads keep to the budget's pace
    instead of waiting on the database."""

    def read(cursor: str | None) -> asyncio.Task[Page]:
        what = f"{kind.value} page"
        return asyncio.ensure_future(patiently(functools.partial(source.page, kind, cursor), what))

    ahead = read(after)
    try:
        while True:
            page = await ahead
            if page.after is not None:
                ahead = read(page.after)
            yield page
            if page.after is None:
                return
    finally:
        if not ahead.done():
            ahead.cancel()
            await asyncio.gather(ahead, return_exceptions=True)


class Reconcile:
    def __init__(
        self, source: ObjectSource, target: LocalTarget, progress: Progress | None = None
    ) -> None:
        self.source = source
        self.target = target
        self.progress = progress or Progress(enabled=False)

    async def __call__(self, options: Options) -> RunState:
        kind = options.kind
        if options.dry_run:
            run = RunState(self.source.provider, kind)
        else:
            run = await runs.start(self.source.provider, kind, options.resume)
        claims = Claims()
        with self.progress.phase(f"scan {kind.value}") as advance:
            async for page in pages(self.source, kind, None):
                for item in page.items:
                    claims.add(item)
                advance(len(page.items))
        if run.phase == "link":
            await self._link(run, claims, options)
            run.phase = "push"
            await self._save(run, options)
        if run.phase == "push":
            await self._push(run, claims, options)
            run.phase = "done"
        if not options.dry_run:
            await runs.save(run, finished=True)
        return run

    async def _save(self, run: RunState, options: Options) -> None:
        if not options.dry_run:
            await runs.save(run)

    async def _link(self, run: RunState, claims: Claims, options: Options) -> None:
        done = sum(run.counts[v.value] for v in Verdict)
        with self.progress.phase(f"link {run.kind.value}", claims.objects, done) as advance:
            async for page in pages(self.source, run.kind, run.cursor):
                for item, result in zip(
                    page.items, await self._page(run, claims, page.items, options), strict=True
                ):
                    run.counts[result.verdict.value] += 1
                    if options.dry_run and result.entity_id is not None:
                        run.linked.add(result.entity_id)
                    if result.verdict in (Verdict.AMBIGUOUS, Verdict.FAILED, Verdict.GONE):
                        run.note(
                            verdict=result.verdict.value,
                            external_id=item.external_id,
                            entity_id=result.entity_id,
                            detail=result.detail,
                        )
                if page.items:
                    run.cursor = page.items[-1].external_id
                await self._save(run, options)
                advance(len(page.items))

    async def _page(
        self, run: RunState, claims: Claims, items: list[Observed], options: Options
    ) -> list[Result]:
        ids = [f"{run.tag}:{item.external_id}" for item in items]
        # Only a resumed run can find its own ids applied (the page it was stopped in).
        earlier = await self.target.earlier(run.kind, ids) if run.resumed else {}
        looks = await self.target.looks(run.kind, items)
        results: list[Result] = []
        for item, event_id, look in zip(items, ids, looks, strict=True):
            if event_id in earlier:
                results.append(earlier[event_id])
            elif look.entity_id is not None and not look.differences:
                results.append(Result(Verdict.IN_STEP, look.entity_id))
            elif look.entity_id is None and (why := claims.ambiguity(item)) is not None:
                results.append(Result(Verdict.AMBIGUOUS, detail=why))
            else:
                command = item.as_command(event_id, EVENT_TYPE)
                results.append(await self.target.apply(command, dry_run=options.dry_run))
        return results

    async def _push(self, run: RunState, claims: Claims, options: Options) -> None:
        with self.progress.phase("push", unit="entity") as advance:
            while batch := await self.target.unsynced(run.kind, run.push_cursor, PUSH_BATCH):
                due: list[str] = []
                for local in batch:
                    if local.entity_id in run.linked:
                        continue  # a dry run's link, never written
                    if not claims.claim(local):
                        due.append(local.entity_id)
                        continue
                    run.counts["held"] += 1
                    run.note(
                        verdict="held",
                        entity_id=local.entity_id,
                        detail="claimed by a provider object that was not linked",
                    )
                run.push_cursor = batch[-1].entity_id
                run.counts["pushed"] += len(due)
                if not options.dry_run:

                    async def checkpoint() -> None:
                        await runs.save(run)

                    await self.target.push(run.kind, due, then=checkpoint)
                advance(len(batch))
