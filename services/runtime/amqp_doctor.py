"""What differs between the live broker and the topology this release declares.

A queue's type and arguments cannot change once declared: declaring it again with others is
refused (PRECONDITION_FAILED) and the service cannot start. Each queue is first looked up
(a passive declare, which creates nothing), then declared as this release declares it, on a
channel of its own: an equal declaration changes nothing, a different one is refused with the
server's account of the difference, which is reported with the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aio_pika
import aiormq

from services.runtime.amqp_topology import planned_queues
from shared.topology import WorkQueue


@dataclass(frozen=True)
class Difference:
    queue: str
    problem: str
    fix: str


async def differences(
    url: str, retry_delays_ms: Sequence[int], queues: Sequence[WorkQueue]
) -> list[Difference]:
    vhost = aio_pika.connection.make_url(url).path.lstrip("/") or "/"
    found: list[Difference] = []
    connection = await aio_pika.connect(url)
    try:
        for name, arguments in planned_queues(retry_delays_ms, queues):
            channel = await connection.channel()
            try:
                await channel.declare_queue(name, passive=True)
            except aiormq.exceptions.ChannelNotFoundEntity:
                continue  # missing: the services declare it as this release wants it
            channel = await connection.channel()
            try:
                await channel.declare_queue(name, durable=True, arguments=arguments)
            except aiormq.exceptions.ChannelPreconditionFailed as exc:
                found.append(_difference(name, exc, vhost))
                continue
            await channel.close()
    finally:
        await connection.close()
    return found


def _difference(name: str, exc: BaseException, vhost: str) -> Difference:
    text = " ".join(str(a) for a in exc.args).removeprefix("PRECONDITION_FAILED - ")
    how = (
        "empty it with the previous release (`twoway dlq replay --all` or `purge`)"
        if name.endswith(".dlq")
        else "stop its publishers and let its consumers (the previous release) drain it"
    )
    return Difference(
        queue=name,
        problem=text,
        fix=f"{how}, then `rabbitmqctl delete_queue -p {vhost} {name}`; "
        "the services declare it anew at start",
    )
