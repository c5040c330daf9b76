"""Stripe's metrics. Their names predate the provider registry and are kept: dashboards scrape
them."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

STRIPE_REQUESTS = Counter(
    "twoway_stripe_requests_total", "Calls to the Stripe API", ["operation", "status"]
)
STRIPE_LATENCY = Histogram(
    "twoway_stripe_request_seconds", "Latency of calls to the Stripe API", ["operation"]
)
