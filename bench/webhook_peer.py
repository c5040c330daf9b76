"""The peer the webhook gateway is measured against: what a user of the seed design runs.

A FastAPI endpoint that verifies a delivery with ``stripe.Webhook.construct_event`` and writes
the change to MySQL inline before answering, as the seed's webhook does. Given its best chance:
the blocking write runs in FastAPI's thread pool (one PyMySQL autocommit connection per thread),
not on the event loop.
"""

from __future__ import annotations

import threading
from typing import Any

import pymysql
import stripe
from fastapi import FastAPI, HTTPException, Request
from starlette.concurrency import run_in_threadpool

TABLE = """
CREATE TABLE IF NOT EXISTS peer_customers (
    stripe_id VARCHAR(64) PRIMARY KEY,
    name VARCHAR(255),
    email VARCHAR(255),
    updated_at BIGINT NOT NULL
)
"""
UPSERT = (
    "INSERT INTO peer_customers (stripe_id, name, email, updated_at) VALUES (%s, %s, %s, %s) "
    "ON DUPLICATE KEY UPDATE name = VALUES(name), email = VALUES(email), "
    "updated_at = VALUES(updated_at)"
)


def create_app(database: str, secret: str) -> FastAPI:
    local = threading.local()

    def connection() -> Any:
        if not hasattr(local, "conn"):
            local.conn = pymysql.connect(
                host="127.0.0.1", user="root", password="", database=database, autocommit=True
            )
        return local.conn

    setup = connection()
    with setup.cursor() as cur:
        cur.execute(TABLE)

    def write(customer: dict[str, Any], created: int) -> None:
        with connection().cursor() as cur:
            cur.execute(UPSERT, (customer["id"], customer["name"], customer["email"], created))

    app = FastAPI()

    @app.post("/webhooks/stripe")
    async def stripe_webhook(request: Request) -> dict[str, str]:
        payload = await request.body()
        try:
            event = stripe.Webhook.construct_event(
                payload, request.headers.get("stripe-signature", ""), secret
            )
        except (ValueError, stripe.SignatureVerificationError) as exc:
            raise HTTPException(status_code=400, detail="bad signature") from exc
        if event["type"].startswith("customer."):
            await run_in_threadpool(write, event["data"]["object"], event["created"])
        return {"status": "ok"}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
