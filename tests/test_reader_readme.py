"""The README inside a release is written for readers: every format can be opened from it alone,
its links resolve, its checksum command works, its example queries run, one Licence section."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.test_release import Releases, shared_releases

READER_FILES = [
    "data/newstables.sqlite",
    "data/newstables.xlsx",
    "viewer/index.html",
    "datasette/metadata.json",
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    releases: Releases = shared_releases(tmp_path_factory)
    return releases.folder("0.1.0")


@pytest.fixture(scope="module")
def readme(folder: Path) -> str:
    return (folder / "README.md").read_text(encoding="utf-8")


def test_the_readme_tells_a_reader_how_to_open_every_format(readme: str) -> None:
    for needle in [
        "duckdb -readonly data/newstables.duckdb",
        "import duckdb",
        "import pandas as pd",
        "import polars as pl",
        "arrow::read_parquet",
        "arrow::open_dataset",
        "pl.scan_parquet",
        "hive_partitioning=True",
        "from pyspark.sql import SparkSession",
        "## Partitioned tables",
        "__HIVE_DEFAULT_PARTITION__",
        "Data > From Text/CSV",
        "65001: Unicode (UTF-8)",
        "data/newstables.xlsx",
        "datasette data/newstables.sqlite --metadata datasette/metadata.json",
        "viewer/index.html",
        "sha256sum -c SHA256SUMS",
        "newstables verify",
        "## Install the tool",
        "## Cite",
        "## Before you use it: caveats",
        "## The tables and how they join",
        "DuckDB 1.2 or later",
    ]:
        assert needle in readme, needle


def test_the_readme_has_exactly_one_licence_section_and_no_developer_material(readme: str) -> None:
    assert len(re.findall(r"^## Licen[cs]e", readme, flags=re.M)) == 1
    for developer_only in ("make release", "make test", "data/annotations", "errors.yaml", "waivers.yaml"):
        assert developer_only not in readme, developer_only


def test_every_link_of_the_readme_resolves_in_the_release(readme: str, folder: Path) -> None:
    links = re.findall(r"\]\(([^)#]+)\)", readme)
    assert links
    for link in links:
        assert (folder / link).exists(), link


def test_the_readme_lists_the_reader_files_with_their_sizes(readme: str, folder: Path) -> None:
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    listed = {r["path"]: r for r in descriptor["resources"] if isinstance(r["path"], str)}
    for path in READER_FILES:
        assert (folder / path).is_file(), path
        assert listed[path]["bytes"] == (folder / path).stat().st_size
        assert listed[path]["hash"].startswith("sha256:")
        assert f"`{path}`" in readme


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="coreutils sha256sum is not installed")
def test_plain_sha256sum_checks_the_release(folder: Path) -> None:
    checked = subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder, capture_output=True)
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()


def test_each_example_query_of_the_readme_runs_on_the_release_files(readme: str, folder: Path) -> None:
    section = readme.split("## Example queries", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^\*\*(.+?)\*\*(.*?)```sql\n(.*?)```", section, flags=re.S | re.M)
    assert len(blocks) >= 5
    duck = duckdb.connect(str(folder / "data/newstables.duckdb"), read_only=True)
    lite = sqlite3.connect(f"file:{folder / 'data/newstables.sqlite'}?mode=ro", uri=True)
    for _title, note, sql in blocks:
        if "(sqlite only)" not in note:
            duck.execute(sql).fetchall()
        if "(duckdb only)" not in note:
            params = {"text": "China"} if ":text" in sql else {}
            lite.execute(sql, params).fetchall()


def test_the_partitioned_tables_sql_runs_on_the_parts(
    readme: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    section = readme.split("## Partitioned tables", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```sql\n(.*?)```", section, flags=re.S)[0]
    statements = [s for s in block.split(";") if s.strip() and "read_parquet" in s]
    assert len(statements) == 2
    monkeypatch.chdir(folder)  # the README's paths are relative to the release folder
    rows = duckdb.execute(statements[0]).fetchall()
    total = duckdb.execute("SELECT count(*) FROM 'data/statements.csv'").fetchall()[0][0]
    assert rows and sum(count for _year, count in rows) == total
