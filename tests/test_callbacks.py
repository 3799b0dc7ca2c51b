"""Callback data: built within 64 bytes, parsed strictly (client data is untrusted)."""

from __future__ import annotations

import pytest

from bot import callbacks


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("home", callbacks.Callback("home")),
        ("menu:account", callbacks.Callback("menu", ("account",))),
        ("lang:fr", callbacks.Callback("lang", ("fr",))),
        ("menu", None),  # missing argument
        ("menu:a:b", None),  # too many
        ("unknown:1", None),
        ("menu:<script>", None),
        ("", None),
        (None, None),
        ("menu:" + "a" * 70, None),
    ],
)
def test_parse(data: str | None, expected: callbacks.Callback | None) -> None:
    assert callbacks.parse(data) == expected


def test_build_round_trips_and_refuses_bad_parts() -> None:
    assert callbacks.parse(callbacks.build("menu", "planning")) == callbacks.Callback(
        "menu", ("planning",)
    )
    with pytest.raises(ValueError):
        callbacks.build("menu", "a b")
    with pytest.raises(ValueError):
        callbacks.build("menu")
    with pytest.raises(ValueError):
        callbacks.build("nope")


@pytest.mark.parametrize(
    ("value", "expected"), [("12", 12), ("0", 0), ("-3", None), ("1e3", None), ("9" * 13, None)]
)
def test_int_arg(value: str, expected: int | None) -> None:
    assert callbacks.Callback("menu", (value,)).int_arg(0) == expected
