"""The outbound Stripe sync worker: customer events from the broker to Stripe.

Run it with ``twoway stripe-sync`` (as many processes as you like; they share one queue).

Configuration (environment, read once at start-up):

- ``STRIPE_API_KEY`` (or the seed design's ``STRIPE_RESTRICTED_KEY``): secret or restricted
  key; never logged.
- ``STRIPE_API_BASE``: another API address, e.g. a local fake (``http://127.0.0.1:8420``).
- ``STRIPE_RATE_LIMIT``: requests per second for the whole deployment (every process shares
  one budget through the database; see ``ratelimit``); default 25 for ``sk_test_`` /
  ``rk_test_`` keys, else 100.
- ``TWOWAY_STRIPE_SYNC_PREFETCH`` (100), ``TWOWAY_STRIPE_SYNC_DB_POOL`` (50),
  ``TWOWAY_STRIPE_TIMEOUT`` (20 s), ``TWOWAY_STRIPE_MAX_TRANSIT`` (unset; see
  ``services.runtime.budget``), ``TWOWAY_RETRY_DELAYS_MS``, plus the database and broker
  settings every service takes.

Layout: ``consumer`` (one event -> Stripe -> link row -> result), ``models`` (the worker's own
link table ``stripe_links``), ``ratelimit`` (Stripe's budget), ``results`` (``sync.result``
events), and the provider package ``stripe/`` (client, customers mapping, calls through the
budget, errors).
"""
