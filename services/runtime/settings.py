"""Settings shared by every service, read from the environment once, at start-up."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from services.runtime.amqp_url import check_url
from services.runtime.logging import LogFormat
from services.runtime.providers import RegisteredProvider
from shared.kinds import Provider
from shared.topology import DEFAULT_RETRY_DELAYS_MS, WorkQueue, work_queues

DEFAULT_DATABASE_URL = "sqlite://twoway.db"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
METRICS_PORT_SETTING = "TWOWAY_METRICS_PORT"

MetricsPort = Annotated[
    int, Field(ge=0, le=65535, validation_alias=AliasChoices(METRICS_PORT_SETTING))
]
"""Where a process serves ``/metrics`` and ``/healthz``, never on its public port; 0: nowhere.
Each role has a default of its own (crud 9102, the gateway 9103, each provider worker and the
repair job theirs), so the roles can share a host as they are."""


def _default_providers() -> tuple[Provider, ...]:
    from services.runtime.providers import default_providers

    return default_providers()


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line fit for a terminal."""


# Characters that end the user-info part of a URL early; a password may well contain them.
_USERINFO_BREAKERS = {c: f"%{ord(c):02X}" for c in "/?#@[] "}


def encode_userinfo(url: str) -> str:
    """``scheme://user:pa/ss@host/...`` -> ``scheme://user:pa%2Fss@host/...``.

    The user info runs to the LAST ``@``: a raw ``/``, ``?`` or ``#`` in a password would
    otherwise end it there, leaving part of the password to be read as a port or a path (and to
    be echoed in an error message). Already-encoded parts (``%2F``) are left as they are.
    """
    scheme, sep, rest = url.partition("://")
    userinfo, at, location = rest.rpartition("@")
    if not sep or not at:
        return url
    user, colon, password = userinfo.partition(":")
    encode = str.maketrans(_USERINFO_BREAKERS)
    return f"{scheme}://{user.translate(encode)}{colon}{password.translate(encode)}@{location}"


def normalize_database_url(value: str) -> str:
    """Accept Tortoise-style and SQLAlchemy-style URLs; return the Tortoise form.

    ``mysql+pymysql://u:p@h/db`` -> ``mysql://u:p@h/db``; ``sqlite://x.db`` is a file relative to
    the working directory, ``sqlite:///abs/x.db`` an absolute one.
    """
    value = value.strip()
    scheme, sep, rest = value.partition("://")
    if not sep:
        raise ValueError("must look like mysql://user:pass@host:3306/db or sqlite://path")
    base = scheme.split("+", 1)[0].lower()
    if base in ("mysql", "mariadb"):
        url = encode_userinfo(f"mysql://{rest}")
        parts = urlsplit(url)
        if not parts.hostname or not parts.path.strip("/"):
            raise ValueError("a MySQL URL needs a host and a database name")
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            # urllib's own message quotes the text it read as a port.
            raise ValueError("the port must be a number from 0 to 65535") from None
        return url
    if base == "sqlite":
        return f"sqlite://{rest or ':memory:'}"
    raise ValueError(f"unsupported database scheme {scheme!r} (use mysql:// or sqlite://)")


class ServiceSettings(BaseSettings):
    """Base of every service's settings: the database and the broker."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: SecretStr = Field(
        default=SecretStr(DEFAULT_DATABASE_URL),
        validation_alias=AliasChoices("TWOWAY_DATABASE_URL", "SQL_ENGINE_URI"),
    )
    amqp_url: SecretStr = Field(
        default=SecretStr(DEFAULT_AMQP_URL), validation_alias=AliasChoices("TWOWAY_AMQP_URL")
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("TWOWAY_LOG_LEVEL"))
    log_format: LogFormat = Field(
        default="json", validation_alias=AliasChoices("TWOWAY_LOG_FORMAT")
    )
    """``json`` (one object per line), ``text`` (for a person), or ``auto`` (text on a
    terminal); ``twoway dev`` defaults to ``auto``."""
    providers: Annotated[tuple[RegisteredProvider, ...], NoDecode] = Field(
        default_factory=_default_providers, validation_alias=AliasChoices("TWOWAY_PROVIDERS")
    )
    """The providers this deployment syncs with (``stripe,salesforce``): every service declares
    their workers' queues, and the API shows their sync status."""
    retry_delays_ms: tuple[int, ...] = Field(
        default=DEFAULT_RETRY_DELAYS_MS, validation_alias=AliasChoices("TWOWAY_RETRY_DELAYS_MS")
    )
    """The consumers' retry tiers. Every service declares the whole topology, whose wait
    queues are named by these delays, so all of a deployment's processes must agree."""

    @field_validator("providers", mode="before")
    @classmethod
    def _providers(cls, value: Any) -> Any:
        if isinstance(value, str):  # "stripe,salesforce", or a JSON list
            if value.lstrip().startswith("["):
                return json.loads(value)
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value

    @field_validator("providers")
    @classmethod
    def _once_each(cls, value: tuple[Provider, ...]) -> tuple[Provider, ...]:
        return tuple(dict.fromkeys(value))

    def work_queues(self) -> tuple[WorkQueue, ...]:
        return work_queues(self.providers)

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: Any) -> Any:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(raw, str):
            return SecretStr(normalize_database_url(raw))
        return value

    @field_validator("amqp_url", mode="before")
    @classmethod
    def _amqp_url(cls, value: Any) -> Any:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(raw, str):
            url = encode_userinfo(raw.strip())
            # Read as aio-pika will read it, so what passes here also connects.
            try:
                check_url(url)
            except ValueError:
                raise ValueError("must look like amqp://user:pass@host:5672/vhost") from None
            return SecretStr(url)
        return value


class HttpServiceSettings(ServiceSettings):
    """A service with an HTTP port: how much a client may hold of it, and for how long."""

    http_max_concurrency: int = Field(
        default=200, ge=1, le=100_000, validation_alias=AliasChoices("TWOWAY_HTTP_MAX_CONCURRENCY")
    )
    """Connections (or requests in progress) per process; past it, 503 at once."""
    http_keepalive_s: int = Field(
        default=5, ge=1, le=300, validation_alias=AliasChoices("TWOWAY_HTTP_KEEPALIVE_S")
    )
    """An idle connection, or one whose request head has not arrived in full, is closed then."""
    http_body_timeout_s: float = Field(
        default=10.0, gt=0, le=600, validation_alias=AliasChoices("TWOWAY_HTTP_BODY_TIMEOUT_S")
    )
    """A request body not received in full this long after its head gets 408."""


class ProviderSettings(ServiceSettings):
    """Base of a provider's one settings class, read by its worker, the gateway and the repair
    jobs: what only one of them needs is optional here and required by ``require``."""

    metrics_port: MetricsPort = 0
    """Where its worker serves ``/metrics``: each provider gives a default of its own."""

    def require(self, *names: str, provider: str = "") -> None:
        """Raise a one-line ``ConfigError`` naming the environment variable of the first of
        ``names`` that is not set."""
        for name in names:
            if getattr(self, name) is None:
                field = type(self).model_fields[name]
                alias = field.validation_alias
                env = alias.choices[0] if isinstance(alias, AliasChoices) else name.upper()
                scope = f" with {provider} in TWOWAY_PROVIDERS" if provider else ""
                raise ConfigError(f"{env} is required{scope}")


S = TypeVar("S", bound=BaseSettings)


def load(cls: type[S], **overrides: Any) -> S:
    """Build settings from the environment, turning validation errors into one ConfigError line."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            problems.append(f"{field}: {err['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None
