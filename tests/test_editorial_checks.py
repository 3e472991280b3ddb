"""Editorial checks (issue 11): one tiny one-defect fixture per class of editorial error, each
blocked by the gate naming the table, the check and the offending rows.

The classes: a channel or occasion link without evidence in the statement's own paragraph;
sibling statements with different channels; overlapping statements not declared nested or
joint; made_in on a planned event; a site-root address; a date in a title or a date without
its basis; a dossier-only fact not flagged; name evidence with glued text; state parties at
mixed levels. Most fixtures edit the tiny project; the last ones replay the 0.1.0 defect on
the real article, where the defect was found.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from newstables.errors import ErrorList
from newstables.pipeline import build

STATEMENTS = "data/annotations/statements.yaml"
LINKS = "data/annotations/statement_events.yaml"
SOURCES = "data/annotations/sources.yaml"
COUNTS = "validation/expected_counts.yaml"


def _edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not found in {relative}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _append(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _failed_checks(project: Path) -> set[tuple[str, str, str]]:
    """(table, check, offending rows) of every error the blocked build reports."""
    with pytest.raises(ErrorList) as caught:
        build(project)
    errors: list[dict[str, Any]] = [e.to_dict() for e in caught.value.errors]
    assert all(e["type"] == "expectation-failed" for e in errors), errors
    return {(e["table"], e["check"], e["rows"]) for e in errors}


def _one_more_statement(root: Path, record: str) -> None:
    _append(root, STATEMENTS, record)
    _edit(root, COUNTS, "statements: 1", "statements: 2")


# --- channel and occasion: evidence in the statement's own paragraph ------------------------


def test_a_channel_named_only_in_another_paragraph_is_refused(mini_project: Path) -> None:
    _one_more_statement(
        mini_project,
        "- {statement_id: sullivan-will-meet, speaker_id: jake-sullivan, statement_type: planned_remark,"
        " channel_source_id: cnn-interview, fidelity: paraphrased_copy,"
        " excerpt: will meet Yang Jiechi in Rome on Monday}\n",
    )
    assert _failed_checks(mini_project) == {
        ("statements", "channel-named-in-own-paragraph", "sullivan-will-meet")
    }


def test_a_made_in_link_with_evidence_in_another_paragraph_is_refused(mini_project: Path) -> None:
    _edit(
        mini_project,
        LINKS,
        "relation: made_in, excerpt: Sullivan told CNN",
        "relation: made_in, excerpt: Jake Sullivan",
    )
    assert _failed_checks(mini_project) == {
        ("statement_events", "occasion-evidence-in-own-paragraph", "sullivan-watching/cnn-interview/made_in")
    }


def test_sibling_statements_with_different_channels_are_refused(mini_project: Path) -> None:
    _one_more_statement(
        mini_project,
        "- {statement_id: sullivan-told-cnn, speaker_id: jake-sullivan, statement_type: paraphrase,"
        " fidelity: paraphrased_copy, excerpt: Sullivan told CNN}\n",
    )
    assert _failed_checks(mini_project) == {
        ("statements", "one-channel-per-speaker-and-paragraph", "sullivan-told-cnn, sullivan-watching")
    }


# --- nesting -------------------------------------------------------------------------------

OVERLAPPING = (
    "- {statement_id: cnn-relays-watching, speaker_id: cnn, statement_type: paraphrase,"
    ' fidelity: paraphrased_copy, excerpt: "We are watching closely,” Sullivan told CNN"}\n'
)


def test_overlapping_statements_not_declared_nested_are_refused(mini_project: Path) -> None:
    _one_more_statement(mini_project, OVERLAPPING)
    assert _failed_checks(mini_project) == {
        ("statements", "overlapping-statements-declared", "cnn-relays-watching, sullivan-watching")
    }


def test_declared_nesting_is_accepted_and_must_really_nest(mini_project: Path) -> None:
    _one_more_statement(mini_project, OVERLAPPING)
    _edit(
        mini_project,
        STATEMENTS,
        "  channel_source_id: cnn-interview\n",
        "  channel_source_id: cnn-interview\n  reported_via_id: cnn-relays-watching\n",
    )
    build(mini_project)  # declared, and the quote does lie inside CNN's words: accepted
    # Declared the wrong way round: the outer statement claims to be reported via the inner one.
    _edit(mini_project, STATEMENTS, "  reported_via_id: cnn-relays-watching\n", "")
    _edit(
        mini_project,
        STATEMENTS,
        "statement_type: paraphrase,",
        "statement_type: paraphrase, reported_via_id: sullivan-watching,",
    )
    failed = _failed_checks(mini_project)
    assert ("statements", "reported-via-contains-statement", "cnn-relays-watching") in failed


# --- made_in on a planned event ------------------------------------------------------------


def test_made_in_a_planned_event_is_refused(mini_project: Path) -> None:
    _append(
        mini_project,
        LINKS,
        "- {statement_id: sullivan-watching, event_id: rome-meeting, relation: made_in,"
        " excerpt: Sullivan told CNN}\n",
    )
    _edit(mini_project, COUNTS, "statement_events: 1", "statement_events: 2")
    assert _failed_checks(mini_project) == {
        ("statement_events", "made-in-not-a-planned-event", "sullivan-watching/rome-meeting/made_in")
    }


def test_planned_for_an_event_that_took_place_is_refused(mini_project: Path) -> None:
    _edit(mini_project, LINKS, "relation: made_in", "relation: planned_for")
    assert _failed_checks(mini_project) == {
        ("statement_events", "planned-for-a-planned-event", "sullivan-watching/cnn-interview/planned_for")
    }


def test_a_reported_event_that_nobody_reports_is_refused(mini_project: Path) -> None:
    _edit(
        mini_project,
        "data/annotations/events.yaml",
        "title: Sullivan interviewed by CNN\n  status: occurred",
        "title: Sullivan interviewed by CNN\n  status: reported",
    )
    assert _failed_checks(mini_project) == {("events", "reported-event-is-attributed", "cnn-interview")}


# --- sources: addresses, dates and their basis --------------------------------------------


def test_a_site_root_address_is_refused(mini_project: Path) -> None:
    _edit(mini_project, SOURCES, "url: https://example.org/report", "url: https://example.org/")
    assert _failed_checks(mini_project) == {("sources", "url-is-not-a-site-root", "ext-reference")}


def test_a_date_in_a_title_is_refused(mini_project: Path) -> None:
    _edit(
        mini_project,
        SOURCES,
        "title: Envoys meet in Rome (test copy)",
        "title: Envoys meet in Rome, 13 March 2022",
    )
    assert _failed_checks(mini_project) == {("sources", "title-has-no-date", "article")}


def test_a_publication_date_without_its_basis_is_refused(mini_project: Path) -> None:
    _edit(
        mini_project,
        SOURCES,
        "  url: https://example.org/report\n",
        '  url: https://example.org/report\n  date_published: "2022-03-13"\n',
    )
    assert _failed_checks(mini_project) == {("sources", "published-date-has-basis", "ext-reference")}


def test_a_date_resting_on_the_dossier_alone_must_say_so(mini_project: Path) -> None:
    _edit(mini_project, SOURCES, "kind: external_reference", "kind: fact_dossier")
    assert _failed_checks(mini_project) == {
        ("events", "dossier-only-date-flagged", "rome-meeting, unsc-vote")
    }


def test_a_correction_resting_on_the_dossier_alone_must_say_so(mini_project: Path) -> None:
    _edit(
        mini_project,
        "data/annotations/actors.yaml",
        "  affiliation_id: china\n",
        "  affiliation_id: china\n  canonical_source_id: ext-reference\n"
        "  canonical_basis: external_dossier\n",
    )
    assert _failed_checks(mini_project) == {("actors", "canonical-basis-matches-source", "yang-jiechi")}


# --- name evidence -------------------------------------------------------------------------


def test_a_mention_ending_inside_a_word_is_refused(mini_project: Path) -> None:
    _edit(
        mini_project,
        "data/annotations/actor_mentions.yaml",
        "excerpt: Yang Jiechi}",
        "excerpt: Yang Jiech, char_start: 88, char_end: 98}",
    )
    assert _failed_checks(mini_project) == {
        ("actor_mentions", "name-evidence-is-the-name-only", "yang-jiechi@00088")
    }


# --- the 0.1.0 defects, replayed on the real article ---------------------------------------


def test_the_glued_financial_times_evidence_of_0_1_0_is_refused(repo_project: Path) -> None:
    for table in ("actors", "actor_mentions"):
        _edit(
            repo_project,
            f"data/annotations/{table}.yaml",
            "excerpt: financial times",
            "excerpt: financial timesAnd",
        )
        _edit(repo_project, f"data/annotations/{table}.yaml", "char_end: 2174", "char_end: 2177")
    assert _failed_checks(repo_project) == {
        ("actors", "name-evidence-is-the-name-only", "financial-times"),
        ("actor_mentions", "name-evidence-is-the-name-only", "financial-times@02159"),
    }


def test_the_carried_over_twitter_channel_of_0_1_0_is_refused(repo_project: Path) -> None:
    _edit(
        repo_project,
        STATEMENTS,
        "- statement_id: hass-speak-directly\n  speaker_id: ryan-hass\n  statement_type: direct_quote\n",
        "- statement_id: hass-speak-directly\n  speaker_id: ryan-hass\n  statement_type: direct_quote\n"
        "  channel_source_id: hass-twitter\n",
    )
    assert _failed_checks(repo_project) == {
        ("statements", "channel-named-in-own-paragraph", "hass-speak-directly")
    }


def test_the_mixed_level_briefing_of_0_1_0_is_refused(repo_project: Path) -> None:
    _edit(
        repo_project,
        "data/annotations/event_participants.yaml",
        "actor_id: us-government, role: briefer",
        "actor_id: united-states, role: briefer",
    )
    # back to 0.1.0's row: its id is live again, so 0.2.0's redirect of it goes too
    (repo_project / "data/annotations/redirects.yaml").unlink()
    _edit(repo_project, "validation/expected_counts.yaml", "redirects: 4", "redirects: 0")
    failed = _failed_checks(repo_project)
    assert failed == {
        (
            "event_participants",
            "state-parties-at-one-level",
            "us-briefing-on-putin-intentions/chinese-government/briefed, "
            "us-briefing-on-putin-intentions/united-states/briefer",
        )
    }


# --- the coverage report -------------------------------------------------------------------


def test_the_report_counts_statements_per_paragraph_and_events_without_statements(mini_project: Path) -> None:
    build(mini_project)
    results = json.loads((mini_project / "validation/report/results.json").read_text(encoding="utf-8"))
    coverage = results["coverage"]
    assert [(p["paragraph"], p["statements"], p["events"]) for p in coverage["paragraphs"]] == [
        (0, 0, 0),
        (1, 0, 1),
        (2, 1, 2),
    ]
    assert coverage["paragraphs_without_statements"] == [0, 1]
    assert coverage["events_without_statements"] == ["rome-meeting", "unsc-vote"]
    html = (mini_project / "validation/report/index.html").read_text(encoding="utf-8")
    assert "Coverage by paragraph" in html and "Events without statements" in html


def test_no_source_of_the_package_metadata_is_a_site_root() -> None:
    """The package-level ``sources`` (package.yaml) follow the rule of the sources table."""
    import re

    import yaml

    from tests.conftest import REPO

    metadata = yaml.safe_load((REPO / "schemas/package.yaml").read_text(encoding="utf-8"))
    roots = [
        s
        for s in metadata["sources"]
        if re.fullmatch(r"[A-Za-z][\w+.-]*://[^/?#]*/?(#.*)?", s.get("path", ""))
    ]
    assert not roots, f"site roots are not addresses of documents: {roots}"


def test_id_map_redirects_a_changed_composite_key_of_a_link_table() -> None:
    """0.2.0 turned two `made_in` links into `planned_for`: id-map.yaml redirects the old keys."""
    from newstables.diff import rekey_composite

    key = ["statement_id", "event_id", "relation"]
    old = {
        ("s", "e", "made_in"): {"statement_id": "s", "event_id": "e", "relation": "made_in", "note": "x"},
        ("t", "e", "about"): {"statement_id": "t", "event_id": "e", "relation": "about", "note": "y"},
    }
    moved = rekey_composite(old, key, {"s/e/made_in": "s/e/planned_for", "t/e/about": "bad"})
    assert moved == {
        ("s", "e", "planned_for"): {
            "statement_id": "s",
            "event_id": "e",
            "relation": "planned_for",
            "note": "x",
        },
        ("t", "e", "about"): old[("t", "e", "about")],
    }
