"""``newstables synth``: a deterministic synthetic corpus that builds and validates."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import yaml

from newstables.errors import NewstablesError
from newstables.pipeline import build
from newstables.synth import default_template, synth


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
    assert len(records) == sum(n for table, n in summary.counts.items() if table != "documents")
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
