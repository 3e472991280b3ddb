"""The Excel workbook (data/newstables.xlsx): a README sheet, one sheet per table with the same
rows as the CSV files, typed cells, a frozen header, formula triggers kept as text, and the
same bytes on every build."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest

from newstables.core.model import Package, load_model, parse_schema
from newstables.errors import NewstablesError
from newstables.project import Project
from newstables.publish_xlsx import MAX_CELL_TEXT, XLSX_FILE, write_xlsx
from newstables.tables import Table
from tests.conftest import REPO

PROJECT = Project(REPO)
PACKAGE = load_model(REPO).package
SCHEMAS = {r.name: r.descriptor() for r in load_model(REPO).resources}
WORKBOOK = REPO / XLSX_FILE


@pytest.fixture(scope="module")
def book() -> openpyxl.Workbook:
    return openpyxl.load_workbook(WORKBOOK)


def expected_rows(table: str) -> list[list[Any]]:
    """The table's rows from the DuckDB file, as openpyxl reads cells back."""
    con = duckdb.connect(str(REPO / "data/newstables.duckdb"), read_only=True)
    key = ", ".join(SCHEMAS[table]["primaryKey"])
    rows = con.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
    con.close()

    def cell(value: Any) -> Any:
        if isinstance(value, dt.date):
            return dt.datetime.combine(value, dt.time())
        return value

    return [[cell(v) for v in row] for row in rows]


def test_the_workbook_has_a_readme_sheet_then_one_sheet_per_table(book: openpyxl.Workbook) -> None:
    assert book.sheetnames == ["README", *SCHEMAS]


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_each_sheet_holds_the_table_typed_with_a_frozen_header(book: openpyxl.Workbook, table: str) -> None:
    sheet = book[table]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == [f["name"] for f in SCHEMAS[table]["fields"]]
    assert values[1:] == expected_rows(table)
    assert sheet.freeze_panes == "A2"
    types = {f["name"]: f["type"] for f in SCHEMAS[table]["fields"]}
    for column, name in enumerate(values[0]):
        cells = [row[column] for row in values[1:] if row[column] is not None]
        python_type = {"boolean": bool, "date": dt.datetime, "integer": int, "string": str}[types[name]]
        assert all(type(c) is python_type for c in cells), (table, name)


def test_the_readme_sheet_describes_every_column(book: openpyxl.Workbook) -> None:
    described = {(row[0], row[1]) for row in book["README"].iter_rows(values_only=True) if row[1]}
    for table, schema in SCHEMAS.items():
        assert {(table, f["name"]) for f in schema["fields"]} <= described


def tiny_table() -> Table:
    schema = {
        "fields": [
            {"name": "row_id", "type": "string", "title": "Row", "description": "id"},
            {"name": "text", "type": "string", "title": "Text", "description": "text"},
        ],
        "primaryKey": ["row_id"],
    }
    entry = {"name": "tiny", "title": "Tiny", "description": "A test table."}
    texts = ["=1+1", "+44 20 7946 0000", "-5 degrees", "@here", '=HYPERLINK("http://x")', "plain"]
    rows = [{"row_id": f"r{i}", "text": t} for i, t in enumerate(texts)]
    return Table("tiny", parse_schema(schema, "schemas/tiny.schema.json", entry), rows=rows)


def tiny_metadata() -> Package:
    return PACKAGE


def test_text_that_starts_with_a_formula_trigger_stays_text(tmp_path: Path) -> None:
    write_xlsx({"tiny": tiny_table()}, tiny_metadata(), tmp_path)
    path = tmp_path / XLSX_FILE
    with zipfile.ZipFile(path) as zf:
        sheets = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
    assert not any("<f>" in s or "<f " in s for s in sheets), "no formula cells"
    sheet = openpyxl.load_workbook(path)["tiny"]
    cells = [sheet.cell(row=r, column=2) for r in range(2, 8)]
    assert [c.value for c in cells] == [row["text"] for row in tiny_table().rows]
    assert all(c.data_type == "s" for c in cells)
    assert all(c.quotePrefix for c in cells[:5]), "Excel keeps them text when edited, too"


def test_two_builds_give_the_same_bytes_and_the_date_comes_from_the_metadata(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write_xlsx({"tiny": tiny_table()}, tiny_metadata(), first)
    write_xlsx({"tiny": tiny_table()}, tiny_metadata(), second)
    assert (first / XLSX_FILE).read_bytes() == (second / XLSX_FILE).read_bytes()
    created = openpyxl.load_workbook(first / XLSX_FILE).properties.created
    assert created is not None and created.date().isoformat() == PACKAGE.release_date


def test_text_longer_than_an_excel_cell_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    table = tiny_table()
    table.rows[0]["text"] = "x" * (MAX_CELL_TEXT + 1)
    with pytest.raises(NewstablesError) as caught:
        write_xlsx({"tiny": table}, tiny_metadata(), tmp_path)
    assert caught.value.type == "xlsx-cell-too-long"
    assert caught.value.coordinates["record"] == "tiny r0 text"
