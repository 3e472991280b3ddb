"""The sharded build (``newstables.shards``, ``newstables.publish_shards``): the same release
bytes whatever the shard size, and the checks that span shards name the record a person edits.

Shards are made tiny with ``NEWSTABLES_SHARD_DOCUMENTS`` so that a corpus of a few articles
crosses shard boundaries; ``0`` is the small build, held in memory."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from newstables import sql
from newstables.core.formats import arrow_table
from newstables.errors import NewstablesError
from newstables.pipeline import build, load_inputs, make_tables
from newstables.read import Record
from newstables.shards import (
    SHARD_ENV,
    WORKERS_ENV,
    lines_json,
    plan_shards,
    record_of,
    staged_arrow,
    staged_lines,
    wants_shards,
)
from newstables.sql import BLOCK_SIZE, LARGE_BLOCK_SIZE
from newstables.synth import default_template, synth

DATA_OUTPUTS = (
    "data/*.csv",
    "data/*.csv.gz",
    "data/parquet/**/*.parquet",
    "data/newstables.duckdb",
    "data/newstables.sqlite",
    "datasette/metadata.json",
)


def data_hashes(root: Path) -> dict[str, str]:
    """sha256 of every published data file (CSV, Parquet, DuckDB), by relative path."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for pattern in DATA_OUTPUTS
        for p in sorted(root.glob(pattern))
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic corpus of seven articles (shards of one, two or three documents)."""
    out = tmp_path_factory.mktemp("shards") / "corpus"
    synth(out, 7, 11, default_template())
    return out


def copy_of(corpus: Path, tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(corpus, project)
    return project


def build_with(monkeypatch: pytest.MonkeyPatch, project: Path, out: Path, size: int, workers: int = 1) -> Any:
    monkeypatch.setenv(SHARD_ENV, str(size))
    monkeypatch.setenv(WORKERS_ENV, str(workers))
    out.mkdir(parents=True, exist_ok=True)
    return build(project, out)


def test_the_shard_size_comes_from_the_environment(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SHARD_ENV, "3")
    assert wants_shards(corpus)
    monkeypatch.setenv(SHARD_ENV, "7")
    assert not wants_shards(corpus)  # seven documents fit one shard: the small build
    monkeypatch.setenv(SHARD_ENV, "0")
    assert not wants_shards(corpus)


def test_corpus_wide_records_go_to_the_shard_of_their_document(corpus: Path) -> None:
    from newstables.core.model import load_model
    from newstables.project import Project, document_ids
    from newstables.shards import read_registry

    project = Project(corpus)
    names = [*load_model(corpus).package.table_names, "regions", "waivers"]
    registry = read_registry(project, names)
    documents = document_ids(project)
    plans = plan_shards(registry, documents, 3, "article")
    assert [ids for ids, _ in plans] == [documents[0:3], documents[3:6], documents[6:7]]
    for ids, assigned in plans:
        assert all(r["document_id"] in ids for r in assigned["actors"])
    assert sum(len(assigned["actors"]) for _, assigned in plans) == len(registry["actors"])


def test_the_same_bytes_whatever_the_shard_size(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = build_with(monkeypatch, corpus, tmp_path / "whole", 0)
    hashes = data_hashes(tmp_path / "whole")
    assert len(hashes) > 12
    for size, workers in ((1, 2), (3, 1)):
        tables = build_with(monkeypatch, corpus, tmp_path / f"size-{size}", size, workers)
        assert data_hashes(tmp_path / f"size-{size}") == hashes, f"shards of {size}"
        assert {n: t.size for n, t in tables.items()} == {n: len(t.rows) for n, t in whole.items()}
    report = (tmp_path / "size-1/validation/report/results.json").read_text(encoding="utf-8")
    assert "not written for a corpus built in shards" in report
    assert "data/newstables.sqlite" in data_hashes(tmp_path / "size-1")


def block_size_of(database: Path) -> int:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return int(con.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


def test_a_large_release_is_written_in_large_blocks_the_same_bytes_whatever_the_shard_size(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``sql.LARGE_ROWS`` rows (lowered here to this corpus) both builds write 128 KiB
    blocks, byte-identical (the size whose bytes measured reproducible; 256 KiB's are not)."""
    build_with(monkeypatch, corpus, tmp_path / "small", 0)
    assert block_size_of(tmp_path / "small/data/newstables.duckdb") == BLOCK_SIZE
    monkeypatch.setattr(sql, "LARGE_ROWS", 1)
    build_with(monkeypatch, corpus, tmp_path / "whole", 0)
    hashes = data_hashes(tmp_path / "whole")
    assert block_size_of(tmp_path / "whole/data/newstables.duckdb") == LARGE_BLOCK_SIZE
    build_with(monkeypatch, corpus, tmp_path / "sharded", 3, 2)
    assert data_hashes(tmp_path / "sharded") == hashes


def edit(project: Path, relative: str, old: str, new: str) -> None:
    path = project / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, (relative, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def refusal(monkeypatch: pytest.MonkeyPatch, project: Path, out: Path, size: int) -> dict[str, Any]:
    with pytest.raises(NewstablesError) as caught:
        build_with(monkeypatch, project, out, size)
    return {"type": caught.value.type, **caught.value.coordinates}


STATEMENTS_4 = "data/articles/synth-000004/annotations/statements.yaml"
LINKS_4 = "data/articles/synth-000004/annotations/statement_events.yaml"


def test_a_duplicate_id_across_two_shards_names_the_later_record(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_of(corpus, tmp_path)
    # document 4 is in the second shard of two documents; document 1's statement in the first
    edit(project, STATEMENTS_4, 'statement_id: "synth-000004-s01"', 'statement_id: "synth-000001-s01"')
    sharded = refusal(monkeypatch, project, tmp_path / "sharded", 2)
    expected = {
        "type": "duplicate-id",
        "file": STATEMENTS_4,
        "field": "statement_id",
        "line": 1,
        "record": "1 (synth-000001-s01)",
        "value": "synth-000001-s01",
        "other": "1 (synth-000001-s01)",
    }
    assert {key: sharded.get(key) for key in expected} == expected
    assert refusal(monkeypatch, project, tmp_path / "whole", 0) == sharded
    assert not (tmp_path / "sharded/data").exists()  # nothing published


def test_a_reference_across_shards_resolves_and_a_dangling_one_is_refused(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_of(corpus, tmp_path)
    # a statement of document 4 (second shard) linked to an event of document 1 (first shard)
    edit(project, LINKS_4, 'event_id: "synth-000004-e2"', 'event_id: "synth-000001-e2"')
    tables = build_with(monkeypatch, project, tmp_path / "linked", 2)
    assert tables["statement_events"].size == 70
    edit(project, LINKS_4, 'event_id: "synth-000001-e2"', 'event_id: "synth-000009-e9"')
    sharded = refusal(monkeypatch, project, tmp_path / "dangling", 2)
    expected = {
        "type": "dangling-reference",
        "file": LINKS_4,
        "field": "event_id",
        "line": 1,
        "value": "synth-000009-e9",
        "target": "events",
    }
    assert {key: sharded.get(key) for key in expected} == expected
    assert refusal(monkeypatch, project, tmp_path / "whole", 0) == sharded


def test_a_defect_inside_a_shard_names_file_record_field_and_line(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_of(corpus, tmp_path)
    edit(project, STATEMENTS_4, 'statement_id: "synth-000004-s02"', "statement_id: 12")
    sharded = refusal(monkeypatch, project, tmp_path / "sharded", 2)
    assert (sharded["type"], sharded["file"], sharded["field"], sharded["line"]) == (
        "wrong-type",
        STATEMENTS_4,
        "statement_id",
        2,
    )
    assert refusal(monkeypatch, project, tmp_path / "whole", 0) == sharded


def test_adding_an_article_to_a_sharded_corpus_resolves_only_that_article(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import newstables.pipeline as pipeline
    from tests.test_synth import add_article

    project = copy_of(corpus, tmp_path)
    shutil.rmtree(project / ".newstables-cache", ignore_errors=True)  # other tests built the corpus
    seen: list[Any] = []
    original = pipeline.build_corpus

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(original(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(pipeline, "build_corpus", spy)
    documents = [f"synth-{n:06d}" for n in range(1, 8)]
    build_with(monkeypatch, project, tmp_path / "first", 3, workers=2)
    assert (seen[-1].cache_misses, seen[-1].cache_hits) == (documents, [])
    person = next(
        a
        for a in yaml.safe_load((project / "data/annotations/actors.yaml").read_text(encoding="utf-8"))
        if a["actor_type"] == "person"
    )
    # "hand-written-1" sorts first: every shard boundary moves, the cached documents still hit
    add_article(project, "hand-written-1", person["actor_id"], person["canonical_name"].split()[-1])
    build_with(monkeypatch, project, tmp_path / "second", 3)
    assert (seen[-1].cache_misses, seen[-1].cache_hits) == (["hand-written-1"], documents)
    edit(project, STATEMENTS_4, "- {", "# checked again\n- {")
    build_with(monkeypatch, project, tmp_path / "third", 3)
    assert (seen[-1].cache_misses, len(seen[-1].cache_hits)) == (["synth-000004"], 7)
    # the same bytes as a build that reads and resolves everything (no cache, one shard at a time)
    cold = copy_of(project, tmp_path / "cold")
    shutil.rmtree(cold / ".newstables-cache")
    build_with(monkeypatch, cold, tmp_path / "cold-out", 3)
    assert seen[-1].cache_hits == []
    assert data_hashes(tmp_path / "third") == data_hashes(tmp_path / "cold-out")
    assert "hand-written-1-s01" in (tmp_path / "third/data/statements.csv").read_text(encoding="utf-8")


def test_staged_rows_are_the_arrow_tables_and_locators_of_the_small_build(corpus: Path) -> None:
    """``stage_rows`` builds its Arrow tables column by column and its locators' JSON from
    format strings: the same values as ``core.formats.arrow_table`` and ``json.dumps``."""
    tables = make_tables(load_inputs(corpus))
    compared = 0
    for table in tables.values():
        if table.rows:
            assert staged_arrow(table.resource, table.rows).equals(arrow_table(table.resource, table.rows))
            compared += 1
        for record in table.records:
            assert lines_json(record.lines) == json.dumps(record.lines, sort_keys=True)
    assert compared >= 8
    odd: list[dict[str, Any]] = [{}, {"b": 2, "a": 1}, {'{"x}': 3}, {"a": True}, {"a": 1.0}, {"a": "1"}]
    for lines in odd:
        assert lines_json(lines) == json.dumps(lines, sort_keys=True)


def test_a_staged_locator_words_errors_as_its_record_does(corpus: Path) -> None:
    """A one-line record's lines are staged as null (``staged_lines``): the record rebuilt
    from its locator (``record_of``) still names the same file, record and line for every
    field; a record over several lines keeps its lines."""
    tables = make_tables(load_inputs(corpus))
    several = Record(statement_id="s1", excerpt="x")
    several.file, several.index, several.line, several.lines = (
        "f.yaml",
        1,
        3,
        {"statement_id": 3, "excerpt": 4},
    )
    records = [r for t in tables.values() for r in t.records if isinstance(r.line, int)] + [several]
    nulls = 0
    for record in records:
        staged = staged_lines(record.lines, record.line)
        nulls += staged is None
        locator = {
            "__file": record.file,
            "__index": record.index,
            "__line": record.line,
            "__lines": staged,
            "__label": record.label,
        }
        for name in [None, *record.lines, *record, "not_a_field"]:
            assert record_of(locator).where(name) == record.where(name)
    assert 0 < nulls < len(records)
