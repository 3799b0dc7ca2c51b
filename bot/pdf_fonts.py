"""The font of every PDF the bot makes: DejaVu Sans, a TTF with every French letter (é, œ, Œ, €, ’).

The font comes from the Debian package `fonts-dejavu-core` (installed by `make install` and by
CI); `PDF_FONT_DIR` points elsewhere if needed. Its glyphs are embedded (subset) in each PDF,
so the reader needs no font of its own. A character the font lacks (a Chinese name, an emoji)
is drawn as its plain letter when it has one, "?" otherwise, rather than breaking the document.
"""

from __future__ import annotations

import os
import unicodedata
from functools import cache
from pathlib import Path

from fpdf import FPDF

FAMILY = "DejaVu"
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
REGULAR, BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
INSTALL_HINT = (
    "install it with `apt-get install -y fonts-dejavu-core` (as root), or set PDF_FONT_DIR"
)


class FontMissing(RuntimeError):
    """The DejaVu Sans files are not on this machine."""


def font_dir() -> Path:
    """The folder holding DejaVuSans.ttf and DejaVuSans-Bold.ttf."""
    configured = os.environ.get("PDF_FONT_DIR")
    for folder in ((Path(configured),) if configured else ()) + FONT_DIRS:
        if (folder / REGULAR).is_file() and (folder / BOLD).is_file():
            return folder
    raise FontMissing(f"the PDF font DejaVu Sans ({REGULAR}) was not found: {INSTALL_HINT}")


def use_fonts(pdf: FPDF) -> str:
    """Register the regular and bold faces on a document; returns the family name to set."""
    folder = font_dir()
    pdf.add_font(FAMILY, "", str(folder / REGULAR))
    pdf.add_font(FAMILY, "B", str(folder / BOLD))
    return FAMILY


@cache
def _covered() -> frozenset[int]:
    from fontTools.ttLib import TTFont  # a dependency of fpdf2

    covered: set[int] = set()
    for name in (REGULAR, BOLD):
        font = TTFont(str(font_dir() / name), lazy=True)
        try:
            cmap = font.getBestCmap() or {}
            covered.update(cmap) if not covered else covered.intersection_update(cmap)
        finally:
            font.close()
    return frozenset(covered)


def printable(text: str) -> str:
    """The text with every character the font cannot draw replaced (see the module doc)."""
    covered = _covered()
    if all(ord(char) in covered or char in "\n\r\t" for char in text):
        return text
    out = []
    for char in text:
        if ord(char) in covered or char in "\n\r\t":
            out.append(char)
            continue
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append(plain if plain and all(ord(c) in covered for c in plain) else "?")
    return "".join(out)
