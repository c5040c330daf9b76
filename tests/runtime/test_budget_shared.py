"""The deployment's budget through MariaDB: several members, as several processes would be.

Each member has its own connection and its own loop task, as in its own process; only the
event loop is shared, which makes none of them more exact than processes would be.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pymysql
import pytest

from services.runtime.budget import BudgetSpec, SharedBudget, SlotExpired, SlotStore
from services.runtime.budget.shared import Mode, member_id
from tests.runtime.budget_checks import Recorder, most_in_any_window
from tests.tcp_proxy import TcpProxy
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb]

ROOT = Path(__file__).resolve().parents[2]


def spec(limit: int, window_s: float, **extra: Any) -> BudgetSpec:
    return BudgetSpec(f"t-{uuid.uuid4().hex[:12]}", limit=limit, window_s=window_s, **extra)


class Members:
    def __init__(self, url: str) -> None:
        self.url = url
        self.started: list[SharedBudget] = []

    async def start(self, budget_spec: BudgetSpec, url: str | None = None) -> SharedBudget:
        store = SlotStore(url or self.url, budget_spec.name, member_id(), timeout_s=1.0)
        budget = SharedBudget(budget_spec, store, heartbeat_s=0.2)
        await budget.start()
        self.started.append(budget)
        return budget

    async def close(self) -> None:
        for budget in self.started:
            await budget.close()


@pytest.fixture
async def members(test_database: str) -> AsyncIterator[Members]:
    pool = Members(test_database)
    try:
        yield pool
    finally:
        await pool.close()


def query(url: str, sql: str, *args: object) -> tuple[tuple[object, ...], ...]:
    parts = urlsplit(url)
    conn = pymysql.connect(
        host=parts.hostname,
        port=parts.port or 3306,
        user="root",
        password="",
        database=parts.path.strip("/"),
        autocommit=True,
    )
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return tuple(cur.fetchall())
    finally:
        conn.close()


async def test_members_together_never_exceed_the_budget_in_any_window(
    members: Members,
) -> None:
    s = spec(limit=6, window_s=0.3)
    budgets = [await members.start(s) for _ in range(3)]
    recorder = Recorder()
    await asyncio.gather(*(recorder.request(budgets[i % 3], sender=i % 3) for i in range(45)))
    assert len(recorder.spans) == 45
    assert {span.sender for span in recorder.spans} == {0, 1, 2}
    assert most_in_any_window(recorder.spans, 0.3) == 6


async def test_a_pause_from_one_member_holds_back_the_others(members: Members) -> None:
    s = spec(limit=50, window_s=1.0)
    a, b = await members.start(s), await members.start(s)
    asked = time.monotonic()
    a.slow_down(1.0)

    def paused() -> bool:
        sql = "SELECT paused_until > NOW(6) FROM rate_budgets WHERE name = %s"
        return bool(query(members.url, sql, s.name)[0][0])

    await eventually(paused)
    async with b.slot():
        granted = time.monotonic()
    assert granted - asked >= 1.0


async def test_bulk_only_gets_what_live_leaves_across_members(members: Members) -> None:
    s = spec(limit=5, window_s=0.3)
    bulk_member, live_member = await members.start(s), await members.start(s)
    recorder = Recorder()
    stop = asyncio.Event()

    async def keep_asking(lane: str) -> None:
        budget = bulk_member if lane == "bulk" else live_member
        while not stop.is_set():
            await recorder.request(budget, lane)  # type: ignore[arg-type]

    bulk = [asyncio.create_task(keep_asking("bulk")) for _ in range(20)]
    await eventually(lambda: len(recorder.spans) >= 5)
    live_from = time.monotonic()
    live = [asyncio.create_task(keep_asking("live")) for _ in range(3)]
    await asyncio.sleep(1.5)  # scenario: 1.5 s of both lanes asking, counted below
    stop.set()
    await asyncio.gather(*live)
    live_until = time.monotonic()
    for task in bulk:
        task.cancel()
    await asyncio.gather(*bulk, return_exceptions=True)

    during = [span for span in recorder.spans if live_from + 0.1 <= span.start <= live_until - 0.1]
    lanes = [span.lane for span in during]
    assert lanes.count("live") >= 10
    # While live requests wait in another process, freed slots go to them: a race between the
    # two would give bulk about half.
    assert lanes.count("bulk") <= len(lanes) // 5
    assert most_in_any_window(recorder.spans, 0.3) <= 5


async def test_a_daily_allocation_holds_across_members_and_restarts(members: Members) -> None:
    s = spec(limit=3, window_s=86_400, pace=False, max_hold_s=5)
    a, b = await members.start(s), await members.start(s)
    recorder = Recorder()
    await recorder.request(a)
    await recorder.request(a)
    await recorder.request(b)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(recorder.request(b), 0.5)
    restarted = await members.start(s)  # a new process: what was spent is in the database
    fourth = asyncio.create_task(recorder.request(restarted))
    await asyncio.sleep(0.5)  # scenario: the fourth must stay held back all this while
    assert not fourth.done()

    # A day later for the oldest request (moved back, as no test waits a day): one more goes.
    query(
        members.url,
        "UPDATE rate_budget_slots SET free_at = free_at - INTERVAL 1 DAY "
        "WHERE budget = %s ORDER BY free_at LIMIT 1",
        s.name,
    )
    await asyncio.wait_for(fourth, 5)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(recorder.request(a), 0.5)
    assert len(recorder.spans) == 4


async def test_a_request_outliving_its_lease_is_cut_off(members: Members) -> None:
    budget = await members.start(spec(limit=2, window_s=0.2, max_hold_s=0.3))
    with pytest.raises(SlotExpired):
        async with budget.slot():
            await asyncio.sleep(2)  # scenario: a request that outlives its 0.3 s lease


async def test_a_member_that_dies_gives_its_rows_back_by_itself(members: Members) -> None:
    s = spec(limit=2, window_s=0.2, max_hold_s=1.0)
    script = (
        "import asyncio, sys\n"
        "from services.runtime.budget import BudgetSpec, SharedBudget, SlotStore, member_id\n"
        "async def main():\n"
        f"    spec = BudgetSpec({s.name!r}, limit=2, window_s=0.2, max_hold_s=1.0)\n"
        f"    budget = SharedBudget(spec, SlotStore({members.url!r}, spec.name, member_id()))\n"
        "    await budget.start()\n"
        "    await budget.acquire('live'); await budget.acquire('live')\n"
        "    print('held', flush=True)\n"
        "    await asyncio.sleep(60)\n"  # scenario: it holds its slots until it is killed
        "asyncio.run(main())\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        assert await asyncio.wait_for(process.stdout.readline(), 30) == b"held\n"
        held = time.monotonic()
    finally:
        process.kill()
        await process.wait()
    survivor = await members.start(s)
    async with survivor.slot():
        granted = time.monotonic()
    # Its rows come back when their lease ends (hold + window after leasing), never sooner.
    assert granted - held >= 1.0 + 0.2 - 0.1


@pytest.mark.parametrize("cut_off", [("a", "b"), ("b",)], ids=["everyone", "one member"])
async def test_losing_the_database_falls_back_to_a_share_then_back(
    members: Members, cut_off: tuple[str, ...]
) -> None:
    """Members behind a proxy lose the database when it is cut; the others keep it."""
    parts = urlsplit(members.url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 3306)
    port = await proxy.start()
    proxied = urlunsplit(parts._replace(netloc=f"root:@127.0.0.1:{port}"))
    # The fallback share starts 3 heartbeats + 1 + max_hold_s + the window after the last
    # heartbeat: 0.6 + 0.2 + 0.5 + 0.3 = 1.6 s.
    s = spec(limit=8, window_s=0.3, max_hold_s=0.5)
    recorder = Recorder()
    stop = asyncio.Event()

    async def keep_asking(budget: SharedBudget, sender: int) -> None:
        while not stop.is_set():
            with contextlib.suppress(SlotExpired):
                await recorder.request(budget, sender=sender)

    try:
        a = await members.start(s, proxied if "a" in cut_off else None)
        b = await members.start(s, proxied if "b" in cut_off else None)
        lost = [m for name, m in (("a", a), ("b", b)) if name in cut_off]
        await eventually(lambda: a.members == b.members == 2)
        senders = [asyncio.create_task(keep_asking(m, i % 2)) for i, m in enumerate([a, b] * 6)]
        await asyncio.sleep(0.6)  # scenario: traffic while the database is there
        proxy.cut()
        cut_at = time.monotonic()
        await eventually(lambda: all(m.mode is Mode.FALLBACK for m in lost))
        await asyncio.sleep(2.8)  # scenario: cut off past the 1.6 s until the share starts
        restored_at = time.monotonic()
        proxy.restore()
        await eventually(lambda: a.mode is b.mode is Mode.SHARED)
        await asyncio.sleep(0.6)  # scenario: traffic once the database is back
        stop.set()
        await asyncio.gather(*senders)
    finally:
        await members.close()
        await proxy.stop()

    during = [x for x in recorder.spans if cut_at < x.start < restored_at]
    for sender in (0, 1):
        mine = [x for x in during if x.sender == sender]
        assert mine, f"member {sender} sent nothing while the database was cut off"
        if ("a", "b")[sender] in cut_off:
            assert most_in_any_window(mine, 0.3) <= 4  # its share: 8 // 2
    # Before, during and after, the deployment never went over the budget.
    assert most_in_any_window(recorder.spans, 0.3) <= 8


def test_migrate_made_the_budget_tables(test_database: str) -> None:
    """`twoway migrate` (run for the session) creates them, as every other table."""
    rows = query(
        test_database,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
    )
    assert {"rate_budgets", "rate_budget_slots", "rate_budget_members"} <= {r[0] for r in rows}
