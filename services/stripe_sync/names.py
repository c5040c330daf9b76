"""Stripe's name in the registry, on the wire and in queue and metric names."""

from __future__ import annotations

from shared.kinds import Provider
from shared.topology import provider_queue

STRIPE = Provider("stripe")
STRIPE_SYNC_QUEUE = provider_queue(STRIPE)
"""Its worker's queue."""
