"""POST /customers throughput: `twoway crud` vs a minimal Starlette + Tortoise handler.

    python bench/api_throughput.py [seconds]

Both run under uvicorn with the same settings (one worker, no access log) on the same MariaDB;
the same wrk client (2 threads, 16 connections) drives them in turn. `twoway crud` also runs
its relay, publishing every event to RabbitMQ. Prints req/s, the ratio (target >= 0.8) and the
peak RSS of the `twoway crud` process (target <= 150 MB). Needs wrk (apt-get install wrk).
"""

from __future__ import annotations

import asyncio
import os
import re
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


def wait_ready(url: str, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if (
                httpx.post(
                    f"{url}/customers",
                    json={"name": "w", "email": f"w{uuid.uuid4()}@x.io"},
                    timeout=1,
                ).status_code
                == 201
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def truncate() -> None:
    conn = pymysql.connect(host="127.0.0.1", user="root", password="", database=DB_NAME)
    with conn.cursor() as cur:
        cur.execute("DELETE FROM outbox")
        cur.execute("DELETE FROM customers")
    conn.commit()
    conn.close()


def wrk(url: str, seconds: int) -> tuple[float, int]:
    env = {**os.environ, "RUN": uuid.uuid4().hex[:8]}
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
    }
    twoway_cmd = [PY, "-m", "services.cli", "crud", "--port", "8931"]
    base_cmd = [PY, "-m", "bench.baseline_app", db_url, "8932"]
    results: dict[str, list[float]] = {"baseline": [], "twoway": []}
    rss = 0.0
    errors = 0
    for _ in range(3):
        for name, cmd, port in (("baseline", base_cmd, 8932), ("twoway", twoway_cmd, 8931)):
            truncate()
            proc = run_server(cmd, env)
            try:
                url = f"http://127.0.0.1:{port}"
                wait_ready(url)
                rps, bad = wrk(url, seconds)
                results[name].append(rps)
                errors += bad
                if name == "twoway":
                    rss = max(rss, peak_rss_mb(proc.pid))
            finally:
                proc.terminate()
                proc.wait(timeout=20)
    base, ours = max(results["baseline"]), max(results["twoway"])
    print(f"wrk -t2 -c16 -d{seconds}s, POST /customers, 3 rounds each, best shown")
    print(
        f"baseline Starlette+Tortoise: {base:8.0f} req/s  (runs: "
        f"{', '.join(f'{x:.0f}' for x in results['baseline'])})"
    )
    print(
        f"twoway crud (API + relay):   {ours:8.0f} req/s  (runs: "
        f"{', '.join(f'{x:.0f}' for x in results['twoway'])})"
    )
    print(f"ratio twoway/baseline: {ours / base:.2f}  (target >= 0.80)")
    print(f"peak RSS of twoway crud: {rss:.0f} MB  (target <= 150 MB)")
    print(f"non-2xx responses: {errors}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
