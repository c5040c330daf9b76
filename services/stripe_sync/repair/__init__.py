"""Stripe's side of the repair jobs: listing objects (per kind) and reading the Events API.

Every request goes through ``Caller`` in the budget's bulk lane: live sync goes first."""
