"""Benchmark: latency from the API's commit to the request arriving at the fake Stripe.

    python bench/stripe_latency.py [--rate 50] [--seconds 20]

``twoway crud`` (API + relay + consumers) and ``twoway stripe-sync`` (no budget limit) run as
processes of their own; this process serves localstripe and sends ``POST /customers`` at a
steady rate (open loop: one task per write, on schedule). A write's commit happens before its
response, so "response received -> request at Stripe" is a lower bound of the latency and
"request sent -> request at Stripe" an upper bound; both are printed.
Targets: p50 <= 25 ms, p99 <= 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio

import httpx
from _support import (
    api_key,
    cpu_seconds,
    free_port,
    fresh_namespace,
    live_writes,
    peak_rss_mb,
    print_latency,
    service_env,
    start,
    stop,
    wait_for_requests,
    wait_ready,
)

from tests.fakes.stripe_fake import API_KEY, FakeStripe


async def run(rate: float, seconds: float, budget: int) -> None:
    migrate = await start(["migrate"], service_env())
    assert await migrate.wait() == 0, "twoway migrate failed"
    auth = {"Authorization": f"Bearer {await api_key(service_env())}"}
    fake = FakeStripe()
    await fake.start()
    port = free_port()
    crud = await start(["crud", "--port", str(port)], service_env())
    sync = await start(
        ["stripe-sync"],
        service_env(
            STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=fake.url, STRIPE_RATE_LIMIT=str(budget)
        ),
    )
    count = int(rate * seconds)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=10, headers=auth
        ) as client:
            await wait_ready(client)
            await asyncio.sleep(1.0)  # let the worker attach to its queue
            before = {p.pid: cpu_seconds(p.pid) for p in (crud, sync)}
            sent, achieved_rate = await live_writes(client, rate, count)
            await wait_for_requests(fake, count, timeout=30)
            cpu = {p.pid: (cpu_seconds(p.pid) - before[p.pid]) / count for p in (crud, sync)}
            rss = {p.pid: peak_rss_mb(p.pid) for p in (crud, sync)}
    finally:
        await stop(sync)
        await stop(crud)
        await fake.stop()

    print(f"write rate achieved: {achieved_rate:.1f}/s")
    print_latency(fake, sent)
    # CPU per write tells more than latency on a busy machine: latency there is mostly waiting.
    print(
        f"CPU per write: crud {cpu[crud.pid] * 1000:.2f} ms, "
        f"stripe-sync {cpu[sync.pid] * 1000:.2f} ms; "
        f"peak RSS: crud {rss[crud.pid]:.0f} MB, stripe-sync {rss[sync.pid]:.0f} MB"
    )
    print("targets: p50 <= 25 ms, p99 <= 150 ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--budget",
        type=int,
        default=10_000,
        help="STRIPE_RATE_LIMIT: the deployment's budget (slot rows in the database)",
    )
    args = parser.parse_args()
    fresh_namespace()  # before the loop: it runs one of its own
    asyncio.run(run(args.rate, args.seconds, args.budget))


if __name__ == "__main__":
    main()
