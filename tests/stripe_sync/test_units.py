"""Pieces of the worker that need no server: locks, error mapping, settings, parameters."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import stripe

from services.runtime.errors import Permanent, Retryable
from services.runtime.locks import KeyedLocks
from services.runtime.settings import ConfigError, load
from services.stripe_sync.settings import WORKER_NEEDS, StripeSettings
from services.stripe_sync.stripe.errors import RateLimited, classify
from services.stripe_sync.stripe.resource import create_params, update_params
from shared.entities.customer import CustomerData


async def test_keyed_locks_serialize_one_key_in_arrival_order_and_clean_up() -> None:
    locks = KeyedLocks()
    order: list[int] = []

    async def work(i: int) -> None:
        async with locks.hold("k"):
            await asyncio.sleep(0.001 * (5 - i))  # scenario: later arrivals finish sooner
            order.append(i)

    await asyncio.gather(*(work(i) for i in range(5)))
    assert order == [0, 1, 2, 3, 4]
    assert len(locks) == 0


def _error(cls: type[stripe.StripeError], status: int | None, **headers: str) -> Exception:
    if issubclass(cls, stripe.InvalidRequestError):
        return cls("boom", None, http_status=status, headers=headers)
    return cls("boom", http_status=status, headers=headers)


@pytest.mark.parametrize(
    ("error", "expected", "reason"),
    [
        (_error(stripe.APIConnectionError, None), Retryable, None),
        (_error(stripe.APIError, 500), Retryable, None),
        (_error(stripe.APIError, 503), Retryable, None),
        (_error(stripe.InvalidRequestError, 409), Retryable, None),
        (_error(stripe.RateLimitError, 429), RateLimited, None),
        (_error(stripe.InvalidRequestError, 400), Permanent, "stripe_400"),
        (_error(stripe.AuthenticationError, 401), Permanent, "stripe_401"),
        (_error(stripe.PermissionError, 403), Permanent, "stripe_403"),
        (_error(stripe.InvalidRequestError, 404), Permanent, "stripe_404"),
        (_error(stripe.APIError, 500, **{"Stripe-Should-Retry": "false"}), Permanent, None),
        (
            _error(stripe.RateLimitError, 429, **{"Stripe-Should-Retry": "false"}),
            Permanent,
            "stripe_429",
        ),
        (
            _error(stripe.InvalidRequestError, 400, **{"stripe-should-retry": "true"}),
            Retryable,
            None,
        ),
    ],
)
def test_stripe_errors_map_onto_the_taxonomy(
    error: stripe.StripeError, expected: type[Exception], reason: str | None
) -> None:
    mapped = classify(error)
    assert type(mapped) is expected
    if reason is not None:
        assert isinstance(mapped, Permanent) and mapped.reason == reason


def test_retry_after_is_honoured() -> None:
    mapped = classify(_error(stripe.RateLimitError, 429, **{"Retry-After": "3"}))
    assert isinstance(mapped, RateLimited) and mapped.retry_after == 3.0


def test_settings_accept_the_seed_designs_key_name_and_pick_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    monkeypatch.setenv("STRIPE_RESTRICTED_KEY", "rk_test_secret123")
    settings = load(StripeSettings)
    assert settings.rate_limit == 25
    assert "rk_test_secret123" not in repr(settings) and "rk_test_secret123" not in str(
        settings.model_dump()
    )
    monkeypatch.setenv("STRIPE_API_KEY", "sk_live_secret")
    assert load(StripeSettings).rate_limit == 100
    monkeypatch.setenv("STRIPE_RATE_LIMIT", "7")
    assert load(StripeSettings).rate_limit == 7


def test_the_worker_without_a_key_fails_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    monkeypatch.delenv("STRIPE_RESTRICTED_KEY", raising=False)
    settings = load(StripeSettings)  # the gateway's needs differ: the class alone asks nothing
    with pytest.raises(ConfigError) as raised:
        settings.require(*WORKER_NEEDS, provider="stripe")
    assert str(raised.value) == "STRIPE_API_KEY is required with stripe in TWOWAY_PROVIDERS"


def test_create_parameters_are_the_whole_snapshot_with_the_local_id() -> None:
    now = datetime.now(UTC)
    data = CustomerData(
        id="c1",
        name="Ada",
        email="ada@example.com",
        phone=None,
        metadata={"plan": "pro"},
        version=1,
        created_at=now,
        updated_at=now,
    )
    assert create_params(data) == {
        "name": "Ada",
        "email": "ada@example.com",
        "metadata": {"plan": "pro", "twoway_id": "c1"},
    }


def test_update_parameters_are_only_the_paths_given_and_unset_what_is_none() -> None:
    params = update_params("c1", {"phone": None, "metadata.team": None, "metadata.plan": "pro"})
    assert params == {
        "phone": "",
        "metadata": {"team": "", "plan": "pro", "twoway_id": "c1"},
    }
