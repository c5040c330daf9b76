"""Shared set-up for benchmarks: a scratch MariaDB database and RabbitMQ vhost."""

from __future__ import annotations

import subprocess

import pymysql

DB_NAME = "twoway_bench"
DATABASE_URL = f"mysql://root:@127.0.0.1:3306/{DB_NAME}"
VHOST = "twoway_bench"
AMQP_URL = f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"


def fresh_database() -> str:
    conn = pymysql.connect(host="127.0.0.1", user="root", password="")
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        cur.execute(f"CREATE DATABASE {DB_NAME} CHARACTER SET utf8mb4")
    conn.close()
    return DATABASE_URL


def ensure_vhost() -> str:
    # The vhost is kept between runs (deleting quorum queues over and over can wedge them);
    # each benchmark purges the queues it uses.
    for args in (
        ["add_vhost", VHOST],
        ["set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"],
    ):
        subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, check=False)
    return AMQP_URL
