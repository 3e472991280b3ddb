"""Stage 5, publish: write CSV, Parquet, DuckDB and ``datapackage.json`` into a staging
folder; ``core.staging.commit`` moves them into place once everything has been validated.

CSV is written by DuckDB (RFC 4180 quoting only where needed, LF line ends, header row),
Parquet by pyarrow; both are byte-reproducible. The DuckDB file is not byte-reproducible
(DuckDB does not promise it), so it is left out of ``datapackage.json``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from newstables.metadata import datapackage_json
from newstables.project import DUCKDB_FILE, SCHEMAS, Project, csv_path, parquet_path, schema_path
from newstables.sql import create_database
from newstables.tables import Table

ARROW_TYPES = {"string": pa.string(), "integer": pa.int64(), "boolean": pa.bool_(), "date": pa.date32()}


def to_arrow(table: Table) -> pa.Table:
    """The table as an Arrow table typed from its schema (empty strings become nulls)."""
    fields = table.schema["fields"]
    columns = {}
    for spec in fields:
        values = [row[spec["name"]] for row in table.rows]
        values = [None if v == "" else v for v in values]
        columns[spec["name"]] = pa.array(values, ARROW_TYPES[spec["type"]])
    return pa.table(columns)


def write_csv(arrow: pa.Table, path: Path) -> None:
    """Write a table as UTF-8 CSV with a header, LF line ends and minimal quoting."""
    con = duckdb.connect()
    con.register("rows", arrow)
    con.execute(f"COPY rows TO '{path.as_posix()}' (FORMAT csv, HEADER true, DELIMITER ',')")
    con.close()


def write_parquet(arrow: pa.Table, path: Path) -> None:
    """Write a table as Parquet with settings that give the same bytes on every run."""
    pq.write_table(arrow, path, compression="zstd", write_statistics=True)


def write_tables(tables: dict[str, Table], staging: Path) -> dict[str, pa.Table]:
    """Write every table's CSV and Parquet file under ``staging``; return the Arrow tables."""
    (staging / "data/parquet").mkdir(parents=True, exist_ok=True)
    arrows = {}
    for name, table in tables.items():
        arrows[name] = to_arrow(table)
        write_csv(arrows[name], staging / csv_path(name))
        write_parquet(arrows[name], staging / parquet_path(name))
    return arrows


def copy_schemas(project: Project, tables: dict[str, Table], staging: Path) -> list[Path]:
    """Copy the Table Schemas the descriptor points to into the staged release."""
    (staging / SCHEMAS).mkdir(parents=True, exist_ok=True)
    for name in tables:
        shutil.copyfile(project.path(schema_path(name)), staging / schema_path(name))
    return [schema_path(name) for name in tables]


def write_release(
    project: Project, tables: dict[str, Table], metadata: dict[str, Any], staging: Path
) -> list[Path]:
    """Write all data outputs into ``staging``; return their release-relative paths."""
    schemas = copy_schemas(project, tables, staging)
    arrows = write_tables(tables, staging)
    create_database(staging / DUCKDB_FILE, tables, arrows, metadata)
    (staging / "datapackage.json").write_text(datapackage_json(metadata, staging), encoding="utf-8")
    outputs = [csv_path(n) for n in tables] + [parquet_path(n) for n in tables]
    return [*schemas, *outputs, DUCKDB_FILE, Path("datapackage.json")]
