"""The core tables' schema history: entities, outbox, inbox, links, conflicts, API keys,
repair state and the shared rate budgets. Providers keep their own in their packages.

Write a migration with ``twoway migrate --make NAME`` after changing a model, then make each
operation repeatable where Tortoise's is not (see the README's "Writing migrations")."""

APP = "twoway"
