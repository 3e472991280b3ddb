"""Scratch tool for query timing: a copy of a release's DuckDB file with every table's rows
repeated FACTOR times, to time the example queries at a size not built yet.

Copy 0 keeps its rows as they are; in copy k > 0 every text column whose name ends in ``_id``
gets the suffix ``~k``, so keys stay unique and every reference (speaker, document, event, …)
points into the same copy. The copy is written as ``publish_shards.write_database`` writes the
release (blocks of ``sql.block_size`` for its rows, storage v1.2.0, no compression, rows in
primary-key order compared as text) with the shipped views and derived tables
(``sql.materialize``; a release's stored derived tables are made again); foreign-key clauses are
left out (nothing is checked here). Not a release: ids break their published patterns.
Example (a 10,000-article build, about 100,000 statements, made into about a million)::

    python benchmarks/replicate_duckdb.py /tmp/c10k/data/newstables.duckdb /tmp/x10.duckdb 10
    python benchmarks/bench_scale.py --time-queries /tmp/x10.duckdb
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import duckdb

from newstables.core.model import quote_literal
from newstables.sql import STORAGE_VERSION, block_size, derived_tables, materialize, views_sql

FOREIGN_KEY = re.compile(r",\s*FOREIGN KEY\s*\([^)]*\)\s*REFERENCES\s+\w+\s*\([^)]*\)", re.I)


def copies_sql(con: duckdb.DuckDBPyConnection, table: str, factor: int) -> str:
    """SELECT of ``factor`` copies of ``source.table``, ids suffixed ``~k`` in copy k > 0."""
    columns = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = 'source' AND table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    copies = []
    for k in range(factor):
        suffixed = {name for name, kind in columns if k and kind == "VARCHAR" and name.endswith("_id")}
        values = [f'"{n}" || \'~{k}\' AS "{n}"' if n in suffixed else f'"{n}"' for n, _ in columns]
        copies.append(f"SELECT {', '.join(values)} FROM source.{table}")
    return " UNION ALL ".join(copies)


def replicate(source: Path, target: Path, factor: int) -> dict[str, int]:
    """Write ``target`` from ``source`` with every table ``factor`` times; rows per table."""
    con = duckdb.connect()
    con.execute("SET force_compression = 'uncompressed'")
    # Sorting a million rows of who_said_what_about_whom (derived tables) took 4 GB unbounded.
    con.execute("SET memory_limit = '2GB'")
    con.execute(f"SET temp_directory = {quote_literal(target.with_suffix('.tmp').as_posix())}")
    con.execute(f"ATTACH {quote_literal(source.as_posix())} AS source (READ_ONLY)")
    # The published tables: a release's derived tables are made again from the views below.
    derived = set(derived_tables())
    tables = [
        (table, ddl)
        for table, ddl in con.execute(
            "SELECT table_name, sql FROM duckdb_tables() WHERE database_name = 'source' ORDER BY table_name"
        ).fetchall()
        if table not in derived
    ]
    rows = factor * sum(
        int(con.execute(f"SELECT count(*) FROM source.{table}").fetchone()[0])  # type: ignore[index]
        for table, _ in tables
    )
    con.execute(
        f"ATTACH {quote_literal(target.as_posix())} AS release "
        f"(BLOCK_SIZE {block_size(rows)}, STORAGE_VERSION '{STORAGE_VERSION}')"
    )
    keys = dict(
        con.execute(
            "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
            "WHERE database_name = 'source' AND constraint_type = 'PRIMARY KEY'"
        ).fetchall()
    )
    con.execute("USE release")
    counts = {}
    for table, ddl in tables:
        con.execute(FOREIGN_KEY.sub("", ddl))
        order = ", ".join(f'CAST("{k}" AS VARCHAR)' for k in keys[table])
        con.execute(f"INSERT INTO {table} SELECT * FROM ({copies_sql(con, table, factor)}) ORDER BY {order}")
        counts[table] = int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
    con.execute(views_sql())
    materialize(con)  # the derived tables, as the release's DuckDB file stores them
    con.execute("USE memory")
    con.execute("DETACH release")
    con.close()
    return counts


def main() -> None:
    """Replicate the DuckDB file named on the command line; print the rows per table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="A release's data/newstables.duckdb.")
    parser.add_argument("target", type=Path, help="The copy to write (must not exist).")
    parser.add_argument("factor", type=int, help="How many copies of each row.")
    options = parser.parse_args()
    if options.target.exists():
        parser.error(f"{options.target} exists")
    for table, rows in replicate(options.source, options.target, options.factor).items():
        print(f"{table}: {rows} rows")


if __name__ == "__main__":
    main()
