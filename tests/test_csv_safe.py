"""CSV cells a spreadsheet would run as formulas are neutralised, in every CSV the bot writes."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from bot.csv_safe import neutralise, safe_writer

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ('=HYPERLINK("http://x","clic")', '\'=HYPERLINK("http://x","clic")'),
        ("+33 6 12 34 56 78", "'+33 6 12 34 56 78"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("DUPONT", "DUPONT"),
        ("arachides, lait", "arachides, lait"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_cell_that_would_run_as_a_formula_is_written_as_text(
    typed: str | None, written: str
) -> None:
    assert neutralise(typed) == written


def test_the_safe_writer_neutralises_every_cell() -> None:
    buffer = io.StringIO()
    safe_writer(buffer, delimiter=";", lineterminator="\n").writerow(["=1+1", "LUCAS", "@x"])
    assert buffer.getvalue() == "'=1+1;LUCAS;'@x\n"


def test_no_csv_is_written_but_through_the_safe_writer() -> None:
    offenders = []
    for path in [
        *ROOT.glob("bot/**/*.py"),
        *ROOT.glob("conversations/**/*.py"),
        *ROOT.glob("storage/**/*.py"),
    ]:
        if path.name == "csv_safe.py":
            continue
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8")):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
