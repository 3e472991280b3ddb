"""Publish format: ``data/newstables.xlsx``, one Excel workbook for readers who never open a
CSV: a README sheet (what the data is, every column described), then one sheet per table.

Cells keep their types: dates are real Excel dates, booleans real TRUE/FALSE, integers
numbers. Every text is written with ``write_string``, so a text that starts with ``=``,
``+``, ``-`` or ``@`` stays text (and carries Excel's quote prefix, so editing the cell
does not turn it into a formula either). The workbook is byte-reproducible: its document
properties are fixed (``created`` comes from package.yaml, never the clock) and
xlsxwriter writes the zip entries with a fixed timestamp.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from newstables.core.model import Package
from newstables.errors import NewstablesError
from newstables.metadata import file_resource
from newstables.tables import Table

XLSX_FILE = Path("data/newstables.xlsx")
README_SHEET = "README"
FORMULA_TRIGGERS = ("=", "+", "-", "@")
MAX_CELL_TEXT = 32767  # Excel's limit on the characters of one cell
MAX_WIDTH = 60


def created_datetime(package: Package) -> dt.datetime:
    """``created`` of package.yaml as a naive UTC datetime (xlsxwriter's document date)."""
    created = dt.datetime.fromisoformat(package.created.replace("Z", "+00:00"))
    if created.tzinfo is not None:
        created = created.astimezone(dt.UTC).replace(tzinfo=None)
    return created


class Formats:
    """The few cell formats of the workbook."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.header = book.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.text_literal = book.add_format({"quote_prefix": True})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.title = book.add_format({"bold": True, "font_size": 14})


def write_cell(sheet: Worksheet, row: int, col: int, value: Any, formats: Formats, where: str) -> None:
    """One cell with its own type; empty values stay empty cells."""
    if value is None or value == "":
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int):
        sheet.write_number(row, col, value)
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), formats.date)
    else:
        text = str(value)
        if len(text) > MAX_CELL_TEXT:
            raise NewstablesError(
                "xlsx-cell-too-long", file=XLSX_FILE.as_posix(), record=where, found=len(text)
            )
        literal = formats.text_literal if text.startswith(FORMULA_TRIGGERS) else None
        sheet.write_string(row, col, text, literal)


def column_width(table: Table, name: str) -> int:
    """A readable column width: the longest of header and values, capped."""
    longest = max([len(name), *(len(str(row[name] or "")) for row in table.rows[:200])])
    return min(max(longest + 2, 8), MAX_WIDTH)


def write_table_sheet(book: xlsxwriter.Workbook, table: Table, formats: Formats) -> None:
    """A sheet with the header row frozen and filterable, one row per table row."""
    sheet = book.add_worksheet(table.name[:31])
    for col, name in enumerate(table.columns):
        sheet.write_string(0, col, name, formats.header)
        sheet.set_column(col, col, column_width(table, name))
    key = table.primary_key
    for number, row in enumerate(table.rows, start=1):
        where = "/".join(str(row[k]) for k in key)
        for col, name in enumerate(table.columns):
            write_cell(sheet, number, col, row[name], formats, f"{table.name} {where} {name}")
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(table.rows), 1), len(table.columns) - 1)


def write_readme_sheet(
    book: xlsxwriter.Workbook, package: Package, tables: dict[str, Table], formats: Formats
) -> None:
    """The README sheet: title, version, description, licence, then every column described."""
    sheet = book.add_worksheet(README_SHEET)
    licences = "; ".join(f"{lic['name']} ({lic.get('path', '')})" for lic in package.licenses)
    intro = [
        (package.title, formats.title),
        (f"Version {package.version}, released {package.release_date}.", None),
        (" ".join(package.description.split()), formats.wrap),
        (f"Licence: {licences}", None),
        ("One sheet per table; the columns of every sheet are described below.", None),
    ]
    for number, (text, fmt) in enumerate(intro):
        sheet.write_string(number, 0, text, fmt)
    start = len(intro) + 1
    header = ["table", "column", "type", "required", "description"]
    for col, name in enumerate(header):
        sheet.write_string(start, col, name, formats.header)
    number = start + 1
    for table in tables.values():
        sheet.write_string(number, 0, table.name)
        sheet.write_string(number, 4, table.resource.description, formats.wrap)
        number += 1
        for spec in table.resource.fields:
            sheet.write_string(number, 0, table.name)
            sheet.write_string(number, 1, spec.name)
            sheet.write_string(number, 2, spec.type)
            sheet.write_boolean(number, 3, spec.required)
            sheet.write_string(number, 4, spec.description, formats.wrap)
            number += 1
    sheet.set_column(0, 0, 20)
    sheet.set_column(1, 1, 22)
    sheet.set_column(2, 3, 9)
    sheet.set_column(4, 4, 100)
    sheet.freeze_panes(start + 1, 0)


def write_xlsx(tables: dict[str, Table], package: Package, staging: Path) -> list[dict[str, Any]]:
    """Write ``data/newstables.xlsx`` under ``staging``; return its datapackage resource.

    Example: open ``data/newstables.xlsx`` in Excel, LibreOffice or Numbers.
    """
    path = staging / XLSX_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(str(path), options)
    book.set_properties(
        {
            "title": package.title,
            "subject": f"{package.name} {package.version}",
            "author": ", ".join(str(c.get("title", "")) for c in package.contributors),
            "comments": "Generated by newstables from the release metadata; do not edit.",
            "created": created_datetime(package),
        }
    )
    formats = Formats(book)
    write_readme_sheet(book, package, tables, formats)
    for table in tables.values():
        write_table_sheet(book, table, formats)
    book.close()
    return [
        file_resource(
            staging,
            XLSX_FILE,
            name="workbook",
            format="xlsx",
            mediatype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            title="Excel workbook",
            description="Every table as a sheet (real dates and booleans, frozen header row) and a "
            "README sheet describing every column.",
        )
    ]
