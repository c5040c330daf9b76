"""POST /customers throughput: `twoway crud` vs a minimal Starlette + Tortoise handler.

    python -m bench.api_throughput [seconds]

Both run under uvicorn with the same settings (one worker, no access log) on the same MariaDB;
the same wrk client (2 threads, 16 connections) drives them in turn. `twoway crud` also runs
its relay, publishing every event to RabbitMQ; `twoway crud --role api` is measured too, so
the cost of the API path and of relaying in the same process can be told apart. Prints req/s,
the ratios (target >= 0.8) and the peak RSS of the `twoway crud` process (target <= 150 MB).
Needs wrk (apt-get install wrk). Usage: python -m bench.api_throughput [seconds]
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pymysql

from bench._common import DB_NAME, ensure_vhost, fresh_database
from services.crud.settings import CrudSettings
from services.migrate import migrate

HERE = Path(__file__).parent
PY = sys.executable


def wait_ready(url: str, key: str, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if (
                httpx.post(
                    f"{url}/customers",
                    json={"name": "w", "email": f"w{uuid.uuid4()}@x.io"},
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=1,
                ).status_code
                == 201
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def truncate() -> None:
    conn = pymysql.connect(host="127.0.0.1", user="root", password="", database=DB_NAME)
    with conn.cursor() as cur:
        cur.execute("DELETE FROM outbox")
        cur.execute("DELETE FROM customers")
    conn.commit()
    conn.close()


def wrk(url: str, seconds: int, key: str) -> tuple[float, int]:
    env = {**os.environ, "RUN": uuid.uuid4().hex[:8], "TWOWAY_API_KEY": key}
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "-s", str(HERE / "post_customers.lua"), url],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, int(bad.group(1)) if bad else 0


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kb = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
    return kb / 1024


def run_server(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(seconds: int) -> None:
    db_url, amqp_url = fresh_database(), ensure_vhost()
    asyncio.run(migrate(CrudSettings(database_url=db_url)))
    env = {
        **os.environ,
        "TWOWAY_DATABASE_URL": db_url,
        "TWOWAY_AMQP_URL": amqp_url,
        "TWOWAY_LOG_LEVEL": "WARNING",
        "TWOWAY_METRICS_PORT": "0",
    }
    key = subprocess.run(
        [PY, "-m", "services.cli", "apikey", "create", "--scope", "write", "--name", "bench"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    port = str(free_port())
    crud = [PY, "-m", "services.cli", "crud"]
    servers = {
        # The baseline ignores the Authorization header; twoway checks it on every request.
        "baseline Starlette+Tortoise": [PY, "-m", "bench.baseline_app", db_url, port],
        "twoway crud (API + relay)": [*crud, "--port", port],
        "twoway crud --role api": [*crud, "--role", "api", "--port", port],
    }
    results: dict[str, list[float]] = {name: [] for name in servers}
    rss = 0.0
    errors = 0
    for _ in range(3):
        for name, cmd in servers.items():
            truncate()
            proc = run_server(cmd, env)
            try:
                url = f"http://127.0.0.1:{port}"
                wait_ready(url, key)
                rps, bad = wrk(url, seconds, key)
                results[name].append(rps)
                errors += bad
                if name.startswith("twoway crud (API"):
                    rss = max(rss, peak_rss_mb(proc.pid))
            finally:
                proc.terminate()
                proc.wait(timeout=20)
    best = {name: max(runs) for name, runs in results.items()}
    base = best["baseline Starlette+Tortoise"]
    print(f"wrk -t2 -c16 -d{seconds}s, POST /customers, 3 rounds each (interleaved), best shown")
    for name, runs in results.items():
        print(f"{name:30s} {best[name]:8.0f} req/s  (runs: {', '.join(f'{x:.0f}' for x in runs)})")
    print(
        f"ratio twoway crud (API + relay) / baseline: "
        f"{best['twoway crud (API + relay)'] / base:.2f}  (target >= 0.80)"
    )
    print(
        f"ratio twoway crud --role api / baseline:    {best['twoway crud --role api'] / base:.2f}"
    )
    print(f"peak RSS of twoway crud: {rss:.0f} MB  (target <= 150 MB)")
    print(f"non-2xx responses: {errors}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
