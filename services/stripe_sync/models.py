"""The worker's own record of what it applied at Stripe.

One row per local entity: its Stripe id (once created), the newest version applied, and
whether it is deleted. The row is also the lock that serializes work on one entity across
worker processes (``SELECT ... FOR UPDATE`` for the whole handling of one event).
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class StripeLink(Model):
    id = fields.BigIntField(primary_key=True)
    entity = fields.CharField(max_length=32)
    entity_id = fields.CharField(max_length=64)
    external_id = fields.CharField(max_length=255, null=True)
    version = fields.IntField(default=0)
    deleted = fields.BooleanField(default=False)
    # Metadata keys last written to Stripe: a key dropped locally is unset there on update.
    metadata_keys: fields.Field[list[str]] = fields.JSONField(default=list)
    # The entity first reached us as a change made in Stripe: it exists there, but its id was
    # never told to this worker, so creating it again would duplicate it: look it up instead.
    from_provider = fields.BooleanField(default=False)
    # Its email as Stripe last told us (a change from Stripe): how to find it there again.
    provider_email = fields.CharField(max_length=254, null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "stripe_links"
        unique_together = (("entity", "entity_id"),)


MODELS_MODULE = __name__
