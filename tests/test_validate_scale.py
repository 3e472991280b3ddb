"""The structural checks at scale (``newstables.validate``): the format check compares
multiset digests first and words a disagreement as before; the excerpt check reads the DuckDB
file's evidence columns; both run on bounded DuckDB connections that spill where told."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from newstables.core.bounded import MEMORY_ENV, MEMORY_LIMIT, bounded_connection, memory_limit
from newstables.core.formats import utf8_array
from newstables.core.model import load_model
from newstables.project import DUCKDB_FILE, Project
from newstables.read import read_documents
from newstables.validate import excerpt_findings, format_findings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def release(tmp_path: Path) -> Path:
    """A copy of the seed's published data (CSV, Parquet, DuckDB) and schemas."""
    out = tmp_path / "release"
    shutil.copytree(ROOT / "data", out / "data", ignore=shutil.ignore_patterns("articles", "annotations"))
    shutil.copytree(ROOT / "schemas", out / "schemas")
    return out


def test_the_formats_agree_and_a_changed_cell_is_found(release: Path, tmp_path: Path) -> None:
    tables = load_model(ROOT).tables
    spill = tmp_path / "spill"
    assert format_findings(release, tables, spill) == []
    con = duckdb.connect(str(release / DUCKDB_FILE))
    con.execute("UPDATE statements SET excerpt = excerpt || '!' WHERE rowid = 0")
    con.close()
    (finding,) = format_findings(release, tables, spill)
    assert (finding.type, finding.coordinates["file"], finding.coordinates["table"]) == (
        "outputs-disagree",
        "data/statements.csv",
        "statements",
    )
    assert "duckdb" in finding.coordinates["detail"] and "2 rows differ" in finding.coordinates["detail"]


def test_excerpts_are_read_from_the_database_when_told(release: Path) -> None:
    tables = load_model(ROOT).tables
    texts = read_documents(Project(ROOT))
    assert excerpt_findings(texts, release, tables, from_database=True) == []
    con = duckdb.connect(str(release / DUCKDB_FILE))
    con.execute("UPDATE actor_mentions SET excerpt = upper(excerpt) WHERE rowid = 0")
    con.close()
    assert excerpt_findings(texts, release, tables) == []  # the CSV is unchanged
    (finding,) = excerpt_findings(texts, release, tables, from_database=True)
    assert (finding.type, finding.coordinates["file"]) == ("offsets-mismatch", "data/actor_mentions.csv")


def test_texts_become_an_arrow_array_unchanged() -> None:
    texts = ["", "a", "«curly» ‘quotes’ 字", "x" * 70_000]
    for large in (False, True):
        assert utf8_array(texts, large=large).to_pylist() == texts
        assert utf8_array([], large=large).to_pylist() == []


def test_connections_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MEMORY_ENV, "700MB")
    con = bounded_connection(tmp_path / "spill", threads=1)
    settings = dict(
        con.execute(
            "SELECT name, value FROM duckdb_settings() "
            "WHERE name IN ('memory_limit', 'threads', 'temp_directory')"
        ).fetchall()
    )
    con.close()
    assert settings["threads"] == "1"
    assert settings["memory_limit"].startswith(("667", "700"))  # MiB as DuckDB prints it
    assert settings["temp_directory"] == (tmp_path / "spill").as_posix()
    monkeypatch.setenv(MEMORY_ENV, "all of it")
    assert memory_limit() == MEMORY_LIMIT


def test_a_csv_larger_than_the_memory_limit_is_read_in_bounded_buffers(tmp_path: Path) -> None:
    """DuckDB reads a CSV in buffers of up to 16 line sizes: a line size of the file's own
    size asked for one buffer as large as the file (a million-row table failed to allocate
    1.2 GiB in a 1 GB connection). The options now keep the buffers small."""
    import duckdb

    from newstables.core.formats import MAX_CSV_BUFFER, csv_size_options

    big = tmp_path / "big.csv"
    duckdb.connect().execute(
        f"COPY (SELECT range AS a, repeat('x', 100) || range::VARCHAR AS b FROM range(1500000)) "
        f"TO '{big.as_posix()}' (HEADER)"
    )
    assert big.stat().st_size > 150 * 2**20 > MAX_CSV_BUFFER
    con = duckdb.connect(config={"memory_limit": "150MB", "threads": 2})
    sql = f"SELECT count(*) FROM read_csv('{big.as_posix()}', header=true, {{}})"
    assert con.execute(sql.format(csv_size_options(big))).fetchall() == [(1500000,)]
    with pytest.raises(duckdb.OutOfMemoryException):  # what the file's own size asked for
        con.execute(sql.format(f"max_line_size={big.stat().st_size + 1}")).fetchall()
