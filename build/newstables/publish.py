"""Stage 5, publish: write CSV, Parquet, DuckDB and ``datapackage.json`` into a staging
folder; ``core.staging.commit`` moves them into place once everything has been validated.

CSV and Parquet are written by ``core.formats`` (byte-reproducible), typed from the
metadata model; the DuckDB file by ``sql`` (one thread, no compression: byte-reproducible
too, and listed with its size and hash in ``datapackage.json`` like every other file).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa

from newstables.core.formats import arrow_table, write_csv, write_parquet
from newstables.core.model import Model
from newstables.examples import load_queries
from newstables.metadata import datapackage_json
from newstables.project import DUCKDB_FILE, SCHEMAS, Project, csv_path, parquet_path, schema_path
from newstables.publish_sqlite import write_sqlite
from newstables.publish_xlsx import write_xlsx
from newstables.sql import create_database
from newstables.tables import Table
from newstables.viewer import write_viewer

__all__ = ["to_arrow", "write_csv", "write_parquet", "write_release"]


# The workbook and the provenance page are for people reading a story, not for machines
# reading a corpus: past this many rows in all they are not written (Excel's own limit is
# 1,048,576 rows a sheet; the page of a 1,000-article synthetic corpus, 60,500 rows, is 36 MB
# of embedded data, and writing both takes longer than the rest of publishing). The release
# then holds CSV, Parquet, DuckDB and SQLite, and datapackage.json lists what it holds.
READER_FORMAT_MAX_ROWS = 100_000


def to_arrow(table: Table) -> pa.Table:
    """The table as an Arrow table typed from its model resource (empty strings become nulls)."""
    return arrow_table(table.resource, table.rows)


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


def write_release(project: Project, tables: dict[str, Table], model: Model, staging: Path) -> list[Path]:
    """Write all data outputs into ``staging``; return their release-relative paths."""
    schemas = copy_schemas(project, tables, staging)
    arrows = write_tables(tables, staging)
    create_database(staging / DUCKDB_FILE, tables, arrows)
    # The reader formats (issue 10), each listed in datapackage.json with its bytes and hash.
    metadata = model.package.as_dict()
    extras = write_sqlite(tables, metadata, load_queries(project), staging)
    if sum(len(table.rows) for table in tables.values()) <= READER_FORMAT_MAX_ROWS:
        extras += [
            *write_xlsx(tables, model.package, staging),
            *write_viewer(project, tables, model.package, staging),
        ]
    (staging / "datapackage.json").write_text(datapackage_json(model, staging, extras), encoding="utf-8")
    outputs = [csv_path(n) for n in tables] + [parquet_path(n) for n in tables]
    extra_paths = [Path(resource["path"]) for resource in extras]
    return [*schemas, *outputs, DUCKDB_FILE, *extra_paths, Path("datapackage.json")]
