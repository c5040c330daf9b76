"""Shared set-up for benchmarks: a scratch MariaDB database and a RabbitMQ vhost, both emptied.

Needs MariaDB (root, no password) and RabbitMQ (guest) on loopback, like the test suite.
Database and vhost are named ``$TWOWAY_BENCH_NAMESPACE`` (default ``twoway_bench_t2``, for
the broker topology's revision).
"""

from __future__ import annotations

import asyncio
import os
import subprocess

import pymysql

# Benchmarks of other worktrees may run side by side: each picks its own namespace.
DB_NAME = os.environ.get("TWOWAY_BENCH_NAMESPACE", "twoway_bench_t2")
DATABASE_URL = f"mysql://root:@127.0.0.1:3306/{DB_NAME}"
VHOST = DB_NAME
AMQP_URL = f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"


def fresh_database(name: str = DB_NAME) -> str:
    conn = pymysql.connect(host="127.0.0.1", user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
            cur.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    finally:
        conn.close()
    return f"mysql://root:@127.0.0.1:3306/{name}"


def ensure_vhost(name: str = VHOST) -> str:
    """The vhost, with every twoway queue in it emptied.

    It is kept between runs, never deleted: on RabbitMQ 3.10 many deletions of quorum queues
    with at-least-once dead-lettering crashed the broker's ``rabbit_fifo_dlx_sup``, after which
    no such queue got a leader (541 INTERNAL_ERROR). Leftovers of an earlier benchmark (say,
    thousands of inbound commands) would otherwise load the next one.
    """
    for args in (
        ["add_vhost", name],
        ["set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
    ):
        subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, check=False, timeout=60)
    url = f"amqp://guest:guest@127.0.0.1:5672/{name}"
    asyncio.run(purge_queues(url))
    return url


async def purge_queues(url: str) -> None:
    import aio_pika
    import aiormq

    from services.runtime.providers import all_work_queues
    from shared.topology import UNROUTED_QUEUE

    connection = await aio_pika.connect(url)
    try:
        queues = [q for w in all_work_queues() for q in (w.name, w.dead_letter)]
        for name in [UNROUTED_QUEUE, *queues]:
            channel = await connection.channel()
            try:
                queue = await channel.declare_queue(name, passive=True)
                await queue.purge()
                await channel.close()
            except aiormq.exceptions.ChannelNotFoundEntity:
                pass  # not declared yet: the services declare it
    finally:
        await connection.close()
