"""Frictionless's row-level checks, run as DuckDB SQL generated from the typed model.

``frictionless.validate`` reads a package row by row in Python (about 22 s per million CSV
rows). The same checks, written as set-based SQL over the published CSVs, take a fraction
of that; Frictionless itself keeps validating the descriptor and the schemas (metadata).
Findings use Frictionless's vocabulary and coordinates, so the two can be compared
finding by finding (``tests/test_rowchecks.py`` does, on every bad-input fixture with CSVs
and on one-defect CSVs of every kind):

- ``type-error``: a cell that does not read as its field's type, exactly as Frictionless
  5.21 reads it: integers as Python's ``int()`` of the stripped text (sign, ``_``
  separators), booleans from ``true/True/TRUE/1`` and ``false/False/FALSE/0``, dates as
  ``strptime('%Y-%m-%d')`` (one-digit months and days allowed, impossible days refused);
- ``constraint-error``: ``required`` (a missing value: one of the schema's missingValues),
  ``enum``, ``pattern`` (Python's ``re.match('^…$')``: a final newline is tolerated),
  ``minimum``, ``maximum`` — checked only on cells without a type error, one finding per
  broken constraint;
- ``unique-error``: a value of a ``unique`` field seen in an earlier row;
- ``primary-key``: a key whose cells are all missing, or seen in an earlier row;
- ``foreign-key``: a key (not all missing) absent from the referenced table's rows.

Rows are numbered as Frictionless numbers them: the header is row 1, the first data row 2.
A duplicate is reported on every later row, never on the first. Cells are matched to
fields by position, as Frictionless does; a file whose header or column count differs from
the schema gets one ``structure-error`` finding (Frictionless's label and cell errors) and
no row checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from newstables.core.formats import max_line_size
from newstables.core.model import Field, Resource, quote_identifier, quote_literal

TRUE_VALUES = ("true", "True", "TRUE", "1")
FALSE_VALUES = ("false", "False", "FALSE", "0")
# Python's int() of str.strip()ped text, ASCII digits (RE2's \s and \d are ASCII).
INTEGER_TEXT = r"\s*[+-]?\d+(_\d+)*\s*"
# strptime('%Y-%m-%d'): %Y four digits, %m and %d one or two (a day may be " 1").
DATE_TEXT = r"(\d{4})-(1[0-2]|0[1-9]|[1-9])-(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])"
ROW = "__row"


@dataclass(frozen=True, order=True)
class RowFinding:
    """One Frictionless-style finding: error type, row number (header = 1), field, note."""

    type: str
    row: int
    field: str
    table: str = ""
    note: str = ""

    def key(self) -> tuple[str, str, int, str]:
        """What two checkers must agree on: table, error type, row and field."""
        return (self.table, self.type, self.row, self.field)


def _cells(name: str) -> str:
    return f"c.{quote_identifier(name)}"


def _text(spec: Field) -> str:
    """The column keeping the text of a non-string cell (to tell unreadable from missing)."""
    return quote_identifier(f"__text_{spec.name}")


def parsed_sql(spec: Field, missing: tuple[str, ...]) -> str:
    """The SQL value of a text cell read as ``spec``'s type; NULL when missing or unreadable."""
    cell = _cells(spec.name)
    if spec.type == "integer":
        bare = f"regexp_replace(replace({cell}, '_', ''), '^\\s+|\\s+$', '', 'g')"
        matches = f"regexp_full_match({cell}, {quote_literal(INTEGER_TEXT)})"
        value = f"CASE WHEN {matches} THEN TRY_CAST({bare} AS HUGEINT) END"
    elif spec.type == "boolean":
        trues, falses = (", ".join(map(quote_literal, v)) for v in (TRUE_VALUES, FALSE_VALUES))
        value = f"CASE WHEN {cell} IN ({trues}) THEN true WHEN {cell} IN ({falses}) THEN false END"
    elif spec.type == "date":
        parts = [f"regexp_extract({cell}, {quote_literal(DATE_TEXT)}, {i})" for i in (1, 2, 3)]
        made = "TRY(make_date(" + ", ".join(f"CAST(trim({p}) AS INTEGER)" for p in parts) + "))"
        value = f"CASE WHEN regexp_full_match({cell}, {quote_literal(DATE_TEXT)}) THEN {made} END"
    else:
        value = cell
    return f"CASE WHEN {missing_sql(cell, missing)} THEN NULL ELSE {value} END"


def missing_sql(cell: str, missing: tuple[str, ...]) -> str:
    """True when a cell holds one of the missing values (DuckDB reads an empty cell as NULL)."""
    listed = f" OR {cell} IN ({', '.join(map(quote_literal, missing))})" if missing else ""
    return f"({cell} IS NULL{listed})"


def pattern_sql(value: str, pattern: str) -> str:
    """Python's ``re.match('^' + pattern + '$')``: ``$`` also matches before a final newline."""
    literal = quote_literal(pattern)
    return (
        f"(regexp_full_match({value}, {literal}) OR (suffix({value}, chr(10)) "
        f"AND regexp_full_match(left({value}, length({value}) - 1), {literal})))"
    )


def constraint_checks(spec: Field) -> list[tuple[str, str]]:
    """(constraint, SQL true when broken) for each constraint of a field, on ``p.<field>``."""
    value = f"p.{quote_identifier(spec.name)}"
    checks = []
    if spec.required:
        checks.append(("required", f"{value} IS NULL"))
    if spec.enum is not None:
        checks.append(("enum", f"{value} NOT IN ({', '.join(map(quote_literal, spec.enum))})"))
    if spec.pattern is not None:
        checks.append(("pattern", f"NOT {pattern_sql(value, spec.pattern)}"))
    if spec.minimum is not None:
        checks.append(("minimum", f"{value} < {_bound(spec, spec.minimum)}"))
    if spec.maximum is not None:
        checks.append(("maximum", f"{value} > {_bound(spec, spec.maximum)}"))
    return checks


def _bound(spec: Field, bound: int) -> str:
    return f"DATE {quote_literal(str(bound))}" if spec.type == "date" else str(int(bound))


class _Checker:
    """Loads each table's cells into DuckDB once and runs every check on them."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.loaded: dict[str, Resource] = {}

    def load(self, resource: Resource, path: Path) -> RowFinding | None:
        """The CSV's cells (text) and parsed values as temp tables; a structure finding when
        its header or width differs from the schema."""
        names = [f.name for f in resource.fields]
        text = quote_literal(path.as_posix())
        options = f"delim=',', quote='\"', escape='\"', max_line_size={max_line_size(path)}"
        try:
            header = self.con.execute(
                f"SELECT * FROM read_csv({text}, header=false, all_varchar=true, {options}) LIMIT 1"
            ).fetchone()
            if header is None or list(header) != names:
                return RowFinding("structure-error", 1, "", resource.name, f"header {header} is not {names}")
            columns = ", ".join(f"{quote_literal(n)}: 'VARCHAR'" for n in names)
            missing = resource.missing_values
            parsed = ", ".join(
                [f"{parsed_sql(f, missing)} AS {quote_identifier(f.name)}" for f in resource.fields]
                + [f"{_cells(f.name)} AS {_text(f)}" for f in resource.fields if f.type != "string"]
            )
            # One pass over the file; the table keeps the file's order, so rowid + 2 is
            # Frictionless's row number.
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {self._parsed(resource)} AS SELECT {parsed} "
                f"FROM read_csv({text}, header=true, auto_detect=false, columns={{{columns}}}, {options}) c"
            )
        except duckdb.Error as exc:
            return RowFinding("structure-error", 1, "", resource.name, " ".join(str(exc).split())[:300])
        self.loaded[resource.name] = resource
        return None

    @staticmethod
    def _parsed(resource: Resource) -> str:
        return quote_identifier(f"__parsed_{resource.name}")

    def cell_findings(self, resource: Resource) -> list[RowFinding]:
        """Type and constraint errors of every cell, in one pass over the table."""
        branches = []
        for spec in resource.fields:
            value = f"p.{quote_identifier(spec.name)}"
            if spec.type == "string":
                type_error = "false"  # a text cell always reads as a string
            else:
                text = f"p.{_text(spec)}"
                type_error = f"NOT {missing_sql(text, resource.missing_values)} AND {value} IS NULL"
                name = quote_literal(spec.name)
                branches.append(f"CASE WHEN {type_error} THEN ['type-error|' || {name}] ELSE [] END")
            for constraint, broken in constraint_checks(spec):
                guard = f"NOT ({type_error}) AND ({broken})"
                label = quote_literal(f"constraint-error|{spec.name}|{constraint}")
                branches.append(f"CASE WHEN {guard} THEN [{label}] ELSE [] END")
        if not branches:
            return []
        found = " || ".join(branches)
        rows = self.con.execute(
            f"SELECT {ROW}, unnest(found) FROM (SELECT p.rowid + 2 AS {ROW}, {found} AS found "
            f"FROM {self._parsed(resource)} p) WHERE len(found) > 0"
        ).fetchall()
        out = []
        for row, label in rows:
            kind, field, *note = str(label).split("|")
            out.append(RowFinding(kind, int(row), field, resource.name, "".join(note)))
        return out

    def unique_findings(self, resource: Resource) -> list[RowFinding]:
        """Values of ``unique`` fields seen in an earlier row."""
        out = []
        for spec in resource.fields:
            if not spec.unique:
                continue
            column = quote_identifier(spec.name)
            rows = self.con.execute(
                f"SELECT {ROW} FROM (SELECT rowid + 2 AS {ROW}, row_number() OVER (PARTITION BY {column} "
                f"ORDER BY rowid) AS seen FROM {self._parsed(resource)} WHERE {column} IS NOT NULL) "
                f"WHERE seen > 1"
            ).fetchall()
            out += [RowFinding("unique-error", int(r), spec.name, resource.name) for (r,) in rows]
        return out

    def primary_key_findings(self, resource: Resource) -> list[RowFinding]:
        """Keys whose cells are all missing, and keys seen in an earlier row."""
        if not resource.primary_key:
            return []
        key = ", ".join(quote_identifier(k) for k in resource.primary_key)
        all_missing = " AND ".join(f"{quote_identifier(k)} IS NULL" for k in resource.primary_key)
        rows = self.con.execute(
            f"SELECT {ROW} FROM (SELECT rowid + 2 AS {ROW}, {all_missing} AS empty, row_number() OVER "
            f"(PARTITION BY {key} ORDER BY rowid) AS seen FROM {self._parsed(resource)}) "
            f"WHERE empty OR seen > 1"
        ).fetchall()
        return [RowFinding("primary-key", int(r), "", resource.name) for (r,) in rows]

    def foreign_key_findings(self, resource: Resource) -> list[RowFinding]:
        """Keys (not all missing) that the referenced table does not hold."""
        out = []
        for fk in resource.foreign_keys:
            target = self.loaded.get(fk.resource or resource.name)
            if target is None:
                continue  # the referenced file is broken: reported as its own structure error
            pairs = list(zip(fk.fields, fk.reference_fields, strict=True))
            all_missing = " AND ".join(f"t.{quote_identifier(a)} IS NULL" for a, _ in pairs)
            referenced_missing = " AND ".join(f"r.{quote_identifier(b)} IS NULL" for _, b in pairs)
            match = " AND ".join(
                f"t.{quote_identifier(a)} IS NOT DISTINCT FROM r.{quote_identifier(b)}" for a, b in pairs
            )
            rows = self.con.execute(
                f"SELECT t.rowid + 2 FROM {self._parsed(resource)} t "
                f"WHERE NOT ({all_missing}) AND NOT EXISTS "
                f"(SELECT 1 FROM {self._parsed(target)} r WHERE NOT ({referenced_missing}) AND {match})"
            ).fetchall()
            out += [RowFinding("foreign-key", int(r), "", resource.name) for (r,) in rows]
        return out


def row_findings(
    csv_files: dict[str, Path], resources: dict[str, Resource], con: duckdb.DuckDBPyConnection | None = None
) -> list[RowFinding]:
    """Every row-level finding Frictionless would report on these CSV files (table -> path),
    checked against their resources, sorted by table, row, type and field.

    Example: ``row_findings({"votes": Path("data/votes.csv")}, model.tables)``.
    """
    own = con is None
    connection = con or duckdb.connect()
    checker = _Checker(connection)
    found: list[RowFinding] = []
    try:
        for name, path in csv_files.items():
            problem = checker.load(resources[name], path)
            if problem is not None:
                found.append(problem)
        for name in checker.loaded:
            resource = resources[name]
            found += checker.cell_findings(resource)
            found += checker.unique_findings(resource)
            found += checker.primary_key_findings(resource)
            found += checker.foreign_key_findings(resource)
    finally:
        if own:
            connection.close()
    return sorted(found, key=lambda f: (f.table, f.row, f.type, f.field, f.note))
