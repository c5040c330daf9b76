"""``twoway dlq``: what an operator sees and does with dead letters, end to end."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

import pytest

from services.cli import build_parser, main
from services.ops import dlq_command
from services.runtime.amqp import AmqpBus
from services.runtime.amqp_admin import AmqpQueueAdmin
from services.runtime.bus import Bus, Delivery, OutgoingMessage
from services.runtime.dlq import fresh_headers, summarize
from services.runtime.errors import Permanent
from services.runtime.memory import MemoryBroker, MemoryBus
from services.runtime.queues import QueueAdmin, QueuedMessage
from services.runtime.worker import DeadLetter, Settlement, Worker
from services.stripe_sync.names import STRIPE_SYNC_QUEUE
from shared.topology import EVENTS_EXCHANGE, HEADER_ATTEMPTS, HEADER_REASON, INBOUND_QUEUE
from tests.conftest import TEST_RETRY_DELAYS_MS, Broker
from tests.waiting import eventually

WORK = STRIPE_SYNC_QUEUE


def never_asked(prompt: str) -> str:
    raise AssertionError(f"asked {prompt!r}")


@dataclass
class Ops:
    """A broker to run ``dlq`` against, and a way to run it."""

    admin: QueueAdmin
    make_bus: Callable[[], Bus]
    buses: list[Bus] = field(default_factory=list)

    async def bus(self) -> Bus:
        bus = self.make_bus()
        await bus.connect()
        self.buses.append(bus)
        return bus

    async def dlq(self, *argv: str, answer: Callable[[str], str] = never_asked) -> tuple[int, str]:
        """Run ``twoway dlq <argv>``; return its exit status and output."""
        args = build_parser().parse_args(["dlq", *argv])
        out = io.StringIO()
        # One bus for every command of a test: a connection (and the topology declared) per
        # command would pile up 50 of each in the browsing test, slow on a busy broker.
        bus = self.buses[0] if self.buses else await self.bus()
        status = await dlq_command.run(args, self.admin, bus, out, answer)
        return status, out.getvalue()


class DlqCases:
    """Subclasses provide the ``ops`` fixture."""

    @pytest.fixture
    async def ops(self) -> AsyncIterator[Ops]:
        raise NotImplementedError
        yield

    async def test_a_dead_letter_is_listed_shown_replayed_and_consumed_again(
        self, ops: Ops
    ) -> None:
        broken = True
        handled: list[Delivery] = []
        actions: list[Settlement] = []

        async def sync(delivery: Delivery) -> None:
            if broken:
                raise Permanent("email is invalid", reason="validation")
            handled.append(delivery)

        worker = Worker(await ops.bus(), WORK, sync, TEST_RETRY_DELAYS_MS, on_action=actions.append)
        task = asyncio.create_task(worker.run())
        try:
            events = [
                OutgoingMessage("customer.updated", b'{"n": 1}', "e1"),
                OutgoingMessage("customer.created", b'{"n": 2}', "e2"),
            ]
            await (await ops.bus()).publish(EVENTS_EXCHANGE, events)
            await eventually(lambda: len(actions) == 2)
            assert all(isinstance(a, DeadLetter) for a in actions)

            status, listed = await ops.dlq("list")
            assert status == 0
            lines = listed.splitlines()
            assert lines[0].startswith("MESSAGE ID") and lines[0].endswith("LAST ERROR")
            assert lines[1].split()[:4] == ["e1", "validation", "1", "customer.updated"]
            assert "Permanent: email is invalid" in lines[1]
            assert lines[2].split()[:4] == ["e2", "validation", "1", "customer.created"]
            assert lines[-1] == f"2 dead letter(s) in {WORK.dead_letter}"

            status, shown = await ops.dlq("show", "e2")
            assert status == 0
            assert f'"{HEADER_REASON}": "validation"' in shown and '"n": 2' in shown

            broken = False
            status, output = await ops.dlq("replay", "e1")
            assert status == 0 and f"replayed e1 -> {WORK.name}" in output
            await eventually(lambda: len(handled) == 1)
            assert handled[0].message_id == "e1" and handled[0].body == b'{"n": 1}'
            assert HEADER_ATTEMPTS not in handled[0].headers
            assert (await ops.dlq("list"))[1].splitlines()[1].split()[0] == "e2"

            status, output = await ops.dlq("replay", "--all")
            assert status == 0 and "1 message(s) replayed" in output
            await eventually(lambda: len(handled) == 2)
            assert handled[1].message_id == "e2"
            assert await ops.admin.count(WORK.dead_letter) == 0
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def test_replaying_an_unknown_id_says_so_and_fails(self, ops: Ops) -> None:
        await self._dead_letters(ops, ["kept"])
        status, output = await ops.dlq("replay", "nope")
        assert status == 1 and "no dead letter 'nope'" in output
        status, output = await ops.dlq("show", "nope")
        assert status == 1
        assert await ops.admin.count(WORK.dead_letter) == 1

    async def test_purge_asks_first_and_keeps_everything_on_no(self, ops: Ops) -> None:
        await self._dead_letters(ops, ["a", "b"])
        prompts: list[str] = []

        def no(prompt: str) -> str:
            prompts.append(prompt)
            return "n"

        status, output = await ops.dlq("purge", answer=no)
        assert status == 1 and "nothing purged" in output
        assert "2 dead letter(s)" in prompts[0]
        assert await ops.admin.count(WORK.dead_letter) == 2

        status, output = await ops.dlq("purge", answer=lambda prompt: "y")
        assert status == 0 and f"purged 2 message(s) from {WORK.dead_letter}" in output
        assert await ops.admin.count(WORK.dead_letter) == 0

    async def test_purge_yes_skips_the_question_and_other_queues_are_left_alone(
        self, ops: Ops
    ) -> None:
        await self._dead_letters(ops, ["a"])
        await self._dead_letters(ops, ["inbound-1"], INBOUND_QUEUE.dead_letter)
        status, _ = await ops.dlq("purge", "--yes", "--queue", INBOUND_QUEUE.name)
        assert status == 0
        assert await ops.admin.count(INBOUND_QUEUE.dead_letter) == 0
        assert await ops.admin.count(WORK.dead_letter) == 1

    async def _dead_letters(
        self, ops: Ops, ids: Sequence[str], queue: str = WORK.dead_letter
    ) -> None:
        messages = [OutgoingMessage(queue, b"{}", i, {HEADER_REASON: "test"}) for i in ids]
        assert await (await ops.bus()).publish("", messages) == [None] * len(ids)


@pytest.mark.rabbitmq
class TestDlqOnRabbitMQ(DlqCases):
    @pytest.fixture
    async def ops(self, broker: Broker, test_vhost: str) -> AsyncIterator[Ops]:
        ops = Ops(AmqpQueueAdmin(test_vhost), lambda: AmqpBus(test_vhost, TEST_RETRY_DELAYS_MS))
        await ops.bus()
        yield ops
        for bus in ops.buses:
            await bus.close()
        await ops.admin.close()

    async def test_browsing_never_uses_up_a_delivery_limit(self, ops: Ops) -> None:
        # Browsing takes messages without ack and hands them back. A quorum queue counts every
        # hand-back as a delivery, and RabbitMQ 4 drops a quorum queue's message after 20 by
        # default: the dead-letter queue is a classic queue, which counts none.
        await self._dead_letters(ops, ["e1", "e2"])
        for _ in range(25):
            status, listed = await ops.dlq("list")
            assert status == 0 and "2 dead letter(s)" in listed
            status, _ = await ops.dlq("show", "e2")
            assert status == 0
        kept = await ops.admin.peek(WORK.dead_letter)
        assert [m.message_id for m in kept] == ["e1", "e2"]
        assert all(not m.headers.get("x-delivery-count") for m in kept), kept


class TestDlqOnMemoryBus(DlqCases):
    @pytest.fixture
    async def ops(self) -> AsyncIterator[Ops]:
        broker = MemoryBroker()
        ops = Ops(broker, lambda: MemoryBus(broker, TEST_RETRY_DELAYS_MS))
        await ops.bus()
        yield ops
        for bus in ops.buses:
            await bus.close()


@pytest.mark.rabbitmq
def test_the_cli_reads_the_broker_url_from_the_environment(
    test_vhost: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    message_id = f"cli-{uuid.uuid4()}"

    async def dead_letter() -> None:
        bus = AmqpBus(test_vhost, TEST_RETRY_DELAYS_MS)
        await bus.connect()
        message = OutgoingMessage(INBOUND_QUEUE.dead_letter, b'{"k": 1}', message_id)
        assert await bus.publish("", [message]) == [None]
        await bus.close()

    asyncio.run(dead_letter())
    monkeypatch.setenv("TWOWAY_AMQP_URL", test_vhost)
    monkeypatch.setenv("TWOWAY_RETRY_DELAYS_MS", "[200, 500, 1000]")
    assert main(["dlq", "show", message_id, "--queue", INBOUND_QUEUE.name]) == 0
    assert f"message id:  {message_id}" in capsys.readouterr().out
    assert main(["dlq", "purge", "--yes", "--queue", INBOUND_QUEUE.name]) == 0
    assert "purged" in capsys.readouterr().out


def test_a_message_the_broker_dead_lettered_itself_is_summarized_from_x_death() -> None:
    # A quorum queue's delivery limit dead-letters without the worker's headers.
    message = QueuedMessage(
        message_id="m1",
        routing_key=WORK.dead_letter,
        body=b"{}",
        headers={
            "x-first-death-reason": "delivery_limit",
            "x-death": [{"reason": "delivery_limit", "routing-keys": ["customer.updated"]}],
        },
    )
    summary = summarize(message)
    assert (summary.reason, summary.attempts, summary.routing_key) == (
        "delivery_limit",
        None,
        "customer.updated",
    )
    assert fresh_headers({**message.headers, HEADER_ATTEMPTS: 3, "x-trace": "t"}) == {
        "x-trace": "t"
    }
