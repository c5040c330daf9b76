"""Logs: one JSON object per line for services, carrying ids passed in ``extra``; plain text
lines for a person reading a terminal (``twoway dev``, or ``TWOWAY_LOG_FORMAT=text``)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["json", "text", "auto"]

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# uvicorn passes an ANSI-coloured copy of its messages along: never worth printing.
_DROPPED = {"color_message"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD and key not in _DROPPED and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(_extras(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """``21:20:04.725 WARNING stripe_sync  retrying later  attempt=2 tier=1000``"""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created).strftime("%H:%M:%S.%f")[:-3]
        where = record.name.removeprefix("services.").removesuffix(".main")
        pairs = " ".join(f"{key}={value}" for key, value in _extras(record).items())
        line = f"{ts} {record.levelname:<7} {where:<28} {record.getMessage()}"
        if pairs:
            line = f"{line}  {pairs}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def configure_logging(service: str, level: str = "INFO", fmt: LogFormat = "json") -> None:
    """Log to stderr; ``auto`` is text on a terminal and JSON otherwise."""
    if fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextFormatter() if fmt == "text" else JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries' chatter at INFO would drown the events operators follow.
    from services.runtime.providers import plugins

    providers = [name for p in plugins().values() for name in p.quiet_loggers]
    for noisy in ("aiormq", "aio_pika", "tortoise", "uvicorn.access", "httpx", *providers):
        logging.getLogger(noisy).setLevel(logging.WARNING)
