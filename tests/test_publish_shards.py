"""The sharded build's publication (``publish_shards``, ``pipeline._build_sharded``): the CSV and
Parquet files are written, and Frictionless's row checks run on them, while the DuckDB file is
still being written (one DuckDB thread, minutes at scale), with the same bytes and findings."""

from __future__ import annotations

import csv
import json
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from newstables import publish_shards
from newstables.core.model import load_model
from newstables.pipeline import build
from newstables.shards import SHARD_ENV, WORKERS_ENV
from newstables.synth import default_template, synth
from newstables.validate import EarlyRows
from tests.test_shards import data_hashes


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic corpus of seven articles (as tests/test_shards.py)."""
    out = tmp_path_factory.mktemp("publish-shards") / "corpus"
    synth(out, 7, 11, default_template())
    return out


def test_files_and_row_checks_are_done_while_the_duckdb_file_is_written(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SHARD_ENV, "0")
    build(corpus, tmp_path / "whole")  # the small build, held in memory: the bytes to match
    rows_started = threading.Event()
    real_database, real_rows = publish_shards.write_database, EarlyRows._check_bounded

    def database_after_the_row_checks(*args: Any) -> None:
        # were the files and row checks written after the database, this would wait in vain
        assert rows_started.wait(60), "the row checks did not start while the DuckDB file was written"
        real_database(*args)

    def noted(*args: Any) -> list[str]:
        rows_started.set()
        return real_rows(*args)

    def not_again(*args: Any) -> list[str]:
        raise AssertionError("the row checks ran again after the descriptor was written")

    monkeypatch.setattr(publish_shards, "write_database", database_after_the_row_checks)
    monkeypatch.setattr(EarlyRows, "_check_bounded", staticmethod(noted))
    monkeypatch.setattr("newstables.validate.row_problems", not_again)
    monkeypatch.setenv(SHARD_ENV, "2")
    monkeypatch.setenv(WORKERS_ENV, "1")
    build(corpus, tmp_path / "sharded")
    assert rows_started.is_set()
    assert data_hashes(tmp_path / "sharded") == data_hashes(tmp_path / "whole")
    results = json.loads((tmp_path / "sharded/validation/report/results.json").read_text(encoding="utf-8"))
    assert "frictionless" in json.dumps(results)


def test_early_row_checks_on_a_bounded_connection_find_what_frictionless_would(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SHARD_ENV, "2")
    monkeypatch.setenv(WORKERS_ENV, "1")
    release = tmp_path / "release"
    build(corpus, release)
    tables = load_model(corpus).tables
    with ThreadPoolExecutor(1) as pool:
        clean = EarlyRows.start_bounded(pool, release, tables, tmp_path / "spill", 0.4)
        assert clean.result_for(release, release / "datapackage.json", tables) == []
    actors = release / "data/actors.csv"
    with actors.open(encoding="utf-8", newline="") as handle:
        records = list(csv.reader(handle))
    with actors.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([*records, records[1]])  # a primary key twice
    with ThreadPoolExecutor(1) as pool:
        found = EarlyRows.start_bounded(pool, release, tables, tmp_path / "spill", 0.4)
        problems = found.result_for(release, release / "datapackage.json", tables)
    assert problems and any("primary-key" in p and "actors" in p for p in problems), problems
    assert not (tmp_path / "spill").exists(), "the spill folder is removed"
    shutil.rmtree(release)
