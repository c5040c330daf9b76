"""Every Stripe request goes through ``Caller``: the rate budget, the metrics, then the error
mapping.

Each request takes a slot of the deployment's budget in its lane: ``live`` (the default: API
writes, inbound-triggered work) before ``bulk`` (reconcile, catch-up, audit).

A 429 pauses the whole budget, so every process of the deployment, for Stripe's
``Retry-After`` (else ``DEFAULT_PAUSE_S``) and tries the same request again (the same
idempotency key, so it is safe), a few times: a burst over the limit slows the deployment down
instead of failing messages. ``Stripe-Should-Retry: false`` is obeyed (no retry, Permanent).
Anything else is raised in the runtime's taxonomy and left to the worker's one retry policy.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import stripe

from services.runtime.budget import Lane, LaneBudget
from services.runtime.errors import Permanent, Retryable
from services.stripe_sync.metrics import STRIPE_LATENCY, STRIPE_REQUESTS
from services.stripe_sync.stripe.errors import (
    RateLimited,
    classify,
    is_rate_limited,
    retry_after,
    status_label,
)

T = TypeVar("T")

RATE_LIMITED_TRIES = 4
DEFAULT_PAUSE_S = 1.0
SUCCESS_STATUS = "200"  # Stripe answers every successful request with 200


class Caller:
    def __init__(self, budget: LaneBudget) -> None:
        self.budget = budget

    async def __call__(
        self,
        operation: str,
        request: Callable[[], Awaitable[T]],
        accept: Callable[[stripe.StripeError], T | None] | None = None,
        *,
        lane: Lane = "live",
    ) -> T:
        """Run ``request``; ``accept`` may turn a Stripe error into a result (else None).

        ``operation`` (e.g. ``customers.create``) labels the request's metrics.
        """
        error: Retryable | Permanent | None = None
        for _ in range(RATE_LIMITED_TRIES):
            async with self.budget.slot(lane):
                try:
                    return await self._measured(operation, request)
                except stripe.StripeError as exc:
                    if accept is not None and (accepted := accept(exc)) is not None:
                        return accepted
                    if is_rate_limited(exc):
                        self.budget.slow_down(retry_after(exc.headers) or DEFAULT_PAUSE_S)
                    error = classify(exc)
                    cause: stripe.StripeError = exc
            if not isinstance(error, RateLimited):
                raise error from cause
        assert error is not None
        raise error from cause

    @staticmethod
    async def _measured(operation: str, request: Callable[[], Awaitable[T]]) -> T:
        """One request, counted by status and timed from sending (not from the budget's wait).

        A request cancelled on its way has no status: it is neither counted nor timed.
        """
        started = time.perf_counter()
        try:
            result = await request()
        except stripe.StripeError as exc:
            _observe(operation, status_label(exc), started)
            raise
        _observe(operation, SUCCESS_STATUS, started)
        return result


def _observe(operation: str, status: str, started: float) -> None:
    STRIPE_LATENCY.labels(operation).observe(time.perf_counter() - started)
    STRIPE_REQUESTS.labels(operation, status).inc()
