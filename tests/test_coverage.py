"""Coverage: every quotation, capitalized name and date expression in the body is a row or a
waiver with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from newstables.coverage import check_waivers, corpus_coverage, coverage
from newstables.errors import ErrorList, NewstablesError
from newstables.pipeline import build, load_inputs, make_tables
from tests.conftest import REPO


@pytest.fixture(scope="module")
def repo_coverage() -> dict[str, object]:
    inputs = load_inputs(REPO)
    results = coverage(inputs.raw, inputs.regions, make_tables(inputs), inputs.waivers)
    return {r.check: r for r in results}


def test_every_quotation_pair_in_the_body_is_covered_by_a_statement(repo_coverage: dict) -> None:
    quotes = repo_coverage["quotation"]
    assert len(quotes.hits) == 14 and quotes.waived == 0 and not quotes.gaps


def test_every_capitalized_name_is_a_mention_or_waived(repo_coverage: dict) -> None:
    assert not repo_coverage["name"].gaps


def test_every_date_expression_is_resolved_or_waived(repo_coverage: dict) -> None:
    dates = repo_coverage["date"]
    assert {h.text for h in dates.hits} >= {"Sunday", "last week", "November", "months before"}
    assert not dates.gaps


def test_boilerplate_is_not_scanned(repo_coverage: dict) -> None:
    names = {h.text for h in repo_coverage["name"].hits}
    assert not names & {"Johnson", "Kyiv", "Leave", "Reply", "Required"}


def test_an_unwaived_name_is_a_gap_naming_text_and_offsets(mini_project: Path) -> None:
    path = mini_project / "data/annotations/waivers.yaml"
    path.write_text("\n".join(ln for ln in path.read_text().splitlines() if "Rome" not in ln) + "\n")
    with pytest.raises(ErrorList) as caught:
        build(mini_project)
    gaps = [e.to_dict() for e in caught.value.errors if e.type == "coverage-gap"]
    assert [(g["check"], g["value"], g["start"]) for g in gaps] == [
        ("name", "Rome", 15),
        ("name", "Rome", 103),
    ]


def test_a_waiver_without_a_reason_is_refused(mini_project: Path) -> None:
    path = mini_project / "data/annotations/waivers.yaml"
    path.write_text(path.read_text() + "- {check: name, text: Jake}\n")
    with pytest.raises(NewstablesError) as caught:
        build(mini_project)
    assert (caught.value.type, caught.value.coordinates["field"]) == ("missing-field", "reason")


def test_a_waiver_for_an_unknown_check_is_refused() -> None:
    from newstables.read import Record

    record = Record({"check": "spelling", "text": "x", "reason": "y"})
    record.file, record.index, record.line, record.lines = "waivers.yaml", 1, 1, {}
    with pytest.raises(NewstablesError) as caught:
        check_waivers([record])
    assert caught.value.type == "enum-violation"


@pytest.mark.parametrize("drop", ["actor_mentions", "statements", "events"])
def test_counting_hits_gives_the_figures_and_gaps_of_keeping_them(drop: str) -> None:
    """A large corpus counts hits instead of keeping them (``keep_hits=False``): the same
    figures, waived counts and gaps, on the seed with one table's rows taken away (gaps)."""
    inputs = load_inputs(REPO)
    tables = make_tables(inputs)
    tables[drop].rows = [r for i, r in enumerate(tables[drop].rows) if i % 2]
    waivers = {check: set(list(texts)[::2]) for check, texts in inputs.waivers.items()}
    texts = {inputs.default_document: inputs.raw}
    regions = {inputs.default_document: inputs.regions}
    kept = corpus_coverage(texts, regions, tables, waivers, keep_hits=True)
    counted = corpus_coverage(texts, regions, tables, waivers, keep_hits=False)
    assert any(r.gaps for results in kept.values() for r in results), "the case has gaps"
    for document, results in kept.items():
        assert [r.figures() for r in counted[document]] == [r.figures() for r in results]
        assert [r.gaps for r in counted[document]] == [r.gaps for r in results]
        assert all(not r.hits and r.uncounted_hits for r in counted[document])
