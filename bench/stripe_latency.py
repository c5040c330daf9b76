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
import socket
import time

import httpx
from _support import (
    api_key,
    fresh_namespace,
    percentile,
    service_env,
    start,
    stop,
    wait_for_requests,
)

from tests.fakes.stripe_fake import API_KEY, FakeStripe


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_ready(client: httpx.AsyncClient) -> None:
    for _ in range(200):
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the CRUD service did not become ready")


async def run(rate: float, seconds: float) -> None:
    migrate = await start(["migrate"], service_env())
    assert await migrate.wait() == 0, "twoway migrate failed"
    auth = {"Authorization": f"Bearer {await api_key(service_env())}"}
    fake = FakeStripe()
    await fake.start()
    port = free_port()
    crud = await start(["crud", "--port", str(port)], service_env())
    sync = await start(
        ["stripe-sync"],
        service_env(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=fake.url, STRIPE_RATE_LIMIT="10000"),
    )
    sent: dict[str, tuple[float, float]] = {}
    count = int(rate * seconds)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=10, headers=auth
        ) as client:
            await wait_ready(client)
            await asyncio.sleep(1.0)  # let the worker attach to its queue

            async def write(i: int) -> None:
                before = time.monotonic()
                response = await client.post(
                    "/customers", json={"name": f"C {i}", "email": f"c{i}@example.com"}
                )
                after = time.monotonic()
                assert response.status_code == 201, response.text
                sent[response.json()["id"]] = (before, after)

            t0 = time.monotonic()
            tasks = []
            for i in range(count):
                delay = t0 + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(write(i)))
            await asyncio.gather(*tasks)
            achieved_rate = count / (time.monotonic() - t0)
            await wait_for_requests(fake, count, timeout=30)
    finally:
        await stop(sync)
        await stop(crud)
        await fake.stop()

    arrivals = {
        c.form.get("metadata[twoway_id]"): c.at for c in fake.api_calls("POST") if c.status == 200
    }
    lower = [arrivals[i] - after for i, (_, after) in sent.items() if i in arrivals]
    upper = [arrivals[i] - before for i, (before, _) in sent.items() if i in arrivals]
    print(f"writes: {count} at {achieved_rate:.1f}/s; reached Stripe: {len(lower)}")
    for name, values in (("response -> Stripe", lower), ("request -> Stripe", upper)):
        ms = [v * 1000 for v in values]
        print(
            f"{name:>20}: p50 {percentile(ms, 50):6.1f} ms   p99 {percentile(ms, 99):6.1f} ms"
            f"   max {max(ms):6.1f} ms"
        )
    print("targets: p50 <= 25 ms, p99 <= 150 ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    fresh_namespace()  # before the loop: it runs one of its own
    asyncio.run(run(args.rate, args.seconds))


if __name__ == "__main__":
    main()
