"""``newstables synth``: a deterministic synthetic corpus that builds and validates."""

from __future__ import annotations

import hashlib
import random
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from newstables.errors import NewstablesError
from newstables.pipeline import build
from newstables.synth import default_template, make_registry, synth


def file_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``, by relative path."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    synth(tmp_path / "a", 12, 5, default_template())
    synth(tmp_path / "b", 12, 5, default_template())
    synth(tmp_path / "c", 12, 6, default_template())
    first, second, other = (file_hashes(tmp_path / x) for x in "abc")
    assert first == second
    assert len(first) > 12 * 4
    assert first != other


@pytest.mark.parametrize("count", [2, 3, 4])
def test_a_tiny_registry_holds_two_people(count: int) -> None:
    # A quote needs a person speaking of someone else: a registry of organizations only (5
    # articles of seed 3) made the writer wait for a person forever.
    for seed in range(40):
        registry = make_registry(random.Random(seed), count)
        assert len(registry) == count
        assert sum(actor.actor_type == "person" for actor in registry) >= 2


def test_five_articles_of_seed_3_are_written(tmp_path: Path) -> None:
    # In a child process, so that a hang is a failure (killed at the timeout), not a stuck suite.
    command = [sys.executable, "-m", "newstables", "synth", "--articles", "5", "--seed", "3"]
    done = subprocess.run([*command, "--out", str(tmp_path / "p")], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert len(list((tmp_path / "p/data/articles").iterdir())) == 5


def test_every_excerpt_is_the_text_at_its_offsets(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    summary = synth(out, 10, 3, default_template())
    articles = (out / "data/articles").glob("*/article.txt")
    texts = {p.parent.name: p.read_text(encoding="utf-8") for p in articles}
    records = [
        record
        for path in sorted(out.glob("data/**/*.yaml"))
        if path.name not in ("meta.yaml", "waivers.yaml")
        for record in yaml.safe_load(path.read_text(encoding="utf-8"))
    ]
    derived = ("documents", "actor_aliases", "event_reports", "redirects")  # the build makes these
    assert len(records) == sum(n for table, n in summary.counts.items() if table not in derived)
    for record in records:
        text = texts[record["document_id"]]
        assert text[record["char_start"] : record["char_end"]] == record["excerpt"], record
    corpus = "".join(texts.values())
    assert "“" in corpus and "”" in corpus
    assert re.search(r"[^\x00-\x7f“”’]", corpus)  # non-ASCII names
    package = yaml.safe_load((out / "schemas/package.yaml").read_text(encoding="utf-8"))
    assert package["version"] == "0.1.0" and package["created"].endswith("T00:00:00Z")


def test_a_small_synthetic_corpus_builds_and_validates(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    summary = synth(out, 20, 1, default_template())
    tables = build(out)
    assert {name: len(table.rows) for name, table in tables.items()} == summary.counts
    assert summary.counts["statements"] == 200 and summary.counts["actors"] == 10
    assert (out / "data/newstables.duckdb").is_file()


def test_mentions_follow_a_zipf_like_law(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    synth(out, 60, 2, default_template())
    counts: dict[str, int] = {}
    for path in (out / "data/articles").glob("*/annotations/actor_mentions.yaml"):
        for record in yaml.safe_load(path.read_text(encoding="utf-8")):
            counts[record["actor_id"]] = counts.get(record["actor_id"], 0) + 1
    ranked = sorted(counts.values(), reverse=True)
    assert len(ranked) == 30  # every actor of the registry (N/2) is mentioned
    assert ranked[0] > 5 * ranked[len(ranked) // 2]  # a head much heavier than the middle


def test_synth_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(NewstablesError) as caught:
        synth(tmp_path / "full", 3, 1, default_template())
    assert caught.value.type == "synth-out-not-empty"
    assert (tmp_path / "full" / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_synth_refuses_a_bad_count(cli: object, tmp_path: Path) -> None:
    result = cli("synth", "--articles", "0", "--out", tmp_path / "x", "--json")  # type: ignore[operator]
    assert result.exit_code == 2
    assert "synth-invalid-option" in result.output
    assert not (tmp_path / "x").exists()


def add_article(project: Path, document_id: str, actor_id: str, surname: str) -> None:
    """One more article, curated by hand: a source row, a statement and its speaker's mention."""
    folder = project / "data/articles" / document_id
    (folder / "annotations").mkdir(parents=True)
    quote = "We will not accept another delay on the ferry timetable."
    text = f"Talks on the ferry timetable stall again\n\n“{quote}” {surname} said.\n"
    (folder / "article.txt").write_text(text, encoding="utf-8")
    start = text.index(quote)
    named = text.index(f"{surname} said")
    records = {
        "sources": [
            {
                "source_id": document_id,
                "kind": "article_copy",
                "title": "A hand-written article",
                "path": f"data/articles/{document_id}/article.txt",
                "excerpt": "Talks on the ferry timetable stall again",
            }
        ],
        "statements": [
            {
                "statement_id": f"{document_id}-s01",
                "speaker_id": actor_id,
                "statement_type": "direct_quote",
                "fidelity": "paraphrased_copy",
                "char_start": start,
                "char_end": start + len(quote),
                "excerpt": quote,
            }
        ],
        "actor_mentions": [
            {
                "actor_id": actor_id,
                "mention_type": "surname",
                "char_start": named,
                "char_end": named + len(surname),
                "excerpt": surname,
            }
        ],
    }
    for table, rows in records.items():
        path = folder / "annotations" / f"{table}.yaml"
        path.write_text(yaml.safe_dump(rows, allow_unicode=True), encoding="utf-8")
    counts_path = project / "validation/expected_counts.yaml"
    counts = yaml.safe_load(counts_path.read_text(encoding="utf-8"))
    for table in ("documents", "sources", "statements", "actor_mentions"):
        counts[table] += 1
    counts_path.write_text(yaml.safe_dump(counts, sort_keys=False), encoding="utf-8")


def test_adding_an_article_resolves_only_that_article(tmp_path: Path) -> None:
    from newstables.pipeline import Inputs, load_inputs, make_tables

    out = tmp_path / "corpus"
    synth(out, 6, 4, default_template())
    seen: list[Inputs] = []

    def spy(*args: object, **kwargs: object) -> Inputs:
        inputs = load_inputs(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(inputs)
        return inputs

    import newstables.pipeline as pipeline

    original = pipeline.load_inputs
    pipeline.load_inputs = spy  # type: ignore[assignment]
    try:
        build(out)
        first = seen[-1].cache
        assert first is not None and sorted(first.misses) == [f"synth-{n:06d}" for n in range(1, 7)]
        assert not first.hits
        with sqlite3.connect(out / ".newstables-cache/documents.sqlite") as connection:
            assert connection.execute("SELECT count(*) FROM entries").fetchall() == [(6,)]
        person = next(
            a
            for a in yaml.safe_load((out / "data/annotations/actors.yaml").read_text(encoding="utf-8"))
            if a["actor_type"] == "person"
        )
        add_article(out, "hand-written-1", person["actor_id"], person["canonical_name"].split()[-1])
        tables = build(out)
        second = seen[-1].cache
        assert second is not None and list(second.misses) == ["hand-written-1"]  # resolved: one document
        assert len(second.hits) == 6
        statements = {row["statement_id"] for row in tables["statements"].rows}
        assert "hand-written-1-s01" in statements and len(statements) == 61
        edited = out / "data/articles/synth-000003/annotations/statements.yaml"
        edited.write_text("# checked again\n" + edited.read_text(encoding="utf-8"), encoding="utf-8")
        tables = build(out)
        third = seen[-1].cache
        assert third is not None and list(third.misses) == ["synth-000003"] and len(third.hits) == 6
    finally:
        pipeline.load_inputs = original  # type: ignore[assignment]
    uncached = make_tables(load_inputs(out))  # every document read and resolved again
    for name, table in tables.items():
        assert table.rows == uncached[name].rows, name
        assert [(r.file, r.line, r.label) for r in table.records] == [
            (r.file, r.line, r.label) for r in uncached[name].records
        ], name
    released = (out / "data/statements.csv").read_text(encoding="utf-8")
    assert "hand-written-1-s01" in released
