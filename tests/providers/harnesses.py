"""The harnesses of the providers twoway ships (``tests/providers/harness.py``: what one is).

A provider that lives in the tests registers here too, with one
``register_test_provider("tests.providers.<package>")`` line.
"""

from __future__ import annotations

from services.salesforce_sync.names import SALESFORCE
from services.stripe_sync.names import STRIPE
from tests.providers.harness import HARNESSES
from tests.providers.salesforce_harness import SalesforceHarness
from tests.providers.stripe_harness import StripeHarness

HARNESSES.register(STRIPE, StripeHarness)
HARNESSES.register(SALESFORCE, SalesforceHarness)
