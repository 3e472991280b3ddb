"""Publish format: ``data/newstables.sqlite``, the tables in SQLite for Datasette and any
SQLite client, plus ``datasette/metadata.json`` generated from the same metadata.

The database has every table with its primary key, foreign keys (self-references too:
SQLite declares them freely), NOT NULL, enum and boolean CHECKs, the convenience views
ported to SQLite (``views_sqlite.sql``) and FTS5 full-text indexes on statement text and
mention excerpts. It is byte-reproducible for a given SQLite library version: rows are
inserted in primary-key order into a fresh file with fixed page size and no WAL, and the
file is VACUUMed so that page layout does not depend on insertion history (measured on
SQLite 3.40.1: two builds give the same bytes with or without VACUUM, and the same size, so
VACUUM is a safeguard, not a need). SQLite writes its own version number into the file
header, so another SQLite library version gives other bytes; tests/test_sqlite.py checks the
content against the DuckDB file.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import closing
from importlib import resources
from pathlib import Path
from typing import Any

from newstables.errors import NewstablesError
from newstables.metadata import file_resource
from newstables.tables import Table

SQLITE_FILE = Path("data/newstables.sqlite")
DATASETTE_METADATA = Path("datasette/metadata.json")
DATABASE_NAME = SQLITE_FILE.stem  # Datasette names a database after its file
SQLITE_TYPES = {"string": "TEXT", "integer": "INTEGER", "boolean": "INTEGER", "date": "TEXT"}
PAGE_SIZE = 4096
# Full-text indexes: table -> the text columns indexed (external-content FTS5 tables).
FTS_COLUMNS = {"statements": ("excerpt", "fidelity_note"), "actor_mentions": ("excerpt",)}


def quote_identifier(name: str) -> str:
    """A SQLite identifier in double quotes."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def column_sql(spec: dict[str, Any]) -> str:
    """Column definition: type, NOT NULL, enum CHECK, boolean 0/1 CHECK, ISO date CHECK."""
    name = quote_identifier(spec["name"])
    constraints = spec.get("constraints", {})
    parts = [name, SQLITE_TYPES[spec["type"]]]
    if constraints.get("required"):
        parts.append("NOT NULL")
    if "enum" in constraints:
        parts.append(f"CHECK ({name} IN ({', '.join(quote_literal(v) for v in constraints['enum'])}))")
    if spec["type"] == "boolean":
        parts.append(f"CHECK ({name} IN (0, 1))")
    if spec["type"] == "date":
        parts.append(f"CHECK ({name} IS date({name}))")
    return " ".join(parts)


def create_table_sql(table: Table) -> str:
    """CREATE TABLE with the primary key and every foreign key of the schema."""
    lines = [column_sql(spec) for spec in table.schema["fields"]]
    lines.append("PRIMARY KEY (" + ", ".join(quote_identifier(k) for k in table.primary_key) + ")")
    for fk in table.schema.get("foreignKeys", []):
        cols = ", ".join(quote_identifier(c) for c in fk["fields"])
        ref = fk["reference"]
        refs = ", ".join(quote_identifier(c) for c in ref["fields"])
        target = ref["resource"] or table.name  # "" means the table itself in Table Schema
        lines.append(f"FOREIGN KEY ({cols}) REFERENCES {quote_identifier(target)} ({refs})")
    return f"CREATE TABLE {quote_identifier(table.name)} (\n  " + ",\n  ".join(lines) + "\n)"


def sqlite_value(value: Any) -> Any:
    """A cell as SQLite stores it: NULL for empty, 0/1 for booleans, ISO text for dates."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


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


def views_sql() -> str:
    """The convenience views in SQLite's dialect (``views_sqlite.sql``, a port of ``views.sql``)."""
    return resources.files(__package__).joinpath("views_sqlite.sql").read_text(encoding="utf-8")


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
                f"INSERT INTO {quote_identifier(table.name)} VALUES ({marks})",
                ([sqlite_value(row[c]) for c in table.columns] for row in table.rows),
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
