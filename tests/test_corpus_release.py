"""Releases grow by article: ``diff`` lists documents added, removed and changed; ``bump``
proposes the level the documents call for; the release's CHANGELOG holds one entry per
version. Small pure cases here; ``tests/test_demo.py`` runs the whole flow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from newstables.bump import BumpResult, choose_level
from newstables.diff import (
    Diff,
    Package,
    compare_documents,
    diff_dict,
    markdown,
    release_documents,
)
from newstables.errors import NewstablesError
from newstables.release import with_changes

SEED_SHA = "59cd17bb" + "0" * 56


def document(sha: str = SEED_SHA, **meta: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = dict.fromkeys(
        ("outlet", "url", "date_published", "date_precision", "date_basis", "language", "relation"), None
    )
    row["relation_source_id"] = None
    return {**row, "sha256": sha, **meta}


def legacy_release() -> Package:
    """A release from before the corpus layout (0.1.0, 0.2.0): no documents table."""
    rows: dict[str, Any] = {"sources": {("article",): {"source_id": "article", "sha256": SEED_SHA}}}
    return Package(Path("old"), "0.2.0", {"sources": {}}, rows)


def test_a_release_without_documents_holds_the_seed_only() -> None:
    assert release_documents(legacy_release()) == {"article": {"sha256": SEED_SHA}}


def test_an_added_article_is_a_minor_change_and_says_why() -> None:
    new = {
        "article": document(outlet="oe-mag.co.uk"),
        "harbour": document("ab" * 32, outlet="Harbour Gazette"),
    }
    changes = compare_documents(release_documents(legacy_release()), new)
    assert (changes.added, changes.removed, changes.changed) == (["harbour"], [], [])
    assert changes.bump == "minor"
    assert changes.reason() == "1 document added (harbour): minor"
    assert changes.labels["harbour"] == "Harbour Gazette"


def test_a_recaptured_text_or_corrected_metadata_is_a_change() -> None:
    old = {"article": document(outlet="oe-mag"), "gone": document("cd" * 32)}
    new = {"article": document("ef" * 32, outlet="oe-mag.co.uk", date_published="2022-03-13")}
    changes = compare_documents(old, new)
    assert changes.changed == [("article", ["sha256", "outlet", "date_published"])]
    assert changes.removed == ["gone"] and changes.bump == "major"
    # a legacy release knows the seed's sha256 only: its missing metadata is not a change
    assert compare_documents(release_documents(legacy_release()), {"article": document()}).bump == "none"


def test_the_diff_lists_documents_in_text_and_json() -> None:
    changes = compare_documents(
        {"article": document()}, {"article": document(), "harbour": document("ab" * 32)}
    )
    diff = Diff("0.2.0", "0.3.0", [], changes)
    assert diff.bump == "minor"
    text = markdown(diff)
    assert "Documents added: 1, removed: 0, changed: 0." in text
    assert "- Document added: `harbour`" in text
    data = json.loads(json.dumps(diff_dict(diff)))
    assert data["documents"]["added"] == [{"document_id": "harbour", "label": None}]
    assert data["documents"]["reason"] == "1 document added (harbour): minor"


def test_the_release_puts_its_comparison_inside_the_bumped_entry() -> None:
    diff = Diff("0.2.0", "0.3.0", [], compare_documents({}, {"harbour": document()}))
    bumped = (
        "# Changelog\n\nIntro.\n\n## 0.3.0 — 2026-12-05\n\nMinor release.\n\n## 0.2.0 — 2026-12-01\n\nOld.\n"
    )
    merged = with_changes(bumped, diff, markdown)
    assert merged.count("\n## 0.3.0") == 1
    entry = merged.split("\n## 0.3.0")[1].split("\n## 0.2.0")[0]
    assert "### Changes since 0.2.0 (proposed bump: minor)" in entry and "Document added: `harbour`" in entry
    assert merged.endswith("## 0.2.0 — 2026-12-01\n\nOld.\n")
    unbumped = with_changes("# Changelog\n\n## 0.2.0 — 2026-12-01\n", diff, markdown)
    assert unbumped.startswith("# Changelog\n\n## 0.3.0 (from 0.2.0; proposed bump: minor)")


def test_auto_takes_the_proposed_level_or_asks_for_one() -> None:
    added = compare_documents({}, {"harbour": document()})
    assert choose_level("auto", added, Path("dist/x-0.2.0")) == "minor"
    assert choose_level("patch", added, Path("dist/x-0.2.0")) == "patch"
    for changes in (None, compare_documents({"a": document()}, {"a": document()})):
        with pytest.raises(NewstablesError) as caught:
            choose_level("auto", changes, Path("dist/x-0.2.0"))
        assert caught.value.type == "bump-invalid"


def test_a_level_below_the_proposal_is_reported() -> None:
    result = BumpResult(
        "patch", "0.2.0", "0.2.1", "2026-12-05", proposed="minor", reason="1 document added (h)"
    )
    assert result.lines()[1:] == [
        "proposed: minor (1 document added (h))",
        "note: you chose patch, below the proposed minor",
    ]


def test_bump_auto_without_a_previous_release_is_refused(mini_project: Path, cli: Any) -> None:
    package = mini_project / "schemas/package.yaml"
    before = package.read_bytes()
    result = cli(
        "bump", "--date", "2026-12-05", "--project", mini_project, "--dist", mini_project / "dist", "--json"
    )
    assert result.exit_code == 2
    (error,) = json.loads(result.stderr)["errors"]
    assert error["type"] == "bump-invalid" and "--previous" in error["message"]
    assert package.read_bytes() == before


def test_coverage_counts_only_the_rows_of_the_document_it_checks() -> None:
    """The seed's rows cover the seed's names; another document's same names are its own gaps."""
    from newstables.coverage import corpus_coverage
    from newstables.pipeline import load_inputs, make_tables
    from tests.conftest import REPO

    inputs = load_inputs(REPO)
    tables = make_tables(inputs)
    seed = inputs.texts["article"]
    texts = {"article": seed, "copy": seed}  # the same text, but no rows of its own
    regions = {"article": inputs.regions, "copy": inputs.regions}
    by_document = corpus_coverage(texts, regions, tables, inputs.waivers)
    assert all(not r.gaps for r in by_document["article"])
    gaps = {r.check: {g.text for g in r.gaps} for r in by_document["copy"]}
    assert "Sullivan" in gaps["name"] and gaps["quotation"]
    assert {r.document_id for r in by_document["copy"]} == {"copy"}
