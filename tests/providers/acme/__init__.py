"""Acme, a small CRM that lives only in the tests: a third provider, registered from
``tests/conftest.py`` with one line, synced through the same plug-in point as Stripe and
Salesforce. ``server`` is its HTTP service (run in-process); the rest is its provider package,
shaped like ``services/salesforce_sync``."""
