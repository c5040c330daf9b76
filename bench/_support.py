"""What both Stripe benchmarks share: a fresh database and vhost, processes, the fake Stripe.

Needs MariaDB (root, no password) and RabbitMQ (guest) on loopback, like the test suite.
Everything lives in the namespace ``$TWOWAY_BENCH_NAMESPACE`` (database and vhost), made anew.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pymysql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fake lives in tests/

NAMESPACE = os.environ.get("TWOWAY_BENCH_NAMESPACE", "twoway_bench_sync")
DATABASE_URL = f"mysql://root:@127.0.0.1:3306/{NAMESPACE}"
AMQP_URL = f"amqp://guest:guest@127.0.0.1:5672/{NAMESPACE}"


def fresh_namespace() -> None:
    conn = pymysql.connect(host="127.0.0.1", user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {NAMESPACE}")
            cur.execute(f"CREATE DATABASE {NAMESPACE} CHARACTER SET utf8mb4")
    finally:
        conn.close()
    # The vhost is kept and only emptied: fewer quorum-queue deletions. On RabbitMQ 3.10 many
    # deletions of quorum queues with at-least-once dead-lettering crashed the broker's
    # rabbit_fifo_dlx_sup; after that no such queue gets a leader (consume -> 541 INTERNAL_ERROR).
    for args in (
        ("add_vhost", NAMESPACE),
        ("set_permissions", "-p", NAMESPACE, "guest", ".*", ".*", ".*"),
    ):
        subprocess.run(["rabbitmqctl", "-q", *args], check=False, capture_output=True, timeout=60)
    asyncio.run(_purge_queues())


async def _purge_queues() -> None:
    import aio_pika
    import aiormq

    from shared.topology import UNROUTED_QUEUE, WORK_QUEUES

    connection = await aio_pika.connect(AMQP_URL)
    try:
        for work in WORK_QUEUES:
            for name in (work.name, work.dead_letter, UNROUTED_QUEUE):
                channel = await connection.channel()
                try:
                    queue = await channel.declare_queue(name, passive=True)
                    await queue.purge()
                    await channel.close()
                except aiormq.exceptions.ChannelNotFoundEntity:
                    pass  # not declared yet: the services declare it
    finally:
        await connection.close()


def service_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "TWOWAY_DATABASE_URL": DATABASE_URL,
        "TWOWAY_AMQP_URL": AMQP_URL,
        "TWOWAY_LOG_LEVEL": "WARNING",
        **extra,
    }


async def start(args: Sequence[str], env: dict[str, str]) -> asyncio.subprocess.Process:
    """Start ``twoway <args>`` as a process of its own."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


async def wait_for_requests(fake: Any, count: int, timeout: float) -> None:
    """Wait until the fake has seen ``count`` POSTs to /v1/customers (or ``timeout``)."""
    for _ in range(int(timeout / 0.1)):
        if len(fake.api_calls("POST")) >= count:
            return
        await asyncio.sleep(0.1)
