"""Benchmark: signed Stripe webhook deliveries per second through the gateway (verify, publish
with confirm, 2xx) versus a bare Starlette endpoint answering 200 on the same server settings.

    python bench/webhook_gateway.py [--amqp-url amqp://guest:guest@127.0.0.1:5672/twoway_bench]
                                    [--seconds 10] [--connections 32]

Each app runs alone in a subprocess under uvicorn (one worker, same options); wrk drives both
with the same pre-signed deliveries. Prints both rates, the ratio (target >= 0.4) and the p99
latency of a delivery. The commands it publishes are purged from the inbound queue afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

SECRET = "whsec_bench"
DISTINCT_DELIVERIES = 500


def serve(kind: str, port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from services.runtime.http import server_config
    from services.runtime.settings import HttpServiceSettings

    if kind == "bare":

        async def ok(request: Request) -> Response:
            await request.body()
            return JSONResponse({"status": "accepted"})

        async def healthz(request: Request) -> Response:
            return JSONResponse({"status": "ok"})

        app = Starlette(
            routes=[
                Route("/webhooks/stripe", ok, methods=["POST"]),
                Route("/healthz", healthz, methods=["GET"]),
            ]
        )
    else:
        from services.runtime.settings import load
        from services.webhook_gateway.app import create_app
        from services.webhook_gateway.settings import GatewaySettings

        app = create_app(load(GatewaySettings))
    # Both under the services' own server configuration (connection cap, deadlines).
    uvicorn.Server(server_config(app, "127.0.0.1", port, HttpServiceSettings())).run()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def signed_requests(path: Path) -> None:
    """A wrk script cycling through distinct, validly signed customer.updated deliveries."""
    now = int(time.time())
    entries = []
    for i in range(DISTINCT_DELIVERIES):
        body = json.dumps(
            {
                "id": f"evt_bench_{now}_{i}",
                "object": "event",
                "type": "customer.updated",
                "created": now,
                "data": {
                    "object": {
                        "id": f"cus_bench_{i}",
                        "object": "customer",
                        "name": "Bench Customer",
                        "email": f"bench{i}@example.com",
                        "phone": None,
                        "metadata": {"twoway_id": f"local-{i}", "plan": "pro"},
                    }
                },
            }
        )
        mac = hmac.new(SECRET.encode(), f"{now}.{body}".encode(), hashlib.sha256).hexdigest()
        entries.append((body, f"t={now},v1={mac}"))
    # Requests are formatted in init(): before it, wrk.format knows no Host header.
    lines = ["local deliveries = {}"]
    for body, signature in entries:
        lines.append(f'deliveries[#deliveries+1] = {{"{signature}", {json.dumps(body)}}}')
    lines += [
        "local reqs = {}",
        "init = function(args)",
        "  for _, d in ipairs(deliveries) do",
        '    local headers = {["Content-Type"]="application/json", ["Stripe-Signature"]=d[1]}',
        '    reqs[#reqs+1] = wrk.format("POST", "/webhooks/stripe", headers, d[2])',
        "  end",
        "end",
        "local i = 0",
        "request = function() i = i % #reqs + 1; return reqs[i] end",
        # done() runs in another Lua state than request(): count failures from the summary.
        "done = function(summary, latency, requests)",
        "  local e = summary.errors",
        "  local failed = e.status + e.connect + e.read + e.write + e.timeout",
        "  io.write(string.format('failed %d\\n', failed))",
        "end",
    ]
    path.write_text("\n".join(lines))


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> tuple[float, float, str]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    assert p99 is not None, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    failed = re.search(r"failed (\d+)", out)
    if failed is None or int(failed.group(1)):
        raise SystemExit(f"some deliveries were not answered 2xx:\n{out}")
    return rate, float(p99.group(1)) * scale, out


def start(kind: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--port", str(port)], env=env
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the {kind} server did not start")


async def purge(amqp_url: str) -> int:
    import aio_pika

    from shared.topology import INBOUND_QUEUE

    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(INBOUND_QUEUE.name)
        result = await queue.purge()
        return int(result.message_count or 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", choices=["bare", "gateway"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--amqp-url",
        default=os.environ.get("TWOWAY_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return 0

    env = {
        **os.environ,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "TWOWAY_STRIPE_MODE": "test",
        "TWOWAY_METRICS_PORT": "0",
        "TWOWAY_AMQP_URL": args.amqp_url,
        "TWOWAY_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "deliveries.lua"
        signed_requests(script)
        for kind in ("bare", "gateway"):
            proc, base = start(kind, env)
            try:
                run_wrk(f"{base}/webhooks/stripe", script, 2, args.connections)  # warm-up
                results[kind] = run_wrk(
                    f"{base}/webhooks/stripe", script, args.seconds, args.connections
                )
            finally:
                proc.terminate()
                proc.wait(10)
    purged = asyncio.run(purge(args.amqp_url))
    bare_rate, bare_p99, _ = results["bare"]
    rate, p99, _ = results["gateway"]
    print(f"bare starlette : {bare_rate:9.0f} req/s   p99 {bare_p99:7.2f} ms")
    print(f"webhook gateway: {rate:9.0f} req/s   p99 {p99:7.2f} ms  (verify + publish/confirm)")
    print(f"ratio gateway/bare: {rate / bare_rate:.2f} (target >= 0.4)")
    print(f"p99 latency of a delivery through the gateway: {p99:.2f} ms")
    print(f"({args.connections} connections, {args.seconds} s each; purged {purged} commands)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
