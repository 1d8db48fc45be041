"""Downloads of a report table: CSV streamed row by row, XLSX written by openpyxl.

Both escape text that a spreadsheet would run as a formula (a vendor who names themself
`=HYPERLINK(…)`), as OWASP advises for CSV injection: a leading ' makes it plain text."""

import csv
import io
import re
import tempfile
from collections.abc import Iterator
from decimal import Decimal

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from .tables import Column, Table, display, label

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"  # Flask adds "; charset=utf-8" to every text/* type


def safe_text(text: str) -> str:
    """Text a spreadsheet will not evaluate."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# --- CSV -------------------------------------------------------------------------------------


def _csv_line(values: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


_NUMERIC = ("fen", "int", "pct", "date", "datetime")


def _csv_cell(column: Column, value) -> str:
    text = display(column, value)
    return text if column.kind in _NUMERIC else safe_text(text)


def csv_stream(table: Table) -> Iterator[str]:
    """A UTF-8 BOM (so Excel reads the Chinese), the header, each row as read, the totals."""
    yield "\ufeff" + _csv_line([safe_text(str(c.title)) for c in table.columns])
    for row in table.walk():
        yield _csv_line([_csv_cell(c, row.get(c.key)) for c in table.columns])
    if table.totals:
        yield _csv_line(_totals_cells(table, display, ""))


def _totals_cells(table: Table, show, blank) -> list:
    """The totals row: the sums under their columns, "Total" in the first cell."""
    cells = []
    for i, column in enumerate(table.columns):
        if column.key in table.totals:
            cells.append(show(column, table.totals[column.key]))
        else:
            cells.append(_("Total") if i == 0 else blank)
    return cells


# --- XLSX ------------------------------------------------------------------------------------

WIDTHS = {"date": 12, "datetime": 17, "fen": 12, "int": 10, "pct": 10, "text": 16}


def _xlsx_value(column: Column, value):
    if value is None:
        return None
    if column.kind == "fen":
        return Decimal(value) / 100  # a number, shown with 2 decimals; never a float sum
    if column.kind in ("int", "pct", "date"):
        return value
    if column.kind == "datetime":
        return value.replace(tzinfo=None)  # already in market time; Excel has no zones
    text = str(value) if column.kind == "text" else label(column.kind, value)
    return safe_text(text)


FORMATS = {"fen": "0.00", "pct": "0.0%", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}


def _cell(ws, column: Column, value, bold=False):
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never "f", whatever the text starts with
    if column.kind in FORMATS:
        cell.number_format = FORMATS[column.kind]
    if bold:
        cell.font = Font(bold=True)
    return cell


def xlsx_bytes(table: Table) -> bytes:
    """The workbook: one sheet, header, rows, a totals row. Write-only mode keeps rows on
    disk while it is written, so a long range does not grow the process."""
    wb = Workbook(write_only=True)
    # A sheet's name may not hold []:*?/\ and is at most 31 characters long.
    ws = wb.create_sheet(title=re.sub(r"[\[\]:*?/\\]", " ", str(table.title))[:31] or "1")
    for i, column in enumerate(table.columns):
        letter = chr(ord("A") + i) if i < 26 else "A" + chr(ord("A") + i - 26)
        ws.column_dimensions[letter].width = WIDTHS.get(column.kind, 14)
    ws.freeze_panes = "A2"
    ws.append([_cell(ws, c, safe_text(str(c.title)), bold=True) for c in table.columns])
    for row in table.walk():
        ws.append([_cell(ws, c, _xlsx_value(c, row.get(c.key))) for c in table.columns])
    totals = _totals_cells(table, _xlsx_value, None)
    if table.totals:
        ws.append([_cell(ws, c, v, bold=True) for c, v in zip(table.columns, totals, strict=True)])
    with tempfile.TemporaryFile() as handle:
        wb.save(handle)
        handle.seek(0)
        return handle.read()
