"""The corpus layout: one folder per document, evidence resolved in its own document's text."""

from __future__ import annotations

import io
import shutil
from csv import DictReader
from pathlib import Path

import yaml

from newstables.pipeline import build, load_inputs, make_tables
from newstables.project import Project, document_ids, document_text_path
from tests.conftest import FIXTURES, REPO, assemble

GAZETTE = FIXTURES / "articles" / "harbour-gazette.txt"


def to_corpus_layout(project: Path) -> None:
    """Move a legacy project's article to ``data/articles/article/`` (as the seed was migrated)."""
    target = project / "data/articles/article"
    target.mkdir(parents=True)
    (project / "data/raw/article.txt").rename(target / "article.txt")
    sources = project / "data/annotations/sources.yaml"
    sources.write_text(
        sources.read_text(encoding="utf-8").replace(
            "data/raw/article.txt", "data/articles/article/article.txt"
        ),
        encoding="utf-8",
    )


def add_document(
    project: Path, document_id: str, text: Path, records: dict[str, list[dict[str, object]]]
) -> None:
    """A second document with its own annotation files (as ``add`` and curation would leave it)."""
    folder = project / "data/articles" / document_id
    (folder / "annotations").mkdir(parents=True)
    shutil.copyfile(text, folder / "article.txt")
    for table, rows in records.items():
        (folder / "annotations" / f"{table}.yaml").write_text(yaml.safe_dump(rows), encoding="utf-8")


def test_the_seed_lives_in_the_corpus_layout_byte_for_byte() -> None:
    project = Project(REPO)
    assert document_ids(project)[0] == "article"
    assert document_text_path(project, "article") == REPO / "data/articles/article/article.txt"
    meta = yaml.safe_load((REPO / "data/articles/article/meta.yaml").read_text(encoding="utf-8"))
    assert (meta["published"], meta["published_precision"], meta["published_basis"]) == (
        "2022-03-13",
        "day",
        "inferred",
    )
    assert (meta["language"], meta["relation"], meta["relation_source_id"]) == (
        "en",
        "paraphrased copy of",
        "guardian-report",
    )
    import hashlib

    data = (REPO / "data/articles/article/article.txt").read_bytes()
    assert meta["sha256"] == hashlib.sha256(data).hexdigest() and meta["bytes"] == len(data)


def test_the_legacy_layout_is_still_document_article(mini_project: Path) -> None:
    assert document_ids(Project(mini_project)) == ["article"]
    assert document_text_path(Project(mini_project), "article") == mini_project / "data/raw/article.txt"


def test_both_layouts_publish_the_same_rows(tmp_path: Path) -> None:
    legacy = assemble(tmp_path / "legacy", "mini")
    corpus = assemble(tmp_path / "corpus", "mini")
    to_corpus_layout(corpus)
    build(legacy)
    build(corpus)
    for csv in sorted((legacy / "data").glob("*.csv")):
        old, new = csv.read_text(encoding="utf-8"), (corpus / "data" / csv.name).read_text(encoding="utf-8")
        assert old.replace("data/raw/article.txt", "data/articles/article/article.txt") == new, csv.name


def test_evidence_is_resolved_in_its_own_document(tmp_path: Path) -> None:
    project = assemble(tmp_path / "p", "mini")
    to_corpus_layout(project)
    raw = GAZETTE.read_text(encoding="utf-8")
    add_document(
        project,
        "gazette",
        GAZETTE,
        {
            "sources": [
                {
                    "source_id": "gazette",
                    "kind": "article_copy",
                    "title": "Harbour boards agree on a shared ferry timetable (fictional test article)",
                    "path": "data/articles/gazette/article.txt",
                    "excerpt": "Harbour boards agree on a shared ferry timetable",
                }
            ],
            "actor_mentions": [
                # its folder's document by default; a record naming the seed is resolved in the seed
                {
                    "actor_id": "yang-jiechi",
                    "mention_type": "descriptor",
                    "excerpt": "Envoys",
                    "document_id": "article",
                },
                {"actor_id": "jake-sullivan", "mention_type": "descriptor", "excerpt": "Port officials"},
            ],
        },
    )
    tables = make_tables(load_inputs(project))
    by_excerpt = {
        (row["excerpt"], row["char_start"]): (row["mention_id"], record.resolved_document)
        for row, record in zip(tables["actor_mentions"].rows, tables["actor_mentions"].records, strict=True)
    }
    start = raw.index("Port officials")
    assert by_excerpt[("Port officials", start)] == (f"jake-sullivan@gazette@{start:05d}", "gazette")
    assert by_excerpt[("Envoys", 0)] == ("yang-jiechi@00000", "article")
    assert "Port officials" not in (REPO / "tests/fixtures/mini/data/raw/article.txt").read_text(
        encoding="utf-8"
    )


def test_every_span_carries_its_document_and_context(tmp_path: Path) -> None:
    from newstables.core.model import load_model
    from newstables.validate import excerpt_findings

    project = assemble(tmp_path / "p", "mini")
    build(project)
    raw = (project / "data/raw/article.txt").read_text(encoding="utf-8")
    csv = project / "data/actor_mentions.csv"
    text = csv.read_text(encoding="utf-8")
    rows = list(DictReader(io.StringIO(text, newline="")))
    start = raw.index("Yang Jiechi")
    (row,) = [r for r in rows if r["mention_id"] == f"yang-jiechi@{start:05d}"]
    assert (row["document_id"], row["char_start"], row["excerpt"]) == ("article", str(start), "Yang Jiechi")
    assert (row["prefix"], row["suffix"]) == (raw[start - 32 : start], raw[start + 11 : start + 43])
    tables = load_model(project).tables
    assert excerpt_findings({"article": raw}, project, tables) == []
    csv.write_text(text.replace(raw[start - 32 : start], raw[start - 32 : start].upper()), encoding="utf-8")
    (finding,) = excerpt_findings({"article": raw}, project, tables)
    assert (finding.type, finding.coordinates["file"]) == ("context-mismatch", "data/actor_mentions.csv")
