"""A provider's settings are needed only when it is enabled, and only by the role that uses
them; a missing one is one line naming its variable."""

from __future__ import annotations

import pytest
from starlette.routing import Route

from services.runtime.settings import ConfigError, load
from services.webhook_gateway.app import create_app, provider_settings
from services.webhook_gateway.settings import GatewaySettings

SALESFORCE_ONLY = {
    "TWOWAY_PROVIDERS": "salesforce",
    "SALESFORCE_ORG_ID": "00D000000000001AAA",
    "TWOWAY_SALESFORCE_WEBHOOK_TOKEN": "a-token-of-sixteen-chars",
}
VARIABLES = (
    "STRIPE_WEBHOOK_SECRET",
    "WEBHOOK_SECRET",
    "STRIPE_API_KEY",
    "STRIPE_RESTRICTED_KEY",
    "TWOWAY_STRIPE_MODE",
    "SALESFORCE_LOGIN_URL",
    "SALESFORCE_CLIENT_ID",
    "SALESFORCE_CLIENT_SECRET",
    *SALESFORCE_ONLY,
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_gateway_serving_salesforce_alone_needs_no_stripe_secret(
    env: pytest.MonkeyPatch,
) -> None:
    for name, value in SALESFORCE_ONLY.items():
        env.setenv(name, value)
    settings = load(GatewaySettings)
    assert list(provider_settings(settings)) == ["salesforce"]
    paths = [r.path for r in create_app(settings).routes if isinstance(r, Route)]
    assert "/webhooks/salesforce/{token}" in paths
    assert not any(p.startswith("/webhooks/stripe") for p in paths)


def test_an_enabled_provider_missing_its_secret_is_one_line_naming_the_variable(
    env: pytest.MonkeyPatch,
) -> None:
    env.setenv("TWOWAY_PROVIDERS", "stripe")
    env.setenv("TWOWAY_STRIPE_MODE", "test")
    with pytest.raises(ConfigError) as raised:
        create_app(load(GatewaySettings))
    message = str(raised.value)
    assert message == "STRIPE_WEBHOOK_SECRET is required with stripe in TWOWAY_PROVIDERS"


def test_an_enabled_salesforce_missing_its_org_names_the_variable(env: pytest.MonkeyPatch) -> None:
    env.setenv("TWOWAY_PROVIDERS", "salesforce")
    with pytest.raises(ConfigError, match=r"^SALESFORCE_ORG_ID is required"):
        create_app(load(GatewaySettings))


def test_the_gateway_needs_none_of_the_workers_credentials(env: pytest.MonkeyPatch) -> None:
    """One settings class per provider, shared by worker and gateway: what only the worker
    needs (the API key, the OAuth client) is not asked of the gateway."""
    for name, value in SALESFORCE_ONLY.items():
        env.setenv(name, value)
    env.setenv("TWOWAY_PROVIDERS", "stripe,salesforce")
    env.setenv("STRIPE_WEBHOOK_SECRET", "whsec_x")
    env.setenv("TWOWAY_STRIPE_MODE", "live")
    assert list(provider_settings(load(GatewaySettings))) == ["stripe", "salesforce"]


def test_an_unknown_provider_is_one_line_naming_the_known_ones(env: pytest.MonkeyPatch) -> None:
    env.setenv("TWOWAY_PROVIDERS", "stripe,hubspot")
    with pytest.raises(ConfigError) as raised:
        load(GatewaySettings)
    assert "'hubspot'" in str(raised.value) and "stripe, salesforce" in str(raised.value)
