"""The suite on a machine without MariaDB or RabbitMQ: the rest runs, the others skip naming the
server; in CI a missing server fails instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.scrape import free_port

ROOT = Path(__file__).resolve().parent.parent
# One test file needing nothing, one needing MariaDB, one needing RabbitMQ.
SELECTION = [
    "tests/test_waiting.py",
    "tests/crud/test_inbound_apply.py",
    "tests/runtime/test_retry_hop.py",
]


def run_without_servers(ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    # Ports where nothing listens stand for servers that are not there.
    env |= {"TWOWAY_TEST_DB_PORT": str(free_port()), "TWOWAY_TEST_AMQP_PORT": str(free_port())}
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SELECTION],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_servers_the_rest_runs_and_the_skips_name_the_server() -> None:
    done = run_without_servers(ci=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout and " skipped" in done.stdout, done.stdout[-3000:]
    assert "MariaDB unreachable at 127.0.0.1:" in done.stdout, done.stdout[-3000:]
    assert "RabbitMQ unreachable at 127.0.0.1:" in done.stdout, done.stdout[-3000:]


def test_in_ci_a_missing_server_is_a_failure() -> None:
    done = run_without_servers(ci=True)
    assert done.returncode != 0, done.stdout[-3000:]
    assert "CI=true: a missing server fails the test" in done.stdout, done.stdout[-3000:]
    assert " skipped" not in done.stdout.splitlines()[-1], done.stdout[-3000:]
