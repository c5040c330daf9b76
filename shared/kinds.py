"""Enumerations every service agrees on, and the name of a change's origin."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Final, Literal, TypeAlias

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema


class EntityKind(StrEnum):
    """Entity kinds twoway syncs. A new kind is a new slice plus one registry line."""

    CUSTOMER = "customer"
    PRODUCT = "product"


class Action(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


PROVIDER_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


class Provider(str):
    """The name of a service twoway syncs with (a registered provider package's); a change's
    origin is one of them, or the app. Which names exist is the providers' registry's to say
    (``services.runtime.providers``): the wire contract only fixes their shape."""

    __slots__ = ()

    def __new__(cls, name: str) -> Provider:
        if not PROVIDER_NAME.match(name):
            raise ValueError(f"{name!r} is not a provider name (lowercase letters, digits, _)")
        return super().__new__(cls, name)

    @property
    def value(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Provider({str.__repr__(self)})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls,
            core_schema.str_schema(pattern=PROVIDER_NAME.pattern),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )


APP: Final = "app"
"""The origin of a change made through the app's own API."""

Origin: TypeAlias = Literal["app"] | Provider
"""Where a change came from: the app (``"app"``) or the provider it was made at."""
