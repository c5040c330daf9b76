"""Exit 0 when RabbitMQ serves quorum queues, 1 otherwise (CI then restarts the broker app).

On RabbitMQ 3.10 a burst of quorum-queue deletions can crash the broker's dead-letter
supervisor; the node stays up and accepts connections, but no quorum queue gets a leader
(541 INTERNAL_ERROR). A port check does not see that; a round trip through one queue does.
"""

from __future__ import annotations

import asyncio
import sys

import aio_pika

QUEUE = "twoway.ci.health"


async def round_trip() -> None:
    connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/", timeout=10)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(
            QUEUE,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
                "x-dead-letter-exchange": "",
            },
        )
        await queue.purge()
        await channel.default_exchange.publish(aio_pika.Message(b"ping"), routing_key=QUEUE)
        for _ in range(50):
            message = await queue.get(no_ack=True, fail=False)
            if message is not None:
                return
            await asyncio.sleep(0.1)
        raise RuntimeError("the message never came back")


def main() -> int:
    try:
        asyncio.run(asyncio.wait_for(round_trip(), 30))
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        print(f"broker unhealthy: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
