"""DuckDB connections with bounded memory, for the build at scale.

DuckDB's default memory limit is 80% of the machine's memory, per connection: a build of a
million statements that opens several connections could take most of the machine. Every
connection of the sharded path and of the structural checks is opened here instead, with an
explicit limit (``NEWSTABLES_DUCKDB_MEMORY``, default :data:`MEMORY_LIMIT`), a thread count, and
a spill folder inside the staging area (removed with it), so that past the limit DuckDB writes
to disk instead of growing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

from newstables.core.model import quote_literal

MEMORY_ENV = "NEWSTABLES_DUCKDB_MEMORY"
MEMORY_LIMIT = "1GB"
THREADS = 2
# The spill folder's name inside a staging area.
SPILL = ".spill"
_SIZE = re.compile(r"[0-9]+(\.[0-9]+)?\s*(KB|MB|GB|KiB|MiB|GiB)", re.IGNORECASE)


_UNITS = {"kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}


def memory_limit(share: float = 1.0) -> str:
    """Each connection's memory limit: ``NEWSTABLES_DUCKDB_MEMORY`` when it reads as a size
    (``1.5GB``, ``800MB``), else :data:`MEMORY_LIMIT`; ``share`` of it for one of several
    connections open at the same time (the callers choose the shares: see
    ``publish_shards.DATABASE_SHARE``)."""
    value = os.environ.get(MEMORY_ENV, "").strip()
    limit = value if _SIZE.fullmatch(value) else MEMORY_LIMIT
    if share == 1.0:
        return limit
    number, unit = re.fullmatch(r"([0-9.]+)\s*([a-z]+)", limit.lower()).groups()  # type: ignore[union-attr]
    return f"{int(float(number) * _UNITS[unit] * share) // 2**20}MiB"


def bounded_connection(
    spill: Path | None = None, threads: int = THREADS, share: float = 1.0
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection limited to :func:`memory_limit` (``share`` of it) and
    ``threads`` threads that spills to ``spill`` (created when needed by DuckDB) when given."""
    con = duckdb.connect(config={"threads": threads, "memory_limit": memory_limit(share)})
    if spill is not None:
        con.execute(f"SET temp_directory = {quote_literal(spill.as_posix())}")
    return con


def bound(
    con: duckdb.DuckDBPyConnection, spill: Path | None = None, share: float = 1.0
) -> duckdb.DuckDBPyConnection:
    """Give an open connection the same memory limit (``share`` of it) and spill folder
    (``sql``'s reproducible connection, whose one thread must stay one)."""
    con.execute(f"SET memory_limit = '{memory_limit(share)}'")
    if spill is not None:
        con.execute(f"SET temp_directory = {quote_literal(spill.as_posix())}")
    return con
