"""`newstables draft`: offline, deterministic candidates with exact offsets, on test articles and the seed."""

from __future__ import annotations

import json
import socket
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from newstables.cli import app
from newstables.draft import Candidate, boilerplate_regions, draft_candidates
from tests.conftest import FIXTURES, assemble

ARTICLES = FIXTURES / "articles"
PUBLISHED = {"harbour-gazette": "2026-04-16", "nordic-wire": "2026-04-17", "city-desk": "2026-05-20"}


def run(*args: str) -> Any:
    """Run the CLI in-process."""
    return CliRunner().invoke(app, list(args))


def added(project: Path, name: str) -> str:
    """Add a test article under the id ``name``; return the id."""
    result = run(
        "add", str(ARTICLES / f"{name}.txt"), "--outlet", name, "--url", f"https://example.org/{name}",
        "--published", PUBLISHED[name], "--id", name, "--project", str(project),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return name


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the real project's inputs with the two test articles added."""
    root = assemble(tmp_path / "repo", "repo")
    added(root, "harbour-gazette")
    added(root, "nordic-wire")
    return root


def draft_json(project: Path, document_id: str, *extra: str) -> dict[str, Any]:
    """``newstables draft ID --json``, parsed."""
    result = run("draft", document_id, "--json", "--project", str(project), *extra)
    assert result.exit_code == 0, result.output
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def candidates_of(name: str) -> tuple[str, list[Candidate]]:
    """The raw text of a test article and its candidates drafted from the text alone."""
    raw = (ARTICLES / f"{name}.txt").read_text(encoding="utf-8")
    return raw, draft_candidates(raw, date.fromisoformat(PUBLISHED[name]), None)


def quotation(candidates: list[Candidate], starts_with: str) -> Candidate:
    """The quotation candidate whose excerpt starts with ``starts_with``."""
    (found,) = [c for c in candidates if c.kind == "quotation" and c.excerpt.startswith(starts_with)]
    return found


def date_of(candidates: list[Candidate], excerpt: str) -> tuple[str | None, str | None, str | None]:
    """(date_start, date_end, date_precision) of the date candidate with this excerpt."""
    (found,) = [c for c in candidates if c.kind == "date" and c.excerpt == excerpt]
    return found.date_start, found.date_end, found.date_precision


# --- the drafter's rules on the test articles ---------------------------------------------


def test_speakers_before_after_and_by_pronoun() -> None:
    _, found = candidates_of("harbour-gazette")
    straight = quotation(found, "would halve")
    assert straight.speaker is not None and straight.speaker.excerpt == "Marta Wałęsa"
    after = quotation(found, "The timetable is a start")  # “…,” said Ørsted
    assert after.speaker is not None and after.speaker.excerpt == "Ørsted"
    named_after = quotation(found, "We listened")  # “…,” Wałęsa said
    assert named_after.speaker is not None and named_after.speaker.excerpt == "Wałęsa"
    she = quotation(found, "Both ports lost traffic")  # “…,” she said, after Ana Núñez
    assert she.speaker is not None and she.speaker.excerpt == "Ana Núñez"
    assert "pronoun 'she'" in she.reason
    follow_on = quotation(found, "They should have done")
    assert follow_on.speaker is not None and follow_on.speaker.excerpt == "Ana Núñez"


def test_nested_and_straight_quotes() -> None:
    raw, found = candidates_of("harbour-gazette")
    nested = quotation(found, "the queue is the real cost")
    assert nested.label == "nested_quote"
    outer = quotation(found, "We listened")
    assert outer.char_start < nested.char_start < nested.char_end < outer.char_end
    straight = quotation(found, "would halve")
    assert raw[straight.char_start - 1] == raw[straight.char_end] == '"'
    wire_raw, wire = candidates_of("nordic-wire")
    told = quotation(wire, "We expect fewer")  # told reporters: "…"
    assert told.speaker is not None and told.speaker.excerpt == "Jens Orsted"
    assert wire_raw[told.char_end] == '"'


def test_quotation_across_paragraphs_and_nested_straight_quotes() -> None:
    raw = (
        "Title\n\nMaria Lopez said: “The first paragraph goes on.\n\n"
        "“And the second one ends it, with 'a nested phrase' inside.”\n"
    )
    found = draft_candidates(raw, date(2026, 1, 5), None)
    (outer,) = [c for c in found if c.kind == "quotation" and c.label != "nested_quote"]
    assert outer.excerpt.startswith("The first paragraph") and outer.excerpt.endswith("inside.")
    assert outer.speaker is not None and outer.speaker.excerpt == "Maria Lopez"
    (nested,) = [c for c in found if c.label == "nested_quote"]
    assert nested.excerpt == "a nested phrase"


def test_relative_dates_resolve_against_the_publication_date() -> None:
    _, gazette = candidates_of("harbour-gazette")  # published Thursday 2026-04-16
    assert date_of(gazette, "on Tuesday") == ("2026-04-14", "2026-04-14", "day")
    assert date_of(gazette, "next month") == ("2026-05-01", "2026-05-31", "month")
    assert date_of(gazette, "in 2024") == ("2024-01-01", "2024-12-31", "year")
    assert date_of(gazette, "last year") == ("2025-01-01", "2025-12-31", "year")
    assert date_of(gazette, "three years ago") == ("2023-01-01", "2023-12-31", "year")
    assert date_of(gazette, "in 2027") == ("2027-01-01", "2027-12-31", "year")
    _, wire = candidates_of("nordic-wire")  # published Friday 2026-04-17
    assert date_of(wire, "on Friday") == ("2026-04-17", "2026-04-17", "day")
    assert date_of(wire, "this week") == ("2026-04-13", "2026-04-19", "week")
    assert date_of(wire, "March 3") == ("2026-03-03", "2026-03-03", "day")  # dateparser


def test_future_tense_and_unanchored_expressions() -> None:
    raw = "Title\n\nThe envoys will meet on Monday. Talks began months before the vote.\n"
    found = draft_candidates(raw, date(2022, 3, 13), None)  # a Sunday
    assert date_of(found, "on Monday") == ("2022-03-14", "2022-03-14", "day")
    assert date_of(found, "months before") == (None, None, None)  # unknown stays empty


def test_titles_cues_and_straight_nesting() -> None:
    _, found = candidates_of("city-desk")  # published Wednesday 2026-05-20
    types = {c.excerpt: c.label for c in found if c.kind == "actor"}
    assert types["Sofia Karlsen"] == types["Tomás Ferreira"] == "person"
    assert types["Ministry of Infrastructure"] == "government"
    assert types["University of Lisbon"] == types["Aalborg Engineering Union"] == "organization"
    assert types["City Desk"] == "organization"  # "the City Desk": no person takes an article
    outer = quotation(found, "The engineers asked us")
    assert outer.speaker is not None and outer.speaker.excerpt == "Karlsen"
    nested = quotation(found, "take the time it needs")
    assert nested.label == "nested_quote" and outer.char_start < nested.char_start < outer.char_end
    he_said = quotation(found, "A bridge is built")
    assert he_said.speaker is not None and he_said.speaker.excerpt == "Tomás Ferreira"
    assert date_of(found, "Two days ago") == ("2026-05-18", "2026-05-18", "day")
    assert date_of(found, "Last month") == ("2026-04-01", "2026-04-30", "month")
    assert date_of(found, "next week") == ("2026-05-21", "2026-05-27", "week")


def test_one_event_in_two_articles_gets_the_same_date() -> None:
    _, gazette = candidates_of("harbour-gazette")
    _, wire = candidates_of("nordic-wire")
    assert date_of(gazette, "on Tuesday") == date_of(wire, "on Tuesday")


def test_actor_types_and_non_ascii_names() -> None:
    _, found = candidates_of("harbour-gazette")
    types = {c.excerpt: c.label for c in found if c.kind == "actor"}
    assert types["Marta Wałęsa"] == types["Jens Ørsted"] == types["Ana Núñez"] == "person"
    assert types["University of Seville"] == types["Gdańsk Harbour Board"] == "organization"
    assert types["Danish"] == "country"
    assert types["Gdańsk"] == "place"


def test_a_name_spelled_two_ways_gets_one_proposed_id(project: Path) -> None:
    for name in ("harbour-gazette", "nordic-wire"):
        assert run("draft", name, "--project", str(project)).exit_code == 0
    ids = {}
    for name in ("harbour-gazette", "nordic-wire"):
        actors = yaml.safe_load(
            (project / f"data/articles/{name}/draft/actors.yaml").read_text(encoding="utf-8")
        )
        ids[name] = {a["name_as_written"]: a["actor_id"] for a in actors}
    assert ids["harbour-gazette"]["Marta Wałęsa"] == ids["nordic-wire"]["Marta Walesa"] == "marta-walesa"
    assert ids["harbour-gazette"]["Jens Ørsted"] == ids["nordic-wire"]["Jens Orsted"] == "jens-orsted"


def test_nothing_from_boilerplate_and_regions_proposed() -> None:
    for name in ("harbour-gazette", "nordic-wire"):
        raw, found = candidates_of(name)
        regions = [r for r in boilerplate_regions(raw) if r.kind != "headline"]
        assert regions
        for region in regions:
            assert raw[region.char_start : region.char_end] == region.excerpt
            inside = [c for c in found if c.char_start < region.char_end and region.char_start < c.char_end]
            assert inside == [], (region, inside)
    kinds = {r.kind for name in PUBLISHED for r in boilerplate_regions(candidates_of(name)[0])}
    assert [r.kind for r in boilerplate_regions(candidates_of("city-desk")[0])] == ["headline"]
    assert kinds == {
        "headline",
        "section_label",
        "see_also",
        "comment_footer",
    }  # the kinds regions.yaml takes


# --- the command ------------------------------------------------------------------------------


def test_draft_writes_records_in_the_curated_format(project: Path) -> None:
    result = run("draft", "harbour-gazette", "--project", str(project))
    assert result.exit_code == 0, result.output
    folder = project / "data/articles/harbour-gazette/draft"
    raw = (project / "data/articles/harbour-gazette/article.txt").read_text(encoding="utf-8")
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["actor_mentions.yaml", "actors.yaml", "dates.yaml", "regions.yaml", "statements.yaml"]
    for path in folder.iterdir():
        records = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert records, path.name
        for record in records:
            assert record["status"] == "draft" and record["reason"], record
            assert raw[record["char_start"] : record["char_end"]] == record["excerpt"]
            if "occurrence" in record:
                assert record["occurrence"] > 1
    statements = yaml.safe_load((folder / "statements.yaml").read_text(encoding="utf-8"))
    assert {s["speaker_id"] for s in statements} >= {"marta-walesa", "jens-orsted", "ana-nunez"}


def test_same_input_same_bytes(project: Path) -> None:
    folder = project / "data/articles/nordic-wire/draft"
    assert run("draft", "nordic-wire", "--project", str(project)).exit_code == 0
    first = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    first_json = run("draft", "nordic-wire", "--json", "--project", str(project)).stdout
    assert run("draft", "nordic-wire", "--project", str(project)).exit_code == 0
    assert {p.name: p.read_bytes() for p in sorted(folder.iterdir())} == first
    assert run("draft", "nordic-wire", "--json", "--project", str(project)).stdout == first_json
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]


def test_json_has_exactly_the_documented_shape(project: Path) -> None:
    out = draft_json(project, "harbour-gazette")
    assert set(out) == {"document_id", "candidates"} and out["document_id"] == "harbour-gazette"
    raw = (project / "data/articles/harbour-gazette/article.txt").read_text(encoding="utf-8")
    base = {"kind", "char_start", "char_end", "excerpt", "label", "reason"}
    kinds = set()
    for candidate in out["candidates"]:
        kinds.add(candidate["kind"])
        extra = {
            "actor": set(),
            "quotation": {"speaker"},
            "date": {"date_start", "date_end", "date_precision"},
        }
        assert set(candidate) == base | extra[candidate["kind"]]
        assert raw[candidate["char_start"] : candidate["char_end"]] == candidate["excerpt"]
        speaker = candidate.get("speaker")
        if speaker:
            assert set(speaker) == {"char_start", "char_end", "excerpt"}
            assert raw[speaker["char_start"] : speaker["char_end"]] == speaker["excerpt"]
    assert kinds == {"actor", "quotation", "date"}


def test_seed_with_and_without_the_registry(project: Path) -> None:
    with_registry = draft_json(project, "article")
    reasons = {c["excerpt"]: c["reason"] for c in with_registry["candidates"] if c["kind"] == "actor"}
    assert reasons["Liu Bingyu"].startswith("registry: liu-pengyu")
    text_only = draft_json(project, "article", "--no-registry")
    assert not [c for c in text_only["candidates"] if c["reason"].startswith("registry")]
    # --no-registry never reads a curated file: a broken one does not matter.
    (project / "data/annotations/actors.yaml").write_text("- [unclosed", encoding="utf-8")
    (project / "data/annotations/regions.yaml").write_text("- [unclosed", encoding="utf-8")
    assert draft_json(project, "article", "--no-registry") == text_only
    assert (project / "data/articles/article/draft/statements.yaml").is_file()


def test_draft_is_offline(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the drafter tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    assert draft_json(project, "nordic-wire", "--no-registry")["candidates"]


def test_dateparser_is_the_pinned_version() -> None:
    assert metadata.version("dateparser") == "1.5.0"


@pytest.mark.parametrize("document_id", ["nope", "../harbour-gazette", "Harbour-Gazette", ""])
def test_unknown_document(document_id: str, project: Path) -> None:
    result = run("draft", document_id, "--json", "--project", str(project))
    assert result.exit_code == 2
    error = json.loads(result.stderr)["errors"][0]
    assert (error["type"], error["value"]) == ("draft-unknown-document", document_id)


def test_article_changed_since_it_was_added(project: Path) -> None:
    assert run("draft", "harbour-gazette", "--project", str(project)).exit_code == 0
    folder = project / "data/articles/harbour-gazette"
    before = {p.name: p.read_bytes() for p in (folder / "draft").iterdir()}
    with (folder / "article.txt").open("ab") as handle:
        handle.write(b"One more line.\n")
    result = run("draft", "harbour-gazette", "--json", "--project", str(project))
    assert result.exit_code == 2
    error = json.loads(result.stderr)["errors"][0]
    assert error["type"] == "draft-article-changed"
    assert error["file"] == "data/articles/harbour-gazette/article.txt"
    assert error["meta"] == "data/articles/harbour-gazette/meta.yaml"
    assert {p.name: p.read_bytes() for p in (folder / "draft").iterdir()} == before


def test_draft_help_has_an_example() -> None:
    result = run("draft", "--help")
    assert result.exit_code == 0 and "Example:" in result.output


@pytest.mark.parametrize(
    "field,edit",
    [("sha256", lambda m: m.pop("sha256")), ("published", lambda m: m.update(published="someday"))],
)
def test_broken_meta_is_named(field: str, edit: Any, project: Path) -> None:
    path = project / "data/articles/nordic-wire/meta.yaml"
    meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(meta)
    path.write_text(yaml.safe_dump(meta), encoding="utf-8")
    result = run("draft", "nordic-wire", "--json", "--project", str(project))
    assert result.exit_code == 2
    error = json.loads(result.stderr)["errors"][0]
    assert (error["type"], error["field"]) == ("draft-meta-invalid", field)
    assert error["file"] == "data/articles/nordic-wire/meta.yaml"


def test_a_long_paragraph_is_never_boilerplate() -> None:
    raw = (
        "Title\n\nComments by the minister, Piotr Nowak, on Monday drew a sharp reply from the opposition, "
        "which said the harbour plan had been rushed through without any hearing at all.\n"
    )
    found = draft_candidates(raw, date(2026, 1, 7), None)
    assert "Piotr Nowak" in {c.excerpt for c in found}


def test_a_symlinked_draft_folder_is_refused(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / "data/articles/nordic-wire/draft").symlink_to(elsewhere)
    result = run("draft", "nordic-wire", "--json", "--project", str(project))
    assert result.exit_code == 2
    error = json.loads(result.stderr)["errors"][0]
    assert error["type"] == "corpus-path-is-symlink" and error["file"].endswith("nordic-wire/draft")
    assert list(elsewhere.iterdir()) == []


def test_a_curated_draft_record_builds(tmp_path: Path) -> None:
    """Curating = moving a draft record into the curated file and deleting status and reason."""
    root = assemble(tmp_path / "mini", "mini")
    assert run("draft", "article", "--project", str(root)).exit_code == 0
    drafted = yaml.safe_load((root / "data/articles/article/draft/actor_mentions.yaml").read_text("utf-8"))
    (record,) = [r for r in drafted if r["excerpt"] == "Jake Sullivan"]
    assert (record["actor_id"], record["mention_type"]) == ("jake-sullivan", "full_name")  # from the registry
    del record["status"], record["reason"]
    curated_path = root / "data/annotations/actor_mentions.yaml"
    curated = yaml.safe_load(curated_path.read_text(encoding="utf-8"))
    curated = [record if c["excerpt"] == "Jake Sullivan" else c for c in curated]
    curated_path.write_text(yaml.safe_dump(curated, sort_keys=False, allow_unicode=True), encoding="utf-8")
    result = run("build", "--project", str(root), "--json")
    assert result.exit_code == 0, result.output


def test_an_interrupted_draft_keeps_the_previous_one(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from newstables.drafting import run_draft
    from newstables.project import Project

    assert run("draft", "nordic-wire", "--project", str(project)).exit_code == 0
    folder = project / "data/articles/nordic-wire/draft"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    real_rename = Path.rename

    def crash_on_swap(self: Path, target: Path) -> Path:
        if self.name.startswith(".draft-") and not self.name.startswith(".draft-old"):
            raise KeyboardInterrupt  # killed between moving the old draft away and the new one in
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", crash_on_swap)
    with pytest.raises(KeyboardInterrupt):
        run_draft(Project(project), "nordic-wire", use_registry=False)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".")] == []
