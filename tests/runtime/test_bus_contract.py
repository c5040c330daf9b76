"""The bus contract: one set of behavioural cases, run on every ``Bus`` implementation.

``BusContract`` holds the cases; each subclass only says how to open a bus and a queue admin.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import pytest

from services.runtime.amqp import AmqpBus
from services.runtime.amqp_admin import AmqpQueueAdmin
from services.runtime.bus import Bus, Delivery, OutgoingMessage, UnroutableError
from services.runtime.errors import Permanent, Retryable
from services.runtime.memory import MemoryBroker, MemoryBus, topic_matches
from services.runtime.queues import QueueAdmin, QueuedMessage
from services.runtime.worker import DeadLetter, RetryLater, Settlement, Worker
from services.stripe_sync.names import STRIPE_SYNC_QUEUE
from shared.topology import (
    COMMANDS_EXCHANGE,
    EVENTS_EXCHANGE,
    HEADER_ATTEMPTS,
    HEADER_LAST_ERROR,
    HEADER_REASON,
    HEADER_ROUTING_KEY,
    HEADER_SOURCE_QUEUE,
    INBOUND_QUEUE,
    SYNC_RESULTS_QUEUE,
    UNROUTED_QUEUE,
)
from tests.conftest import TEST_RETRY_DELAYS_MS, Broker
from tests.waiting import eventually

WORK = STRIPE_SYNC_QUEUE
FIRST_TIER_ONLY = TEST_RETRY_DELAYS_MS[:1]


def message(message_id: str, routing_key: str = "customer.updated") -> OutgoingMessage:
    return OutgoingMessage(routing_key, f'{{"id": "{message_id}"}}'.encode(), message_id)


@dataclass
class Env:
    """How a test opens buses and looks into queues; closes everything it opened."""

    make_bus: Callable[[], Bus]
    admin: QueueAdmin
    opened: list[Bus] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def bus(self) -> Bus:
        bus = self.make_bus()
        await bus.connect()
        self.opened.append(bus)
        return bus

    async def ids(self, queue: str) -> list[str]:
        return [m.message_id for m in await self.admin.peek(queue)]

    def start(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine)
        self.tasks.append(task)
        return task

    async def aclose(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for bus in self.opened:
            await bus.close()
        await self.admin.close()


class Holder:
    """A handler that keeps its deliveries unacked until the test says otherwise."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []

    async def __call__(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)


class BusContract:
    """Cases every bus must pass. Subclasses provide the ``env`` fixture."""

    @pytest.fixture
    async def env(self) -> AsyncIterator[Env]:
        raise NotImplementedError
        yield

    async def worker(
        self, env: Env, handler: Callable[[Delivery], Awaitable[None]], delays: tuple[int, ...]
    ) -> list[Settlement]:
        """Run a ``Worker`` on the stripe_sync queue; return the actions it takes, as it goes."""
        actions: list[Settlement] = []
        bus = await env.bus()
        worker = Worker(bus, WORK, handler, delays, prefetch=10, on_action=actions.append)
        env.start(worker.run())
        return actions

    async def test_topic_exchanges_route_by_binding_and_keep_what_no_queue_wanted(
        self, env: Env
    ) -> None:
        bus = await env.bus()
        events = [
            message("created", "customer.created"),
            message("result", "sync.stripe.customer.ok"),
            message("invoice", "invoice.paid"),
            message("too-deep", "customer.created.v2"),
        ]
        commands = [message("inbound", "inbound.stripe.customer.updated"), message("x", "other")]
        assert await bus.publish(EVENTS_EXCHANGE, events) == [None] * 4
        assert await bus.publish(COMMANDS_EXCHANGE, commands) == [None] * 2

        assert await env.ids(STRIPE_SYNC_QUEUE.name) == ["created"]
        assert await env.ids(SYNC_RESULTS_QUEUE.name) == ["result"]
        assert await env.ids(INBOUND_QUEUE.name) == ["inbound"]
        assert await env.ids(UNROUTED_QUEUE) == ["invoice", "too-deep", "x"]

    async def test_publish_returns_one_result_per_message_in_order(self, env: Env) -> None:
        bus = await env.bus()
        results = await bus.publish(
            "",
            [
                message("to-work", WORK.name),
                message("nowhere", "twoway.no_such_queue"),
                message("to-dlq", WORK.dead_letter),
            ],
        )
        assert results[0] is None and results[2] is None
        assert isinstance(results[1], UnroutableError)
        assert await env.ids(WORK.name) == ["to-work"]
        assert await env.ids(WORK.dead_letter) == ["to-dlq"]
        assert await bus.publish("", []) == []

    async def test_an_acked_delivery_is_gone_for_good(self, env: Env) -> None:
        bus = await env.bus()
        await bus.publish("", [message("m1", WORK.name)])
        handled: list[str] = []

        async def ack(delivery: Delivery) -> None:
            await delivery.ack()
            handled.append(delivery.message_id)

        env.start(bus.consume(WORK, ack, prefetch=10))
        await eventually(lambda: handled == ["m1"])
        await bus.close()
        assert await env.admin.count(WORK.name) == 0

    async def test_an_unacked_delivery_comes_back_redelivered_after_close(self, env: Env) -> None:
        first = await env.bus()
        await first.publish("", [message("m1", WORK.name)])
        held = Holder()
        env.start(first.consume(WORK, held, prefetch=10))
        await eventually(lambda: len(held.deliveries) == 1)
        assert held.deliveries[0].redelivered is False
        await first.close()

        again = Holder()
        env.start((await env.bus()).consume(WORK, again, prefetch=10))
        await eventually(lambda: len(again.deliveries) == 1)
        assert again.deliveries[0].message_id == "m1"
        assert again.deliveries[0].redelivered is True

    async def test_prefetch_bounds_the_deliveries_in_flight(self, env: Env) -> None:
        bus = await env.bus()
        await bus.publish("", [message(m, WORK.name) for m in ("a", "b", "c")])
        held = Holder()
        env.start(bus.consume(WORK, held, prefetch=2))
        await eventually(lambda: len(held.deliveries) == 2)
        assert await env.admin.count(WORK.name) == 1

        await held.deliveries[0].ack()
        await eventually(lambda: len(held.deliveries) == 3)
        assert [d.message_id for d in held.deliveries] == ["a", "b", "c"]

    async def test_a_retried_message_comes_back_through_the_wait_queue(self, env: Env) -> None:
        seen: list[Delivery] = []

        async def flaky(delivery: Delivery) -> None:
            seen.append(delivery)
            if len(seen) == 1:
                raise Retryable("stripe unavailable")

        actions = await self.worker(env, flaky, FIRST_TIER_ONLY)
        await (await env.bus()).publish(EVENTS_EXCHANGE, [message("e1", "customer.updated")])
        await eventually(lambda: len(seen) == 2)

        retried = seen[1]
        assert retried.message_id == "e1" and retried.body == seen[0].body
        assert int(retried.headers[HEADER_ATTEMPTS]) == 1
        assert retried.headers[HEADER_LAST_ERROR] == "Retryable: stripe unavailable"
        assert retried.headers[HEADER_ROUTING_KEY] == "customer.updated"
        assert isinstance(actions[0], RetryLater)
        await eventually(lambda: len(actions) == 2)
        assert await env.admin.count(WORK.dead_letter) == 0

    async def test_a_permanent_failure_is_dead_lettered_with_its_reason(self, env: Env) -> None:
        async def reject(delivery: Delivery) -> None:
            raise Permanent("email is invalid", reason="validation")

        actions = await self.worker(env, reject, FIRST_TIER_ONLY)
        await (await env.bus()).publish(EVENTS_EXCHANGE, [message("e1", "customer.created")])
        await eventually(lambda: len(actions) == 1)

        (dead,) = await env.admin.peek(WORK.dead_letter)
        assert dead.message_id == "e1" and dead.body == b'{"id": "e1"}'
        assert dead.headers[HEADER_REASON] == "validation"
        assert int(dead.headers[HEADER_ATTEMPTS]) == 1
        assert dead.headers[HEADER_LAST_ERROR] == "Permanent: email is invalid"
        assert dead.headers[HEADER_SOURCE_QUEUE] == WORK.name
        assert dead.headers[HEADER_ROUTING_KEY] == "customer.created"
        assert await env.admin.count(WORK.name) == 0

    async def test_retries_end_in_the_dead_letter_queue(self, env: Env) -> None:
        async def down(delivery: Delivery) -> None:
            raise Retryable("stripe unavailable")

        actions = await self.worker(env, down, FIRST_TIER_ONLY)
        await (await env.bus()).publish(EVENTS_EXCHANGE, [message("e1", "customer.deleted")])
        await eventually(lambda: any(isinstance(a, DeadLetter) for a in actions))

        (dead,) = await env.admin.peek(WORK.dead_letter)
        assert dead.headers[HEADER_REASON] == "retries_exhausted"
        assert int(dead.headers[HEADER_ATTEMPTS]) == 2
        assert dead.headers[HEADER_ROUTING_KEY] == "customer.deleted"

    async def test_one_entitys_messages_are_handled_in_publish_order(self, env: Env) -> None:
        published = [message(f"{entity}-{n}") for n in range(8) for entity in ("a", "b", "c")]
        handled: list[str] = []

        async def record(delivery: Delivery) -> None:
            handled.append(delivery.message_id)

        await self.worker(env, record, FIRST_TIER_ONLY)
        assert await (await env.bus()).publish(EVENTS_EXCHANGE, published) == [None] * 24
        await eventually(lambda: len(handled) == 24)
        for entity in ("a", "b", "c"):
            mine = [m for m in handled if m.startswith(entity)]
            assert mine == [f"{entity}-{n}" for n in range(8)]

    async def test_peek_leaves_messages_and_take_removes_only_what_it_took(self, env: Env) -> None:
        bus = await env.bus()
        await bus.publish("", [message(m, WORK.dead_letter) for m in ("a", "b", "c")])
        assert await env.ids(WORK.dead_letter) == ["a", "b", "c"]

        taken: list[str] = []

        async def take(queued: QueuedMessage) -> None:
            taken.append(queued.message_id)

        removed = await env.admin.take(
            WORK.dead_letter, take, select=lambda m: m.message_id in ("a", "c")
        )
        assert removed == 2 and taken == ["a", "c"]
        assert await env.ids(WORK.dead_letter) == ["b"]

    async def test_a_failing_take_leaves_the_message_in_the_queue(self, env: Env) -> None:
        bus = await env.bus()
        await bus.publish("", [message("a", WORK.dead_letter)])

        async def fail(queued: QueuedMessage) -> None:
            raise RuntimeError("target unavailable")

        with pytest.raises(RuntimeError):
            await env.admin.take(WORK.dead_letter, fail)
        assert await env.ids(WORK.dead_letter) == ["a"]
        assert await env.admin.purge(WORK.dead_letter) == 1
        assert await env.admin.count(WORK.dead_letter) == 0


@pytest.mark.rabbitmq
class TestAmqpBus(BusContract):
    @pytest.fixture
    async def env(self, broker: Broker, test_vhost: str) -> AsyncIterator[Env]:
        env = Env(lambda: AmqpBus(test_vhost, TEST_RETRY_DELAYS_MS), AmqpQueueAdmin(test_vhost))
        await env.bus()  # declares the topology the admin looks into
        yield env
        await env.aclose()


class TestMemoryBus(BusContract):
    @pytest.fixture
    async def env(self) -> AsyncIterator[Env]:
        broker = MemoryBroker()
        env = Env(lambda: MemoryBus(broker, TEST_RETRY_DELAYS_MS), broker)
        await env.bus()
        yield env
        await env.aclose()


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("customer.*", "customer.created", True),
        ("customer.*", "customer", False),
        ("customer.*", "customer.created.v2", False),
        ("sync.#", "sync", True),
        ("sync.#", "sync.stripe.customer", True),
        ("inbound.#", "outbound.stripe", False),
        ("#.deleted", "customer.deleted", True),
        ("a.*.c", "a.b.c", True),
    ],
)
def test_topic_matching(pattern: str, key: str, matches: bool) -> None:
    assert topic_matches(pattern, key) is matches
