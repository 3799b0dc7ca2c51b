"""Writing CSV files that a spreadsheet opens without running what parents typed.

A cell starting with = + - @ (or a tab or carriage return) is read by Excel and LibreOffice as a
formula. Every CSV the bot writes goes through `safe_writer`/`neutralise`: such a cell is
prefixed with an apostrophe, which the spreadsheet shows as text. A plain number ("-12,50")
is left as it is: it is no formula.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")


def neutralise(value: Any) -> str:
    """The cell as text, never a formula (the same text again when already neutralised)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.match(text) else text


class SafeWriter:
    """A `csv.writer` whose every cell is neutralised."""

    def __init__(self, buffer: TextIO, **options: Any) -> None:
        self._writer = csv.writer(buffer, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row, each cell neutralised."""
        self._writer.writerow([neutralise(cell) for cell in row])


def safe_writer(buffer: TextIO, **options: Any) -> SafeWriter:
    """The only way the bot writes CSV (see the module)."""
    return SafeWriter(buffer, **options)
