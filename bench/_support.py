"""What both Stripe benchmarks share: a fresh database and vhost, processes, the fake Stripe.

Needs MariaDB (root, no password) and RabbitMQ (guest) on loopback, like the test suite.
Everything lives in the namespace ``$TWOWAY_BENCH_NAMESPACE`` (database and vhost), made anew.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fake lives in tests/, the shared set-up in bench/

from bench._common import ensure_vhost, fresh_database  # noqa: E402

Sent = dict[str, tuple[float, float]]

NAMESPACE = os.environ.get("TWOWAY_BENCH_NAMESPACE", "twoway_bench_sync_t2")
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
    args: Sequence[str],
    env: dict[str, str],
    module: str = "services.cli",
    stdout: int | None = None,
) -> asyncio.subprocess.Process:
    """Start ``twoway <args>`` (or ``python -m <module> <args>``) as a process of its own.

    Its logs go nowhere, or with ``$TWOWAY_BENCH_LOG_DIR`` set, to a file there per process;
    ``stdout`` (e.g. a pipe) takes its standard output instead.
    """
    logs = asyncio.subprocess.DEVNULL
    if log_dir := os.environ.get("TWOWAY_BENCH_LOG_DIR"):
        global _started
        _started += 1
        name = f"{_started:02d}-{module.rsplit('.', 1)[-1]}-{'-'.join(args[:1])}.log"
        logs = os.open(Path(log_dir) / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            *args,
            cwd=ROOT,
            env=env,
            stdout=logs if stdout is None else stdout,
            stderr=logs,
        )
    finally:
        if logs != asyncio.subprocess.DEVNULL:
            os.close(logs)  # the child has its own


_started = 0


async def api_key(env: dict[str, str]) -> str:
    """A new write key for the CRUD API, made with ``twoway apikey create``."""
    process = await start(
        ["apikey", "create", "--scope", "write"], env, stdout=asyncio.subprocess.PIPE
    )
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def scrape(port: int) -> str:
    """A process's ``/metrics`` (empty if it does not answer)."""
    import httpx

    try:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(f"http://127.0.0.1:{port}/metrics")
            return response.text
    except httpx.HTTPError:
        return ""


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """The most resident memory a running process has had (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


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


async def wait_ready(client: Any) -> None:
    """Wait until the CRUD service at ``client`` (an httpx.AsyncClient) answers /readyz."""
    import httpx

    for _ in range(200):
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the CRUD service did not become ready")


async def live_writes(client: Any, rate: float, count: int) -> tuple[Sent, float]:
    """``POST /customers`` at ``rate`` per second, open loop (one task per write, on schedule).

    Returns each customer's (request sent, response received) times and the rate achieved.
    """
    sent: Sent = {}

    async def write(i: int) -> None:
        before = time.monotonic()
        response = await client.post(
            "/customers", json={"name": f"C {i}", "email": f"c{i}@example.com"}
        )
        after = time.monotonic()
        assert response.status_code == 201, response.text
        sent[response.json()["id"]] = (before, after)

    t0 = time.monotonic()
    tasks = []
    for i in range(count):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(write(i)))
    await asyncio.gather(*tasks)
    return sent, count / (time.monotonic() - t0)


def print_latency(fake: Any, sent: Sent) -> list[float]:
    """Commit -> Stripe for each write: a lower bound (response -> arrival at the fake) and an
    upper one (request -> arrival); prints p50, p99 and max of both; returns the upper ones."""
    arrivals = {
        c.form.get("metadata[twoway_id]"): c.at for c in fake.api_calls("POST") if c.status == 200
    }
    lower = [arrivals[i] - after for i, (_, after) in sent.items() if i in arrivals]
    upper = [arrivals[i] - before for i, (before, _) in sent.items() if i in arrivals]
    print(f"writes: {len(sent)}; reached Stripe: {len(lower)}")
    for name, values in (("response -> Stripe", lower), ("request -> Stripe", upper)):
        ms = [v * 1000 for v in values]
        print(
            f"{name:>20}: p50 {percentile(ms, 50):6.1f} ms   p99 {percentile(ms, 99):6.1f} ms"
            f"   max {max(ms):6.1f} ms"
        )
    return upper
