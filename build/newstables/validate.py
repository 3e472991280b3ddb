"""Stage 4, validate: the blocking checks on the staged release.

Frictionless validates the package as a journalist's tool would; DuckDB checks that every
excerpt is the text at its offsets and that CSV, Parquet and the DuckDB file hold the same
rows. The semantic gate (Great Expectations suites, coverage) lives in ``gate``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from newstables.errors import NewstablesError
from newstables.project import DUCKDB_FILE, csv_path, parquet_path
from newstables.sql import SQL_TYPES, quote_literal

MAX_REPORTED = 10


def validate_frictionless(staging: Path) -> None:
    """Validate ``datapackage.json`` with Frictionless; fail with its first errors."""
    import frictionless

    report = frictionless.validate(staging / "datapackage.json")
    if report.valid:
        return
    rows = report.flatten(["type", "rowNumber", "fieldName", "message"])
    detail = "; ".join(f"{t} row {r} field {f}: {m}" for t, r, f, m in rows[:MAX_REPORTED])
    raise NewstablesError("frictionless-invalid", file="datapackage.json", detail=detail)


def read_csv_sql(path: Path, schema: dict[str, Any]) -> str:
    """A DuckDB expression reading a published CSV with the schema's column types."""
    columns = ", ".join(f"{quote_literal(f['name'])}: '{SQL_TYPES[f['type']]}'" for f in schema["fields"])
    return (
        f"read_csv({quote_literal(path.as_posix())}, header=true, auto_detect=false, "
        f"columns={{{columns}}}, quote='\"', escape='\"')"
    )


def read_csv_text_sql(path: Path) -> str:
    """A DuckDB expression reading any CSV with every column as text (no type guessing)."""
    return (
        f"read_csv({quote_literal(path.as_posix())}, header=true, all_varchar=true, "
        "delim=',', quote='\"', escape='\"')"
    )


def check_excerpts(raw: str, staging: Path, schemas: dict[str, dict[str, Any]]) -> None:
    """Every published excerpt equals ``raw[char_start:char_end]`` (read back from CSV)."""
    con = duckdb.connect()
    for table, schema in schemas.items():
        path = staging / csv_path(table)
        rows = con.execute(
            f"SELECT char_start, char_end, excerpt FROM {read_csv_sql(path, schema)} "
            "WHERE char_start IS NOT NULL"
        ).fetchall()
        for start, end, excerpt in rows:
            if raw[start:end] != excerpt:
                raise NewstablesError(
                    "offsets-mismatch",
                    file=csv_path(table).as_posix(),
                    record=f"[{start}, {end})",
                    line="-",
                    start=start,
                    end=end,
                    found=raw[start:end],
                    value=excerpt,
                )


def check_formats_agree(staging: Path, schemas: dict[str, dict[str, Any]]) -> None:
    """CSV, Parquet and the DuckDB file hold exactly the same rows for every table."""
    con = duckdb.connect()
    con.execute(f"ATTACH {quote_literal((staging / DUCKDB_FILE).as_posix())} AS db (READ_ONLY)")
    for table, schema in schemas.items():
        sources = {
            "csv": read_csv_sql(staging / csv_path(table), schema),
            "parquet": f"read_parquet({quote_literal((staging / parquet_path(table)).as_posix())})",
            "duckdb": f"db.main.{table}",
        }
        for name, relation in sources.items():
            if name == "csv":
                continue
            _compare(con, table, sources["csv"], relation, name)
    con.close()


def _compare(con: duckdb.DuckDBPyConnection, table: str, csv: str, other: str, name: str) -> None:
    counts = con.execute(f"SELECT (SELECT count(*) FROM {csv}), (SELECT count(*) FROM {other})").fetchall()[0]
    differing = con.execute(
        f"SELECT count(*) FROM ((FROM {csv} EXCEPT ALL FROM {other}) UNION ALL "
        f"(FROM {other} EXCEPT ALL FROM {csv}))"
    ).fetchall()[0][0]
    if counts[0] != counts[1] or differing:
        raise NewstablesError(
            "outputs-disagree",
            file=csv_path(table).as_posix(),
            table=table,
            detail=f"CSV has {counts[0]} rows, {name} {counts[1]}; {differing} rows differ",
        )
