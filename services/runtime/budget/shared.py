"""The deployment's budget: slot rows in the database every worker already uses.

The budget is ``limit`` rows. A request may go when its process has leased a row, which it can
only do while the row is free (``free_at <= NOW(6)``). Leasing sets ``free_at`` to the end of
the lease (``max_hold_s`` + the window, so a process that dies gives its rows back by itself);
the answer sets it to one window after the answer. The server saw the request between the lease
and the answer, so no window of its clock meets more than ``limit`` requests, however many
processes there are. (The proof is the same as for one process; see the package docstring.)

One task per process does all the talking, one round trip per turn: the answers to write back
(batched for up to ``FLUSH_S``; a row frees a window later anyway), a 429 pause, the leases for
the requests waiting (as many as wait, up to what pacing allows), what was leased, when the
soonest row frees, and every heartbeat the census of members. Between turns it sleeps until
that row frees (or ``POLL_S``, to see rows others answered meanwhile).

Lanes: a waiting live request goes first within a process; across processes, a freed row stays
live's for ``bulk_grace_s`` before a bulk lease may take it, so live requests anywhere are not
queued behind another process's bulk backlog, and bulk alone still uses nearly all of it.

A 429 sets ``paused_until`` on the budget's row: no process leases before then.

Fallback, when the database does not answer. Each process then goes on alone with a share,
``limit // members``, counted in memory; for that to be safe:
- the others must keep off that share: a member whose heartbeat is older than ``stale_after``
  (but younger than ``RESERVE_S``) may be on its fallback, so the others lease only below
  ``limit - stale members x share``;
- the share starts only once the others have noticed (``stale_after`` + a heartbeat) and what
  they or this process sent before has surely left the window (``max_hold_s`` + the window);
- it ends ``RESERVE_S`` after the last heartbeat (less a hold and a window), when the others
  stop keeping off it; after that the process waits for the database.
So against Stripe (20 s timeout) the share starts about 25 s after losing the database, and
for a daily allocation never: what is left of the day is only known there. Messages wait
meanwhile; nothing is lost. Back in touch, a process first records its own recent requests in
free rows (the reserved ones among them), then heartbeats again and leases as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import math
import os
import secrets
import socket
import time

from services.runtime.budget.base import BudgetSpec, Clock, Evicted, Grant, Lane, LaneBudget
from services.runtime.budget.base import seen_by as seen_by_of
from services.runtime.budget.local import LocalBudget
from services.runtime.budget.pacing import Pacer
from services.runtime.budget.store import (
    Answer,
    Census,
    Exchange,
    SlotStore,
    StoreContended,
    StoreUnavailable,
)
from services.runtime.budget.waiters import Waiters
from services.runtime.cancel import nap
from services.runtime.errors import Retryable
from services.runtime.metrics import (
    BUDGET_BUSY,
    BUDGET_COORDINATED,
    BUDGET_FALLBACKS,
    BUDGET_LIMIT,
    BUDGET_MEMBERS,
)

log = logging.getLogger(__name__)

POLL_S = 0.1
"""While requests wait, look at the table at least this often (rows others answered)."""
FLUSH_S = 0.02
"""Answers are written back within this; the row only frees a window after the answer."""
MIN_NAP_S = 0.001
HEARTBEAT_S = 1.0
STALE_HEARTBEATS = 3
"""A member that missed this many heartbeats may be on its fallback share."""
RESERVE_S = 120.0
"""How long the others keep off the share of a member that went quiet (a crash costs that)."""
BULK_GRACE_S = 0.03
RECONNECT_S = 1.0


def _us(seconds: float) -> int:
    return math.ceil(seconds * 1_000_000)


def member_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class Mode(enum.Enum):
    SHARED = "shared"
    FALLBACK = "fallback"
    ADOPTING = "adopting"  # back in touch: recording the fallback's requests first


class BudgetClosed(Retryable):
    """The process is stopping: no more slots."""


class SharedBudget(LaneBudget):
    def __init__(
        self,
        spec: BudgetSpec,
        store: SlotStore,
        *,
        clock: Clock = time.monotonic,
        heartbeat_s: float = HEARTBEAT_S,
        bulk_grace_s: float = BULK_GRACE_S,
    ) -> None:
        super().__init__(spec, clock)
        self.mode = Mode.SHARED
        self.members = 1
        self.capacity = spec.limit
        self.usable = 0  # nothing is leased before the first census
        self._store = store
        self._heartbeat_s = heartbeat_s
        self._stale_after = STALE_HEARTBEATS * heartbeat_s
        self._grace_s = bulk_grace_s
        # This process's own requests: the fallback limiter, and what to record after it.
        self._ledger = LocalBudget(spec, clock, reports_busy=False)
        self._waiters = Waiters(self._unused, self._arrived)
        self._pacer = Pacer(spec.window_s / spec.limit) if spec.pace else None
        self._releases: list[tuple[int, int, float | None]] = []  # slot, lease, seen by
        self._pause_s = 0.0
        self._paused_until = float("-inf")
        self._next_free: float | None = None
        self._next_heartbeat = float("-inf")
        self._alive_at = (0.0, 0.0)  # the last heartbeat: sent, answered
        self._fallback_ends = float("inf")
        self._lease_seq = 0
        self._collect_from = 1
        self._adopted = 0
        self._wake = asyncio.Event()
        self._flush: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def limit(self) -> int:
        return self.capacity

    # --- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Create the tables and rows if needed and join; the database must answer now."""
        await super().start()
        try:
            await self._store.connect()
            await self._store.ensure(self.spec.limit, self.spec.window_s)
            await self._store.forget_stale_members()
            await self._turn()  # the first heartbeat and census
        except BaseException:
            self._store.disconnect()
            raise
        BUDGET_COORDINATED.labels(self.spec.name).set(1)
        self._task = asyncio.create_task(self._run(), name=f"budget-{self.spec.name}")

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._waiters.evict()
        await self._ledger.close()
        if self.mode is Mode.SHARED:
            with contextlib.suppress(StoreUnavailable, StoreContended):
                await self._store.connect()  # the loop may have been stopped mid-statement
                await self._store.exchange(self._exchange(self.clock(), lease=False))
                await self._store.leave(self.spec.window_s)
        self._store.disconnect()

    # --- the budget's interface ---------------------------------------------------------------
    async def acquire(self, lane: Lane) -> Grant:
        while True:
            if self._closed:
                raise BudgetClosed(f"the {self.spec.name} budget is closed")
            try:
                if self.mode is Mode.FALLBACK:
                    return await self._ledger.acquire(lane)
                return await self._waiters.wait(lane)
            except Evicted:
                continue  # the mode changed while it waited: ask where slots come from now

    def release(self, grant: Grant) -> None:
        self._ledger.release(grant)
        if grant.slot is not None:
            self._give_row(grant.slot, grant.lease, seen_by_of(self.spec, grant, self.clock()))

    def pause(self, seconds: float) -> None:
        self._pause_s = max(self._pause_s, seconds)
        self._paused_until = max(self._paused_until, self.clock() + seconds)
        self._ledger.pause(seconds)
        self._wake.set()

    def _unused(self, grant: Grant) -> None:
        """A waiter was cancelled after its slot was handed over: nothing was sent."""
        self._ledger.forget(grant)
        if grant.slot is not None:
            self._give_row(grant.slot, grant.lease, None)

    def _give_row(self, slot: int, lease: int, seen_by: float | None) -> None:
        self._releases.append((slot, lease, seen_by))
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(FLUSH_S, self._wake.set)

    def _arrived(self, lane: Lane) -> None:
        if self._waiters.count(lane) == 1:  # the loop's nap did not plan for this lane
            self._wake.set()

    # --- the loop ------------------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            self._wake.clear()
            delay = RECONNECT_S
            try:
                if self.mode is Mode.FALLBACK:
                    self._fallback_may_go_on()
                    await self._store.connect()
                    self._begin_adopting()
                delay = await self._turn()
            except StoreContended:
                delay = 10 * MIN_NAP_S
            except StoreUnavailable as exc:
                self._fall_back(str(exc))
            except Exception:  # a bug must not leave every request waiting forever
                log.exception("rate budget %s failed; using the local share", self.spec.name)
                self._store.disconnect()
                self._fall_back("internal error")
            await nap(self._wake, delay)

    def _exchange(self, now: float, lease: bool = True) -> Exchange:
        """This turn's round trip; the pending answers and pause move into it."""
        window = self.spec.window_s
        heartbeat = now >= self._next_heartbeat
        ex = Exchange(
            usable=self.usable,
            hold_us=_us(self.spec.max_hold_s + window),
            collect_from=self._collect_from,
            bulk_grace_us=_us(self._grace_s),
            stale_us=_us(self._stale_after),
            reserve_us=_us(RESERVE_S),
            pause_us=_us(self._pause_s),
            alive=heartbeat and self.mode is Mode.SHARED,
            census=heartbeat or self.mode is Mode.ADOPTING,
        )
        for slot, lease_id, seen in self._releases:
            # The row is busy until a window after the server saw the request: counted from the
            # statement's NOW(6), which is no earlier than ``now``.
            free_in = 0.0 if seen is None else window - (now - seen)
            ex.releases.append((slot, lease_id, _us(free_in)))
        if not lease:
            return ex
        if self.mode is Mode.ADOPTING:
            owed = self._ledger.busy(now) - self._adopted
            if owed > 0:
                ex.adopt = (owed, _us(self._ledger.clear_by(now)))
        elif self.mode is Mode.SHARED and now >= self._paused_until:
            allowance = self._pacer.allowance(now) if self._pacer else self.capacity
            live = min(self._waiters.count("live"), allowance)
            bulk = min(self._waiters.count("bulk"), allowance - live)
            for rows, grace_us in ((live, 0), (bulk, ex.bulk_grace_us)):
                if rows:
                    self._lease_seq += 1
                    ex.leases.append((rows, grace_us, self._lease_seq))
        return ex

    async def _turn(self) -> float:
        now = self.clock()
        ex = self._exchange(now)
        releases, self._releases = self._releases, []
        pause_s = self._pause_s
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        try:
            answer = await self._store.exchange(ex)
        except BaseException:  # unknown whether they were written: repeating one is harmless
            self._releases = releases + self._releases
            raise
        if self._pause_s == pause_s:
            self._pause_s = 0.0
        received = self.clock()
        if ex.alive:
            self._alive_at = (now, received)
        self._absorb(answer, now, received)
        return self._nap_after(received)

    def _absorb(self, answer: Answer, sent: float, received: float) -> None:
        if answer.capacity != self.capacity:
            self.capacity = answer.capacity
            BUDGET_LIMIT.labels(self.spec.name).set(answer.capacity)
            if self._pacer is not None:
                self._pacer.interval = self.spec.window_s / answer.capacity
        if answer.census is not None:
            self._count(answer.census, received)
        self._paused_until = max(self._paused_until, received + answer.paused_us / 1e6)
        free_us = answer.next_free_us
        self._next_free = None if free_us is None else (sent + received) / 2 + free_us / 1e6
        self._collect_from = self._lease_seq + 1
        for slot, lease, left_us in answer.leased:
            self._hand_out(slot, lease, sent + left_us / 1e6 - self.spec.window_s, received)
        if self.mode is Mode.ADOPTING:
            self._adopted += answer.adopted
            if self._ledger.busy(received) <= self._adopted:
                self.mode = Mode.SHARED
                self._next_heartbeat = float("-inf")  # tell the others at once
                BUDGET_COORDINATED.labels(self.spec.name).set(1)
                log.info("rate budget %s is shared again", self.spec.name)

    def _count(self, census: Census, now: float) -> None:
        """Members, and the rows this process may lease: the stale members' shares are theirs."""
        self.members = max(1, census.fresh + census.stale)
        self.usable = max(0, self.capacity - census.stale * (self.capacity // self.members))
        self._next_heartbeat = now + self._heartbeat_s
        BUDGET_MEMBERS.labels(self.spec.name).set(self.members)
        BUDGET_BUSY.labels(self.spec.name).set(census.busy)

    def _hand_out(self, slot: int, lease: int, deadline: float, now: float) -> None:
        """A leased row to the first waiter; nobody waiting (or not shared now): free it.

        The lease ends ``left_us`` after the statement ran, which was after it was sent: the
        request must be over a window before that (``deadline``).
        """
        grant = None
        if self.mode is Mode.SHARED and deadline > now:

            def make() -> Grant:
                return Grant(self.clock(), slot=slot, lease=lease, deadline=deadline)

            grant = self._waiters.grant(make)
        if grant is None:
            self._releases.append((slot, lease, None))
            return
        self._ledger.record(grant)
        if self._pacer is not None:
            self._pacer.take(now)

    def _nap_after(self, now: float) -> float:
        """How long the loop may sleep before its next turn."""
        wake = self._next_heartbeat
        if self._releases:
            wake = min(wake, now + FLUSH_S)
        if self._pause_s:
            wake = now
        lanes: tuple[tuple[Lane, float], ...] = (("live", 0.0), ("bulk", self._grace_s))
        for lane, grace in lanes:
            if self.mode is Mode.SHARED and not self._waiters.count(lane):
                continue  # when adopting, race for freed rows as live requests do
            if self.mode is Mode.ADOPTING and lane == "bulk":
                continue
            due = now + POLL_S
            if self._next_free is not None:
                due = min(due, self._next_free + grace)
            due = max(due, self._paused_until, now + MIN_NAP_S)
            if self._pacer is not None and self._pacer.allowance(now) == 0:
                due = max(due, self._pacer.next_at)
            wake = min(wake, due)
        return max(0.0, wake - now)

    # --- losing and finding the coordinator ---------------------------------------------------
    def _fall_back(self, reason: str) -> None:
        if self.mode is Mode.FALLBACK:
            return
        now = self.clock()
        share = max(1, self.capacity // self.members)
        alive_sent, alive_answered = self._alive_at
        held = self.spec.max_hold_s + self.spec.window_s
        # The others notice within a heartbeat of our going stale, and keep off our share for
        # RESERVE_S; everything sent before must be over and out of the window first.
        starts = alive_answered + self._stale_after + self._heartbeat_s + held
        self._fallback_ends = alive_sent + RESERVE_S - held
        log.warning(
            "rate budget %s: the database does not answer; a local share follows",
            self.spec.name,
            extra={"share": share, "members": self.members, "in_s": round(starts - now, 1)},
        )
        log.debug("rate budget %s: %s", self.spec.name, reason)
        self.mode = Mode.FALLBACK
        BUDGET_COORDINATED.labels(self.spec.name).set(0)
        BUDGET_FALLBACKS.labels(self.spec.name).inc()
        self._next_free = None
        self._ledger.set_limit(share)
        self._ledger.pause(max(0.0, starts - now))
        self._waiters.evict()

    def _fallback_may_go_on(self) -> None:
        """Past the time the others keep off this share, wait for the database instead."""
        now = self.clock()
        if now >= self._fallback_ends:
            self._ledger.pause(2 * RECONNECT_S + self._store.timeout_s)

    def _begin_adopting(self) -> None:
        log.info("rate budget %s: the database answers again", self.spec.name)
        self.mode = Mode.ADOPTING
        self._adopted = 0
        self._ledger.evict()
