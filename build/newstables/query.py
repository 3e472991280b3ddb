"""Run SQL against the release's DuckDB file, read-only, and print the result as an
aligned text table, CSV or JSON.

The query runs in a sandbox: exactly one SELECT (or EXPLAIN) statement, on a connection
opened read-only with DuckDB's external access disabled (no file, URL or other database
can be read or written), no extension installed or loaded, and the configuration locked
so that the SQL cannot switch any of this back on.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from newstables.core.staging import recover_around
from newstables.errors import NewstablesError

MAX_CELL = 60
# Statement types a query may be (SELECT covers WITH, FROM-first, VALUES, DESCRIBE, SHOW and
# SUMMARIZE); everything else (COPY, EXPORT, ATTACH, INSTALL, LOAD, SET, PRAGMA, CALL,
# CREATE, INSERT, ...) is refused before it reaches the engine.
ALLOWED_STATEMENTS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
# The connection's settings; ``lock_configuration`` comes last in effect: SET is refused.
SANDBOX = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,
}


@dataclass
class Result:
    """A query's column names and rows."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


def check_statement(db: Path, sql: str) -> None:
    """Refuse empty SQL, several statements, and any statement that is not a SELECT or EXPLAIN."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise NewstablesError("query-failed", file=str(db), detail=" ".join(str(exc).split())) from exc
    if not statements:
        raise NewstablesError("query-empty", file=str(db))
    if len(statements) > 1:
        raise NewstablesError("query-several-statements", file=str(db), count=len(statements))
    kind = statements[0].type
    if kind not in ALLOWED_STATEMENTS:
        raise NewstablesError("query-not-allowed", file=str(db), statement=kind.name)


def sandboxed_connection(db: Path) -> duckdb.DuckDBPyConnection:
    """``db`` opened read-only, without external access or extensions, configuration locked."""
    try:
        return duckdb.connect(str(db), read_only=True, config=dict(SANDBOX))
    except duckdb.Error as exc:
        raise NewstablesError("query-failed", file=str(db), detail=str(exc).splitlines()[0]) from exc


def run_query(db: Path, sql: str) -> Result:
    """Run one read-only statement on ``db`` in the sandbox; errors name the file and the reason."""
    recover_around(db.parent)
    if not db.is_file():
        raise NewstablesError("database-missing", file=str(db))
    check_statement(db, sql)
    con = sandboxed_connection(db)
    try:
        relation = con.execute(sql)
        if relation.description is None:
            return Result([], [])
        return Result([c[0] for c in relation.description], relation.fetchall())
    except duckdb.PermissionException as exc:
        raise NewstablesError("query-refused", file=str(db), detail=" ".join(str(exc).split())) from exc
    except duckdb.Error as exc:
        raise NewstablesError("query-failed", file=str(db), detail=" ".join(str(exc).split())) from exc
    finally:
        con.close()


def _text(value: Any) -> str:
    """A cell as text: empty for NULL, ISO format for dates, lower-case booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _clip(text: str, width: int | None) -> str:
    # Line breaks and runs of spaces would break the alignment: one space each.
    text = " ".join(text.split())
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def format_table(result: Result, max_cell: int | None = MAX_CELL) -> str:
    """An aligned plain-text table with a header rule and a row count; cells longer than
    ``max_cell`` characters are cut with "…" (``None``: never cut)."""
    cells = [[_clip(_text(v), max_cell) for v in row] for row in result.rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(result.columns)]
    numeric = [
        bool(result.rows)
        and all(
            isinstance(r[i], (int, float)) and not isinstance(r[i], bool)
            for r in result.rows
            if r[i] is not None
        )
        for i in range(len(result.columns))
    ]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(result.columns), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in cells]
    out.append(f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def format_csv(result: Result) -> str:
    """CSV with a header row, written by DuckDB (quoting only where needed, LF line ends)."""
    import pyarrow as pa

    from newstables.publish import write_csv

    columns = {
        name: pa.array([None if row[i] is None else _text(row[i]) for row in result.rows], pa.string())
        for i, name in enumerate(result.columns)
    }
    with tempfile.TemporaryDirectory(prefix="newstables-query-") as tmp:
        path = Path(tmp) / "result.csv"
        write_csv(pa.table(columns), path)
        return path.read_text(encoding="utf-8")


def format_json(result: Result) -> str:
    """A JSON array of objects, one per row (dates as ISO strings)."""
    records = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    return json.dumps(records, indent=2, ensure_ascii=False, default=_text) + "\n"


def query(db: Path, sql: str, output: str = "table", full: bool = False) -> str:
    """Run ``sql`` on ``db`` and format the result (``table``, ``csv`` or ``json``); with
    ``full`` the table shows whole cells instead of cutting them at 60 characters.

    Example: ``query(Path("data/newstables.duckdb"), "SELECT * FROM timeline", "csv")``.
    """
    result = run_query(db, sql)
    formatter = {"table": format_table, "csv": format_csv, "json": format_json}[output]
    return format_table(result, max_cell=None) if full and output == "table" else formatter(result)
