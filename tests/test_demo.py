"""The two-article demo (issue 8, "Done when"): a desk that has released the seed adds a
second article and publishes it, with the real command line, step by step:

add -> draft -> curate (a person moves checked draft records into the curated files) ->
counts --accept -> build -> release --bump auto -> diff -> verify.

The second article is fictional (tests/fixtures/articles/harbour-gazette.txt): it lives in
a temporary copy of the project only, never in the repository's data.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import FIXTURES, REPO, assemble

GAZETTE = FIXTURES / "articles" / "harbour-gazette.txt"
DOC = "harbour-gazette"
RELEASE_DATE = "2026-12-05"  # given, never read from the clock
# The draft records the desk keeps (by id or by excerpt); everything else in draft/ is dropped.
KEPT_ACTORS = ("marta-walesa", "jens-orsted", "ana-nunez", "gdansk-harbour-board", "aarhus-port-authority")
# Texts of the body that are not facts of this article, each with the desk's reason.
WAIVERS = [
    ("name", "Harbour", "Headline-initial common noun ('Harbour boards agree')."),
    ("name", "Port", "Sentence-initial common noun ('Port officials')."),
    ("name", "Gdańsk", "Place name: the port city (its board is the actor gdansk-harbour-board)."),
    ("name", "Aarhus", "Place name: the port city (its authority is the actor aarhus-port-authority)."),
    ("name", "Nobody", "Sentence-initial pronoun inside a quotation."),
    ("name", "Her", "Sentence-initial pronoun ('Her Danish counterpart')."),
    ("name", "Danish", "Adjective of nationality in 'Her Danish counterpart'; Denmark plays no part."),
    ("name", "University", "Affiliation of Ana Núñez ('University of Seville'), not an actor of the story."),
    ("name", "Seville", "Part of 'University of Seville', Ana Núñez's affiliation."),
    ("name", "Both", "Sentence-initial determiner inside a quotation."),
    ("name", "They", "Sentence-initial pronoun inside a quotation."),
    ("name", "Tuesday", "Day name in the date expression 'on Tuesday', the date of the agreement."),
    ("date", "next month", "When the timetable starts: not the date of any event or statement."),
    ("date", "2024", "When the dispute began: no event of its own."),
    ("date", "last year", "Inside a quotation: when traffic was lost, no event."),
    ("date", "years ago", "Inside a quotation: 'three years ago', a counterfactual."),
    ("date", "2027", "The boards' next review: a plan, not annotated as an event."),
]


def run(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The real command line, in a subprocess, as a desk would run it."""
    env = {**os.environ, "PYTHONUTF8": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "newstables", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if check:
        assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done


def load(path: Path) -> list[dict[str, Any]]:
    records = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    assert isinstance(records, list)
    return records


def dump(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")


def curated(record: dict[str, Any]) -> dict[str, Any]:
    """A checked draft record: ``status`` and ``reason`` dropped, empty values left out."""
    return {k: v for k, v in record.items() if k not in ("status", "reason") and v is not None}


def curate(project: Path) -> None:
    """What the person does: keep a checked subset of the draft, complete it, and register
    the new people in the corpus-wide actors registry."""
    draft = project / "data/articles" / DOC / "draft"
    own = project / "data/articles" / DOC / "annotations"
    dump(
        own / "regions.yaml",
        [{**curated(r), "region_id": f"{DOC}-{r['kind']}"} for r in load(draft / "regions.yaml")],
    )
    dump(
        own / "sources.yaml",
        [
            {
                "source_id": DOC,
                "kind": "article_copy",
                "title": "Harbour boards agree on a shared ferry timetable (fictional test article)",
                "publisher_name": "Harbour Gazette",
                "path": f"data/articles/{DOC}/article.txt",
                "excerpt": "Harbour boards agree on a shared ferry timetable",
            }
        ],
    )
    # The people go into the registry (data/annotations/actors.yaml): their evidence is in the
    # new document, which a registry record names with document_id.
    actors = [curated(r) for r in load(draft / "actors.yaml") if r["actor_id"] in KEPT_ACTORS]
    assert {a["actor_id"] for a in actors} == set(KEPT_ACTORS), "the drafter proposed every kept actor"
    registry = project / "data/annotations/actors.yaml"
    registry.write_text(
        registry.read_text(encoding="utf-8")
        + "\n# --- harbour-gazette (demo) ---\n"
        + yaml.safe_dump([{**a, "document_id": DOC} for a in actors], allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    mentions = [curated(r) for r in load(draft / "actor_mentions.yaml") if r["actor_id"] in KEPT_ACTORS]
    dump(own / "actor_mentions.yaml", mentions)
    statements = [
        {**curated(r), "statement_id": f"{DOC}-{r['char_start']}", "fidelity": "paraphrased_copy"}
        for r in load(draft / "statements.yaml")
    ]
    # The nested quotation (the drivers' words, relayed by Wałęsa) has no speaker in the draft.
    nested = next(s for s in statements if "speaker_id" not in s)
    outer = next(s for s in statements if s["char_start"] < nested["char_start"] < s["char_end"])
    nested.update(
        speaker_id="marta-walesa", reported_via_id=outer["statement_id"], statement_type="reported_claim"
    )
    # A partial quote is the reported speech around the quoted words: widen the drafted span.
    partial = next(s for s in statements if s["statement_type"] == "partial_quote")
    partial["excerpt"] = f'the deal "{partial.pop("excerpt")}" on the route'
    del partial["char_start"], partial["char_end"]
    dump(own / "statements.yaml", statements)
    tuesday = next(d for d in load(draft / "dates.yaml") if d["excerpt"] == "on Tuesday")
    event_id = "gdansk-aarhus-ferry-timetable-agreement"
    dump(
        own / "events.yaml",
        [
            {
                "event_id": event_id,
                "event_type": "agreement",
                "title": "Gdańsk and Aarhus port boards sign a joint ferry timetable",
                "status": "occurred",
                **{
                    k: tuesday[k]
                    for k in ("date_start", "date_end", "date_precision", "date_basis", "date_text")
                },
                "date_source_id": DOC,  # 'on Tuesday' is resolved against the article's publication date
                "excerpt": "signed an agreement on Tuesday",
            }
        ],
    )
    dump(
        own / "event_participants.yaml",
        [
            {"event_id": event_id, "actor_id": actor, "role": "participant", "excerpt": name}
            | ({"occurrence": 1} if actor == "gdansk-harbour-board" else {})
            for actor, name in (
                ("gdansk-harbour-board", "Gdańsk Harbour Board"),
                ("aarhus-port-authority", "Aarhus Port Authority"),
            )
        ],
    )
    dump(own / "waivers.yaml", [{"check": c, "text": t, "reason": r} for c, t, r in WAIVERS])


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every published file of a build (data/, datapackage.json, the report)."""
    paths = [root / "datapackage.json", *(root / "data").rglob("*"), *(root / "validation/report").rglob("*")]
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in paths
        if p.is_file() and "articles" not in p.parts and "annotations" not in p.parts
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the whole demo once; the tests below read what it left."""
    root = tmp_path_factory.mktemp("demo")
    project = assemble(root / "desk", "repo")
    for name in ("README.md", "CHANGELOG.md", "CITATION.cff"):  # what a bump regenerates
        shutil.copyfile(REPO / name, project / name)
    dist = root / "dist"
    # 0. The desk's previous release: the seed alone.
    run("release", "--dist", str(dist), cwd=project)
    (previous,) = [p for p in dist.iterdir() if p.is_dir()]
    # 1. add, 2. draft.
    added = run(
        "add", str(GAZETTE), "--id", DOC, "--outlet", "Harbour Gazette", "--url",
        "https://harbour-gazette.example/2026/04/16/ferry-timetable", "--published", "2026-04-16",
        "--language", "en", cwd=project,
    )  # fmt: skip
    drafted = run("draft", DOC, cwd=project)
    # 3. curate, then accept the new row counts (the gate blocks any unaccepted change).
    curate(project)
    run("counts", "--accept", cwd=project)
    # 4. build.
    built = run("build", "--json", cwd=project)
    before = tree_digest(project)
    # 5. A draft record left in a curated file is refused, and nothing built changes.
    statements = project / "data/articles" / DOC / "annotations/statements.yaml"
    kept = statements.read_text(encoding="utf-8")
    leftover = load(project / "data/articles" / DOC / "draft/statements.yaml")[0]
    dump(statements, [*load(statements), {**leftover, "statement_id": "left-over-draft"}])
    refused = run("build", "--json", cwd=project, check=False)
    after_refusal = tree_digest(project)
    statements.write_text(kept, encoding="utf-8")
    # 6. release a new version, 7. diff it against the previous one.
    released = run(
        "release", "--bump", "auto", "--date", RELEASE_DATE, "--previous", str(previous), "--dist", str(dist),
        "--json", cwd=project,
    )  # fmt: skip
    new = Path(json.loads(released.stdout)["paths"][-1])
    diff_json = json.loads(run("diff", str(previous), str(new), "--json", cwd=project).stdout)
    diff_text = run("diff", str(previous), str(new), cwd=project).stdout
    verified = run("verify", str(new), cwd=project, check=False)
    return {
        "project": project,
        "previous": previous,
        "new": new,
        "added": added,
        "drafted": drafted,
        "built": json.loads(built.stdout),
        "before": before,
        "after_refusal": after_refusal,
        "refused": refused,
        "released": json.loads(released.stdout),
        "diff_json": diff_json,
        "diff_text": diff_text,
        "verified": verified,
    }


def test_add_and_draft_write_the_new_document(demo: dict[str, Any]) -> None:
    folder = demo["project"] / "data/articles" / DOC
    assert (folder / "article.txt").read_bytes() == GAZETTE.read_bytes()
    assert demo["added"].stdout.startswith(f"added {DOC} (")
    assert {p.name for p in (folder / "draft").iterdir()} >= {"actors.yaml", "statements.yaml", "dates.yaml"}


def test_the_build_publishes_both_documents_and_passes_every_check(demo: dict[str, Any]) -> None:
    project = demo["project"]
    assert demo["built"]["tables"]["documents"] == 2
    results = json.loads((project / "validation/report/results.json").read_text(encoding="utf-8"))
    assert results["passed"] and results["summary"]["failed"] == 0
    documents = {d["document_id"]: d for d in results["coverage"]["documents"]}
    assert set(documents) == {"article", DOC}
    gazette = documents[DOC]
    assert gazette["outlet"] == "Harbour Gazette" and gazette["date_published"] == "2026-04-16"
    assert gazette["rows"]["statements"] == 7 and gazette["coverage"]["quotation"]["gaps"] == 0
    assert results["coverage"]["corpus"]["documents"] == 2
    coverage_tables = {c["table"] for c in results["checks"] if c["check"].startswith("coverage:")}
    assert coverage_tables == {"article", DOC}  # coverage is checked per document
    html = (project / "validation/report/index.html").read_text(encoding="utf-8")
    assert f"<code>{DOC}</code>" in html and "Harbour Gazette" in html


def test_a_draft_record_in_a_curated_file_is_refused_and_nothing_built_changes(demo: dict[str, Any]) -> None:
    refused = demo["refused"]
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    (error,) = json.loads(refused.stderr)["errors"]
    assert error["type"] == "draft-record-in-curated"
    assert error["file"] == f"data/articles/{DOC}/annotations/statements.yaml"
    assert error["record"] == "left-over-draft" or "left-over-draft" in error["message"]
    assert demo["after_refusal"] == demo["before"]


def test_the_release_is_a_new_minor_version_because_a_document_was_added(demo: dict[str, Any]) -> None:
    released = demo["released"]
    old, new = (
        int(v) for v in (released["old_version"].split(".")[1], released["new_version"].split(".")[1])
    )
    assert released["level"] == released["proposed"] == "minor" and new == old + 1
    assert released["reason"] == f"1 document added ({DOC}): minor"
    changelog = (demo["new"] / "CHANGELOG.md").read_text(encoding="utf-8")
    # one entry for the version, with the comparison inside it
    assert changelog.count(f"\n## {released['new_version']} ") == 1
    assert "\n### Changes since " + released["old_version"] in changelog
    assert f"- Document added: `{DOC}` (Harbour Gazette, 2026-04-16)" in changelog


def test_the_diff_lists_the_added_document(demo: dict[str, Any]) -> None:
    documents = demo["diff_json"]["documents"]
    assert [d["document_id"] for d in documents["added"]] == [DOC]
    assert documents["removed"] == [] and documents["changed"] == []
    assert demo["diff_json"]["bump"] == "minor"
    assert f"- Document added: `{DOC}` (Harbour Gazette, 2026-04-16)" in demo["diff_text"]
    statements = next(t for t in demo["diff_json"]["tables"] if t["name"] == "statements")
    assert statements["rows"] == {"added": 7, "removed": 0, "changed": 0}


def test_the_release_validates_with_frictionless_and_verify(demo: dict[str, Any]) -> None:
    import frictionless

    report = frictionless.validate(demo["new"] / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    assert demo["verified"].returncode == 0, demo["verified"].stderr
    results = json.loads((demo["new"] / "validation/report/results.json").read_text(encoding="utf-8"))
    assert results["passed"]
    assert (demo["new"] / "data/articles" / DOC / "article.txt").read_bytes() == GAZETTE.read_bytes()


def test_the_fictional_articles_stay_out_of_the_real_release() -> None:
    published = (REPO / "data/documents.csv").read_text(encoding="utf-8")
    assert not (REPO / "data/articles" / DOC).exists() and DOC not in published
