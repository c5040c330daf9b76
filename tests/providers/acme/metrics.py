"""Acme's metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ACME_REQUESTS = Counter(
    "twoway_acme_requests_total", "Calls to the Acme API", ["operation", "status"]
)
ACME_LATENCY = Histogram(
    "twoway_acme_request_seconds", "Latency of calls to the Acme API", ["operation"]
)
