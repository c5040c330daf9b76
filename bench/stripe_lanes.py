"""Benchmark: live writes while bulk traffic saturates the budget.

    python bench/stripe_lanes.py [--budget 25] [--rate 5] [--seconds 30] [--processes 3]
                                 [--bulk 50]

``twoway crud`` (API + relay + consumers), three ``twoway stripe-sync`` processes and a bulk
reader process (``bench/bulk_load.py``: ``customers.list`` in the bulk lane through the
worker's ``Caller``, 50 at a time) share one budget B against localstripe (in this process).
Once the bulk reads use the whole budget, ``POST /customers`` at 5/s (open loop) for 30 s.
Printed: live commit -> Stripe (lower bound: response -> arrival at the fake; upper bound:
request -> arrival) p50/p99/max, target p99 < 1 s; while the writes ran, the bulk and total
request rates over B (bulk uses what live leaves); the most requests in any 1 s window
(target <= B). Then the same once more with the reads sent as live work (no priority), and
the ratio of the two p99s.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx
from _support import (
    api_key,
    free_port,
    fresh_namespace,
    live_writes,
    percentile,
    print_latency,
    scrape,
    service_env,
    start,
    stop,
    wait_for_requests,
    wait_ready,
)

from tests.fakes.stripe_fake import API_KEY, FakeStripe
from tests.scrape import sample


def rate_between(fake: FakeStripe, method: str, start_at: float, end_at: float) -> float:
    calls = [c for c in fake.api_calls(method) if start_at <= c.at < end_at]
    return len(calls) / (end_at - start_at)


async def run(
    budget: int, rate: float, seconds: float, processes: int, bulk: int, lane: str
) -> float:
    """One run with the reads in ``lane``; the upper-bound p99 of the live writes."""
    migrate = await start(["migrate"], service_env())
    assert await migrate.wait() == 0, "twoway migrate failed"
    fake = FakeStripe()
    await fake.start()
    stripe_env = {
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_API_BASE": fake.url,
        "STRIPE_RATE_LIMIT": str(budget),
    }
    port = free_port()
    crud = await start(["crud", "--port", str(port)], service_env(TWOWAY_METRICS_PORT="0"))
    worker_ports = [free_port() for _ in range(processes)]
    workers = [
        await start(
            ["stripe-sync"],
            # 30 connections each, not 50: see POOL in stripe_budget.py.
            service_env(**stripe_env, TWOWAY_METRICS_PORT=str(p), TWOWAY_STRIPE_SYNC_DB_POOL="30"),
        )
        for p in worker_ports
    ]
    bulk_port = free_port()
    reader = await start(
        ["--concurrency", str(bulk), "--seconds", str(seconds + 60), "--lane", lane],
        service_env(**stripe_env, TWOWAY_METRICS_PORT=str(bulk_port)),
        module="bench.bulk_load",
    )
    count = int(rate * seconds)
    try:
        auth = {"Authorization": f"Bearer {await api_key(service_env())}"}
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=10, headers=auth
        ) as client:
            await wait_ready(client)
            # Bulk first, until it uses the budget fully; the workers attach meanwhile.
            waiting_since = time.monotonic()
            for _ in range(600):
                now = time.monotonic()
                saturated = rate_between(fake, "GET", now - 2, now) >= 0.9 * budget
                if now - waiting_since > 2 and saturated:
                    break
                await asyncio.sleep(0.1)
            print(f"bulk reads before the writes: {rate_between(fake, 'GET', now - 2, now):.1f}/s")
            started = time.monotonic()
            sent, achieved_rate = await live_writes(client, rate, count)
            await wait_for_requests(fake, count, timeout=60)
            ended = time.monotonic()
        waits = [
            sample(await scrape(p), "twoway_budget_wait_seconds_sum", budget="stripe", lane="live")
            for p in worker_ports
        ]
    finally:
        await stop(reader)
        for worker in workers:
            await stop(worker)
        await stop(crud)
        await fake.stop()

    print(f"reads in the {lane} lane; budget B = {budget}/s; {processes} workers")
    print(f"writes at {achieved_rate:.1f}/s")
    upper = print_latency(fake, sent)
    print(
        f"mean wait of a live request for its slot: {sum(waits) / max(len(sent), 1) * 1000:.0f} ms"
    )
    print(
        f"target: live p99 < 1000 ms (upper bound p99 {percentile(upper, 99) * 1000:.0f} ms, "
        f"met: {percentile(upper, 99) < 1.0})"
    )
    live = rate_between(fake, "POST", started, ended)
    reads = rate_between(fake, "GET", started, ended)
    print(
        f"while writing: live {live:.1f}/s, bulk {reads:.1f}/s, total / B = "
        f"{(live + reads) / budget:.3f}"
    )
    worst = fake.max_per_window(1.0)
    print(f"max requests in any 1 s window: {worst}   (budget {budget}, over: {worst > budget})")
    return percentile(upper, 99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=int, default=25)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--bulk", type=int, default=50)
    args = parser.parse_args()
    p99 = {}
    for lane in ("bulk", "live"):
        fresh_namespace()  # before the loop: it runs one of its own
        p99[lane] = asyncio.run(
            run(args.budget, args.rate, args.seconds, args.processes, args.bulk, lane)
        )
        print()
    print(
        f"live p99 with the reads as bulk / as live: {p99['bulk'] * 1000:.0f} ms / "
        f"{p99['live'] * 1000:.0f} ms = {p99['bulk'] / p99['live']:.2f}"
    )


if __name__ == "__main__":
    main()
