"""Publish format: ``data/newstables.sqlite``, the tables in SQLite for Datasette and any
SQLite client, plus ``datasette/metadata.json`` generated from the same metadata.

The database has every table with its primary key, foreign keys (self-references too: SQLite
declares them freely), NOT NULL, enum and boolean CHECKs (the DDL comes from the metadata
model: ``Resource.sqlite_ddl``), the convenience views of ``views.sql`` (the few using
DuckDB-only SQL replaced by their port in ``views_sqlite.sql``) and FTS5 full-text indexes
on statement text and mention excerpts. It is byte-reproducible for a given SQLite library
version: rows are inserted in primary-key order into a fresh file with fixed page size and
no WAL, and the file is VACUUMed so that page layout does not depend on insertion history
(measured on SQLite 3.40.1: two builds give the same bytes with or without VACUUM, and the
same size, so VACUUM is a safeguard, not a need). SQLite writes its own version number into
the file header, so another SQLite library version gives other bytes; tests/test_sqlite.py
checks the content against the DuckDB file.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import closing
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import duckdb

from newstables.core.model import quote_identifier
from newstables.errors import NewstablesError
from newstables.metadata import file_resource
from newstables.tables import Table

SQLITE_FILE = Path("data/newstables.sqlite")
DATASETTE_METADATA = Path("datasette/metadata.json")
DATABASE_NAME = SQLITE_FILE.stem  # Datasette names a database after its file
PAGE_SIZE = 4096
# Full-text indexes: table -> the text columns indexed (external-content FTS5 tables).
FTS_COLUMNS = {"statements": ("excerpt", "fidelity_note"), "actor_mentions": ("excerpt",)}


def create_table_sql(table: Table) -> str:
    """CREATE TABLE with the primary key and every foreign key, from the model resource."""
    return table.resource.sqlite_ddl()


def sqlite_value(value: Any) -> Any:
    """A cell as SQLite stores it: NULL for empty, 0/1 for booleans, ISO text for dates."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@runtime_checkable
class SqliteRows(Protocol):
    """Rows that give their cells already as SQLite stores them (``sqlite_value``), in order:
    the sharded build's rows streamed from the DuckDB file, converted there rather than one
    Python value at a time."""

    def sqlite_rows(self) -> Iterable[Sequence[Any]]:
        """Every row's cells, in column order, as ``sqlite_value`` gives them."""
        ...


def sqlite_rows(table: Table) -> Iterable[Sequence[Any]]:
    """A table's rows as SQLite stores them, in order."""
    if isinstance(table.rows, SqliteRows):
        return table.rows.sqlite_rows()
    columns = table.columns
    return ([sqlite_value(row[c]) for c in columns] for row in table.rows)


def fts_sql(table: str, columns: tuple[str, ...]) -> list[str]:
    """An external-content FTS5 index on ``columns`` of ``table``, filled from the table.

    The ``content=[table]`` form is the one Datasette detects, so its table pages get a
    search box without further configuration.
    """
    fts = quote_identifier(f"{table}_fts")
    cols = ", ".join(quote_identifier(c) for c in columns)
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content=[{table}], tokenize='unicode61')",
        f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')",
    ]


VIEW_NAME = re.compile(r"^\s*CREATE\s+VIEW\s+(\w+)", re.IGNORECASE)


def view_statements(sql: str) -> dict[str, str]:
    """The ``CREATE VIEW`` statements of a script, by view name (comments and COMMENT ON,
    which SQLite lacks, left out). DuckDB's parser splits the script, so a ``;`` inside a
    string literal never cuts a statement."""
    views = {}
    for statement in duckdb.extract_statements(sql):
        match = VIEW_NAME.match(statement.query)
        if match:
            views[match.group(1)] = statement.query.strip()
    return views


def views_sql() -> str:
    """The convenience views for SQLite: the portable ones from ``views.sql`` as they are, the
    ones using DuckDB-only SQL replaced by their port in ``views_sqlite.sql``, in the order of
    ``views.sql``."""
    files = resources.files(__package__)
    portable = view_statements(files.joinpath("views.sql").read_text(encoding="utf-8"))
    ported = view_statements(files.joinpath("views_sqlite.sql").read_text(encoding="utf-8"))
    unknown = sorted(set(ported) - set(portable))
    if unknown:
        raise ValueError(f"views_sqlite.sql ports views that views.sql lacks: {unknown}")
    return "".join(f"{ported.get(name, body)};\n" for name, body in portable.items())


def check_foreign_keys(con: sqlite3.Connection) -> None:
    """SQLite's own foreign-key check; the build checks keys earlier, so this is a safeguard."""
    broken = con.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        table, rowid, parent, _ = broken[0]
        raise NewstablesError(
            "outputs-disagree",
            file=SQLITE_FILE.as_posix(),
            table=table,
            detail=f"row {rowid} references a missing {parent} row ({len(broken)} broken references)",
        )


def write_database(path: Path, tables: dict[str, Table]) -> None:
    """Write the SQLite file: tables, keys, views and full-text indexes, reproducibly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with closing(sqlite3.connect(path, isolation_level=None)) as con:
        con.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        con.execute("PRAGMA journal_mode = DELETE")
        con.execute("BEGIN")
        for table in tables.values():
            con.execute(create_table_sql(table))
            marks = ", ".join("?" for _ in table.columns)
            con.executemany(
                f"INSERT INTO {quote_identifier(table.name)} VALUES ({marks})", sqlite_rows(table)
            )
        for name, columns in FTS_COLUMNS.items():
            if name in tables:
                for statement in fts_sql(name, columns):
                    con.execute(statement)
        con.execute("COMMIT")
        con.executescript(views_sql())
        check_foreign_keys(con)
        con.execute("VACUUM")


def canned_queries(queries: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """The example queries as Datasette canned queries (those that run on SQLite)."""
    return {
        q["name"]: {"title": q["title"], "description": q["description"], "sql": q["sql"].strip()}
        for q in queries
        if "sqlite" in q.get("engines", ["duckdb", "sqlite"])
    }


def datasette_metadata(
    metadata: dict[str, Any], tables: dict[str, Table], queries: list[dict[str, Any]]
) -> dict[str, Any]:
    """``datasette/metadata.json``: title, description, licence, source, per-table and
    per-column descriptions and the example queries, all from the release metadata."""
    licence = (metadata.get("licenses") or [{}])[0]
    source = (metadata.get("sources") or [{}])[0]
    entries = {r["name"]: r for r in metadata["resources"]}
    table_meta = {}
    for name, table in tables.items():
        entry: dict[str, Any] = {
            "title": entries.get(name, {}).get("title", name),
            "description": entries.get(name, {}).get("description", ""),
            "columns": {f["name"]: f.get("description", "") for f in table.schema["fields"]},
        }
        if name in FTS_COLUMNS:
            entry["fts_table"] = f"{name}_fts"
        table_meta[name] = entry
    return {
        "title": metadata["title"],
        "description": " ".join(str(metadata.get("description", "")).split()),
        "license": licence.get("name", ""),
        "license_url": licence.get("path", ""),
        "source": source.get("title", ""),
        "source_url": source.get("path", ""),
        "databases": {
            DATABASE_NAME: {
                "title": f"{metadata['title']} (version {metadata['version']})",
                "tables": table_meta,
                "queries": canned_queries(queries),
            }
        },
    }


def write_sqlite(
    tables: dict[str, Table], metadata: dict[str, Any], queries: list[dict[str, Any]], staging: Path
) -> list[dict[str, Any]]:
    """Write the SQLite file and the Datasette metadata under ``staging``; return their
    datapackage resources.

    Example: ``datasette data/newstables.sqlite --metadata datasette/metadata.json``
    serves what this writes.
    """
    write_database(staging / SQLITE_FILE, tables)
    (staging / DATASETTE_METADATA).parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(datasette_metadata(metadata, tables, queries), indent=2, ensure_ascii=False) + "\n"
    (staging / DATASETTE_METADATA).write_text(text, encoding="utf-8")
    return [
        file_resource(
            staging,
            SQLITE_FILE,
            name="database-sqlite",
            format="sqlite",
            mediatype="application/vnd.sqlite3",
            title="SQLite database",
            description="Every table with its keys, the convenience views and full-text search on "
            "statement and mention text; open with Datasette, sqlite3 or any SQLite client.",
        ),
        file_resource(
            staging,
            DATASETTE_METADATA,
            name="datasette-metadata",
            format="json",
            mediatype="application/json",
            title="Datasette metadata",
            description="Titles, descriptions, licence, source, column descriptions and example "
            "queries for `datasette data/newstables.sqlite --metadata datasette/metadata.json`.",
        ),
    ]
