"""Benchmark: signed Stripe webhook deliveries per second through the gateway (verify, publish
with confirm, 2xx) versus what a user of the seed design would run instead (bench/webhook_peer.py:
FastAPI, ``stripe.Webhook.construct_event``, the change written to MySQL inline), and versus a
bare Starlette endpoint answering 200 on the same server settings.

    python -m bench.webhook_gateway [--seconds 10] [--connections 8 32]

Needs ``wrk`` and FastAPI (``pip install -e '.[bench]'``). Each app runs alone in a subprocess
under uvicorn (one worker, same options); wrk drives each with the same pre-signed deliveries.
Prints the rates and p99 latencies per connection count, the ratio gateway/peer (target >= 3)
and gateway/bare (target >= 0.4). The gateway publishes to a vhost of its own
(``$TWOWAY_BENCH_NAMESPACE``), emptied before and after; the peer writes to that database.
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
KINDS = ("bare", "peer", "gateway")


def serve(kind: str, port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from services.runtime.http import server_config
    from services.runtime.settings import HttpServiceSettings

    if kind == "peer":
        from bench.webhook_peer import create_app as create_peer

        app: Starlette = create_peer(os.environ["PEER_DATABASE"], SECRET)
    elif kind == "bare":

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


def signed_requests(path: Path, count: int = DISTINCT_DELIVERIES) -> None:
    """A wrk script cycling through ``count`` distinct, validly signed customer.updated
    deliveries."""
    now = int(time.time())
    entries = []
    for i in range(count):
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
    parser.add_argument("--serve", choices=KINDS)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, nargs="+", default=[8, 32])
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return 0

    from bench._common import DB_NAME, ensure_vhost, fresh_database

    amqp_url = ensure_vhost()
    fresh_database()

    env = {
        **os.environ,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "TWOWAY_STRIPE_MODE": "test",
        "TWOWAY_METRICS_PORT": "0",
        "TWOWAY_AMQP_URL": amqp_url,
        "PEER_DATABASE": DB_NAME,
        "TWOWAY_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    results: dict[tuple[str, int], tuple[float, float, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "deliveries.lua"
        signed_requests(script)
        for kind in KINDS:
            proc, base = start(kind, env)
            try:
                for connections in args.connections:
                    run_wrk(f"{base}/webhooks/stripe", script, 2, connections)  # warm-up
                    results[kind, connections] = run_wrk(
                        f"{base}/webhooks/stripe", script, args.seconds, connections
                    )
            finally:
                proc.terminate()
                proc.wait(10)
    purged = asyncio.run(purge(amqp_url))
    labels = {
        "bare": "bare starlette",
        "peer": "seed-style peer (FastAPI + construct_event + MySQL write)",
        "gateway": "webhook gateway (verify + confirmed publish)",
    }
    for connections in args.connections:
        print(f"-- {connections} connections, {args.seconds} s each")
        for kind in KINDS:
            rate, p99, _ = results[kind, connections]
            print(f"{labels[kind]:58}: {rate:8.0f} deliveries/s   p99 {p99:7.2f} ms")
        gateway, peer, bare = (results[k, connections][0] for k in ("gateway", "peer", "bare"))
        print(f"ratio gateway/peer: {gateway / peer:.2f} (target >= 3)")
        print(f"ratio gateway/bare: {gateway / bare:.2f} (target >= 0.4)")
    print(f"(purged {purged} commands)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
