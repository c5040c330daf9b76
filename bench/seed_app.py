"""The peer twoway's API is measured against: the seed's design, as its users would run it.

FastAPI with a synchronous endpoint (FastAPI runs it in its thread pool), the customer written
through a synchronous SQLAlchemy session, then the event published inline with pika before the
answer. Given its best chance: one pika connection per thread, kept (not one per request), no
publisher confirms, and the ``uvicorn[standard]`` install twoway has. Not part of twoway.

    python -m bench.seed_app <mysql database> <amqp url> <port>
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import pika
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import JSON, DateTime, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

EXCHANGE = "seed.events"


class Base(DeclarativeBase):
    pass


class SeedCustomer(Base):
    __tablename__ = "seed_customers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(255), unique=True)
    customer_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class CustomerIn(BaseModel):
    name: str
    email: str
    metadata: dict[str, str] = {}


def create_app(database: str, amqp_url: str) -> FastAPI:
    engine = create_engine(
        f"mysql+pymysql://root:@127.0.0.1:3306/{database}", pool_size=40, max_overflow=0
    )
    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine)
    local = threading.local()

    def channel() -> Any:
        if not hasattr(local, "channel"):
            connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
            local.channel = connection.channel()
            local.channel.exchange_declare(EXCHANGE, "topic", durable=True)
        return local.channel

    app = FastAPI()

    @app.post("/customers", status_code=201)
    def create_customer(body: CustomerIn) -> dict[str, Any]:
        customer_id = str(uuid.uuid4())
        customer = SeedCustomer(
            id=customer_id,
            name=body.name,
            email=body.email,
            customer_metadata=body.metadata,
            created_at=datetime.now(UTC),
        )
        session: Session
        with sessions() as session, session.begin():
            session.add(customer)
        event = {"type": "customer.created", "id": customer_id, "data": body.model_dump()}
        channel().basic_publish(
            EXCHANGE,
            "customer.created",
            json.dumps(event).encode(),
            pika.BasicProperties(delivery_mode=2, content_type="application/json"),
        )
        return {"id": customer_id, "name": body.name, "email": body.email}

    return app


def main(database: str, amqp_url: str, port: int) -> None:
    app = create_app(database, amqp_url)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
