"""Log lines: JSON for services, text for a person at a terminal, never uvicorn's ANSI copy."""

from __future__ import annotations

import json
import logging

import pytest

from services.runtime.logging import JsonFormatter, TextFormatter, configure_logging


def _record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord(
        "services.stripe_sync.main", logging.WARNING, __file__, 1, "retrying %s", ("later",), None
    )
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_lines_carry_the_extras_but_not_uvicorns_coloured_copy() -> None:
    line = JsonFormatter("stripe_sync").format(
        _record(attempt=2, color_message="\x1b[36mretrying\x1b[0m")
    )
    entry = json.loads(line)
    assert entry["msg"] == "retrying later"
    assert entry["attempt"] == 2
    assert entry["service"] == "stripe_sync"
    assert "color_message" not in entry


def test_text_lines_read_as_one_sentence_with_key_values() -> None:
    line = TextFormatter().format(_record(attempt=2, color_message="\x1b[36m"))
    assert not line.startswith("{")
    assert "\x1b" not in line
    assert "WARNING" in line
    assert "stripe_sync" in line and "services." not in line
    assert line.endswith("retrying later  attempt=2")


@pytest.mark.parametrize(("fmt", "formatter"), [("text", TextFormatter), ("json", JsonFormatter)])
def test_the_format_is_chosen_at_configuration(fmt: str, formatter: type) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("dev", "INFO", fmt)  # type: ignore[arg-type]
        assert isinstance(root.handlers[0].formatter, formatter)
        configure_logging("dev", "INFO", "auto")  # pytest's stderr is no terminal
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
