"""Conventions of the error catalogue (``build/newstables/errors.yaml``).

Every type has a title and a template; every type the source raises is catalogued; every
catalogued type is raised somewhere or exercised by a bad-input fixture.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
import yaml

from newstables.errors import NewstablesError, catalogue

SOURCE = Path(__file__).resolve().parents[1] / "build" / "newstables"
BAD_INPUTS = Path(__file__).parent / "bad_inputs"
# A literal type as the first argument of NewstablesError(...), across line breaks.
RAISED = re.compile(r'NewstablesError\(\s*"([^"]+)"')
# A quoted catalogue-like name anywhere in the source ("hash-mismatch"), for "used somewhere".
QUOTED = re.compile(r'"([a-z0-9]+(?:-[a-z0-9]+)+)"')
TYPE_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def source_texts() -> dict[str, str]:
    return {
        p.relative_to(SOURCE).as_posix(): p.read_text(encoding="utf-8") for p in sorted(SOURCE.rglob("*.py"))
    }


def raised_types() -> dict[str, set[str]]:
    """Catalogue types raised in the source, with the modules raising them."""
    found: dict[str, set[str]] = {}
    for name, text in source_texts().items():
        for error_type in RAISED.findall(text):
            found.setdefault(error_type, set()).add(name)
    return found


def fixture_types() -> set[str]:
    """Error types the bad-input fixtures expect."""
    return {
        yaml.safe_load(p.read_text(encoding="utf-8"))["error"] for p in BAD_INPUTS.glob("*/expected.yaml")
    }


def test_catalogue_is_a_mapping_of_kebab_case_types() -> None:
    assert catalogue(), "errors.yaml is empty"
    for error_type, entry in catalogue().items():
        assert TYPE_NAME.fullmatch(error_type), f"{error_type!r} is not kebab-case"
        assert isinstance(entry, dict), f"{error_type}: expected a mapping with title and template"
        assert set(entry) == {"title", "template"}, f"{error_type}: keys {sorted(entry)}"


@pytest.mark.parametrize("error_type", sorted(catalogue()))
def test_every_type_has_a_title_and_a_template(error_type: str) -> None:
    entry = catalogue()[error_type]
    assert isinstance(entry["title"], str) and entry["title"].strip()
    assert isinstance(entry["template"], str) and entry["template"].strip()
    assert not entry["title"].endswith("."), "titles are headings, without a full stop"
    # The template parses as a format string (no stray braces) and formats with no
    # coordinates at all, leaving the placeholders visible.
    fields = [f for _, f, _, _ in string.Formatter().parse(entry["template"]) if f]
    assert fields, f"{error_type}: a template names at least one coordinate"
    message = NewstablesError(error_type).message
    assert all("{" + f + "}" in message for f in fields), f"{error_type}: {message}"


def test_titles_are_unique() -> None:
    titles = [entry["title"] for entry in catalogue().values()]
    assert len(titles) == len(set(titles)), "two types share a title"


def test_every_raised_type_is_catalogued() -> None:
    raised = raised_types()
    assert raised, "found no NewstablesError(...) in the source: is the pattern still right?"
    missing = {t: sorted(mods) for t, mods in raised.items() if t not in catalogue()}
    assert not missing, f"raised but not in errors.yaml: {missing}"


def test_every_fixture_type_is_catalogued() -> None:
    assert not fixture_types() - set(catalogue()), "a bad-input fixture expects an uncatalogued type"


def test_unknown_type_is_refused() -> None:
    with pytest.raises(KeyError):
        NewstablesError("no-such-error-type")


def test_to_dict_carries_type_title_message_and_coordinates() -> None:
    error = NewstablesError(
        "duplicate-id", file="a.yaml", record="2 (x)", field="x_id", line=3, value="x", other="1 (x)"
    )
    data = error.to_dict()
    assert data["type"] == "duplicate-id" and data["title"] == catalogue()["duplicate-id"]["title"]
    assert {k: data[k] for k in ("file", "record", "field", "line")} == {
        "file": "a.yaml",
        "record": "2 (x)",
        "field": "x_id",
        "line": 3,
    }
    assert "a.yaml" in data["message"] and "record 2 (x)" in data["message"]


# Catalogue types that no bad-input fixture exercises, because the defect is not a project
# file a fixture overlay can carry (a command's options, the file system, a release folder or
# archive, the clock of a long run): each is asserted by a focused test instead, which must name
# the type (checked below). Add a type here only together with the test that raises it.
FOCUSED_TEST_TYPES = {
    # the gate's engines: an unknown engine, the two engines disagreeing (tests/test_gate_sql.py)
    "gate-engine-invalid",
    "gate-engines-disagree",
    # partitioned Parquet: a parts listing that disagrees with its path list (tests/test_verify.py)
    "parts-invalid",
    # `newstables add`: the article file given on the command line (tests/test_add.py)
    "add-article-binary",
    "add-article-empty",
    "add-article-mixed-line-endings",
    "add-article-not-nfc",
    "add-article-nul",
    "add-article-too-large",
    "add-duplicate-article",
    "add-id-exists",
    "add-invalid-id",
    "add-invalid-option",
    "add-path-is-folder",
    "add-path-is-symlink",
    "add-path-missing",
    "add-path-not-a-file",
    "corpus-path-is-symlink",
    # `newstables synth`: its options and target folder (tests/test_synth.py)
    "synth-invalid-option",
    "synth-out-not-empty",
    # `newstables draft`: draft records and their article (tests/test_draft.py)
    "draft-article-changed",
    "draft-meta-invalid",
    "draft-unknown-document",
    # release folders and archives given to verify/diff (test_verify, test_safety, test_diff)
    "archive-too-large",
    "checksum-list-mismatch",
    "frictionless-invalid",
    "id-map-invalid",
    "unsafe-archive-member",
    # output paths, staging and the file system (tests/test_safety.py, test_hostile_inputs.py)
    "commit-journal-invalid",
    "folder-busy",
    "io-error",
    "output-is-a-release",
    "output-not-a-folder",
    "output-unwritable",
    "symlink-refused",
    "unsafe-name",
    "version-not-newer",
    "release-exists",
    "internal-error",
    # command options and queries (tests/test_cli.py, tests/test_query.py)
    "bump-invalid",
    "changes-need-folder",
    "database-missing",
    "query-empty",
    "query-failed",
    "query-not-allowed",
    "query-refused",
    "query-several-statements",
    # gate outcomes on data that is valid input but fails a check (test_gate, test_cli, ...)
    "build-blocked",
    "context-mismatch",  # prefix/suffix are computed, only a tampered CSV breaks them (test_corpus)
    "coverage-gap",
    "expectation-failed",
    "row-count-changed",
    "xlsx-cell-too-long",
}
TESTS = Path(__file__).parent


def test_every_type_is_exercised_by_a_fixture_or_a_named_focused_test() -> None:
    """A catalogued type nothing exercises is an untested error path: refuse it."""
    missing = sorted(set(catalogue()) - fixture_types() - FOCUSED_TEST_TYPES)
    assert not missing, f"no bad-input fixture nor listed focused test exercises: {missing}"


def test_the_focused_test_list_is_true() -> None:
    """Each type listed as covered by a focused test is catalogued and named in a test file
    other than this one; types a fixture already exercises do not need the list."""
    assert set(catalogue()) >= FOCUSED_TEST_TYPES, sorted(FOCUSED_TEST_TYPES - set(catalogue()))
    files = [p for p in sorted(TESTS.glob("test_*.py")) if p.name != "test_errors.py"]
    texts = [p.read_text(encoding="utf-8") for p in files]
    unnamed = sorted(t for t in FOCUSED_TEST_TYPES if not any(re.search(rf"\b{t}\b", x) for x in texts))
    assert not unnamed, f"listed as covered by a focused test, but no test names them: {unnamed}"
    redundant = sorted(FOCUSED_TEST_TYPES & fixture_types())
    assert not redundant, f"exercised by a bad-input fixture, drop from FOCUSED_TEST_TYPES: {redundant}"
