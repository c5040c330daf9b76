"""Which authentic Stripe events belong to this deployment.

A signature proves Stripe sent an event, not that it is ours to apply: the same endpoint secret
can be configured on a test-mode and a live-mode endpoint, and a Connect platform receives its
connected accounts' events too. Such events are answered 2xx (Stripe must not retry them) and
ignored, with a log line and their own outcome in ``twoway_webhooks_total``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LIVEMODE_MISMATCH = "livemode_mismatch"
UNKNOWN_ACCOUNT = "unknown_account"


def out_of_scope(event: Mapping[str, Any], live: bool, accounts: frozenset[str]) -> str | None:
    """Why ``event`` is not this deployment's to apply, or None when it is.

    ``live``: the deployment's mode. ``accounts``: the Connect accounts it serves besides its
    own (an event of the platform's own account carries no ``account``).
    """
    livemode = event.get("livemode")
    if isinstance(livemode, bool) and livemode != live:
        return LIVEMODE_MISMATCH
    account = event.get("account")
    if account is not None and account not in accounts:
        return UNKNOWN_ACCOUNT
    return None
