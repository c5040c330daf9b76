"""Salesforce's metrics. Their names predate the provider registry and are kept: dashboards
scrape them."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SALESFORCE_REQUESTS = Counter(
    "twoway_salesforce_requests_total",
    "Calls to the Salesforce REST API",
    ["operation", "status"],
)
SALESFORCE_LATENCY = Histogram(
    "twoway_salesforce_request_seconds", "Latency of calls to the Salesforce API", ["operation"]
)
SALESFORCE_API_USAGE = Gauge(
    "twoway_salesforce_api_usage",
    "The org's API use over the last 24 h, from the Sforce-Limit-Info header",
    ["quantity"],
)
