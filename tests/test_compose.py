"""``compose.yaml`` and ``.env.example`` against the code: what ``docker compose up`` relies on.

No Docker needed: the file is read as data and checked against the ``twoway`` parser and the
settings classes, so a renamed sub-command or setting breaks this test, not a deployment.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

import services
from services.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
SALESFORCE = yaml.safe_load((ROOT / "compose.salesforce.yaml").read_text())["services"]
"""The override that adds Salesforce (``-f compose.yaml -f compose.salesforce.yaml``)."""


def compose_text() -> str:
    return (ROOT / "compose.yaml").read_text() + (ROOT / "compose.salesforce.yaml").read_text()


SCALABLE = ("relay", "consumers", "stripe-sync")

# Sub-commands other branches are adding. While one is missing from the parser its compose
# command is accepted by name (and its variables below by these lists); once it lands, its
# command line is parsed for real and its variables are checked against its settings class.
FUTURE_COMMANDS: dict[str, set[str]] = {}

INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")
CREDENTIAL = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$|_URL$|_USER$")
PUBLIC = ("webhook-gateway",)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("twoway has no sub-commands")


def settings_variables() -> set[str]:
    """Every environment variable some ``BaseSettings`` class under ``services`` reads."""
    importlib.import_module("services.runtime.settings")
    for package in pkgutil.iter_modules(services.__path__):
        name = f"services.{package.name}.settings"
        if package.ispkg and importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    known: set[str] = set()
    pending: list[type[BaseSettings]] = [BaseSettings]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if not cls.__module__.startswith("services."):
            continue
        prefix = str(cls.model_config.get("env_prefix", ""))
        for field_name, info in cls.model_fields.items():
            alias = info.validation_alias
            if isinstance(alias, AliasChoices):
                known.update(str(choice) for choice in alias.choices)
            elif isinstance(alias, str):
                known.add(alias)
            else:
                known.add(prefix + (info.alias or field_name))
    return {name.upper() for name in known}


def is_twoway(service: dict[str, Any]) -> bool:
    return list(service.get("command", []))[:1] == ["twoway"]


def with_defaults(text: str) -> str:
    """``${VAR:-default}`` -> ``default``: the value compose uses when ``.env`` is silent."""
    return INTERPOLATION.sub(lambda m: m.group(3) if m.group(2) in ("-", ":-") else "", text)


def published(service: dict[str, Any]) -> list[tuple[str, str]]:
    """``(host address, host port)`` of each published port; the address is "" for every
    interface, the port "" when only the container port is given."""
    found = []
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            found.append(
                (str(entry.get("host_ip", "")), with_defaults(str(entry.get("published", ""))))
            )
            continue
        parts = with_defaults(str(entry)).split(":")
        address = parts[0] if len(parts) == 3 else ""
        found.append((address, parts[-2] if len(parts) >= 2 else ""))
    return found


def host_ports(service: dict[str, Any]) -> list[str]:
    return [port for _, port in published(service)]


def depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return {name: {"condition": "service_started"} for name in deps}
    return dict(deps)


def test_the_expected_services_run_the_expected_commands() -> None:
    commands: dict[str, list[str]] = {name: s.get("command", []) for name, s in SERVICES.items()}
    assert commands["crud"][:4] == ["twoway", "crud", "--role", "api"]
    assert commands["relay"] == ["twoway", "crud", "--role", "relay"]
    assert commands["migrate"] == ["twoway", "migrate"]
    assert commands["stripe-sync"][:3] == ["twoway", "sync", "stripe"]
    assert commands["webhook-gateway"][:2] == ["twoway", "webhook-gateway"]
    assert commands["localstripe"][0] == "localstripe"
    assert SERVICES["localstripe"]["profiles"] == ["localstripe"]
    assert SERVICES["mysql"]["image"].startswith("mysql:8")
    assert "management" in SERVICES["rabbitmq"]["image"]


@pytest.mark.parametrize("name", sorted(n for n, s in SERVICES.items() if is_twoway(s)))
def test_every_twoway_command_is_a_real_sub_command(name: str) -> None:
    argv = list(SERVICES[name]["command"])[1:]
    available = subcommands()
    if argv[0] not in available:
        assert argv[0] in FUTURE_COMMANDS, f"{name}: `twoway {argv[0]}` does not exist"
        return
    try:
        build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"{name}: `twoway {' '.join(argv)}` is rejected by the parser")


@pytest.mark.parametrize("name", sorted(n for n, s in SERVICES.items() if is_twoway(s)))
def test_every_variable_set_on_a_twoway_service_is_a_setting(name: str) -> None:
    known = settings_variables()
    command = SERVICES[name]["command"][1]
    if command not in subcommands():
        known |= FUTURE_COMMANDS.get(command, set())
    unknown = set(SERVICES[name].get("environment", {})) - known
    assert not unknown, f"{name} sets variables no settings class reads: {sorted(unknown)}"


def test_env_example_and_compose_name_the_same_variables() -> None:
    example = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    text = compose_text()
    interpolated = {m.group(1) for m in INTERPOLATION.finditer(text)}
    assert interpolated - example == set(), "used in compose.yaml, missing from .env.example"
    assert example - interpolated == set(), "in .env.example, never passed by compose.yaml"
    twoway_style = {v for v in example if v.startswith(("TWOWAY_", "STRIPE_"))}
    future = set().union(*FUTURE_COMMANDS.values())
    assert twoway_style - settings_variables() - future == set()


def test_depends_on_targets_exist_and_can_be_waited_for() -> None:
    for name, service in SERVICES.items():
        for target, rule in depends_on(service).items():
            assert target in SERVICES, f"{name} depends on unknown service {target}"
            condition = rule.get("condition", "service_started")
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[target], f"{target} has no healthcheck"
            if condition == "service_completed_successfully":
                assert SERVICES[target].get("restart") == "no", f"{target} is not one-shot"
            # A dependency on a profiled service fails `docker compose up` without the profile.
            assert "profiles" not in SERVICES[target] or rule.get("required") is False


def test_twoway_services_wait_for_the_schema_and_the_broker() -> None:
    for name in ("crud", "relay", "consumers", "stripe-sync"):
        deps = depends_on(SERVICES[name])
        assert deps["migrate"]["condition"] == "service_completed_successfully", name
        assert deps["rabbitmq"]["condition"] == "service_healthy", name
    assert depends_on(SERVICES["migrate"])["mysql"]["condition"] == "service_healthy"


def test_no_two_services_publish_the_same_host_port() -> None:
    published = [p for s in SERVICES.values() for p in host_ports(s) if p]
    assert published, "nothing published: the parsing above is broken"
    assert all(p.isdigit() for p in published), published
    assert len(published) == len(set(published)), published


@pytest.mark.parametrize("name", SCALABLE)
def test_scalable_services_have_no_fixed_name_or_host_port(name: str) -> None:
    service = SERVICES[name]
    assert "container_name" not in service
    assert not any(host_ports(service)), f"{name} publishes a host port: --scale would clash"


def test_images_come_from_the_repository_dockerfile() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim AS base$", dockerfile, re.M)
    targets = set(re.findall(r"^FROM \S+ AS (\S+)$", dockerfile, re.M))
    for name, service in SERVICES.items():
        if "build" in service:
            assert service["build"]["target"] in targets, name
    assert SERVICES["localstripe"]["build"]["target"] == "demo"
    assert 'pip install ".[demo]"' in dockerfile


def test_only_the_gateway_listens_on_every_interface() -> None:
    for name, service in SERVICES.items():
        for address, port in published(service):
            if name in PUBLIC:
                continue
            assert address == "127.0.0.1", (
                f"{name} publishes {port} on {address or 'every interface'}"
            )
    assert [a for a, _ in published(SERVICES["webhook-gateway"])] == [""]
    assert [a for a, _ in published(SERVICES["crud"])] == ["127.0.0.1"]


def test_the_broker_and_the_database_are_not_published() -> None:
    # RabbitMQ's management UI lets whoever reaches it publish forged commands.
    for name in ("rabbitmq", "mysql"):
        assert "ports" not in SERVICES[name], name
    assert "15672" not in (ROOT / "compose.yaml").read_text().replace("# ", "")


def test_credentials_are_required_never_defaulted() -> None:
    text = compose_text()
    credentials = [m for m in INTERPOLATION.finditer(text) if CREDENTIAL.search(m.group(1))]
    assert {m.group(1) for m in credentials} >= {
        "TWOWAY_DATABASE_URL",
        "TWOWAY_AMQP_URL",
        "MYSQL_ROOT_PASSWORD",
        "MYSQL_PASSWORD",
        "RABBITMQ_PASSWORD",
        "STRIPE_API_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "SALESFORCE_CLIENT_SECRET",
        "TWOWAY_SALESFORCE_WEBHOOK_TOKEN",
    }
    for match in credentials:
        if match.group(1) in ("STRIPE_API_BASE", "SALESFORCE_LOGIN_URL"):  # addresses
            continue
        assert match.group(2) == ":?", f"{match.group(0)}: a credential must be required"
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    for match in credentials:
        if match.group(2) == ":?":
            assert example.get(match.group(1)) == "", f"{match.group(1)} is filled in .env.example"


def test_no_password_on_a_command_line() -> None:
    for name, service in SERVICES.items():
        check = " ".join(service.get("healthcheck", {}).get("test", []))
        command = " ".join(service.get("command", []))
        for line in (check, command):
            assert not re.search(r"PASSWORD|SECRET|\s-p\S|--password", line), (name, line)


def test_the_salesforce_override_adds_its_worker_and_the_gateways_settings() -> None:
    worker = SALESFORCE["salesforce-sync"]
    build_parser().parse_args(worker["command"][1:])
    known = settings_variables()
    assert set(worker["environment"]) <= known
    assert set(SALESFORCE["webhook-gateway"]["environment"]) <= known
    assert "ports" not in worker  # a worker: nothing published
