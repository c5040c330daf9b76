"""The lean confirm publisher against the real RabbitMQ: what the broker says reaches the caller.

The bus contract (test_bus_contract.py) covers routing, ordering and unroutable messages through
``AmqpBus``; these cases cover the protocol edges the publisher handles on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import pytest

from services.runtime.amqp import AmqpBus
from services.runtime.amqp_publisher import ConfirmPublisher
from services.runtime.amqp_url import parse_url
from services.runtime.bus import BrokerBusy, BusError, OutgoingMessage, UnroutableError
from shared.topology import COMMANDS_EXCHANGE, INBOUND_QUEUE
from tests.conftest import TEST_RETRY_DELAYS_MS, Broker, eventually, rabbitmqctl

# A classic queue that takes no message at all: every publish to it is nacked.
FULL_QUEUE = "twoway.test.always_full"
PROPERTIES = {"message_id": "m-1", "content_type": "application/json", "delivery_mode": 2}


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
async def publisher(test_vhost: str, broker: Broker) -> AsyncIterator[ConfirmPublisher]:
    opened = await ConfirmPublisher.open(parse_url(test_vhost), timeout=5)
    try:
        yield opened
    finally:
        await opened.close()


def with_credentials(url: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port or 5672}"
    return urlunsplit(parts._replace(netloc=netloc))


async def test_a_confirmed_message_is_in_the_queue_with_its_properties(
    publisher: ConfirmPublisher, broker: Broker
) -> None:
    outcome = await publisher.publish(
        COMMANDS_EXCHANGE,
        "inbound.stripe.customer.upsert",
        b'{"id": 1}',
        {**PROPERTIES, "headers": {"x-attempts": 2, "x-reason": "because"}},
    )
    assert outcome is None
    [message] = await broker.drain(INBOUND_QUEUE.name)
    assert message.body == b'{"id": 1}'
    assert message.message_id == "m-1"
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    # The quorum queue adds its own x-delivery-count.
    assert {**message.headers, "x-delivery-count": 0} == {
        "x-attempts": 2,
        "x-reason": "because",
        "x-delivery-count": 0,
    }


async def test_a_body_larger_than_a_frame_arrives_whole(
    publisher: ConfirmPublisher, broker: Broker
) -> None:
    body = bytes(range(256)) * 2048  # 512 KiB: several body frames
    outcome = await publisher.publish("", INBOUND_QUEUE.name, body, PROPERTIES)
    assert outcome is None
    [message] = await broker.drain(INBOUND_QUEUE.name)
    assert message.body == body


async def test_a_message_the_broker_refuses_is_an_error_not_unroutable(
    publisher: ConfirmPublisher, full_queue: str
) -> None:
    outcome = await publisher.publish("", full_queue, b"{}", PROPERTIES)
    assert isinstance(outcome, BrokerBusy) and "refused" in str(outcome)
    # A nack concerns one message: the channel stays usable.
    assert publisher.is_open


async def test_a_returned_message_among_routable_ones_is_told_apart(
    publisher: ConfirmPublisher, broker: Broker
) -> None:
    futures = [
        publisher.publish("", INBOUND_QUEUE.name, b"1", {**PROPERTIES, "message_id": "a"}),
        publisher.publish("", "twoway.test.no_such_queue", b"2", {**PROPERTIES, "message_id": "b"}),
        publisher.publish("", INBOUND_QUEUE.name, b"3", {**PROPERTIES, "message_id": "c"}),
    ]
    first, second, third = [await f for f in futures]
    assert first is None and third is None
    assert isinstance(second, UnroutableError)
    assert [m.message_id for m in await broker.drain(INBOUND_QUEUE.name)] == ["a", "c"]


@pytest.mark.fault
async def test_while_the_broker_blocks_publishers_new_publishes_fail_at_once(
    publisher: ConfirmPublisher, broker: Broker
) -> None:
    # A memory alarm: the broker stops reading from publishing connections until it clears.
    # This disturbs the whole broker for a moment; the watermark is always put back.
    async def blocked() -> bool:
        return publisher.blocked is not None

    async def unblocked() -> bool:
        return publisher.blocked is None

    original = rabbitmqctl("eval", "vm_memory_monitor:get_vm_memory_high_watermark().")
    try:
        rabbitmqctl("set_vm_memory_high_watermark", "0.0001")
        stuck = publisher.publish("", INBOUND_QUEUE.name, b"1", {**PROPERTIES, "message_id": "a"})
        assert await eventually(blocked), "the broker never said it blocks publishing"
        refused = await publisher.publish("", INBOUND_QUEUE.name, b"2", PROPERTIES)
        assert isinstance(refused, BrokerBusy) and "blocks publishing" in str(refused)
        assert not stuck.done(), "a message sent before the block waits for the broker"
    finally:
        rabbitmqctl("set_vm_memory_high_watermark", original)
    assert await stuck is None
    assert await eventually(unblocked), "the broker never said it takes messages again"
    ok = {**PROPERTIES, "message_id": "c"}
    assert await publisher.publish("", INBOUND_QUEUE.name, b"3", ok) is None
    assert [m.message_id for m in await broker.drain(INBOUND_QUEUE.name)] == ["a", "c"]


async def test_a_missing_exchange_fails_the_publish_and_the_bus_recovers(
    test_vhost: str, broker: Broker
) -> None:
    bus = AmqpBus(test_vhost, TEST_RETRY_DELAYS_MS)
    await bus.connect()
    try:
        message = OutgoingMessage("x", b"{}", "m-missing")
        [failed] = await bus.publish("twoway.test.no_such_exchange", [message])
        assert isinstance(failed, BusError)
        assert "404" in str(failed) or "NOT_FOUND" in str(failed)
        ok = OutgoingMessage("inbound.stripe.customer.upsert", b"{}", "m-after")
        assert await bus.publish(COMMANDS_EXCHANGE, [ok]) == [None]
        assert [m.message_id for m in await broker.drain(INBOUND_QUEUE.name)] == ["m-after"]
    finally:
        await bus.close()


async def test_heartbeats_keep_an_idle_connection_open(test_vhost: str, broker: Broker) -> None:
    # With a 1 s heartbeat the broker drops a client that stays silent for about 2 s.
    url = test_vhost + ("&" if "?" in test_vhost else "?") + "heartbeat=1"
    publisher = await ConfirmPublisher.open(parse_url(url), timeout=5)
    try:
        await asyncio.sleep(3.5)
        assert publisher.is_open
        assert await publisher.publish("", INBOUND_QUEUE.name, b"{}", PROPERTIES) is None
    finally:
        await publisher.close()


async def test_wrong_credentials_fail_fast_with_a_bus_error(test_vhost: str) -> None:
    endpoint = parse_url(with_credentials(test_vhost, "not-the-password"))
    with pytest.raises(BusError) as caught:
        await ConfirmPublisher.open(endpoint, timeout=5)
    assert "not-the-password" not in str(caught.value)


async def test_a_silent_server_fails_within_the_timeout() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def accept_and_say_nothing(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(BusError, match="TimeoutError"):
            await ConfirmPublisher.open(parse_url(f"amqp://guest:guest@127.0.0.1:{port}/"), 0.3)
        assert accepted, "the publisher never connected"
    finally:
        for writer in accepted:
            writer.close()
            await writer.wait_closed()
        server.close()
        await server.wait_closed()


def test_urls_are_read_the_way_aio_pika_reads_them() -> None:
    default = parse_url("amqp://guest:guest@127.0.0.1:5672/")
    assert (default.virtual_host, default.port, default.heartbeat_s) == ("/", 5672, 60)
    named = parse_url("amqps://u%40x:p%2Fw@broker.example/tw%2Fprod?heartbeat=5")
    assert (named.username, named.password) == ("u@x", "p/w")
    assert (named.virtual_host, named.port, named.tls, named.heartbeat_s) == (
        "tw/prod",
        5671,
        True,
        5,
    )
    assert parse_url("amqp://h").virtual_host == "/"
    assert "p/w" not in repr(named), "the password must never reach a log line"
    with pytest.raises(ValueError):
        parse_url("http://h/")
