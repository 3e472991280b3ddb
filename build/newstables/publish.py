"""Stage 5, publish: write CSV, Parquet, DuckDB and ``datapackage.json`` into a staging
folder; ``core.staging.commit`` moves them into place once everything has been validated.

CSV and Parquet are written by ``core.formats`` (byte-reproducible), typed from the
metadata model; the DuckDB file by ``sql`` (one thread, no compression: byte-reproducible
too, and listed with its size and hash in ``datapackage.json`` like every other file).
Tables marked ``partition`` in package.yaml get their Parquet copy as hive-style parts by the
publication year of each row's document (``core.parts``); a CSV past
``core.formats.CSV_GZIP_MIN_BYTES`` is published gzip-compressed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from newstables.core.cache import OutputCache
from newstables.core.formats import (
    CSV_GZIP_MIN_BYTES,
    arrow_table,
    write_csv,
    write_csv_maybe_gz,
    write_parquet,
)
from newstables.core.model import Model
from newstables.core.parts import PARQUET_DIR, write_partitioned
from newstables.examples import load_queries
from newstables.metadata import datapackage_json
from newstables.project import (
    DUCKDB_FILE,
    SCHEMAS,
    Project,
    csv_gz_path,
    csv_path,
    parquet_path,
    schema_path,
)
from newstables.publish_sqlite import write_sqlite
from newstables.sql import create_database
from newstables.tables import Table

__all__ = [
    "obsolete_outputs",
    "remove_empty_folders",
    "to_arrow",
    "write_csv",
    "write_data",
    "write_database",
    "write_descriptor",
    "write_files",
    "write_parquet",
    "write_reader_formats",
    "write_release",
]


# The workbook and the provenance page are for people reading a story, not for machines
# reading a corpus: past this many rows in all they are not written (Excel's own limit is
# 1,048,576 rows a sheet; the page of a 1,000-article synthetic corpus, 60,500 rows, is 36 MB
# of embedded data, and writing both takes longer than the rest of publishing). The release
# then holds CSV, Parquet, DuckDB and SQLite, and datapackage.json lists what it holds.
READER_FORMAT_MAX_ROWS = 100_000


def to_arrow(table: Table) -> pa.Table:
    """The table as an Arrow table typed from its model resource (empty strings become nulls)."""
    return arrow_table(table.resource, table.rows)


def publication_dates(tables: dict[str, Table]) -> dict[str, dt.date | None]:
    """Every document's publication date (None when unknown), from the ``documents`` table."""
    if "documents" not in tables:
        return {}
    documents = to_arrow(tables["documents"])
    ids = documents.column("document_id").to_pylist()
    dates = documents.column("date_published").to_pylist()
    return dict(zip((str(i) for i in ids), dates, strict=True))


def write_tables(
    tables: dict[str, Table],
    staging: Path,
    min_gzip_bytes: int = CSV_GZIP_MIN_BYTES,
    arrows: dict[str, pa.Table] | None = None,
    reuse_from: Path | None = None,
) -> tuple[dict[str, pa.Table], list[Path]]:
    """Write every table's CSV and Parquet file(s) under ``staging``; return the Arrow tables
    (``arrows``: those already made) and the release-relative paths written (CSV, then Parquet
    files and parts). ``reuse_from``: the release this build replaces; a table whose files
    would be written from the same Arrow table with the same settings and code as files it
    still holds gets copies of those (``core.cache.OutputCache``: the same bytes)."""
    (staging / PARQUET_DIR).mkdir(parents=True, exist_ok=True)
    published = publication_dates(tables)
    arrows = dict(arrows or {})
    outputs = OutputCache.for_outputs() if reuse_from is not None else OutputCache(None)
    dates = repr(sorted(published.items()))
    csvs: list[Path] = []
    parquets: list[Path] = []
    con: duckdb.DuckDBPyConnection | None = None  # one connection for every table's CSV
    for name, table in tables.items():
        if name not in arrows:
            arrows[name] = to_arrow(table)
        key = outputs.key(name, ipc_digest(arrows[name]), repr(table.resource), str(min_gzip_bytes), dates)
        reused = outputs.reuse(key, reuse_from, staging) if reuse_from is not None else None
        if reused is not None:
            csvs.append(Path(reused[0]))
            parquets += [Path(p) for p in reused[1:]]
            continue
        con = con or duckdb.connect()
        written = write_csv_maybe_gz(arrows[name], staging / csv_path(name), min_gzip_bytes, con).relative_to(
            staging
        )
        if table.resource.partition:
            order = ["document_id", *(k for k in table.resource.primary_key if k != "document_id")]
            parts = write_partitioned(arrows[name], name, staging, published, order)
        else:
            write_parquet(arrows[name], staging / parquet_path(name))
            parts = [parquet_path(name)]
        csvs.append(written)
        parquets += parts
        outputs.remember(key, staging, [p.as_posix() for p in [written, *parts]])
    if con is not None:
        con.close()
    return arrows, [*csvs, *parquets]


def ipc_digest(arrow: pa.Table) -> str:
    """The SHA-256 of a table's Arrow IPC stream (its schema and every column's bytes)."""
    import pyarrow.ipc  # noqa: F401  (pa.ipc: a small module, loaded on first use)

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, arrow.schema) as writer:
        writer.write_table(arrow)
    return hashlib.sha256(memoryview(sink.getvalue())).hexdigest()


def obsolete_outputs(out: Path, tables: dict[str, Table], written: list[Path]) -> list[Path]:
    """Files a previous build published under ``out`` for these tables that this build does not
    write (a table newly partitioned or newly compressed leaves its old file; a year that lost
    its rows leaves its parts): ``commit`` moves them out of the release with the new files."""
    keep = {p.as_posix() for p in written}
    candidates: list[Path] = []
    for name in tables:
        candidates += [csv_path(name), csv_gz_path(name), parquet_path(name)]
        folder = out / PARQUET_DIR / name
        if folder.is_dir() and not folder.is_symlink():
            candidates += [p.relative_to(out) for p in folder.rglob("*") if not p.is_dir()]
    return sorted(p for p in candidates if p.as_posix() not in keep and (out / p).is_file())


def remove_empty_folders(out: Path, tables: dict[str, Table]) -> None:
    """Remove the partition folders that obsolete parts left empty (after the commit)."""
    for name in tables:
        folder = out / PARQUET_DIR / name
        if not folder.is_dir() or folder.is_symlink():
            continue
        for child in sorted([folder, *folder.rglob("*")], key=lambda p: len(p.parts), reverse=True):
            if child.is_dir() and not child.is_symlink() and not any(child.iterdir()):
                child.rmdir()


def copy_schemas(project: Project, tables: dict[str, Table], staging: Path) -> list[Path]:
    """Copy the Table Schemas the descriptor points to into the staged release."""
    (staging / SCHEMAS).mkdir(parents=True, exist_ok=True)
    for name in tables:
        shutil.copyfile(project.path(schema_path(name)), staging / schema_path(name))
    return [schema_path(name) for name in tables]


def write_data(project: Project, tables: dict[str, Table], model: Model, staging: Path) -> list[Path]:
    """Write what the structural checks and the gate read (the Table Schemas, every table's CSV
    and Parquet, the DuckDB file) into ``staging``; return their release-relative paths."""
    arrows = {name: to_arrow(table) for name, table in tables.items()}
    files = write_files(project, tables, staging, arrows)
    return [*files, *write_database(tables, staging, arrows)]


def write_files(
    project: Project,
    tables: dict[str, Table],
    staging: Path,
    arrows: dict[str, pa.Table],
    reuse_from: Path | None = None,
) -> list[Path]:
    """Copy the Table Schemas and write every table's CSV and Parquet file(s) from its Arrow
    table (``reuse_from``: see :func:`write_tables`); return their release-relative paths."""
    schemas = copy_schemas(project, tables, staging)
    return [*schemas, *write_tables(tables, staging, arrows=arrows, reuse_from=reuse_from)[1]]


def write_database(tables: dict[str, Table], staging: Path, arrows: dict[str, pa.Table]) -> list[Path]:
    """Write the DuckDB file from the tables' Arrow tables; return its release-relative path.
    It can be written while :func:`write_files` writes the others (DuckDB, single-threaded and
    byte-reproducible, lets go of the interpreter lock)."""
    (staging / DUCKDB_FILE).parent.mkdir(parents=True, exist_ok=True)
    create_database(staging / DUCKDB_FILE, tables, arrows)
    return [DUCKDB_FILE]


def write_reader_formats(
    project: Project, tables: dict[str, Table], model: Model, staging: Path
) -> list[dict[str, Any]]:
    """Write the reader formats (issue 10: SQLite with its Datasette metadata, and for a release
    of at most ``READER_FORMAT_MAX_ROWS`` rows the workbook and the provenance page) into
    ``staging``; return their datapackage resources. They are written from the built rows, not
    from the staged files, so the build writes them while it checks those."""
    # Imported here, in the thread that writes them while the checks run (xlsxwriter's import
    # alone is a twentieth of a second), not before the build starts.
    from newstables.publish_xlsx import write_xlsx
    from newstables.viewer import write_viewer

    metadata = model.package.as_dict()
    extras = write_sqlite(tables, metadata, load_queries(project), staging)
    if sum(len(table.rows) for table in tables.values()) <= READER_FORMAT_MAX_ROWS:
        extras += [
            *write_xlsx(tables, model.package, staging),
            *write_viewer(project, tables, model.package, staging),
        ]
    return extras


def write_descriptor(model: Model, staging: Path, extras: list[dict[str, Any]]) -> list[Path]:
    """Write ``datapackage.json`` (every staged file with its bytes and hash), last; return the
    reader formats' paths and its own."""
    (staging / "datapackage.json").write_text(datapackage_json(model, staging, extras), encoding="utf-8")
    return [*(Path(resource["path"]) for resource in extras), Path("datapackage.json")]


def write_release(project: Project, tables: dict[str, Table], model: Model, staging: Path) -> list[Path]:
    """Write all data outputs into ``staging``; return their release-relative paths."""
    written = write_data(project, tables, model, staging)
    extras = write_reader_formats(project, tables, model, staging)
    return [*written, *write_descriptor(model, staging, extras)]
