"""Frictionless's row-level checks, run as DuckDB SQL generated from the typed model.

``frictionless.validate`` reads a package row by row in Python (about 5 CPU minutes for a
million statements). The same checks, written as set-based SQL over the published CSVs, take a fraction
of that; Frictionless itself keeps validating the descriptor and the schemas (metadata).
Findings use Frictionless's vocabulary and coordinates, so the two can be compared
finding by finding (``tests/test_rowchecks.py`` does, on every bad-input fixture with CSVs
and on one-defect CSVs of every kind):

- ``type-error``: a cell that does not read as its field's type, exactly as Frictionless
  5.21 reads it: integers as Python's ``int()`` of the stripped text (sign, ``_``
  separators, any Unicode space around), booleans from ``true/True/TRUE/1`` and
  ``false/False/FALSE/0``, dates as ``strptime('%Y-%m-%d')`` (one-digit months and days
  allowed, impossible days and year 0 refused);
- ``constraint-error``: ``required`` (a missing value: one of the schema's missingValues),
  ``enum``, ``pattern`` (Python's ``re.match('^…$')``: a final newline is tolerated),
  ``minimum``, ``maximum`` — checked only on cells without a type error, one finding per
  broken constraint;
- ``unique-error``: a value of a ``unique`` field seen in an earlier row;
- ``primary-key``: a key whose cells are all missing, or seen in an earlier row;
- ``foreign-key``: a key (not all missing) absent from the referenced table's rows;
- ``blank-row``: a row whose cells all hold missing values (instead of its cell errors).

Each CSV is read once: every per-cell check runs during that scan (a row's list of findings
is built only for a row that has one), and only the key columns are kept for the checks
across rows (duplicates by a hash aggregate, then only the repeated values' rows; foreign
keys by an anti-join).

Rows are numbered as Frictionless numbers them: the header is row 1, the first data row 2.
A duplicate is reported on every later row, never on the first. Cells are matched to
fields by position, as Frictionless does; a file whose header or column count differs from
the schema gets one ``structure-error`` finding (Frictionless's label and cell errors) and
no row checks. Not emulated: digits other than ASCII (Python's ``int()`` and ``strptime``
read ``٣`` as 3; here such a cell is a ``type-error``), and empty lines, which DuckDB's
reader skips (Frictionless reports each as a ``blank-row`` and counts it); the build never
writes either, and verify compares each CSV's hash before its rows are checked.
"""

from __future__ import annotations

import csv
import gzip
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from newstables.core.formats import csv_size_options
from newstables.core.model import Field, ForeignKey, Resource, quote_identifier, quote_literal

TRUE_VALUES = ("true", "True", "TRUE", "1")
FALSE_VALUES = ("false", "False", "FALSE", "0")
# Python's whitespace (str.isspace: what str.strip() and int() skip), in RE2's syntax.
SPACE = (
    r"[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
)
# Python's int() of str.strip()ped text, ASCII digits (RE2's \d is ASCII).
INTEGER_TEXT = SPACE + r"*[+-]?\d+(_\d+)*" + SPACE + "*"
# strptime('%Y-%m-%d'): %Y four digits, %m and %d one or two (a day may be " 1").
DATE_TEXT = r"(\d{4})-(1[0-2]|0[1-9]|[1-9])-(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])"
# The form nearly every date has: read by DuckDB's own cast (same days as strptime).
ISO_DATE_TEXT = r"\d{4}-\d\d-\d\d"
FOUND = "__found"
# Each row's number as Frictionless gives it (the header is row 1), counted as the file is read.
ROW = "__frictionless_row"
# A key column's cell in the row before (``lag``), and whether a row's key follows that row's
# (:func:`ascending_sql`), by the key's place in :func:`sequenced_keys`.
PREVIOUS = "__previous_"
ASCENDING = "__ascending_"
# CSVs loaded at once (row_findings), and a number for each call's catalog of loaded tables.
LOAD_THREADS = 2
_CATALOGS = itertools.count()


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
    """The SQL value of a text cell read as ``spec``'s type; NULL when missing or unreadable.

    Integers and dates take a fast path for the forms nearly every cell has (an integer as
    DuckDB itself would print it, a zero-padded ISO date) and fall back to the exact
    emulation of Frictionless's reader (regular expressions) only for the other cells."""
    cell = _cells(spec.name)
    if spec.type == "integer":
        bare = f"regexp_replace(replace({cell}, '_', ''), {quote_literal(f'^{SPACE}+|{SPACE}+$')}, '', 'g')"
        matches = f"regexp_full_match({cell}, {quote_literal(INTEGER_TEXT)})"
        cast = f"TRY_CAST({cell} AS BIGINT)"
        value = (
            f"CASE WHEN CAST({cast} AS VARCHAR) = {cell} THEN CAST({cast} AS HUGEINT) "
            f"WHEN {matches} THEN TRY_CAST({bare} AS HUGEINT) END"
        )
    elif spec.type == "boolean":
        trues, falses = (", ".join(map(quote_literal, v)) for v in (TRUE_VALUES, FALSE_VALUES))
        value = f"CASE WHEN {cell} IN ({trues}) THEN true WHEN {cell} IN ({falses}) THEN false END"
    elif spec.type == "date":
        parts = [f"regexp_extract({cell}, {quote_literal(DATE_TEXT)}, {i})" for i in (1, 2, 3)]
        made = "TRY(make_date(" + ", ".join(f"CAST(trim({p}) AS INTEGER)" for p in parts) + "))"
        # Year 0 reads in DuckDB (1 BC), not in Python's datetime.
        year_zero = f"starts_with({cell}, '0000')"
        value = (
            f"CASE WHEN {year_zero} THEN NULL "
            f"WHEN regexp_full_match({cell}, {quote_literal(ISO_DATE_TEXT)}) THEN TRY_CAST({cell} AS DATE) "
            f"WHEN regexp_full_match({cell}, {quote_literal(DATE_TEXT)}) THEN {made} END"
        )
    else:
        value = cell
    return f"CASE WHEN {missing_sql(cell, missing)} THEN NULL ELSE {value} END"


def missing_sql(cell: str, missing: tuple[str, ...]) -> str:
    """True when a cell holds one of the missing values (DuckDB reads an empty cell as NULL)."""
    listed = f" OR {cell} IN ({', '.join(map(quote_literal, missing))})" if missing else ""
    return f"({cell} IS NULL{listed})"


def pattern_sql(value: str, pattern: str) -> str:
    """Python's ``re.match('^' + pattern + '$')``: ``$`` also matches before a final newline
    (tried only on the cells that fail the plain match)."""
    literal = quote_literal(pattern)
    return (
        f"(CASE WHEN {value} IS NULL THEN NULL WHEN regexp_full_match({value}, {literal}) THEN true "
        f"WHEN suffix({value}, chr(10)) "
        f"THEN regexp_full_match(left({value}, length({value}) - 1), {literal}) ELSE false END)"
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


def cell_checks(resource: Resource, deferred: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(label, SQL true when broken) of every per-cell check of a row, on ``p.<field>`` and
    the cell's text ``p.__text_<field>``: type errors, broken constraints (checked only on
    cells that read as their type) and a primary key whose cells are all missing. A label
    is ``type|field|note``. The patterns of the ``deferred`` fields are left out (checked
    on their distinct values after the scan: :func:`deferred_patterns`)."""
    checks = []
    for spec in resource.fields:
        value = f"p.{quote_identifier(spec.name)}"
        if spec.type == "string":
            type_error = "false"  # a text cell always reads as a string
        else:
            text = f"p.{_text(spec)}"
            type_error = f"NOT {missing_sql(text, resource.missing_values)} AND {value} IS NULL"
            checks.append((f"type-error|{spec.name}", type_error))
        for constraint, broken in constraint_checks(spec):
            if constraint == "pattern" and spec.name in deferred:
                continue
            guard = broken if type_error == "false" else f"NOT ({type_error}) AND ({broken})"
            checks.append((f"constraint-error|{spec.name}|{constraint}", guard))
    if resource.primary_key:
        empty = " AND ".join(f"p.{quote_identifier(k)} IS NULL" for k in resource.primary_key)
        checks.append(("primary-key|", empty))
    return checks


def blank_sql(resource: Resource) -> str:
    """True for a blank row: every cell holds a missing value."""
    return " AND ".join(
        f"p.{quote_identifier(f.name)} IS NULL"
        if f.type == "string"
        else missing_sql(f"p.{_text(f)}", resource.missing_values)
        for f in resource.fields
    )


def deferred_patterns(resource: Resource, kept: list[str]) -> frozenset[str]:
    """The string fields whose ``pattern`` is checked after the scan, on the distinct values
    of the column the scan keeps anyway (keys, mostly: a few thousand actors or documents
    among millions of rows), rather than by a regular expression on every row. A string
    cell's kept value is the cell itself, or NULL when missing (never matched): the same
    cells break the pattern either way."""
    return frozenset(f.name for f in resource.fields if f.type == "string" and f.pattern and f.name in kept)


def distinct_everywhere(resource: Resource, spec: Field) -> bool:
    """Whether a field's values are meant to differ on every row: a ``unique`` field, or the
    whole of the primary key."""
    return spec.unique or list(resource.primary_key) == [spec.name]


def findings_sql(resource: Resource, deferred: frozenset[str] = frozenset()) -> tuple[list[str], str]:
    """A row's cell findings: the columns of one inner projection (each check once, as
    ``__check<i>``, on ``p``) and, over them, the list of labels, NULL for a row without any
    (nearly every row: the list is built only for the others). A blank row is one
    ``blank-row`` finding (Frictionless replaces its cell errors with it) plus its primary
    key's."""
    checks = cell_checks(resource, deferred)
    names = [f"__check{i}" for i in range(len(checks))]
    columns = [f"{blank_sql(resource)} AS __blank"] + [
        f"{broken} AS {n}" for n, (_, broken) in zip(names, checks, strict=True)
    ]
    blank = ["blank-row|"] + (["primary-key|"] if resource.primary_key else [])
    labels = " || ".join(
        f"CASE WHEN {n} THEN [{quote_literal(label)}] ELSE [] END"
        for n, (label, _) in zip(names, checks, strict=True)
    )
    found = (
        f"CASE WHEN __blank THEN [{', '.join(map(quote_literal, blank))}] "
        + (f"WHEN {' OR '.join(names)} THEN {labels} " if checks else "")
        + "END"
    )
    return columns, found


def sequenced_keys(resource: Resource) -> list[tuple[str, ...]]:
    """The column groups checked for repeated values whose columns are all strings: the
    primary key, then each ``unique`` field. A present string cell reads as its own text, so
    texts that differ are values that differ (an integer's ``1`` and ``01`` would not be)."""
    groups = [tuple(resource.primary_key)] if resource.primary_key else []
    groups += [(f.name,) for f in resource.fields if f.unique and (f.name,) not in groups]
    return [g for g in groups if all(resource.field(name).type == "string" for name in g)]


def ascending_sql(columns: tuple[str, ...], missing: tuple[str, ...]) -> str:
    """True for a row whose key (``columns``, cells of ``c`` and the row before's in
    ``c.__previous_<column>``) is wholly missing, or wholly present and either on the first
    row or greater than a wholly present key on the row before (texts compared byte by byte).

    When every row of a file is such a row, its present keys are a strictly increasing run
    from the first row: no two are equal, and the search for repeated keys is left out (a
    published CSV is sorted by its key). Any other file is searched as before."""
    cells = [_cells(c) for c in columns]
    before = [f"c.{quote_identifier(PREVIOUS + c)}" for c in columns]
    own_missing = [missing_sql(c, missing) for c in cells]
    before_missing = " OR ".join(missing_sql(c, missing) for c in before)
    if len(cells) == 1:
        greater = f"{cells[0]} > {before[0]}"
    else:
        greater = f"row({', '.join(cells)}) > row({', '.join(before)})"
    return (
        f"CASE WHEN {' AND '.join(own_missing)} THEN true WHEN {' OR '.join(own_missing)} THEN false "
        f"WHEN c.{ROW} = 2 THEN true WHEN {before_missing} THEN false ELSE {greater} END"
    )


def read_header(path: Path) -> list[str] | None:
    """The first record of a CSV file (gzip-compressed when its name ends in ``.gz``), read
    by Python's csv module: DuckDB would look at far more of a large file to read one line."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle), None)


def kept_fields(resources: dict[str, Resource]) -> dict[str, list[str]]:
    """The fields each table keeps after its cells are checked: its primary key, unique
    fields, foreign-key fields and the fields other tables' foreign keys reference."""
    kept: dict[str, set[str]] = {name: set() for name in resources}
    for name, resource in resources.items():
        kept[name] |= set(resource.primary_key) | {f.name for f in resource.fields if f.unique}
        for fk in resource.foreign_keys:
            kept[name] |= set(fk.fields)
            target = fk.resource or name
            if target in kept:
                kept[target] |= set(fk.reference_fields)
    return {
        name: [f.name for f in resource.fields if f.name in kept[name]]
        for name, resource in resources.items()
    }


class _Checker:
    """Reads each CSV once: every per-cell check runs during that scan (a row's findings are
    built only for the rare row that has one), and only the key columns are kept, in a table
    of a private in-memory catalog (``catalog``) with the row's number (``ROW``), for the
    checks across rows."""

    def __init__(self, con: duckdb.DuckDBPyConnection, kept: dict[str, list[str]], catalog: str) -> None:
        self.con = con
        self.kept = kept
        self.catalog = catalog
        self.loaded: dict[str, Resource] = {}
        # How many of a column's kept values break its pattern, by (table, field): computed once,
        # by whichever thread needs it first (a table's own check, or a table referencing it).
        self.broken_counts: dict[tuple[str, str], int] = {}
        self.count_locks: dict[tuple[str, str], threading.Lock] = {}
        self.counting = threading.Lock()

    def load(
        self, resource: Resource, path: Path, cursor: duckdb.DuckDBPyConnection | None = None
    ) -> RowFinding | None:
        """Check the CSV's cells and keep its key columns (on ``cursor``, a cursor of the
        checker's connection: CSVs may be loaded in several threads); a structure finding when
        its header or width differs from the schema. The caller records a loaded table
        (:meth:`loaded`), in the order of its files."""
        names = [f.name for f in resource.fields]
        text = quote_literal(path.as_posix())
        options = f"delim=',', quote='\"', escape='\"', {csv_size_options(path)}"
        try:
            header = read_header(path)
            if header != names:
                return RowFinding("structure-error", 1, "", resource.name, f"header {header} is not {names}")
            columns = ", ".join(f"{quote_literal(n)}: 'VARCHAR'" for n in names)
            missing = resource.missing_values
            parsed = ", ".join(
                [f"{parsed_sql(f, missing)} AS {quote_identifier(f.name)}" for f in resource.fields]
                + [f"{_cells(f.name)} AS {_text(f)}" for f in resource.fields if f.type != "string"]
            )
            deferred = deferred_patterns(resource, self.kept.get(resource.name, []))
            checks, found = findings_sql(resource, deferred)
            kept = [quote_identifier(n) for n in self.kept.get(resource.name, [])]
            sequenced = sequenced_keys(resource)
            previous = sorted({name for group in sequenced for name in group}, key=names.index)
            lagged = "".join(
                f", lag({quote_identifier(n)}) OVER () AS {quote_identifier(PREVIOUS + n)}" for n in previous
            )
            flags = [f"{ASCENDING}{i}" for i in range(len(sequenced))]
            for group, flag in zip(sequenced, flags, strict=True):
                parsed += f", {ascending_sql(group, missing)} AS {flag}"
            # One pass over the file. Rows are numbered as they are read (row_number() over
            # nothing, which DuckDB documents as the file's order), not by the table's rowid: the
            # planner turns an enum's IN list into a join, after which a table read in parallel
            # was written out of order (a million statements' enum error named a row 3,334 off).
            reader = f"read_csv({text}, header=true, auto_detect=false, columns={{{columns}}}, {options})"
            # The key cells of the row before come from the same window (one pass, in order).
            source = f"(SELECT row_number() OVER () + 1 AS {ROW}{lagged}, * FROM {reader})"
            inner = ", ".join([f"p.{ROW}", *(f"p.{k}" for k in kept), *checks, *(f"p.{f}" for f in flags)])
            (cursor or self.con).execute(
                f"CREATE OR REPLACE TABLE {self._parsed(resource)} AS "
                f"SELECT {', '.join([ROW, *kept, f'{found} AS {FOUND}', *flags])} "
                f"FROM (SELECT {inner} FROM (SELECT c.{ROW}, {parsed} FROM {source} c) p) q"
            )
        except (duckdb.Error, OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
            return RowFinding("structure-error", 1, "", resource.name, " ".join(str(exc).split())[:300])
        return None

    def table_findings(self, resource: Resource) -> list[RowFinding]:
        """Every finding of a loaded table, on a cursor of its own (tables may be checked in
        several threads)."""
        cursor = self.con.cursor()
        try:
            own = _Checker(cursor, self.kept, self.catalog)
            own.loaded, own.broken_counts = self.loaded, self.broken_counts
            own.count_locks, own.counting = self.count_locks, self.counting
            return [
                *own.cell_findings(resource),
                *own.pattern_findings(resource),
                *own.unique_findings(resource),
                *own.primary_key_findings(resource),
                *own.foreign_key_findings(resource),
            ]
        finally:
            cursor.close()

    def _parsed(self, resource: Resource) -> str:
        return f"{self.catalog}.{quote_identifier(f'__parsed_{resource.name}')}"

    def cell_findings(self, resource: Resource) -> list[RowFinding]:
        """Type and constraint errors, and primary keys all missing, found while loading."""
        rows = self.con.execute(
            f"SELECT {ROW}, unnest({FOUND}) FROM {self._parsed(resource)} WHERE {FOUND} IS NOT NULL"
        ).fetchall()
        out = []
        for row, label in rows:
            kind, field, *note = str(label).split("|")
            out.append(RowFinding(kind, int(row), field, resource.name, "".join(note)))
        return out

    def pattern_findings(self, resource: Resource) -> list[RowFinding]:
        """The deferred patterns (:func:`deferred_patterns`): each column's distinct values are
        matched, and only when one breaks its pattern are the rows holding it looked up. A
        foreign key's column that inherits its pattern (:meth:`inherited_pattern`) is left to
        :meth:`foreign_key_findings`."""
        out = []
        table = self._parsed(resource)
        deferred = deferred_patterns(resource, self.kept.get(resource.name, []))
        for spec in resource.fields:
            if spec.name not in deferred or self.inherited_pattern(resource, spec) is not None:
                continue
            column = quote_identifier(spec.name)
            assert spec.pattern is not None
            if not self.broken_count(resource, spec):
                continue
            # Some value breaks it: its rows (every row matched again; a rare, failing release).
            rows = self.con.execute(
                f"SELECT {ROW} FROM {table} WHERE NOT {pattern_sql(column, spec.pattern)}"
            ).fetchall()
            out += [
                RowFinding("constraint-error", int(r), spec.name, resource.name, "pattern") for (r,) in rows
            ]
        return out

    def broken_count(self, resource: Resource, spec: Field) -> int:
        """How many of a deferred column's kept values (its distinct values, or every value of a
        column meant to differ on every row) break its pattern; counted once per column."""
        key = (resource.name, spec.name)
        with self.counting:
            column_lock = self.count_locks.setdefault(key, threading.Lock())
        with column_lock:  # another thread needing this column waits for its count
            if key not in self.broken_counts:
                assert spec.pattern is not None
                table, column = self._parsed(resource), quote_identifier(spec.name)
                if distinct_everywhere(resource, spec):
                    # Every value differs (or should): a DISTINCT would hash them all first, for
                    # nothing (3.3M mention ids: 0.79 s against 0.33 s matched as they are).
                    values = f"SELECT {column} AS v FROM {table} WHERE {column} IS NOT NULL"
                else:
                    values = f"SELECT DISTINCT {column} AS v FROM {table} WHERE {column} IS NOT NULL"
                # Counted in an aggregate's FILTER: a WHERE would be pushed below the DISTINCT.
                counted = self.con.execute(
                    f"SELECT count(*) FILTER (WHERE NOT {pattern_sql('v', spec.pattern)}) FROM ({values})"
                ).fetchone()
                self.broken_counts[key] = int(counted[0]) if counted else 0
            return self.broken_counts[key]

    def inherited_pattern(self, resource: Resource, spec: Field) -> ForeignKey | None:
        """The foreign key whose check also decides ``spec``'s pattern, if any: the column is
        a foreign key of its own (one column) to a loaded string column with the same pattern,
        checked deferred there, where no value breaks it. A value the referenced column holds
        then matches the pattern; any other is a foreign-key finding already, matched there
        (3.3M mentions' actor, source and document ids were hashed for their distinct values,
        1.4 CPU s for every table at a million statements, for nothing)."""
        keys = [fk for fk in resource.foreign_keys if spec.name in fk.fields]
        if len(keys) != 1 or keys[0].fields != (spec.name,) or not self.deferred(resource, spec.name):
            return None
        (fk,) = keys
        target = self.loaded.get(fk.resource or resource.name)
        if target is None or not self.deferred(target, fk.reference_fields[0]):
            return None
        referenced = target.field(fk.reference_fields[0])
        if referenced.pattern != spec.pattern:
            return None
        return fk if self.broken_count(target, referenced) == 0 else None

    def deferred(self, resource: Resource, name: str) -> bool:
        """Whether a column's pattern is checked after the scan (:func:`deferred_patterns`)."""
        return name in deferred_patterns(resource, self.kept.get(resource.name, []))

    def repeated_rows(self, resource: Resource, columns: tuple[str, ...], where: str) -> list[int]:
        """Rows (numbered as Frictionless does) whose ``columns`` repeat an earlier row's,
        among the rows where ``where`` holds: a hash aggregate finds the repeated values, and
        only their rows are looked at again."""
        table = self._parsed(resource)
        if self.ascending(resource, columns):
            return []
        key = ", ".join(quote_identifier(c) for c in columns)
        match = " AND ".join(
            f"t.{quote_identifier(c)} IS NOT DISTINCT FROM d.{quote_identifier(c)}" for c in columns
        )
        # Grouped by the values' hash first (a 64-bit number instead of the texts: 0.35 s
        # against 0.53 s for 3.3M mention ids), by the values only where a hash repeats (a
        # repeated value, or two values of one hash: 3.3M mention ids hold 13 such pairs).
        rows = self.con.execute(
            f"WITH h AS (SELECT hash({key}) AS h FROM {table} WHERE {where} GROUP BY h "
            f"HAVING count(*) > 1), "
            f"d AS (SELECT {key}, min({ROW}) AS first FROM {table} "
            f"WHERE ({where}) AND hash({key}) IN (SELECT h FROM h) GROUP BY {key} "
            f"HAVING count(*) > 1) SELECT t.{ROW} FROM {table} t JOIN d ON {match} "
            f"WHERE t.{ROW} <> d.first"
        ).fetchall()
        return [int(r) for (r,) in rows]

    def row_count(self, resource: Resource) -> int:
        """How many rows a loaded table holds."""
        found = self.con.execute(f"SELECT count(*) FROM {self._parsed(resource)}").fetchone()
        return int(found[0]) if found else 0

    def ascending(self, resource: Resource, columns: tuple[str, ...]) -> bool:
        """Whether every row of a loaded table passed :func:`ascending_sql` for this key: its
        present values are then all different, with no search (3.3M mention ids: 0.6 s)."""
        groups, key = sequenced_keys(resource), tuple(columns)
        if key not in groups:
            return False
        flag = f"{ASCENDING}{groups.index(key)}"
        found = self.con.execute(
            f"SELECT count(*) FILTER (WHERE NOT {flag}) FROM {self._parsed(resource)}"
        ).fetchone()
        return found is not None and found[0] == 0

    def unique_findings(self, resource: Resource) -> list[RowFinding]:
        """Values of ``unique`` fields seen in an earlier row."""
        out = []
        for spec in resource.fields:
            if spec.unique:
                rows = self.repeated_rows(
                    resource, (spec.name,), f"{quote_identifier(spec.name)} IS NOT NULL"
                )
                out += [RowFinding("unique-error", r, spec.name, resource.name) for r in rows]
        return out

    def primary_key_findings(self, resource: Resource) -> list[RowFinding]:
        """Keys seen in an earlier row (keys whose cells are all missing are cell findings)."""
        if not resource.primary_key:
            return []
        present = " OR ".join(f"{quote_identifier(k)} IS NOT NULL" for k in resource.primary_key)
        rows = self.repeated_rows(resource, resource.primary_key, present)
        return [RowFinding("primary-key", r, "", resource.name) for r in rows]

    def foreign_key_findings(self, resource: Resource) -> list[RowFinding]:
        """Keys (not all missing) that the referenced table does not hold; and, for a column
        that inherits its pattern from the referenced one (:meth:`inherited_pattern`), those
        of its values that break the pattern (only such keys can)."""
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
            spec = resource.field(fk.fields[0])
            inherits = len(pairs) == 1 and self.inherited_pattern(resource, spec) == fk
            broken = (
                f"NOT {pattern_sql(f't.{quote_identifier(spec.name)}', spec.pattern)}"
                if inherits and spec.pattern is not None
                else "false"
            )
            referenced = self._parsed(target)
            if self.row_count(resource) < self.row_count(target):
                # Fewer keys than referenced rows (91,000 aliases' first mentions among 3.3M
                # mentions): the referenced rows holding one of the keys are found first, by a
                # join that hashes the keys, not the referenced rows (0.3 to 0.1 s).
                keys = ", ".join(f"t.{quote_identifier(a)}" for a, _ in pairs)
                held = " AND ".join(
                    f"k.{quote_identifier(a)} IS NOT DISTINCT FROM r.{quote_identifier(b)}" for a, b in pairs
                )
                referenced = (
                    f"(SELECT r.* FROM {referenced} r SEMI JOIN (SELECT DISTINCT {keys} "
                    f"FROM {self._parsed(resource)} t WHERE NOT ({all_missing})) k ON {held})"
                )
            rows = self.con.execute(
                f"SELECT t.{ROW}, {broken} FROM {self._parsed(resource)} t "
                f"WHERE NOT ({all_missing}) AND NOT EXISTS "
                f"(SELECT 1 FROM {referenced} r WHERE NOT ({referenced_missing}) AND {match})"
            ).fetchall()
            out += [RowFinding("foreign-key", int(r), "", resource.name) for r, _ in rows]
            out += [
                RowFinding("constraint-error", int(r), spec.name, resource.name, "pattern")
                for r, breaks in rows
                if breaks
            ]
        return out


# How many times its size a gzip-compressed CSV weighs when the loads are ordered: text CSVs
# compress about five to one, and the decompression costs on top.
GZIP_WEIGHT = 6


def csv_weight(path: Path) -> int:
    """A CSV file's size, times ``GZIP_WEIGHT`` when gzip-compressed (0 when unreadable: its
    error is the load's to report)."""
    try:
        size = path.stat().st_size
    except OSError:
        return 0
    return size * GZIP_WEIGHT if path.suffix == ".gz" else size


def row_findings(
    csv_files: dict[str, Path], resources: dict[str, Resource], con: duckdb.DuckDBPyConnection | None = None
) -> list[RowFinding]:
    """Every row-level finding Frictionless would report on these CSV files (table -> path),
    checked against their resources, sorted by table, row, type and field.

    Example: ``row_findings({"votes": Path("data/votes.csv")}, model.tables)``.
    """
    own = con is None
    connection = con or duckdb.connect()
    # The loaded tables live in a catalog of their own, which every cursor of the connection
    # sees (temp tables are a cursor's own) and which is dropped whole afterwards.
    catalog = f"__rowchecks_{next(_CATALOGS)}"
    connection.execute(f"ATTACH ':memory:' AS {catalog}")
    checker = _Checker(connection, kept_fields(resources), catalog)
    found: list[RowFinding] = []

    def load(name: str) -> RowFinding | None:
        cursor = connection.cursor()
        try:
            return checker.load(resources[name], csv_files[name], cursor)
        finally:
            cursor.close()

    try:
        # CSVs are loaded two at a time: DuckDB reads a gzip-compressed CSV in one thread
        # (the largest table at a million statements), and the other core reads the others.
        # The largest first: begun last, the gzip-compressed mentions kept one core busy
        # alone at the end.
        largest_first = sorted(csv_files, key=lambda name: -csv_weight(csv_files[name]))
        with ThreadPoolExecutor(max_workers=LOAD_THREADS) as pool:
            problems = dict(zip(largest_first, pool.map(load, largest_first), strict=True))
        for name in csv_files:
            problem = problems[name]
            if problem is None:
                checker.loaded[name] = resources[name]
            else:
                found.append(problem)
        # The checks across rows, tables two at a time too: on one cursor, a million statements'
        # checks waited 3.9 s on each other's small queries, which leave a core idle.
        checked = [name for name in largest_first if name in checker.loaded]
        with ThreadPoolExecutor(max_workers=LOAD_THREADS) as pool:
            for table_findings in pool.map(lambda name: checker.table_findings(resources[name]), checked):
                found += table_findings
    finally:
        connection.execute(f"DETACH {catalog}")
        if own:
            connection.close()
    return sorted(found, key=lambda f: (f.table, f.row, f.type, f.field, f.note))
