"""Synthetic bulk traffic, as reconcile and the drift audit will send: Stripe reads in the bulk
lane of the deployment's budget, through the same ``Caller`` as the worker's writes.

    python -m bench.bulk_load [--concurrency 50] [--seconds 60] [--lane bulk]

(``--lane live`` sends them as live work instead: the comparison without priority.)

Configured from the environment like ``twoway stripe-sync`` (``STRIPE_API_KEY``,
``STRIPE_API_BASE``, ``STRIPE_RATE_LIMIT``, ``TWOWAY_DATABASE_URL``, ``TWOWAY_METRICS_PORT``).
Stops after ``--seconds`` or on SIGTERM/SIGINT, giving its slots back.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from services.runtime.budget.base import LANES, Lane
from services.runtime.metrics import serve_metrics
from services.runtime.process import run_until_signal
from services.runtime.settings import load
from services.stripe_sync.ratelimit import stripe_budget
from services.stripe_sync.settings import StripeSettings
from services.stripe_sync.stripe.calls import Caller
from services.stripe_sync.stripe.client import build_client


async def read_in_bulk(
    settings: StripeSettings, concurrency: int, seconds: float, lane: Lane
) -> None:
    client, http_client = build_client(
        settings.stripe_api_key.get_secret_value(),
        settings.stripe_api_base,
        settings.stripe_timeout_s,
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    try:
        async with contextlib.AsyncExitStack() as stack:
            budget = await stack.enter_async_context(stripe_budget(settings))
            if settings.metrics_port:
                await stack.enter_async_context(serve_metrics(settings.metrics_port))
            call = Caller(budget)

            async def reader() -> None:
                while loop.time() < deadline:
                    await call(
                        "customers.list",
                        lambda: client.v1.customers.list_async(params={"limit": 1}),
                        lane=lane,
                    )

            await asyncio.gather(*(reader() for _ in range(concurrency)))
    finally:
        await http_client.close_async()  # type: ignore[no-untyped-call]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--lane", choices=LANES, default="bulk")
    args = parser.parse_args()
    settings = load(StripeSettings)
    reading = read_in_bulk(settings, args.concurrency, args.seconds, args.lane)
    asyncio.run(run_until_signal([], [reading]))


if __name__ == "__main__":
    main()
