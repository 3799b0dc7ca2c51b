"""Reading the spreadsheets staff bring, writing the ones the bot hands out.

Reading: a CSV exported by a spreadsheet or by the commune's software (UTF-8, with or without
BOM, or the Windows-1252 that French Excel writes; `;` or `,` or tab separated, detected from
the header line) or an `.xlsx` workbook (its first sheet). Every cell comes back as text, with
the line number a person sees in the spreadsheet (the header is line 1).

Writing: CSV for Excel in France (`;`, CRLF, UTF-8 with BOM). A text cell that a spreadsheet
would run as a formula (starting with = + - @, a tab or a carriage return) gets a leading
apostrophe, so that a name typed by a parent can never become a formula on a staff computer.
Pure functions: bytes in, bytes out.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.csv_safe import neutralise, safe_writer

MAX_ROWS = 100_000
_ZIP_MAGIC = b"PK\x03\x04"


class TableError(ValueError):
    """The file cannot be read as a table; `code` says why ("empty", "unreadable", "too_big")."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Row:
    """One line of the table: its number in the spreadsheet and its cells, as text."""

    line: int
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A header row and the lines below it (empty lines left out)."""

    headers: tuple[str, ...]
    rows: tuple[Row, ...]
    encoding: str
    """"utf-8", "windows-1252" or "xlsx"."""
    delimiter: str | None = None


def read_table(content: bytes, filename: str = "") -> Table:
    """The table in a CSV or .xlsx file (see the module doc); raises `TableError`."""
    if filename.lower().endswith(".xlsx") or content.startswith(_ZIP_MAGIC):
        return _read_xlsx(content)
    return _read_csv(content)


def _decode(content: bytes) -> tuple[str, str]:
    try:
        return content.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:  # bytes cp1252 leaves undefined: read them as Latin-1
        return content.decode("latin-1"), "windows-1252"


def _delimiter(first_line: str) -> str:
    counts = {delimiter: first_line.count(delimiter) for delimiter in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def _read_csv(content: bytes) -> Table:
    text, encoding = _decode(content)
    if not text.strip():
        raise TableError("empty")
    first_line = text.lstrip("\r\n").splitlines()[0]
    delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers: tuple[str, ...] | None = None
    rows: list[Row] = []
    try:
        for cells in reader:
            values = tuple(cell.strip() for cell in cells)
            if not any(values):
                continue
            if headers is None:
                headers = values
                continue
            rows.append(Row(reader.line_num, values))
            if len(rows) > MAX_ROWS:
                raise TableError("too_big")
    except csv.Error as exc:
        raise TableError("unreadable") from exc
    if headers is None:
        raise TableError("empty")
    return Table(headers, tuple(rows), encoding, delimiter)


def _read_xlsx(content: bytes) -> Table:
    from openpyxl import load_workbook  # imported late: only for .xlsx files

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (zip, XML, key errors) for a bad file
        raise TableError("unreadable") from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise TableError("empty")
        headers: tuple[str, ...] | None = None
        rows: list[Row] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = tuple(_cell_text(value) for value in values)
            if not any(cells):
                continue
            if headers is None:
                headers = cells
                continue
            rows.append(Row(number, cells))
            if len(rows) > MAX_ROWS:
                raise TableError("too_big")
    finally:
        workbook.close()
    if headers is None:
        raise TableError("empty")
    return Table(headers, tuple(rows), "xlsx")


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return (
            value.date().strftime("%d/%m/%Y")
            if value.time() == dt.time()
            else value.strftime("%d/%m/%Y %H:%M")
        )
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value).strip()


# --- writing ---------------------------------------------------------------------------------


def safe_cell(value: object) -> str:
    """A cell's text (amounts the French way), neutralised when it would read as a formula."""
    if isinstance(value, Decimal):
        return format_amount(value)
    return neutralise(value)


def format_amount(amount: Decimal) -> str:
    """An amount as French spreadsheets read it: "1234,50" (no thousands separator)."""
    return f"{amount.quantize(Decimal('0.01')):f}".replace(".", ",")


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A CSV for Excel in France, every cell made safe."""
    buffer = io.StringIO()
    writer = safe_writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([safe_cell(header) for header in headers])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, title: str = "Feuil1"
) -> bytes:
    """A one-sheet workbook, every cell as text (so that N° famille and phones keep their zeros)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.worksheets[0]  # the one sheet a new workbook has
    sheet.title = title
    table: list[Sequence[object]] = [headers, *rows]
    for row in table:
        sheet.append([safe_cell(cell) for cell in row])
    for cells in sheet.iter_rows():
        for cell in cells:
            cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
