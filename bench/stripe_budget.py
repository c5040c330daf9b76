"""Benchmark: a backlog of events drained by several workers against one budget B.

    python bench/stripe_budget.py [--events 2000] [--budget 25 100] [--processes 3]

For each B: 2,000 ``customer.created`` events wait in the worker queue; three
``twoway stripe-sync`` processes (each its own OS process) drain them against localstripe (in
this process) with ``STRIPE_RATE_LIMIT=B``, the deployment's total. Printed from the fake's own
request log: the most requests seen in any 1 s window (target <= B) and the rate achieved
over B (target >= 0.95); from each process's /metrics, how the requests were shared.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from datetime import UTC, datetime

from _support import (
    AMQP_URL,
    free_port,
    fresh_namespace,
    scrape,
    service_env,
    start,
    stop,
    wait_for_requests,
)

from services.runtime.amqp import AmqpBus
from services.runtime.bus import OutgoingMessage
from services.stripe_sync.names import STRIPE_SYNC_QUEUE
from shared.entities.customer import CustomerData
from shared.events import EntityEvent, dump_event, event_routing_key
from shared.kinds import APP, Action, EntityKind
from shared.topology import DEFAULT_RETRY_DELAYS_MS, EVENTS_EXCHANGE
from tests.fakes.stripe_fake import API_KEY, FakeStripe
from tests.scrape import sample

POOL = 30


def created(i: int) -> EntityEvent:
    now = datetime.now(UTC)
    entity_id = f"bench-{i:05d}"
    snapshot = CustomerData(
        id=entity_id,
        name=f"Customer {i}",
        email=f"{entity_id}@example.com",
        phone=None,
        metadata={"n": str(i)},
        version=1,
        created_at=now,
        updated_at=now,
    )
    return EntityEvent.of(
        Action.CREATED,
        snapshot,
        EntityKind.CUSTOMER,
        event_id=uuid.uuid4(),
        occurred_at=now,
        version=1,
        origin=APP,
        changed=tuple(snapshot.flat()),
    )


async def queue_backlog(events: int) -> None:
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


async def run(events: int, budget: int, processes: int) -> None:
    fake = FakeStripe()
    await fake.start()
    await queue_backlog(events)
    print(f"backlog: {events} events queued; {processes} workers; budget B = {budget} req/s")

    ports = [free_port() for _ in range(processes)]
    workers = [
        await start(
            ["stripe-sync"],
            service_env(
                STRIPE_API_KEY=API_KEY,
                STRIPE_API_BASE=fake.url,
                STRIPE_RATE_LIMIT=str(budget),
                TWOWAY_METRICS_PORT=str(port),
                # Three workers x 50 (the default) would fill a server at MySQL's default
                # max_connections (151), as some here are started; a deployment sizes it so.
                TWOWAY_STRIPE_SYNC_DB_POOL=str(POOL),
            ),
        )
        for port in ports
    ]
    try:
        await wait_for_requests(fake, events, timeout=events / budget * 2 + 60)
        metrics = [await scrape(port) for port in ports]
    finally:
        for worker in workers:
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
    for i, text in enumerate(metrics):
        grants = sample(text, "twoway_budget_grants_total", budget="stripe", lane="live")
        waited = sample(text, "twoway_budget_wait_seconds_sum", budget="stripe", lane="live")
        latency = sample(text, "twoway_stripe_request_seconds_sum", operation="customers.create")
        fallbacks = sample(text, "twoway_budget_fallbacks_total", budget="stripe")
        retried = sample(
            text,
            "twoway_messages_settled_total",
            queue=STRIPE_SYNC_QUEUE.name,
            action="RetryLater",
            reason="",
        )
        print(
            f"process {i + 1}: {int(grants)} requests, mean wait for a slot "
            f"{waited / max(grants, 1) * 1000:.0f} ms, mean Stripe answer "
            f"{latency / max(grants, 1) * 1000:.1f} ms, fallbacks {int(fallbacks)}, "
            f"messages retried {int(retried)}"
        )
    # Per whole second from the first request, leaving out the first (start-up) and the last
    # (the tail, and a partial second): each is at most B, so this use is at most 1.
    seconds = [0] * (int(span) + 1)
    for t in times:
        seconds[int(t - times[0])] += 1
    middle = seconds[1:-1] or seconds
    steady = sum(middle) / len(middle)
    print(f"achieved rate: {achieved:.2f} req/s (first to last request)")
    print(
        f"achieved / B = {achieved / budget:.3f}; per whole second (all but the first and last)"
        f" mean {steady / budget:.3f}, lowest {min(middle) / budget:.3f}   (target >= 0.95)"
    )
    print(f"max requests in any 1 s window: {worst}   (budget {budget}, over: {worst > budget})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--budget", type=int, nargs="+", default=[25, 100])
    parser.add_argument("--processes", type=int, default=3)
    args = parser.parse_args()
    for budget in args.budget:
        fresh_namespace()  # before the loop: it runs one of its own
        asyncio.run(run(args.events, budget, args.processes))
        print()


if __name__ == "__main__":
    main()
