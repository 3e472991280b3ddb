"""Frictionless's verdict on the metadata is remembered only for what decides it.

The key hides each resource's ``bytes`` and ``hash`` (checked against the files anyway), so a
data-only edit is not re-checked by Frictionless; any other change of the descriptor or of a
schema file is. Only "valid" is remembered.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from newstables import validate

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The committed release's descriptor and schemas, with a cache folder of its own."""
    shutil.copyfile(ROOT / "datapackage.json", tmp_path / "datapackage.json")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def frictionless_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record each time Frictionless itself is asked (and let it answer)."""
    calls: list[Path] = []
    real = validate._frictionless_metadata_problems

    def counted(root: Path, descriptor: Path) -> list[str]:
        calls.append(descriptor)
        return real(root, descriptor)

    monkeypatch.setattr(validate, "_frictionless_metadata_problems", counted)
    return calls


def edit_descriptor(release: Path, change: object) -> None:
    data = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    (release / "datapackage.json").write_text(json.dumps(data), encoding="utf-8")


def check(release: Path) -> list[str]:
    return validate.frictionless_metadata_problems(release, release / "datapackage.json")


def test_a_valid_verdict_is_reused_when_only_sizes_and_hashes_change(
    release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = frictionless_calls(monkeypatch)
    assert check(release) == []
    assert len(calls) == 1
    edit_descriptor(release, lambda d: d["resources"][0].update(bytes=1, hash="sha256:" + "a" * 64))
    assert check(release) == []
    assert len(calls) == 1


def test_any_other_change_is_checked_again(release: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = frictionless_calls(monkeypatch)
    assert check(release) == []
    edit_descriptor(release, lambda d: d["resources"][0].update(title="Another title"))
    assert check(release) == []
    schema = release / "schemas" / "actors.schema.json"
    schema.write_text(schema.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert check(release) == []
    assert len(calls) == 3


def test_a_malformed_hash_is_always_shown_to_frictionless(
    release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = frictionless_calls(monkeypatch)
    assert check(release) == []
    edit_descriptor(release, lambda d: d["resources"][0].update(hash="sha256:not-a-hash", bytes=-1))
    assert validate.metadata_cache_key(release, release / "datapackage.json") is None
    check(release)
    assert len(calls) == 2


def test_an_invalid_verdict_is_never_remembered(release: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = frictionless_calls(monkeypatch)
    edit_descriptor(release, lambda d: d["resources"][0].update(name=7))
    assert check(release) != []
    assert check(release) != []
    assert len(calls) == 2


def test_no_cache_when_turned_off(release: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", "off")
    calls = frictionless_calls(monkeypatch)
    assert check(release) == []
    assert check(release) == []
    assert len(calls) == 2
