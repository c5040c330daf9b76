"""What both Stripe benchmarks share: a fresh database and vhost, processes, the fake Stripe.

Needs MariaDB (root, no password) and RabbitMQ (guest) on loopback, like the test suite.
Everything lives in the namespace ``$TWOWAY_BENCH_NAMESPACE`` (database and vhost), made anew.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fake lives in tests/, the shared set-up in bench/

from bench._common import ensure_vhost, fresh_database  # noqa: E402

NAMESPACE = os.environ.get("TWOWAY_BENCH_NAMESPACE", "twoway_bench_sync")
DATABASE_URL = f"mysql://root:@127.0.0.1:3306/{NAMESPACE}"
AMQP_URL = f"amqp://guest:guest@127.0.0.1:5672/{NAMESPACE}"


def fresh_namespace() -> None:
    fresh_database(NAMESPACE)
    ensure_vhost(NAMESPACE)


def service_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "TWOWAY_DATABASE_URL": DATABASE_URL,
        "TWOWAY_AMQP_URL": AMQP_URL,
        "TWOWAY_LOG_LEVEL": "WARNING",
        # /metrics is not measured; a fixed port would clash with other runs on the machine.
        "TWOWAY_METRICS_PORT": "0",
        **extra,
    }


async def start(
    args: Sequence[str], env: dict[str, str], stdout: int = asyncio.subprocess.DEVNULL
) -> asyncio.subprocess.Process:
    """Start ``twoway <args>`` as a process of its own."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        *args,
        cwd=ROOT,
        env=env,
        stdout=stdout,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def api_key(env: dict[str, str]) -> str:
    """A new write key for the CRUD API, made with ``twoway apikey create``."""
    process = await start(["apikey", "create", "--scope", "write"], env, asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    assert process.returncode == 0, "twoway apikey create failed"
    return out.decode().strip()


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
