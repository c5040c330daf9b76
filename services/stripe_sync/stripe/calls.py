"""Every Stripe request goes through ``Caller``: the rate budget, the metrics, then the error
mapping.

A 429 pauses the whole worker for Stripe's ``Retry-After`` and tries the same request again
(the same idempotency key, so it is safe), a few times: a burst over the limit slows the
worker down instead of failing messages. Anything else is raised in the runtime's taxonomy
and left to the worker's one retry policy.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import stripe

from services.runtime.errors import Permanent, Retryable
from services.runtime.metrics import STRIPE_LATENCY, STRIPE_REQUESTS
from services.stripe_sync.ratelimit import RateLimiter
from services.stripe_sync.stripe.errors import RateLimited, classify, status_label

T = TypeVar("T")

RATE_LIMITED_TRIES = 4
DEFAULT_PAUSE_S = 1.0
SUCCESS_STATUS = "200"  # Stripe answers every successful request with 200


class Caller:
    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def __call__(
        self,
        operation: str,
        request: Callable[[], Awaitable[T]],
        accept: Callable[[stripe.StripeError], T | None] | None = None,
    ) -> T:
        """Run ``request``; ``accept`` may turn a Stripe error into a result (else None).

        ``operation`` (e.g. ``customers.create``) labels the request's metrics.
        """
        error: Retryable | Permanent | None = None
        for _ in range(RATE_LIMITED_TRIES):
            async with self.limiter.slot():
                try:
                    return await self._measured(operation, request)
                except stripe.StripeError as exc:
                    if accept is not None and (accepted := accept(exc)) is not None:
                        return accepted
                    error = classify(exc)
                    cause: stripe.StripeError = exc
            if not isinstance(error, RateLimited):
                raise error from cause
            self.limiter.slow_down(error.retry_after or DEFAULT_PAUSE_S)
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
