"""The DuckDB database file: tables with constraints and comments from the schemas,
plus the convenience views declared in ``schemas/views.sql``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from newstables.tables import Table

SQL_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "boolean": "BOOLEAN", "date": "DATE"}
# DuckDB 1.x cannot open files written in DuckDB 2.0's default storage format. v1.2.0 is the
# oldest format that allows small blocks: DuckDB 1.2 and later (1.4.4 checked) open the file,
# 1.0 and 1.1 do not.
STORAGE_VERSION = "v1.2.0"
# 16 KiB blocks instead of the default 256 KiB: the seed's file shrinks from 10.7 MB to 0.73 MB
# (every table and column segment takes at least one block).
BLOCK_SIZE = 16384


def quote_literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def column_sql(spec: dict[str, Any]) -> str:
    """Column definition: type, NOT NULL and enum CHECK from the field's constraints."""
    constraints = spec.get("constraints", {})
    parts = [f'"{spec["name"]}"', SQL_TYPES[spec["type"]]]
    if constraints.get("required"):
        parts.append("NOT NULL")
    if "enum" in constraints:
        values = ", ".join(quote_literal(v) for v in constraints["enum"])
        parts.append(f'CHECK ("{spec["name"]}" IN ({values}))')
    return " ".join(parts)


def create_table_sql(table: Table, created: set[str]) -> str:
    """CREATE TABLE with primary key and the foreign keys DuckDB can enforce.

    DuckDB has no ALTER TABLE ADD FOREIGN KEY and rejects self-references inserted in one
    statement, so only keys to tables created earlier are declared; the build checks all
    foreign keys itself before writing anything.
    """
    lines = [column_sql(spec) for spec in table.schema["fields"]]
    lines.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in table.primary_key) + ")")
    for fk in table.schema.get("foreignKeys", []):
        target = fk["reference"]["resource"]
        if target in created and target != table.name:
            cols = ", ".join(f'"{c}"' for c in fk["fields"])
            refs = ", ".join(f'"{c}"' for c in fk["reference"]["fields"])
            lines.append(f"FOREIGN KEY ({cols}) REFERENCES {target} ({refs})")
    return f"CREATE TABLE {table.name} (\n  " + ",\n  ".join(lines) + "\n)"


def comment_sql(table: Table, description: str) -> list[str]:
    """COMMENT ON statements for the table and each column, from the schema texts."""
    statements = [f"COMMENT ON TABLE {table.name} IS {quote_literal(description)}"]
    for spec in table.schema["fields"]:
        text = f"{spec['title']}: {spec['description']}"
        statements.append(f'COMMENT ON COLUMN {table.name}."{spec["name"]}" IS {quote_literal(text)}')
    return statements


def _targets(table: Table) -> set[str]:
    return {fk["reference"]["resource"] for fk in table.schema.get("foreignKeys", [])} - {table.name}


def dependency_order(tables: dict[str, Table]) -> list[str]:
    """Tables ordered so that referenced tables come first; a cycle is broken at the
    first table still pending (sources <-> actors)."""
    ordered: list[str] = []
    pending = list(tables)
    while pending:
        ready = [name for name in pending if _targets(tables[name]) <= set(ordered)]
        name = ready[0] if ready else pending[0]
        ordered.append(name)
        pending.remove(name)
    return ordered


def views_sql() -> str:
    """The convenience views shipped in the database (``schemas/views.sql``)."""
    return resources.files(__package__).joinpath("views.sql").read_text(encoding="utf-8")


def reproducible_connection() -> duckdb.DuckDBPyConnection:
    """A connection that writes database files byte-identical from run to run.

    DuckDB does not promise reproducible files: its string compression (dictionary, FSST)
    leaves run-dependent bytes, and several threads lay blocks out in varying order. With
    one thread and compression off, the same tables give the same bytes (measured on DuckDB
    2.0.0; tests/test_build.py compares the bytes, so an upgrade that breaks it fails loudly).
    The file is no bigger: on the seed it measures 733,184 bytes with or without compression,
    because DuckDB allocates whole blocks either way.
    """
    con = duckdb.connect(config={"threads": 1})
    con.execute("SET force_compression='uncompressed'")
    return con


def create_database(
    path: Path,
    tables: dict[str, Table],
    arrows: dict[str, pa.Table],
    metadata: dict[str, Any],
    with_views: bool = True,
) -> None:
    """Write the DuckDB file: every table, its constraints, comments and (unless told
    otherwise, for a partial database) the views."""
    descriptions = {r["name"]: r["description"] for r in metadata["resources"]}
    con = reproducible_connection()
    con.execute(
        f"ATTACH {quote_literal(path.as_posix())} AS release "
        f"(BLOCK_SIZE {BLOCK_SIZE}, STORAGE_VERSION '{STORAGE_VERSION}')"
    )
    con.execute("USE release")
    created: set[str] = set()
    for name in dependency_order(tables):
        con.execute(create_table_sql(tables[name], created))
        con.register("incoming", arrows[name])
        con.execute(f"INSERT INTO {name} SELECT * FROM incoming")
        con.unregister("incoming")
        for statement in comment_sql(tables[name], descriptions[name]):
            con.execute(statement)
        created.add(name)
    if with_views:
        con.execute(views_sql())
    con.execute("USE memory")
    con.execute("DETACH release")
    con.close()


def add_table(path: Path, table: Table, arrow: pa.Table, description: str) -> None:
    """Add one table (with its comments) to an existing database file, reproducibly."""
    con = reproducible_connection()
    con.execute(f"ATTACH {quote_literal(path.as_posix())} AS release")
    con.execute("USE release")
    con.execute(create_table_sql(table, set()))
    con.register("incoming", arrow)
    con.execute(f"INSERT INTO {table.name} SELECT * FROM incoming")
    for statement in comment_sql(table, description):
        con.execute(statement)
    con.execute("USE memory")
    con.execute("DETACH release")
    con.close()
