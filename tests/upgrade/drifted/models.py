"""A model changed without its migration: ``nickname`` is in the model, not in the files."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Gadget(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=50)
    nickname = fields.CharField(max_length=50, null=True)

    class Meta:
        table = "gadgets"
