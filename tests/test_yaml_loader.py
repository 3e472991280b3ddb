"""The C-speed YAML loader (libyaml composes, the same Python code measures and constructs)
gives exactly what the pure-Python loader gives: the same records with the same line numbers,
or the same catalogued error at the same line, on every bad-input fixture and on the seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from newstables.errors import NewstablesError
from newstables.project import Project
from newstables.read import RECORD_LOADER, _RecordLoader, load_yaml_records
from tests.conftest import FIXTURES, REPO

BAD_INPUTS = Path(__file__).parent / "bad_inputs"
YAML_FILES = sorted(
    [
        *BAD_INPUTS.glob("*/data/**/*.yaml"),
        *(REPO / "data/annotations").glob("*.yaml"),
        *(FIXTURES / "mini/data/annotations").glob("*.yaml"),
    ]
)


def outcome(path: Path, loader: type[Any]) -> Any:
    """What loading ``path`` gives: each record with its lines, or the error's coordinates."""
    try:
        records = load_yaml_records(Project(path.parent), path, loader)
    except NewstablesError as error:
        found = error.to_dict()
        if error.type == "yaml-syntax":  # libyaml words its problem its own way ("did not find
            found.pop("message"), found.pop("detail")  # expected ','"): type, file and line agree
        return ("error", error.type, found)
    return [(dict(r), r.line, r.lines, r.index) for r in records]


def test_the_c_loader_is_in_use() -> None:
    assert yaml.__with_libyaml__ and RECORD_LOADER is not _RecordLoader


def test_there_are_fixtures_to_compare() -> None:
    errors = [p for p in YAML_FILES if isinstance(o := outcome(p, _RecordLoader), tuple) and o[0] == "error"]
    assert len(YAML_FILES) > 30 and len(errors) >= 8  # duplicate keys, alias bombs, tags, syntax...


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_c_and_python_loaders_agree(path: Path) -> None:
    assert outcome(path, RECORD_LOADER) == outcome(path, _RecordLoader)
