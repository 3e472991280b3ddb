"""Stage 5 at scale, publish: the staged shards (``shards``) become the release through DuckDB.

No table is held as Python rows. The DuckDB file is written with one DuckDB thread (its bytes
depend on it), each table inserted from its staged shards in the published order (primary key,
compared as text, as ``tables.sort_rows`` does), locators dropped. At the same time, on the
other core, each table is inserted the same way into an in-memory database of its own (the
published column types, the same order) and dropped once written: its CSV is DuckDB's ``COPY``
of that table (gzip-compressed past ``CSV_GZIP_MIN_BYTES``), its Parquet copy is read from it
(a partitioned table: one publication year at a time) and written by pyarrow as the small build
writes it (``core.parts``, ``core.formats``), so a corpus gives the same bytes whatever its
shard size, and the same as the small build (``tests/test_shards.py``). The DuckDB file's
connection has the whole memory limit (``core.bounded``), the files' connection 0.4 of it more
(``DATABASE_SHARE``, ``FILES_SHARE``).

The reader formats a large corpus does not get: the workbook and the provenance page are left
out past ``publish.READER_FORMAT_MAX_ROWS`` by the small build too; the SQLite file is not
written by the sharded build (its writer iterates Python rows); ``datapackage.json`` lists
only what the release holds, and the report says so.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from newstables.core.bounded import SPILL, bound, bounded_connection
from newstables.core.formats import CSV_GZIP_MIN_BYTES, gzip_file, write_parquet
from newstables.core.model import Model, Resource, quote_literal
from newstables.core.parts import DEFAULT_PARTITION, PARQUET_DIR, part_path, split_balanced, write_part
from newstables.core.progress import stage, track
from newstables.examples import load_queries
from newstables.metadata import datapackage_json
from newstables.project import DUCKDB_FILE, Project, csv_path, parquet_path
from newstables.publish import copy_schemas
from newstables.publish_sqlite import write_sqlite
from newstables.shards import column, fetch_arrow
from newstables.sql import (
    STORAGE_VERSION,
    block_size,
    dependency_order,
    materialize,
    reproducible_connection,
    views_sql,
)
from newstables.tables import Table

# What the sharded build publishes instead of the small build's reader formats.
NOT_PUBLISHED = (
    "data/newstables.xlsx and viewer/index.html are not written for a corpus built in shards (nor "
    "data/newstables.sqlite past SQLITE_MAX_ROWS rows); query data/newstables.duckdb or data/parquet/ "
    "instead"
)
# The SQLite file (for Datasette) is written from rows streamed out of the DuckDB file up to this
# many rows in all; past it, its full-text indexes and VACUUM take minutes that DuckDB and
# Parquet readers do not need.
SQLITE_MAX_ROWS = 1_000_000
BATCH_ROWS = 10_000


class StreamedRows(list[dict[str, Any]]):
    """A table's rows as the SQLite writer iterates them: read from the DuckDB file in batches,
    in the published order, never all held (``len`` is the row count)."""

    def __init__(self, database: Path, resource: Resource, count: int) -> None:
        super().__init__()
        self.database, self.resource, self.total = database, resource, count

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[dict[str, Any]]:
        con = bounded_connection(threads=1)
        con.execute(f"ATTACH {quote_literal(self.database.as_posix())} AS db (READ_ONLY)")
        columns = self.resource.columns
        cursor = con.execute(f"SELECT {', '.join(column(c) for c in columns)} FROM db.{self.resource.name}")
        while batch := cursor.fetchmany(BATCH_ROWS):
            for values in batch:
                yield dict(zip(columns, values, strict=True))
        con.close()

    def sqlite_rows(self) -> Iterator[tuple[Any, ...]]:
        """The rows' cells as ``publish_sqlite.sqlite_value`` gives them, converted by DuckDB:
        empty text as NULL, booleans as 0/1, dates as ISO text (DuckDB's text of a date is
        Python's ``isoformat`` for every date Python holds)."""
        con = bounded_connection(threads=1)
        con.execute(f"ATTACH {quote_literal(self.database.as_posix())} AS db (READ_ONLY)")
        cells = ", ".join(sqlite_cell(spec.name, spec.type) for spec in self.resource.fields)
        cursor = con.execute(f"SELECT {cells} FROM db.{self.resource.name}")
        while batch := cursor.fetchmany(BATCH_ROWS):
            yield from batch
        con.close()


def sqlite_cell(name: str, kind: str) -> str:
    """The SQL of one column's cells as SQLite stores them (``publish_sqlite.sqlite_value``)."""
    if kind == "boolean":
        return f"CAST({column(name)} AS INTEGER)"
    if kind == "date":
        return f"CAST({column(name)} AS VARCHAR)"
    if kind == "string":
        return f"NULLIF({column(name)}, '')"
    return column(name)


def write_sqlite_streamed(
    project: Project, model: Model, staging: Path, counts: dict[str, int]
) -> list[dict[str, Any]]:
    """The SQLite file and Datasette metadata (``publish_sqlite``), rows streamed from the
    DuckDB file; nothing past ``SQLITE_MAX_ROWS`` rows (the report says so)."""
    if sum(counts.values()) > SQLITE_MAX_ROWS:
        return []
    tables = {
        r.name: Table(r.name, r, StreamedRows(staging / DUCKDB_FILE, r, counts[r.name]))
        for r in model.resources
    }
    return write_sqlite(tables, model.package.as_dict(), load_queries(project), staging)


def published_order(resource: Resource) -> str:
    """ORDER BY of the published row order: the primary key's values as text."""
    return ", ".join(f"CAST({column(k)} AS VARCHAR)" for k in resource.primary_key)


# The memory limit's shares of the two connections open at the same time (``write_release``). The
# DuckDB file keeps the whole limit: committing the 1M-statement file (128 KiB blocks, derived
# tables) with 0.6 of it failed to pin a block (572 MiB used of 572). The CSV/Parquet files and
# then the row checks run beside it with 0.4 more (1.4x the limit in all, spilling past it).
DATABASE_SHARE = 1.0
FILES_SHARE = 0.4
# The files' connection spills to a folder of its own: two databases, one temp folder each.
FILES_SPILL = ".spill-files"


def write_database(
    path: Path,
    stubs: dict[str, Table],
    staged: dict[str, list[Path]],
    spill: Path,
    rows: int,
    share: float = 1.0,
) -> None:
    """The DuckDB file, as ``sql.create_database`` writes it, every table from its staged shards
    (one thread: the file's bytes depend on it; sorting past ``share`` of the memory limit
    spills to ``spill``), in blocks of ``sql.block_size`` for its ``rows`` rows in all."""
    con = bound(reproducible_connection(), spill, share)
    con.execute(
        f"ATTACH {quote_literal(path.as_posix())} AS release "
        f"(BLOCK_SIZE {block_size(rows)}, STORAGE_VERSION '{STORAGE_VERSION}')"
    )
    con.execute("USE release")
    created: set[str] = set()
    for name in track(dependency_order(stubs), len(stubs), "write DuckDB", "table"):
        resource = stubs[name].resource
        con.execute(resource.ddl(created))
        if staged[name]:
            con.execute(f"INSERT INTO {name} {sorted_rows(resource, staged[name])}")
        for statement in resource.comment_sql():
            con.execute(statement)
        created.add(name)
    con.execute(views_sql())
    materialize(con)
    con.execute("USE memory")
    con.execute("DETACH release")
    con.close()


def sorted_rows(resource: Resource, paths: list[Path]) -> str:
    """The SELECT of a table's rows from its staged shards, in the published order."""
    files = ", ".join(quote_literal(p.as_posix()) for p in paths)
    columns = ", ".join(column(c) for c in resource.columns)
    return f"SELECT {columns} FROM read_parquet([{files}]) ORDER BY {published_order(resource)}"


def load_table(con: duckdb.DuckDBPyConnection, resource: Resource, paths: list[Path]) -> None:
    """Create ``db.<table>`` with the published column types (no keys: checked already) and
    insert its staged rows in the published order, as ``write_database`` inserts them."""
    columns = ", ".join(f"{column(f.name)} {f.to_sql()}" for f in resource.fields)
    con.execute(f"CREATE TABLE db.{resource.name} ({columns})")
    if paths:
        con.execute(f"INSERT INTO db.{resource.name} {sorted_rows(resource, paths)}")


def typed(arrow: pa.Table, resource: Resource) -> pa.Table:
    """Rows read back from DuckDB with the model's Arrow types, in one chunk per column (as the
    small build's ``formats.arrow_table`` gives them, so pyarrow writes the same bytes)."""
    return arrow.cast(resource.arrow_schema()).combine_chunks()


def write_csv(con: duckdb.DuckDBPyConnection, name: str, staging: Path) -> Path:
    """The table's CSV (as ``formats.write_csv``), compressed when large; its relative path."""
    plain = staging / csv_path(name)
    con.execute(
        f"COPY (SELECT * FROM db.{name}) TO {quote_literal(plain.as_posix())} "
        "(FORMAT csv, HEADER true, DELIMITER ',')"
    )
    if plain.stat().st_size <= CSV_GZIP_MIN_BYTES:
        return csv_path(name)
    packed = plain.with_name(plain.name + ".gz")
    gzip_file(plain, packed)
    plain.unlink()
    return packed.relative_to(staging)


def write_parts(con: duckdb.DuckDBPyConnection, resource: Resource, staging: Path) -> list[Path]:
    """A partitioned table's hive-style parts (as ``parts.write_partitioned``), one publication
    year at a time: rows by document, then primary key."""
    name = resource.name
    tables = {
        row[0]
        for row in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'db'").fetchall()
    }
    if "documents" in tables:
        year = f"coalesce(lpad(CAST(year(d.date_published) AS VARCHAR), 4, '0'), '{DEFAULT_PARTITION}')"
        joined = (
            f"SELECT t.*, {year} AS __year FROM db.{name} t "
            "LEFT JOIN db.documents d ON d.document_id = t.document_id"
        )
    else:
        joined = f"SELECT t.*, '{DEFAULT_PARTITION}' AS __year FROM db.{name} t"
    order = ["document_id", *(k for k in resource.primary_key if k != "document_id")]
    years = [row[0] for row in con.execute(f"SELECT DISTINCT __year FROM ({joined}) ORDER BY 1").fetchall()]
    columns = ", ".join(column(c) for c in resource.columns)
    written: list[Path] = []
    for value in years:
        arrow = fetch_arrow(
            con,
            f"SELECT {columns} FROM ({joined}) WHERE __year = ? ORDER BY "
            + ", ".join(f"{column(k)} NULLS LAST" for k in order),
            [value],
        )
        for number, rows in enumerate(split_balanced(typed(arrow, resource), 2**30)):
            relative = part_path(name, str(value), number)
            write_part(rows, staging / relative)
            written.append(relative)
    if not written:
        relative = part_path(name, DEFAULT_PARTITION, 0)
        write_part(resource.arrow_schema().empty_table(), staging / relative)
        written.append(relative)
    return written


def write_files(model: Model, staging: Path, staged: dict[str, list[Path]]) -> tuple[list[Path], list[Path]]:
    """Every table's CSV and Parquet files, from its staged shards, one table at a time (the
    documents, which give the partitions' years, first and to the end); their relative paths."""
    spill = staging / FILES_SPILL
    con = bounded_connection(spill, threads=1, share=FILES_SHARE)
    con.execute("ATTACH ':memory:' AS db")
    documents = next((r for r in model.resources if r.name == "documents"), None)
    if documents is not None:
        load_table(con, documents, staged[documents.name])
    csvs: list[Path] = []
    parquets: list[Path] = []
    for resource in track(model.resources, len(model.resources), "write CSV and Parquet", "table"):
        if resource is not documents:
            with stage("publish: sort for csv and parquet"):
                load_table(con, resource, staged[resource.name])
        with stage("publish: csv"):
            csvs.append(write_csv(con, resource.name, staging))
        with stage("publish: parquet"):
            if resource.partition:
                parquets += write_parts(con, resource, staging)
            else:
                arrow = fetch_arrow(con, f"SELECT * FROM db.{resource.name}")
                write_parquet(typed(arrow, resource), staging / parquet_path(resource.name))
                parquets.append(parquet_path(resource.name))
        if resource is not documents:
            con.execute(f"DROP TABLE db.{resource.name}")  # its memory freed for the next table
    con.close()
    shutil.rmtree(spill, ignore_errors=True)
    return csvs, parquets


def write_database_then_sqlite(
    project: Project,
    model: Model,
    staging: Path,
    stubs: dict[str, Table],
    staged: dict[str, list[Path]],
    counts: dict[str, int],
) -> list[dict[str, Any]]:
    """The DuckDB file (stage "publish: duckdb"), then the SQLite file streamed from it (stage
    "publish: sqlite"), for a thread of its own; the SQLite file's descriptor entries."""
    with stage("publish: duckdb"):
        write_database(
            staging / DUCKDB_FILE, stubs, staged, staging / SPILL, sum(counts.values()), DATABASE_SHARE
        )
    with stage("publish: sqlite"):
        return write_sqlite_streamed(project, model, staging, counts)


def write_release(
    project: Project,
    model: Model,
    staging: Path,
    staged: dict[str, list[Path]],
    counts: dict[str, int],
    after_files: Callable[[], object] | None = None,
) -> tuple[list[Path], dict[str, Table]]:
    """Write the release's data outputs from the staged shards into ``staging``; return their
    release-relative paths and the tables (resources without rows) they are of. ``after_files``
    is called once the CSV and Parquet files are written, while the DuckDB file may still be
    (the build starts the checks that read only those files)."""
    stubs = {r.name: Table(r.name, r) for r in model.resources}
    schemas = copy_schemas(project, stubs, staging)
    (staging / DUCKDB_FILE).parent.mkdir(parents=True, exist_ok=True)
    (staging / PARQUET_DIR).mkdir(parents=True, exist_ok=True)
    # The DuckDB file takes one core for minutes at scale (one DuckDB thread: its bytes depend on
    # it); a thread of its own writes it, then the SQLite file read from it (when written), while
    # this one writes the CSV and Parquet files from the same staged shards on the other core.
    # DuckDB, pyarrow and SQLite let go of the interpreter lock. The files' error, if any, is
    # raised first, as when they were written after the database.
    with ThreadPoolExecutor(1, thread_name_prefix="duckdb-file") as pool:
        database = pool.submit(write_database_then_sqlite, project, model, staging, stubs, staged, counts)
        csvs, parquets = write_files(model, staging, staged)
        if after_files is not None:
            after_files()
        extras = database.result()
    with stage("publish: datapackage.json"):
        (staging / "datapackage.json").write_text(datapackage_json(model, staging, extras), encoding="utf-8")
    extra_paths = [Path(resource["path"]) for resource in extras]
    return [*schemas, *csvs, *parquets, DUCKDB_FILE, *extra_paths, Path("datapackage.json")], stubs
