"""A large release's DuckDB file: strings dictionary-compressed, the same bytes from run to run.

DuckDB leaves leftover memory in the unused ends of compressed string segments; newstables asks
DuckDB's allocator (jemalloc) to fill fresh memory with a fixed byte before DuckDB loads, and
compresses only when the allocator says the filling is on (``sql.allocator_fills_memory``).
Each build here runs in a process of its own, as the ``newstables`` command does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import assemble

FILLS = "import newstables; from newstables.sql import allocator_fills_memory as f; print(f())"
# A build in a fresh process, the large-release rule lowered to this small project.
BUILD = (
    "import sys, newstables; from newstables import sql; sql.LARGE_ROWS = int(sys.argv[2]); "
    "from newstables.cli import app; app(['build', '--project', sys.argv[1], '--quiet', '--force'])"
)


def python(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -c`` in an environment without the allocator setting (this process's has it)."""
    env = {k: v for k, v in os.environ.items() if k != "DUCKDB_JE_MALLOC_CONF"}
    return subprocess.run([sys.executable, "-c", *args], capture_output=True, text=True, timeout=600, env=env)


def compressions(database: Path) -> set[str]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        found: set[str] = set()
        for table in tables:
            rows = con.execute(f"SELECT DISTINCT compression FROM pragma_storage_info('{table}')").fetchall()
            found |= {str(c) for (c,) in rows}
        return found
    finally:
        con.close()


def table_rows(database: Path) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    finally:
        con.close()


@pytest.mark.skipif(sys.platform != "linux", reason="DuckDB bundles jemalloc on Linux only")
def test_newstables_turns_the_allocators_filling_on_before_duckdb_loads() -> None:
    assert python(FILLS).stdout.split() == ["True"]
    # Loaded first, DuckDB's allocator is set up without it: the check says so (no compression).
    assert python("import duckdb; " + FILLS).stdout.split() == ["False"]


@pytest.mark.skipif(sys.platform != "linux", reason="DuckDB bundles jemalloc on Linux only")
def test_a_large_release_is_dictionary_compressed_the_same_bytes_in_every_process(tmp_path: Path) -> None:
    built = []
    for run in ("first", "second"):
        project = assemble(tmp_path / run, "repo")
        done = python(BUILD, str(project), "1")
        assert done.returncode == 0, done.stderr[-2000:]
        built.append(project / "data/newstables.duckdb")
    assert built[0].read_bytes() == built[1].read_bytes()
    assert "Dictionary" in compressions(built[0])
    small = assemble(tmp_path / "small", "repo")
    done = python(BUILD, str(small), str(10**12))
    assert done.returncode == 0, done.stderr[-2000:]
    database = small / "data/newstables.duckdb"
    assert "Dictionary" not in compressions(database), "below LARGE_ROWS nothing is compressed"
    assert table_rows(database) == table_rows(built[0]), "the same rows either way"
