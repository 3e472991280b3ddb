"""The DuckDB database file: tables with the constraints and comments the metadata model
gives (``Resource.ddl``, ``Resource.comment_sql``), plus the convenience views shipped
in ``newstables/views.sql``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa
import yaml

from newstables.core.model import quote_literal
from newstables.tables import Table

__all__ = [
    "BLOCK_SIZE",
    "LARGE_BLOCK_SIZE",
    "LARGE_ROWS",
    "STORAGE_VERSION",
    "add_table",
    "block_size",
    "create_database",
    "derived_tables",
    "materialize",
    "quote_literal",
    "views_sql",
]

# DuckDB 1.x cannot open files written in DuckDB 2.0's default storage format. v1.2.0 is the
# oldest format that allows small blocks: DuckDB 1.2 and later (1.4.4 checked) open the file,
# 1.0 and 1.1 do not.
STORAGE_VERSION = "v1.2.0"
# 16 KiB blocks instead of the default 256 KiB: the seed's file shrinks from 10.7 MB to 0.73 MB
# (every table and column segment takes at least one block).
BLOCK_SIZE = 16384
# A release of LARGE_ROWS rows or more is written with 128 KiB blocks: an uncompressed VARCHAR
# segment is one block, so at 16 KiB a vector of 2,048 statement texts spans several segments and
# a scan pays per segment (the README queries on the derived tables take 15-20% less CPU at 1M
# statements with 128 KiB, benchmarks/results/queries_scaled.json). 128 KiB is the largest size
# whose bytes measured reproducible on DuckDB 2.0.0 (3 runs of 1M rows, memory limit and spilling
# included): at the default 256 KiB, padding bytes in string segments carry leftover memory
# (pointers, old strings) that differs from run to run, as does every string compression
# (dictionary, FSST, DICT_FSST, ZSTD) at every block size. Below LARGE_ROWS (the seed, small
# corpora) 16 KiB keeps the file small.
LARGE_BLOCK_SIZE = 131072
LARGE_ROWS = 100_000


def block_size(rows: int) -> int:
    """Block size of a DuckDB file holding ``rows`` published rows in all: ``BLOCK_SIZE``, or
    ``LARGE_BLOCK_SIZE`` from ``LARGE_ROWS`` rows on (one rule for the small and the sharded
    build, so both write the same bytes)."""
    return LARGE_BLOCK_SIZE if rows >= LARGE_ROWS else BLOCK_SIZE


def create_table_sql(table: Table, created: set[str]) -> str:
    """CREATE TABLE with keys and constraints, from the model (``Resource.ddl``)."""
    return table.resource.ddl(created)


def _targets(table: Table) -> set[str]:
    return table.resource.targets()


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


DERIVED_NOTE = (
    " Derived table: stored by the build from the view of the same name (views.sql) over the "
    "published tables, so that queries on it need not recompute it; not a published table."
)


def derived_tables() -> dict[str, str]:
    """The views the DuckDB file stores as tables (``derived_tables.yaml``), with their row order."""
    text = resources.files(__package__).joinpath("derived_tables.yaml").read_text(encoding="utf-8")
    return {entry["view"]: entry["order"] for entry in yaml.safe_load(text)}


def materialize(con: duckdb.DuckDBPyConnection) -> None:
    """Replace each view of ``derived_tables()`` in the current database by a table of the same
    name, columns and rows, stored in the view's row order, with the view's comment and a note
    that it is derived. Run in the transaction that wrote the tables, after ``views_sql()``."""
    for view, order in derived_tables().items():
        comment = con.execute(
            "SELECT comment FROM duckdb_views() WHERE view_name = ? AND database_name = current_database()",
            [view],
        ).fetchone()
        if comment is None:
            raise ValueError(f"derived_tables.yaml names {view}, which views.sql does not define")
        con.execute(f"CREATE TABLE derived__{view} AS SELECT * FROM {view} ORDER BY {order}")
        con.execute(f"DROP VIEW {view}")
        con.execute(f"ALTER TABLE derived__{view} RENAME TO {view}")
        con.execute(f"COMMENT ON TABLE {view} IS {quote_literal((comment[0] or '') + DERIVED_NOTE)}")


def reproducible_connection() -> duckdb.DuckDBPyConnection:
    """A connection that writes database files byte-identical from run to run.

    DuckDB does not promise reproducible files: its string compression (dictionary, FSST)
    leaves run-dependent bytes, and several threads lay blocks out in varying order. With
    one thread and compression off, the same tables give the same bytes (measured on DuckDB
    2.0.0; tests/test_build.py compares the bytes, so an upgrade that breaks it fails loudly).
    The file is no bigger: on the seed it measures 733,184 bytes with or without compression,
    because DuckDB allocates whole blocks either way.

    Dictionary compression was tried for large releases (1.8 GB instead of 3.1 GB and the
    slowest README query 17.5 ms instead of 56 at a million statements), with jemalloc asked to
    fill fresh memory (``DUCKDB_JE_MALLOC_CONF=junk:true``): two small builds matched, but three
    builds of a million statements gave three different files. Under the memory limit DuckDB hands
    an evicted buffer to the next block without clearing it, and the gap a dictionary segment
    leaves inside its block keeps that buffer's old bytes (22 blocks of 13,500 differed).
    """
    con = duckdb.connect(config={"threads": 1})
    con.execute("SET force_compression='uncompressed'")
    return con


def create_database(
    path: Path,
    tables: dict[str, Table],
    arrows: dict[str, pa.Table],
    with_views: bool = True,
) -> None:
    """Write the DuckDB file: every table, its constraints, comments and (unless told
    otherwise, for a partial database) the views."""
    con = reproducible_connection()
    rows = sum(arrow.num_rows for arrow in arrows.values())
    con.execute(
        f"ATTACH {quote_literal(path.as_posix())} AS release "
        f"(BLOCK_SIZE {block_size(rows)}, STORAGE_VERSION '{STORAGE_VERSION}')"
    )
    con.execute("USE release")
    # One transaction: each statement on its own would be committed (and logged) separately,
    # which made writing the seed's small tables take a second.
    con.execute("BEGIN TRANSACTION")
    created: set[str] = set()
    for name in dependency_order(tables):
        con.execute(create_table_sql(tables[name], created))
        con.register("incoming", arrows[name])
        con.execute(f"INSERT INTO {name} SELECT * FROM incoming")
        con.unregister("incoming")
        # One call for all of a table's comments (one statement each, ~1 ms apiece).
        con.execute(";\n".join(tables[name].resource.comment_sql()))
        created.add(name)
    if with_views:
        con.execute(views_sql())
        materialize(con)
    con.execute("COMMIT")
    con.execute("USE memory")
    con.execute("DETACH release")
    con.close()


def add_table(path: Path, table: Table, arrow: pa.Table) -> None:
    """Add one table (with its comments) to an existing database file, reproducibly."""
    con = reproducible_connection()
    con.execute(f"ATTACH {quote_literal(path.as_posix())} AS release")
    con.execute("USE release")
    con.execute(create_table_sql(table, set()))
    con.register("incoming", arrow)
    con.execute(f"INSERT INTO {table.name} SELECT * FROM incoming")
    for statement in table.resource.comment_sql():
        con.execute(statement)
    con.execute("USE memory")
    con.execute("DETACH release")
    con.close()
