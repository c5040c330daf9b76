"""Building the Stripe SDK's async client (never the global ``stripe.api_key``)."""

from __future__ import annotations

import stripe


def build_client(
    api_key: str, api_base: str | None, timeout_s: float
) -> tuple[stripe.StripeClient, stripe.HTTPXClient]:
    """A client and its HTTP transport; close the transport with ``close_async()``.

    The SDK's own retries are off: retrying is the worker's decision (one policy).
    """
    http_client = stripe.HTTPXClient(timeout=timeout_s)
    client = stripe.StripeClient(
        api_key,
        http_client=http_client,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=0,
    )
    return client, http_client
