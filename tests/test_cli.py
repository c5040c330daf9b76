"""The HTTP-less processes as deployed: `twoway <command>` serves /metrics and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from services.crud.settings import CrudSettings
from tests.conftest import Broker
from tests.scrape import answering, free_port, scrape
from tests.waiting import eventually

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]


@pytest.mark.parametrize(
    "argv",
    [
        ["crud", "--role", "relay"],
        ["crud", "--role", "consumers"],
        ["stripe-sync"],
        ["sync", "stripe"],
    ],
)
async def test_a_worker_serves_metrics_and_stops_on_sigterm(
    settings: CrudSettings, broker: Broker, argv: list[str], tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "TWOWAY_DATABASE_URL": settings.database_url.get_secret_value(),
        "TWOWAY_AMQP_URL": settings.amqp_url.get_secret_value(),
        "TWOWAY_METRICS_PORT": str(port),
        "STRIPE_API_KEY": "sk_test_twoway_cli",
        "STRIPE_API_BASE": "http://127.0.0.1:9",  # never called: no event is published
        "PYTHONFAULTHANDLER": "1",
    }
    # A file, not a pipe: a pipe nobody reads until the end blocks a process that logs more
    # than its buffer holds.
    log = tmp_path / "stderr.log"
    with log.open("w") as err:  # the child holds its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli", *argv],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:

            async def up_or_gone() -> bool:
                return await answering(client) or proc.poll() is not None

            await eventually(up_or_gone, timeout=20, interval=0.1, what="/metrics up or exited")
            assert proc.poll() is None, log.read_text()[-4000:]
            text = await scrape(client)
            assert "# TYPE twoway_messages_consumed_total counter" in text
        proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.to_thread(proc.wait, 20)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack
            await asyncio.to_thread(proc.wait, 10)
            raise AssertionError(
                f"running 20 s after SIGTERM:\n{log.read_text()[-6000:]}"
            ) from None
        assert code == 0, log.read_text()[-4000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["sync", "stripe"], "STRIPE_API_KEY is required with stripe in TWOWAY_PROVIDERS"),
        (
            ["salesforce-sync"],
            "SALESFORCE_LOGIN_URL is required with salesforce in TWOWAY_PROVIDERS",
        ),
        (["sync", "nowhere"], None),
    ],
)
def test_a_worker_missing_its_credentials_says_which_in_one_line(
    argv: list[str], line: str | None
) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STRIPE_", "SALESFORCE_", "TWOWAY_"))
    }
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    if line is None:  # argparse names the registered providers
        assert "choose from 'stripe', 'salesforce'" in done.stderr, done.stderr
    else:
        assert done.stderr.strip().splitlines()[-1] == f"twoway: {line}"
