"""The DuckDB file opens in DuckDB 1.x as well as 2.x (issue: written for DuckDB 1.x users).

The file is written in storage format v1.2.0 with 16 KiB blocks (0.73 MB instead of 10.7 MB),
128 KiB from ``sql.LARGE_ROWS`` rows on, which DuckDB 1.2 and later open; 1.0 and 1.1 cannot.
This installs DuckDB 1.4.4, the last 1.x release, into a throwaway virtual environment
(installing packages is the one network use tests may make); a failed install fails in CI and
skips, with the reason, elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import pytest
import yaml

from newstables.core.model import quote_literal
from newstables.sql import LARGE_BLOCK_SIZE, STORAGE_VERSION, derived_tables, reproducible_connection
from tests.conftest import REPO

# The model says how many tables the file holds (schemas/package.yaml), never a hard-coded number.
TABLE_COUNT = len(yaml.safe_load((REPO / "schemas/package.yaml").read_text(encoding="utf-8"))["resources"])
# Plus the views the file stores as derived tables (build/newstables/derived_tables.yaml).
TABLE_COUNT += len(derived_tables())

OLD_DUCKDB = "duckdb==1.4.4"
PROBE = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
tables = con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()[0][0]
rows = con.execute("SELECT count(*) FROM statements_by_speaker").fetchall()[0][0]
print(duckdb.__version__, tables, rows)
"""


@pytest.fixture(scope="module")
def old_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("duckdb1")
    venv.create(folder, with_pip=True)
    python = folder / "bin" / "python"
    installed = subprocess.run([python, "-m", "pip", "install", "--quiet", OLD_DUCKDB], capture_output=True)
    if installed.returncode != 0:
        reason = f"could not install {OLD_DUCKDB}: {installed.stderr.decode()[-200:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return python


def test_duckdb_1x_opens_the_database_and_its_views(old_python: Path) -> None:
    probe = subprocess.run(
        [old_python, "-c", PROBE, str(REPO / "data/newstables.duckdb")], capture_output=True, text=True
    )
    assert probe.returncode == 0, probe.stderr
    version, tables, rows = probe.stdout.split()
    assert version == OLD_DUCKDB.split("==")[1] and int(tables) == TABLE_COUNT and int(rows) == 25


def test_duckdb_1x_opens_a_file_in_the_large_releases_blocks(old_python: Path, tmp_path: Path) -> None:
    large = tmp_path / "large.duckdb"
    con = reproducible_connection()
    con.execute(f"ATTACH {quote_literal(str(REPO / 'data/newstables.duckdb'))} AS seed (READ_ONLY)")
    con.execute(
        f"ATTACH {quote_literal(str(large))} AS large "
        f"(BLOCK_SIZE {LARGE_BLOCK_SIZE}, STORAGE_VERSION '{STORAGE_VERSION}')"
    )
    con.execute("COPY FROM DATABASE seed TO large")
    con.close()
    probe = subprocess.run([old_python, "-c", PROBE, str(large)], capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    _version, tables, rows = probe.stdout.split()
    assert int(tables) == TABLE_COUNT and int(rows) == 25
