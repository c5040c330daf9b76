"""Benchmark: a backlog of events against a fake Stripe with budget B.

    python bench/stripe_budget.py [--events 2000] [--budget 100]

2,000 ``customer.created`` events wait in the worker's queue; one ``twoway stripe-sync``
process (its own OS process) drains them against localstripe (in this process) with
``STRIPE_RATE_LIMIT=B``. Printed from the fake's own request log: the achieved rate over B
(target >= 0.95) and the most requests seen in any 1 s window (target <= B).
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from datetime import UTC, datetime

from _support import AMQP_URL, fresh_namespace, service_env, start, stop, wait_for_requests

from services.runtime.amqp import AmqpBus
from services.runtime.bus import OutgoingMessage
from shared.events import CustomerData, CustomerEvent, dump_event, event_routing_key
from shared.kinds import APP
from shared.topology import DEFAULT_RETRY_DELAYS_MS, EVENTS_EXCHANGE
from tests.fakes.stripe_fake import API_KEY, FakeStripe


def created(i: int) -> CustomerEvent:
    now = datetime.now(UTC)
    entity_id = f"bench-{i:05d}"
    return CustomerEvent(
        event_id=uuid.uuid4(),
        occurred_at=now,
        type="customer.created",
        entity_id=entity_id,
        version=1,
        origin=APP,
        data=CustomerData(
            id=entity_id,
            name=f"Customer {i}",
            email=f"{entity_id}@example.com",
            phone=None,
            metadata={"n": str(i)},
            version=1,
            created_at=now,
            updated_at=now,
        ),
    )


async def run(events: int, budget: int) -> None:
    fake = FakeStripe()
    await fake.start()
    bus = AmqpBus(AMQP_URL, DEFAULT_RETRY_DELAYS_MS)
    await bus.connect()
    batch = [created(i) for i in range(events)]
    for i in range(0, events, 500):
        chunk = batch[i : i + 500]
        results = await bus.publish(
            EVENTS_EXCHANGE,
            [OutgoingMessage(event_routing_key(e), dump_event(e), str(e.event_id)) for e in chunk],
        )
        assert all(r is None for r in results), results
    await bus.close()
    print(f"backlog: {events} events queued; budget B = {budget} requests/s")

    worker = await start(
        ["stripe-sync"],
        service_env(
            STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=fake.url, STRIPE_RATE_LIMIT=str(budget)
        ),
    )
    try:
        await wait_for_requests(fake, events, timeout=events / budget * 2 + 60)
    finally:
        await stop(worker)
        await fake.stop()

    calls = fake.api_calls("POST")
    ok = sum(1 for c in calls if c.status == 200)
    times = sorted(c.at for c in calls)
    span = times[-1] - times[0]
    # Rate between the first and the last request: n requests make n - 1 intervals.
    achieved = (len(times) - 1) / span
    worst = fake.max_per_window(1.0)
    print(f"requests: {len(calls)} ({ok} answered 200) in {span:.2f} s")
    print(f"achieved rate: {achieved:.2f} req/s")
    print(f"achieved / B = {achieved / budget:.3f}   (target >= 0.95)")
    print(f"max requests in any 1 s window: {worst}   (budget {budget}, over: {worst > budget})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--budget", type=int, default=100)
    args = parser.parse_args()
    fresh_namespace()  # before the loop: it runs one of its own
    asyncio.run(run(args.events, args.budget))


if __name__ == "__main__":
    main()
