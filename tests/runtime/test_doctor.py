"""A queue the broker holds with other arguments than this release declares: ``twoway doctor``
names it and the fix, and the services refuse to start with one line instead of looping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import aio_pika
import pytest

from tests.conftest import NAMESPACE, rabbitmqctl
from tests.servers import RABBITMQ

pytestmark = [pytest.mark.rabbitmq]

VHOST = f"{NAMESPACE}_doctor"
URL = f"amqp://guest:guest@{RABBITMQ.where()}/{VHOST}"


@pytest.fixture
async def queue_of_an_older_release() -> None:
    """The first queue the topology declares, as another release might have declared it
    (classic queues only here: nothing of the real topology is made in this vhost)."""
    rabbitmqctl("add_vhost", VHOST, check=False)
    rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")
    connection = await aio_pika.connect(URL)
    try:
        channel = await connection.channel()
        await channel.queue_delete("twoway.unrouted")
        await channel.declare_queue("twoway.unrouted", durable=True, arguments={"x-max-length": 5})
    finally:
        await connection.close()


def twoway(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TWOWAY_DATABASE_URL": "sqlite://twoway.db",
        "TWOWAY_AMQP_URL": URL,
        "TWOWAY_METRICS_PORT": "0",
        "TWOWAY_LOG_LEVEL": "ERROR",
        "STRIPE_API_KEY": "sk_test_not_used",
        "STRIPE_WEBHOOK_SECRET": "whsec_not_used",
    }
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.usefixtures("queue_of_an_older_release")
def test_doctor_names_the_queue_and_the_fix(tmp_path: Path) -> None:
    assert twoway("migrate", cwd=tmp_path).returncode == 0
    found = twoway("doctor", cwd=tmp_path)
    assert found.returncode == 1
    (line, summary) = found.stdout.strip().splitlines()
    assert line.startswith("broker: queue twoway.unrouted: inequivalent arg 'x-max-length'")
    assert f"rabbitmqctl delete_queue -p {VHOST} twoway.unrouted" in line
    assert summary == "1 problem(s)"


@pytest.mark.usefixtures("queue_of_an_older_release")
@pytest.mark.parametrize("command", ["crud", "stripe-sync", "webhook-gateway"])
def test_a_service_refuses_to_start_with_one_line(command: str, tmp_path: Path) -> None:
    assert twoway("migrate", cwd=tmp_path).returncode == 0
    refused = twoway(command, cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    last = refused.stderr.strip().splitlines()[-1]
    assert last.startswith("twoway: the broker holds a queue declared otherwise"), last
    assert last.endswith("run `twoway doctor` for the fix")
