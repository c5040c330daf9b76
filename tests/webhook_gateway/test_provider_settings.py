"""A provider's settings are needed only when it is enabled; a missing one names its variable."""

from __future__ import annotations

import pytest

from services.runtime.settings import ConfigError, load
from services.webhook_gateway.settings import GatewaySettings

SALESFORCE_ONLY = {
    "TWOWAY_PROVIDERS": "salesforce",
    "SALESFORCE_ORG_ID": "00D000000000001AAA",
    "TWOWAY_SALESFORCE_WEBHOOK_TOKEN": "a-token-of-sixteen-chars",
}
STRIPE_VARIABLES = (
    "STRIPE_WEBHOOK_SECRET",
    "WEBHOOK_SECRET",
    "STRIPE_API_KEY",
    "TWOWAY_STRIPE_MODE",
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*STRIPE_VARIABLES, *SALESFORCE_ONLY, "STRIPE_RESTRICTED_KEY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_gateway_serving_salesforce_alone_needs_no_stripe_secret(
    env: pytest.MonkeyPatch,
) -> None:
    for name, value in SALESFORCE_ONLY.items():
        env.setenv(name, value)
    settings = load(GatewaySettings)
    assert settings.webhook_secrets == ()
    assert [p.value for p in settings.providers] == ["salesforce"]


def test_an_enabled_provider_missing_its_secret_is_one_line_naming_the_variable(
    env: pytest.MonkeyPatch,
) -> None:
    env.setenv("TWOWAY_PROVIDERS", "stripe")
    env.setenv("TWOWAY_STRIPE_MODE", "test")
    with pytest.raises(ConfigError) as raised:
        load(GatewaySettings)
    message = str(raised.value)
    assert "STRIPE_WEBHOOK_SECRET" in message and "\n" not in message, message


def test_an_enabled_salesforce_missing_its_org_names_the_variables(env: pytest.MonkeyPatch) -> None:
    env.setenv("TWOWAY_PROVIDERS", "salesforce")
    with pytest.raises(ConfigError, match="SALESFORCE_ORG_ID"):
        load(GatewaySettings)
