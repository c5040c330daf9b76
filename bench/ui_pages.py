"""The browser interface's server time next to the API's, on the same seeded data.

    python -m bench.ui_pages [customers] [requests]

Seeds ``customers`` customers (default 100,000; half of them synced at Stripe) into a fresh
database, starts ``twoway crud --role api``, signs a client in to ``/ui/`` and times, one request
at a time, ``GET /customers`` and each UI page: the list, a prefix search, a status filter, an
entity's page, the overview and the dead letters page. Prints each page's p50 and p99 and its
p99's ratio to the API's (target: at most 2).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from datetime import UTC, datetime

import httpx
import pymysql

from bench._support import (
    DATABASE_URL,
    NAMESPACE,
    api_key,
    free_port,
    fresh_namespace,
    percentile,
    service_env,
    start,
    stop,
)
from services.crud.ids import new_id
from services.crud.settings import CrudSettings
from services.migrate import migrate

BATCH = 5_000


def seed(count: int) -> str:
    """``count`` customers, every other one linked and synced at Stripe; one customer's id."""
    now = datetime.now(UTC).replace(tzinfo=None)
    conn = pymysql.connect(host="127.0.0.1", user="root", password="", database=NAMESPACE)
    some_id = ""
    try:
        with conn.cursor() as cur:
            for start_at in range(0, count, BATCH):
                customers, links = [], []
                for i in range(start_at, min(count, start_at + BATCH)):
                    entity_id = new_id()
                    some_id = some_id or entity_id
                    customers.append(
                        (entity_id, f"Name {i:06}", f"user{i:06}@example.com", "{}", "{}", now, now)
                    )
                    if i % 2 == 0:
                        links.append(
                            ("customer", entity_id, "stripe", f"cus_{i:012}", "synced", 1, now)
                        )
                cur.executemany(
                    "INSERT INTO customers (id, name, email, metadata, field_clock, created_at,"
                    " updated_at, version) VALUES (%s, %s, %s, %s, %s, %s, %s, 1)",
                    customers,
                )
                cur.executemany(
                    "INSERT INTO external_links (entity, entity_id, provider, external_id, status,"
                    " synced_version, updated_at, deleted, shadow, field_versions,"
                    " handled_version) VALUES (%s, %s, %s, %s, %s, %s, %s, 0, '{}', '{}', 1)",
                    links,
                )
                conn.commit()
    finally:
        conn.close()
    return some_id


async def timed(client: httpx.AsyncClient, path: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        began = time.perf_counter()
        answer = await client.get(path)
        times.append(time.perf_counter() - began)
        assert answer.status_code == 200, (path, answer.status_code)
    return times


async def run(customers: int, requests: int) -> None:
    await migrate(CrudSettings(database_url=DATABASE_URL))
    began = time.perf_counter()
    some_id = seed(customers)
    print(f"seeded {customers} customers in {time.perf_counter() - began:.1f} s")
    env = service_env()
    key = await api_key(env)
    port = free_port()
    crud = await start(["crud", "--role", "api", "--port", str(port)], env)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            for _ in range(100):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
            form = await client.get("/ui/login")
            token = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert token, "no sign-in form"
            signed = await client.post("/ui/login", data={"csrf": token.group(1), "key": key})
            assert signed.status_code == 303, signed.text
            api = {"Authorization": f"Bearer {key}"}
            pages = {
                "GET /customers (API)": None,
                "/ui/customers": "/ui/customers",
                "/ui/customers?q=user0421": "/ui/customers?q=user0421",
                "/ui/customers?q=Name 09": "/ui/customers?q=Name%2009",
                "/ui/customers?status=pending": "/ui/customers?provider=stripe&status=pending",
                "/ui/customers/<id>": f"/ui/customers/{some_id}",
                "/ui/overview": "/ui/overview",
                "/ui/dead-letters": "/ui/dead-letters",
            }
            results: dict[str, list[float]] = {}
            for name, path in pages.items():
                if path is None:
                    async with httpx.AsyncClient(base_url=base, timeout=30, headers=api) as bare:
                        await timed(bare, "/customers", 5)  # warm up
                        results[name] = await timed(bare, "/customers", requests)
                else:
                    await timed(client, path, 5)
                    results[name] = await timed(client, path, requests)
    finally:
        await stop(crud)
    reference = percentile(results["GET /customers (API)"], 99)
    print(f"{'page':34} {'p50 ms':>8} {'p99 ms':>8} {'p99 ratio':>10}")
    for name, times in results.items():
        p50, p99 = percentile(times, 50) * 1000, percentile(times, 99) * 1000
        print(f"{name:34} {p50:8.1f} {p99:8.1f} {percentile(times, 99) / reference:10.2f}")
    print(json.dumps({n: round(percentile(t, 99) / reference, 2) for n, t in results.items()}))


def main() -> None:
    customers = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    fresh_namespace()
    asyncio.run(run(customers, requests))


if __name__ == "__main__":
    main()
