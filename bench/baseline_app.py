"""The yardstick for bench/api_throughput.py: a minimal Starlette + Tortoise handler doing the
same two inserts (customer row + outbox row) in one transaction. Not part of twoway."""

from __future__ import annotations

import contextlib
import json
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tortoise.transactions import in_transaction

from services.crud.customers.models import Customer
from services.crud.entities import model_modules
from services.crud.outbox.models import OutboxEvent
from services.runtime.db import close_db, init_db


async def create(request: Request) -> JSONResponse:
    data = await request.json()
    now = datetime.now(UTC)
    async with in_transaction() as conn:
        c = await Customer.create(
            using_db=conn,
            id=str(uuid.uuid4()),
            name=data["name"],
            email=data["email"],
            metadata=data.get("metadata", {}),
            version=1,
            created_at=now,
            updated_at=now,
        )
        await OutboxEvent.create(
            using_db=conn,
            event_id=str(uuid.uuid4()),
            routing_key="customer.created",
            entity="customer",
            entity_id=c.id,
            version=1,
            payload=json.dumps(data),
            created_at=now,
        )
    return JSONResponse({"id": c.id}, status_code=201)


def main(db_url: str, port: int) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await init_db(db_url, model_modules())
        yield
        await close_db()

    app = Starlette(routes=[Route("/customers", create, methods=["POST"])], lifespan=lifespan)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
