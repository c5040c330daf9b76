"""Every figure of twoway's performance table, with its peers, in one run (``bench/all``).

    bench/all [--seconds 10] [--rounds 2] [--skip api gateway latency]

Sections, each on a fresh database and vhost (``$TWOWAY_BENCH_NAMESPACE``, default
``twoway_bench_t2``) and each side measured in turn on the same machine, so the ratios compare
like with like (absolute figures depend on the machine and on what else runs on it):

- ``POST /customers`` with wrk (2 threads, 16 connections), ``--rounds`` interleaved rounds,
  the best of each shown: the default ``twoway crud`` (API, relay and consumers in one process)
  and ``--role api`` against the minimal async app (bench/baseline_app.py); ``--role api`` with
  ``twoway crud --role relay`` as a process of its own (compose's shape) against the seed-style
  app (bench/seed_app.py: FastAPI, synchronous SQLAlchemy, pika inline).
- The webhook gateway with 4,000 distinct signed ``customer.updated`` deliveries (wrk, 2
  threads, 16 and 64 connections) while ``twoway crud --role consumers`` applies them, against
  the seed-style webhook (bench/webhook_peer.py); the gateway alone (nothing consuming) too.
- Commit -> request at the fake Stripe at 50 writes/s (bench/stripe_latency.py) with
  ``STRIPE_RATE_LIMIT`` 25, 100 and 10,000 (at 25, 20 writes/s: 50 would outrun the budget).
- The peak RSS of every twoway process under those loads.

Needs wrk, MariaDB and RabbitMQ on loopback, and ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import httpx
import pymysql

from bench._common import DB_NAME, ensure_vhost, fresh_database
from bench._support import free_port, peak_rss_mb
from bench.webhook_gateway import SECRET, signed_requests

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
DB_URL = f"mysql://root:@127.0.0.1:3306/{DB_NAME}"
DELIVERIES = 4000


@dataclass
class Row:
    measure: str
    twoway: str
    peer: str = "-"
    ratio: float | None = None
    goal: str = ""

    def met(self) -> str:
        if self.ratio is None or not self.goal.startswith(">="):
            return ""
        return "yes" if self.ratio >= float(self.goal.split()[1]) else "NO"


@dataclass
class Run:
    rate: float
    p99_ms: float
    rss_mb: dict[str, float]


def env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "TWOWAY_DATABASE_URL": DB_URL,
        "TWOWAY_AMQP_URL": f"amqp://guest:guest@127.0.0.1:5672/{DB_NAME}",
        "TWOWAY_LOG_LEVEL": "WARNING",
        "TWOWAY_METRICS_PORT": "0",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


@contextmanager
def processes(
    commands: dict[str, list[str]], environment: dict[str, str]
) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """Start each command; on exit terminate them all (kill after 20 s)."""
    started = {
        name: subprocess.Popen(
            cmd, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for name, cmd in commands.items()
    }
    try:
        yield started
    finally:
        for proc in started.values():
            proc.terminate()
        for proc in started.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not come up")


def wrk(url: str, script: Path, seconds: int, connections: int, extra: dict[str, str]) -> Run:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        env={**os.environ, **extra},
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    assert p99 is not None, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise SystemExit(f"{url}: {bad.group(1)} responses were not 2xx:\n{out}")
    return Run(rate, float(p99.group(1)) * scale, {})


def sql(*statements: str) -> None:
    conn = pymysql.connect(host="127.0.0.1", user="root", password="", database=DB_NAME)
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
        conn.commit()
    finally:
        conn.close()


# --- POST /customers ------------------------------------------------------------------------
def api_section(seconds: int, rounds: int) -> tuple[list[Row], dict[str, float]]:
    fresh_database()
    amqp_url = ensure_vhost()
    e = env()
    subprocess.run(
        [PY, "-m", "services.cli", "migrate"], cwd=ROOT, env=e, check=True, capture_output=True
    )
    key = subprocess.run(
        [PY, "-m", "services.cli", "apikey", "create", "--scope", "write", "--name", "bench"],
        cwd=ROOT,
        env=e,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    port = str(free_port())
    crud = [PY, "-m", "services.cli", "crud", "--port", port]
    setups: dict[str, dict[str, list[str]]] = {
        "minimal": {"app": [PY, "-m", "bench.baseline_app", DB_URL, port]},
        "crud": {"crud": crud},
        "api": {"crud --role api": [*crud, "--role", "api"]},
        "api+relay": {
            "crud --role api": [*crud, "--role", "api"],
            "crud --role relay": [PY, "-m", "services.cli", "crud", "--role", "relay"],
        },
        "seed": {"app": [PY, "-m", "bench.seed_app", DB_NAME, amqp_url, port]},
    }
    best: dict[str, float] = dict.fromkeys(setups, 0.0)
    runs: dict[str, list[float]] = {name: [] for name in setups}
    rss: dict[str, float] = {}
    backlog = 0
    url = f"http://127.0.0.1:{port}"
    script = ROOT / "bench" / "post_customers.lua"
    for round_ in range(rounds):
        for name, commands in setups.items():
            sql(
                "DELETE FROM outbox", "DELETE FROM customers", "DROP TABLE IF EXISTS seed_customers"
            )
            with processes(commands, e) as started:

                def ready() -> bool:
                    body = {"name": "w", "email": f"w{time.monotonic_ns()}@x.io"}
                    answer = httpx.post(
                        f"{url}/customers",
                        json=body,
                        timeout=2,
                        headers={"Authorization": f"Bearer {key}"},
                    )
                    return answer.status_code == 201

                wait_until(ready, name)
                run = wrk(
                    url, script, seconds, 16, {"RUN": f"{name}{round_}", "TWOWAY_API_KEY": key}
                )
                for label, proc in started.items():
                    if label.startswith("crud"):
                        rss[label] = max(rss.get(label, 0.0), peak_rss_mb(proc.pid))
                if name == "api+relay":
                    time.sleep(1)
                    backlog = max(backlog, unpublished())
            runs[name].append(run.rate)
            best[name] = max(best[name], run.rate)
            print(
                f"  POST /customers {name:10} round {round_ + 1}: {run.rate:7.0f} req/s", flush=True
            )

    def ratio(a: str, b: str) -> float:
        return best[a] / best[b]

    rows = [
        Row(
            "POST /customers: default `twoway crud` (API + relay + consumers) / minimal async",
            f"{best['crud']:.0f}",
            f"{best['minimal']:.0f}",
            ratio("crud", "minimal"),
            ">= 1.0",
        ),
        Row(
            "POST /customers: `twoway crud --role api` / minimal async",
            f"{best['api']:.0f}",
            f"{best['minimal']:.0f}",
            ratio("api", "minimal"),
            ">= 1.2",
        ),
        Row(
            "POST /customers: `--role api`, relay in its own process / seed-style "
            f"(relay backlog 1 s after: {backlog} rows)",
            f"{best['api+relay']:.0f}",
            f"{best['seed']:.0f}",
            ratio("api+relay", "seed"),
            ">= 5",
        ),
    ]
    return rows, rss


def unpublished() -> int:
    conn = pymysql.connect(host="127.0.0.1", user="root", password="", database=DB_NAME)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
            (count,) = cur.fetchone()  # type: ignore[misc]
            return int(count)
    finally:
        conn.close()


# --- webhooks -------------------------------------------------------------------------------
async def queued(amqp_url: str, queue: str) -> int:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


def gateway_section(seconds: int) -> tuple[list[Row], dict[str, float]]:
    from bench._common import purge_queues
    from shared.topology import INBOUND_QUEUE

    fresh_database()
    amqp_url = ensure_vhost()
    e = env(STRIPE_WEBHOOK_SECRET=SECRET, TWOWAY_STRIPE_MODE="test", PEER_DATABASE=DB_NAME)
    subprocess.run(
        [PY, "-m", "services.cli", "migrate"], cwd=ROOT, env=e, check=True, capture_output=True
    )
    gateway_port, peer_port = free_port(), free_port()
    servers = {
        "gateway": [PY, "-m", "services.cli", "webhook-gateway", "--port", str(gateway_port)],
        "peer": [PY, "-m", "bench.webhook_gateway", "--serve", "peer", "--port", str(peer_port)],
    }
    consumers = {"crud --role consumers": [PY, "-m", "services.cli", "crud", "--role", "consumers"]}
    connections = (16, 64)
    results: dict[tuple[str, int], Run] = {}
    rss: dict[str, float] = {}
    left = 0
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "deliveries.lua"
        signed_requests(script, DELIVERIES)

        def measure(kind: str, port: int) -> None:
            url = f"http://127.0.0.1:{port}/webhooks/stripe"
            wait_until(
                lambda: httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200,
                kind,
            )
            for c in connections:
                wrk(url, script, 2, c, {})  # warm-up
                results[kind, c] = wrk(url, script, seconds, c, {})
                print(
                    f"  webhooks {kind:16} {c:2} connections: "
                    f"{results[kind, c].rate:7.0f}/s p99 {results[kind, c].p99_ms:6.1f} ms",
                    flush=True,
                )

        with processes({"gateway": servers["gateway"]}, e) as gateway:
            with processes(consumers, e) as consuming:
                time.sleep(2)  # the consumer attaches to its queue
                measure("gateway+crud", gateway_port)
                rss["crud --role consumers"] = peak_rss_mb(consuming["crud --role consumers"].pid)
                left = asyncio.run(queued(amqp_url, INBOUND_QUEUE.name))
            asyncio.run(purge_queues(amqp_url))
            measure("gateway alone", gateway_port)
            rss["webhook-gateway"] = peak_rss_mb(gateway["gateway"].pid)
        asyncio.run(purge_queues(amqp_url))
        with processes({"peer": servers["peer"]}, e):
            measure("seed-style", peer_port)

    rows = []
    for c in connections:
        both, alone, peer = (results[k, c] for k in ("gateway+crud", "gateway alone", "seed-style"))
        rows.append(
            Row(
                f"webhooks, {DELIVERIES:,} distinct, {c} connections: gateway, crud consuming / "
                "seed-style webhook (p99 in brackets)",
                f"{both.rate:.0f} ({both.p99_ms:.0f} ms)",
                f"{peer.rate:.0f} ({peer.p99_ms:.0f} ms)",
                both.rate / peer.rate,
                ">= 3",
            )
        )
        rows.append(
            Row(
                f"webhooks, {c} connections: gateway alone (nothing consuming)",
                f"{alone.rate:.0f} ({alone.p99_ms:.0f} ms)",
                f"{peer.rate:.0f}",
                alone.rate / peer.rate,
            )
        )
    rows[0].measure += f"; {left} commands still queued at the end"
    return rows, rss


# --- commit -> Stripe -----------------------------------------------------------------------
def latency_section(seconds: int) -> tuple[list[Row], dict[str, float]]:
    rows: list[Row] = []
    rss: dict[str, float] = {}
    for budget, rate in ((25, 20), (100, 50), (10_000, 50)):
        out = subprocess.run(
            [
                PY,
                "bench/stripe_latency.py",
                "--rate",
                str(rate),
                "--seconds",
                str(seconds),
                "--budget",
                str(budget),
            ],
            cwd=ROOT,
            env=env(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        low = re.search(r"response -> Stripe: p50\s+([\d.]+) ms\s+p99\s+([\d.]+) ms", out)
        high = re.search(r"request -> Stripe: p50\s+([\d.]+) ms\s+p99\s+([\d.]+) ms", out)
        cpu = re.search(r"CPU per write: crud ([\d.]+) ms, stripe-sync ([\d.]+) ms", out)
        mem = re.search(r"peak RSS: crud (\d+) MB, stripe-sync (\d+) MB", out)
        assert low and high and cpu and mem, out
        rss["crud (latency)"] = max(rss.get("crud (latency)", 0), float(mem.group(1)))
        rss["stripe-sync"] = max(rss.get("stripe-sync", 0), float(mem.group(2)))
        goal = "p50 <= 10, p99 <= 25 ms" if budget == 100 else ""
        rows.append(
            Row(
                f"commit -> Stripe, {rate} writes/s, STRIPE_RATE_LIMIT={budget:,} "
                f"(CPU per write: crud {cpu.group(1)} ms, stripe-sync {cpu.group(2)} ms)",
                f"p50 {low.group(1)}-{high.group(1)} ms, p99 {low.group(2)}-{high.group(2)} ms",
                goal=goal,
            )
        )
        print(f"  latency budget {budget}: {rows[-1].twoway}", flush=True)
    return rows, rss


def table(rows: list[Row], rss: dict[str, float]) -> str:
    lines = ["| measure | twoway | peer | ratio | goal | met |", "|---|---|---|---|---|---|"]
    for r in rows:
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}"
        lines.append(f"| {r.measure} | {r.twoway} | {r.peer} | {ratio} | {r.goal} | {r.met()} |")
    peak = ", ".join(f"{name} {mb:.0f}" for name, mb in rss.items())
    worst = max(rss.values(), default=0.0)
    lines.append(
        f"| peak RSS per process, MB: {peak} | {worst:.0f} (most) | - | - | <= 150 | "
        f"{'yes' if worst <= 150 else 'NO'} |"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run and latency run")
    parser.add_argument("--rounds", type=int, default=2, help="POST /customers rounds")
    parser.add_argument("--skip", nargs="*", default=[], choices=["api", "gateway", "latency"])
    args = parser.parse_args()
    started = time.monotonic()
    rows: list[Row] = []
    rss: dict[str, float] = {}
    sections = {
        "api": lambda: api_section(args.seconds, args.rounds),
        "gateway": lambda: gateway_section(args.seconds),
        "latency": lambda: latency_section(args.seconds),
    }
    for name, section in sections.items():
        if name in args.skip:
            continue
        print(f"{name} ...", flush=True)
        section_rows, section_rss = section()
        rows += section_rows
        rss.update(section_rss)
    print()
    print(
        f"twoway performance, {time.strftime('%Y-%m-%d %H:%M')}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end, "
        f"{time.monotonic() - started:.0f} s"
    )
    print(table(rows, rss))
    return 0


if __name__ == "__main__":
    sys.exit(main())
