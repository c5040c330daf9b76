"""Benchmark: adopting a Stripe account of 1,000 customers, against the rate budget B.

    python bench/reconcile_budget.py [--customers 1000] [--local 300] [--budget 1 2 25]

For each B: 1,000 customers wait in localstripe (in this process), 300 of them also in the
app's table by email (loaded as an adopting team would: rows, no events); ``twoway reconcile
stripe`` runs as a process of its own with ``STRIPE_RATE_LIMIT=B``, and the fake answers 429 to
anything over B in 1 s, as Stripe does over its limit. Printed: objects per second, the
requests' rate over B from the fake's own log (the budget used while the run was reading), the
most requests in any 1 s window (<= B), and the 429s (target 0). Reading 100 customers per page,
the run is bound by the budget at small B and by the database's inbound path at large B.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime

import pymysql
from _support import DATABASE_URL, NAMESPACE, fresh_namespace, service_env, start

from services.migrate import migrate
from services.runtime.settings import ServiceSettings
from tests.fakes.stripe_fake import API_KEY, FakeStripe


def load_local(rows: list[tuple[str, str]]) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    conn = pymysql.connect(host="127.0.0.1", user="root", password="", database=NAMESPACE)
    try:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO customers (id, name, email, phone, metadata, version, field_clock,"
                " created_at, updated_at) VALUES (%s, %s, %s, NULL, '{}', 1, '{}', %s, %s)",
                [(uuid.uuid4().hex, name, email, now, now) for name, email in rows],
            )
        conn.commit()
    finally:
        conn.close()


async def one(budget: int, customers: int, local: int) -> None:
    await asyncio.to_thread(fresh_namespace)
    await migrate(ServiceSettings(database_url=DATABASE_URL))
    fake = FakeStripe()
    await fake.start()
    try:
        from localstripe.resources import Customer

        made = [
            Customer._api_create(name=f"Customer {i}", email=f"c{i}@example.com")
            for i in range(customers)
        ]
        load_local([(c.name, c.email) for c in made[:local]])
        fake.rate_limit = budget
        env = service_env(
            STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=fake.url, STRIPE_RATE_LIMIT=str(budget)
        )
        started = time.monotonic()
        process = await start(
            ["reconcile", "stripe", "--report", f"/tmp/{NAMESPACE}-reconcile.json"],
            env,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await process.communicate()
        elapsed = time.monotonic() - started
    finally:
        await fake.stop()
    calls = fake.api_calls()
    ok = [c for c in calls if c.status == 200]
    rejected = [c for c in calls if c.status == 429]
    span = ok[-1].at - ok[0].at if len(ok) > 1 else float("nan")
    rate = (len(ok) - 1) / span if len(ok) > 1 else float("nan")
    per_s = customers / elapsed
    print(f"B={budget:>3}/s  {customers} customers in {elapsed:6.2f} s ({per_s:7.1f} objects/s)")
    print(
        f"        requests {len(ok)} in {span:5.2f} s: {rate:5.2f}/s = {rate / budget:4.2f} of B;"
        f" max in any 1 s: {fake.max_per_window()} (<= {budget}); 429s: {len(rejected)}"
    )
    print("        " + " | ".join(line.strip() for line in out.decode().splitlines()[1:6]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--local", type=int, default=300)
    parser.add_argument("--budget", type=int, nargs="+", default=[1, 2, 25])
    args = parser.parse_args()
    for budget in args.budget:
        asyncio.run(one(budget, args.customers, args.local))


if __name__ == "__main__":
    main()
