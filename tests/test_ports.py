"""Default ports that never collide: each role serves /metrics on a port of its own, and a port
another process holds is a one-line error naming the setting."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from services.crud.settings import CrudSettings
from services.repair.settings import RepairSettings
from services.runtime.providers import plugins
from services.webhook_gateway.settings import GatewaySettings
from tests.conftest import Broker


def test_every_role_has_its_own_default_metrics_port() -> None:
    """crud, the gateway, and each registered provider's worker and repair job."""
    defaults = {
        "crud": CrudSettings.model_fields["metrics_port"].default,
        "webhook-gateway": GatewaySettings.model_fields["metrics_port"].default,
    }
    assert RepairSettings.model_fields["metrics_port"].default is None  # the provider's own
    for name, found in plugins().items():
        defaults[f"{name}-sync"] = found.settings.model_fields["metrics_port"].default
        defaults[f"{name}-repair"] = found.repair_metrics_port
    assert len(set(defaults.values())) == len(defaults), defaults
    assert all(port for port in defaults.values()), defaults


@pytest.mark.mariadb
@pytest.mark.rabbitmq
@pytest.mark.parametrize(
    "argv", [["stripe-sync"], ["crud", "--role", "relay"], ["repair", "stripe"]]
)
def test_a_taken_metrics_port_is_one_line_naming_the_setting(
    settings: CrudSettings, broker: Broker, argv: list[str]
) -> None:
    with socket.create_server(("0.0.0.0", 0)) as holder:  # another process's port
        port = holder.getsockname()[1]
        env = {
            **os.environ,
            "TWOWAY_DATABASE_URL": settings.database_url.get_secret_value(),
            "TWOWAY_AMQP_URL": settings.amqp_url.get_secret_value(),
            "TWOWAY_METRICS_PORT": str(port),
            "STRIPE_API_KEY": "sk_test_twoway_ports",
        }
        done = subprocess.run(
            [sys.executable, "-m", "services.cli", *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert lines[-1] == (
        f"twoway: port {port} is already in use by another process: "
        "set TWOWAY_METRICS_PORT to a free port"
    ), done.stderr[-2000:]
    assert "Traceback" not in done.stderr
