"""``AmqpBus`` against the real RabbitMQ: what the broker says reaches the caller, and a
publishing failure stays a publishing failure.

The bus contract (test_bus_contract.py) covers routing, ordering and the retry policy; these
cases cover the broker's edges: confirms, nacks, returns, alarms, heartbeats, bad set-ups.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import pytest

from services.runtime.amqp import AmqpBus
from services.runtime.amqp_publishing import blocked
from services.runtime.bus import BrokerBusy, BusError, Delivery, OutgoingMessage, UnroutableError
from shared.topology import COMMANDS_EXCHANGE, INBOUND_QUEUE
from tests.conftest import TEST_RETRY_DELAYS_MS, Broker, rabbitmqctl
from tests.waiting import eventually

pytestmark = [pytest.mark.rabbitmq]

# A classic queue that takes no message at all: every publish to it is nacked.
FULL_QUEUE = "twoway.test.always_full"
NO_SUCH_QUEUE = "twoway.test.no_such_queue"


def to_inbound(message_id: str, body: bytes = b"{}", **headers: object) -> OutgoingMessage:
    return OutgoingMessage(INBOUND_QUEUE.name, body, message_id, headers)


@pytest.fixture
async def full_queue(test_vhost: str) -> str:
    connection = await aio_pika.connect(test_vhost)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(
            FULL_QUEUE,
            durable=True,
            arguments={"x-max-length": 0, "x-overflow": "reject-publish"},
        )
    return FULL_QUEUE


@pytest.fixture
async def bus(test_vhost: str, broker: Broker) -> AsyncIterator[AmqpBus]:
    opened = AmqpBus(test_vhost, TEST_RETRY_DELAYS_MS)
    await opened.connect()
    try:
        yield opened
    finally:
        await opened.close()


def with_credentials(url: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port or 5672}"
    return urlunsplit(parts._replace(netloc=netloc))


async def test_a_confirmed_message_is_in_the_queue_with_its_properties(
    bus: AmqpBus, broker: Broker
) -> None:
    message = OutgoingMessage(
        "inbound.stripe.customer.upsert", b'{"id": 1}', "m-1", {"x-attempts": 2, "x-r": "why"}
    )
    assert await bus.publish(COMMANDS_EXCHANGE, [message]) == [None]
    [got] = await broker.drain(INBOUND_QUEUE.name)
    assert (got.body, got.message_id) == (b'{"id": 1}', "m-1")
    assert got.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert got.content_type == "application/json"
    # The quorum queue adds its own x-delivery-count.
    assert {**got.headers, "x-delivery-count": 0} == {
        "x-attempts": 2,
        "x-r": "why",
        "x-delivery-count": 0,
    }


async def test_a_body_larger_than_a_frame_arrives_whole(bus: AmqpBus, broker: Broker) -> None:
    body = bytes(range(256)) * 2048  # 512 KiB: several body frames
    assert await bus.publish("", [to_inbound("big", body)]) == [None]
    [got] = await broker.drain(INBOUND_QUEUE.name)
    assert got.body == body


async def test_a_message_the_broker_refuses_is_busy_not_unroutable(
    bus: AmqpBus, full_queue: str
) -> None:
    [outcome] = await bus.publish("", [OutgoingMessage(full_queue, b"{}", "m-1")])
    assert isinstance(outcome, BrokerBusy) and "refused" in str(outcome)
    # A nack concerns one message: the channel stays usable.
    assert bus.connected
    assert await bus.publish("", [to_inbound("after")]) == [None]


async def test_a_returned_message_is_told_apart_even_when_its_id_is_reused(
    bus: AmqpBus, broker: Broker
) -> None:
    # Retries and redeliveries reuse a message id: the return of the first "a" must not be
    # blamed on the second one (aiormq matches returns by message_id).
    results = await bus.publish(
        "",
        [
            OutgoingMessage(NO_SUCH_QUEUE, b"1", "a"),
            to_inbound("a", b"2"),
            OutgoingMessage(NO_SUCH_QUEUE, b"3", "b"),
            to_inbound("c", b"4"),
        ],
    )
    assert isinstance(results[0], UnroutableError) and "NO_ROUTE" in str(results[0])
    assert results[1] is None
    assert isinstance(results[2], UnroutableError)
    assert results[3] is None
    # The second "a" waited for the first one's outcome: "c" may have overtaken it.
    assert sorted(m.body for m in await broker.drain(INBOUND_QUEUE.name)) == [b"2", b"4"]


async def test_the_same_message_published_twice_at_once_is_sent_once(
    bus: AmqpBus, broker: Broker
) -> None:
    # A provider delivering one event twice at once: the second publish takes the first one's
    # outcome instead of waiting for it and sending a copy.
    results = await bus.publish("", [to_inbound("d", b"1"), to_inbound("d", b"1")])
    assert results == [None, None]
    assert [m.body for m in await broker.drain(INBOUND_QUEUE.name)] == [b"1"]


async def test_a_batch_with_a_message_amqp_cannot_carry_sends_nothing(
    bus: AmqpBus, broker: Broker
) -> None:
    batch = [to_inbound("fine"), to_inbound("bad", b"{}", thing=object()), to_inbound("later")]
    first, bad, later = await bus.publish("", batch)
    assert isinstance(bad, BusError) and "cannot be encoded" in str(bad)
    assert isinstance(first, BusError) and isinstance(later, BusError)
    assert await broker.drain(INBOUND_QUEUE.name, timeout=0.2) == []
    assert await bus.publish("", [to_inbound("next")]) == [None]


async def test_a_missing_exchange_fails_its_publish_and_publishing_recovers(
    bus: AmqpBus, broker: Broker
) -> None:
    [failed] = await bus.publish("twoway.test.no_such_exchange", [OutgoingMessage("x", b"{}", "m")])
    assert isinstance(failed, BusError)
    assert "404" in str(failed) or "NOT_FOUND" in str(failed)
    ok = OutgoingMessage("inbound.stripe.customer.upsert", b"{}", "m-after")
    assert await bus.publish(COMMANDS_EXCHANGE, [ok]) == [None]
    assert [m.message_id for m in await broker.drain(INBOUND_QUEUE.name)] == ["m-after"]


async def test_publishing_failures_leave_the_consumers_and_their_deliveries_alone(
    bus: AmqpBus, broker: Broker, full_queue: str
) -> None:
    held: list[Delivery] = []

    async def hold(delivery: Delivery) -> None:
        held.append(delivery)  # not acked yet: the consumer holds it

    consuming = asyncio.create_task(bus.consume(INBOUND_QUEUE, hold, prefetch=10))
    try:
        assert await bus.publish("", [to_inbound(f"held-{i}") for i in range(3)]) == [None] * 3
        await eventually(lambda: len(held) == 3, what="the consumer holding all three")

        # A nack, a channel the broker closes, then confirms that do not come in time.
        [nacked] = await bus.publish("", [OutgoingMessage(full_queue, b"{}", "n")])
        assert isinstance(nacked, BrokerBusy)
        [closed] = await bus.publish("twoway.test.no_such_exchange", [to_inbound("x")])
        assert isinstance(closed, BusError)
        assert await bus.publish("", [to_inbound("between")]) == [None]  # a new channel
        [late] = await bus.publish("", [to_inbound("late")], timeout=0)
        assert isinstance(late, BusError) and "not confirmed" in str(late)

        assert not consuming.done(), "the consumer was torn down with the publisher"
        acked = len(held)
        for delivery in held[:acked]:
            await delivery.ack()  # the channel they came on is still there
        assert await bus.publish("", [to_inbound("after")]) == [None]
        await eventually(lambda: any(d.message_id == "after" for d in held), what="after held")
        for delivery in held[acked:]:
            await delivery.ack()
        ids = [d.message_id for d in held]
        assert ids[:3] == ["held-0", "held-1", "held-2"]
        assert "after" in ids
        # Nothing the consumer held was redelivered.
        assert not any(d.redelivered for d in held)
        assert len([i for i in ids if i.startswith("held-")]) == 3
    finally:
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)


@pytest.mark.fault
async def test_while_the_broker_blocks_publishers_new_publishes_fail_at_once(
    bus: AmqpBus, broker: Broker
) -> None:
    # A memory alarm: the broker stops reading from publishing connections until it clears.
    # This disturbs the whole broker for a moment; the watermark is always put back.
    connection = bus._publisher._connection
    assert connection is not None

    async def is_blocked() -> bool:
        return blocked(connection)

    async def is_unblocked() -> bool:
        return not blocked(connection)

    original = rabbitmqctl("eval", "vm_memory_monitor:get_vm_memory_high_watermark().")
    try:
        rabbitmqctl("set_vm_memory_high_watermark", "0.0001")
        stuck = asyncio.create_task(bus.publish("", [to_inbound("a")], timeout=60))
        assert await eventually(is_blocked), "the broker never said it blocks publishing"
        [refused] = await bus.publish("", [to_inbound("b")])
        assert isinstance(refused, BrokerBusy) and "blocks publishing" in str(refused)
        assert not stuck.done(), "a message sent before the block waits for the broker"
    finally:
        rabbitmqctl("set_vm_memory_high_watermark", original)
    assert await stuck == [None]
    assert await eventually(is_unblocked), "the broker never said it takes messages again"
    assert await bus.publish("", [to_inbound("c")]) == [None]
    assert [m.message_id for m in await broker.drain(INBOUND_QUEUE.name)] == ["a", "c"]


async def test_heartbeats_keep_an_idle_connection_open(test_vhost: str, broker: Broker) -> None:
    # With a 1 s heartbeat the broker drops a client that stays silent for about 2 s.
    url = test_vhost + ("&" if "?" in test_vhost else "?") + "heartbeat=1"
    bus = AmqpBus(url, TEST_RETRY_DELAYS_MS)
    await bus.connect()
    try:
        first = bus._publisher._connection
        await asyncio.sleep(3.5)  # scenario: idle for longer than the broker would wait
        assert bus.connected and bus._publisher._connection is first
        assert await bus.publish("", [to_inbound("m")]) == [None]
        assert bus._publisher._connection is first, "it had to reconnect"
    finally:
        await bus.close()


async def test_wrong_credentials_fail_fast_with_a_bus_error(test_vhost: str) -> None:
    bus = AmqpBus(with_credentials(test_vhost, "not-the-password"), TEST_RETRY_DELAYS_MS)
    with pytest.raises(BusError) as caught:
        await bus.connect()
    assert "not-the-password" not in str(caught.value)
    assert not await bus.ping()


async def test_a_silent_server_fails_within_the_publish_deadline() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def accept_and_say_nothing(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    bus = AmqpBus(f"amqp://guest:guest@127.0.0.1:{port}/", TEST_RETRY_DELAYS_MS)
    try:
        with pytest.raises(BusError, match="TimeoutError"):
            await bus.publish("", [to_inbound("m")], timeout=0.3)
        assert accepted, "the bus never connected"
    finally:
        await bus.close()
        for writer in accepted:
            writer.close()
            await writer.wait_closed()
        server.close()
        await server.wait_closed()


async def test_a_closed_bus_opens_no_connection_again(bus: AmqpBus, broker: Broker) -> None:
    # A stopping worker closes its bus while a delivery's handler (a task of aio-pika's own,
    # cancelled only once the consuming channel closes) may still report its outcome: that
    # publish must fail (the delivery stays unacked, so it comes back), not open a connection
    # that nobody closes and whose tasks outlive the loop.
    async def ack(delivery: Delivery) -> None:
        await delivery.ack()

    await bus.close()
    with pytest.raises(BusError, match="closed"):
        await bus.publish("", [to_inbound("m")])
    with pytest.raises(BusError, match="closed"):
        await bus.consume(INBOUND_QUEUE, ack, prefetch=1)
    assert not bus.connected and bus._publisher._connection is None
    assert await broker.count(INBOUND_QUEUE.name) == 0
