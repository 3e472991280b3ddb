"""Conventions of the error catalogue (``build/newstables/errors.yaml``).

Every type has a title and a template; every type the source raises is catalogued; every
catalogued type is raised somewhere or exercised by a bad-input fixture.
"""

from __future__ import annotations

import os
import re
import string
import warnings
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


def unused_types() -> list[str]:
    """Catalogue types neither named in the source nor exercised by a bad-input fixture."""
    named: set[str] = set()
    for text in source_texts().values():
        named |= set(QUOTED.findall(text))
    return sorted(set(catalogue()) - named - fixture_types())


def test_every_type_is_used_somewhere() -> None:
    """Report catalogue types nothing raises (a warning; set NEWSTABLES_STRICT_CATALOGUE=1 to fail).

    Other commands (verify, release, diff) are still being written, so an unused type is
    reported rather than refused by default.
    """
    unused = unused_types()
    if unused and os.environ.get("NEWSTABLES_STRICT_CATALOGUE") == "1":
        pytest.fail(f"catalogued but never raised nor exercised: {unused}")
    if unused:
        warnings.warn(f"catalogued but never raised nor exercised: {unused}", UserWarning, stacklevel=1)


def test_types_not_exercised_by_a_fixture_are_known() -> None:
    """Informational: the catalogue types no bad-input fixture exercises (see the warning)."""
    missing = sorted(set(catalogue()) - fixture_types())
    if missing:
        warnings.warn(f"no bad-input fixture exercises: {missing}", UserWarning, stacklevel=1)
