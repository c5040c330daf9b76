"""Salesforce's name in the registry, on the wire and in queue and metric names."""

from __future__ import annotations

from shared.kinds import Provider
from shared.topology import provider_queue

SALESFORCE = Provider("salesforce")
SALESFORCE_SYNC_QUEUE = provider_queue(SALESFORCE)
"""Its worker's queue."""
