"""LOG_FORMAT: a JSON object a line with the record's extras, and in both formats an exception
without its message (which may quote a name, a phone number, an IBAN)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logging_setup import build_formatter

SECRET_DATA = "DUPONT JEAN 06 12 34 56 78 FR7630006000011234567890189"


def _log(log_format: str) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(build_formatter(log_format))
    logger = logging.getLogger("tests.logging_setup")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        logger.info("update %s handled", 42, extra={"update_id": 42, "kinds": ("message",)})
        try:
            raise ValueError(SECRET_DATA)
        except ValueError:
            logger.exception("error on update %s", 43)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue()


def test_json_lines_carry_time_level_logger_message_and_the_extras() -> None:
    first, second = (json.loads(line) for line in _log("json").splitlines())
    assert first["level"] == "INFO" and first["logger"] == "tests.logging_setup"
    assert first["message"] == "update 42 handled"
    assert first["update_id"] == 42 and first["kinds"] == ["message"]
    assert first["time"].endswith("+00:00")
    assert second["level"] == "ERROR" and second["exception"].startswith("ValueError at ")


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_an_exception_is_logged_without_its_message(log_format: str) -> None:
    output = _log(log_format)
    assert "ValueError" in output and "test_logging_setup.py" in output  # where it happened
    for word in ("DUPONT", "06 12", "FR76"):
        assert word not in output
