"""The edit path (issue 9 item 6): a rebuild after one annotation changed checks only what
changed, and publishes exactly the bytes a cold build of the same inputs publishes.

The structural checks remember each table's "passed" (``core.cache.VerdictCache``, keyed by the
table's bytes, schema, what its foreign keys read and the code); the small build runs the
checks, the gate and the reader formats at the same time (``pipeline.publish_and_gate``).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pytest

from newstables import publish, validate
from newstables.core.cache import VerdictCache
from newstables.core.model import Resource, load_model
from newstables.core.rowchecks import RowFinding
from newstables.pipeline import build
from tests.conftest import assemble, copy_inputs

EDITED = "data/annotations/actors.yaml"
ANCHOR = "correction_note: The copy also writes"
INPUTS = ("schemas", "validation", "data/raw", "data/annotations", "data/articles")


def released_files(root: Path) -> dict[str, bytes]:
    """Every file a build wrote under ``root`` (not its inputs, not the per-document cache)."""
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if not path.is_file() or relative.startswith(".newstables-cache/"):
            continue
        if any(relative.startswith(folder + "/") for folder in INPUTS) and not relative.startswith(
            ("validation/report/", "schemas/")
        ):
            continue
        found[relative] = path.read_bytes()
    return found


def record_row_checks(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """The tables each call of the row checks is given, in order (the checks still run)."""
    calls: list[set[str]] = []
    row_findings = validate.row_findings

    def recording(files: dict[str, Path], tables: dict[str, Resource], *rest: Any) -> list[RowFinding]:
        calls.append(set(files))
        return row_findings(files, tables, *rest)

    monkeypatch.setattr(validate, "row_findings", recording)
    return calls


def test_an_edit_rebuilt_with_remembered_verdicts_equals_a_cold_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", str(tmp_path / "cache"))
    edited = assemble(tmp_path / "edited", "repo")
    build(edited)
    annotation = edited / EDITED
    text = annotation.read_text(encoding="utf-8")
    assert ANCHOR in text
    annotation.write_text(text.replace(ANCHOR, f"{ANCHOR} (edited)"), encoding="utf-8")

    checked = record_row_checks(monkeypatch)
    build(edited)
    # actors.csv changed; its key values did not: only actors is checked again, with the
    # tables its foreign keys reference (which the foreign-key checks read).
    assert checked == [{"actors", "sources", "documents"}]

    cold = tmp_path / "cold"
    copy_inputs(edited, cold)
    shutil.rmtree(cold / ".newstables-cache", ignore_errors=True)
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", "off")
    build(cold)
    ours, theirs = released_files(edited), released_files(cold)
    assert "data/actors.csv" in ours and "datapackage.json" in ours
    assert sorted(ours) == sorted(theirs)
    assert [name for name in ours if ours[name] != theirs[name]] == []


@pytest.fixture
def staged(tmp_path: Path) -> tuple[Path, dict[str, Resource]]:
    """A built mini project (its release is the "staging" folder the checks read)."""
    root = assemble(tmp_path / "mini", "mini")
    build(root)
    return root, load_model(root).tables


def test_a_table_with_findings_is_never_remembered(
    staged: tuple[Path, dict[str, Resource]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, tables = staged
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", str(tmp_path / "verdicts"))
    files = {name: root / "data" / f"{name}.csv" for name in tables}
    assert validate.cached_row_findings(files, tables) == []
    assert validate.cached_row_findings(files, tables) == []  # all remembered: nothing read

    actors = files["actors"]
    with actors.open(encoding="utf-8", newline="") as handle:
        header, first, *rest = list(csv.reader(handle))
    with actors.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, first, first, *rest])  # a repeated key
    found = validate.cached_row_findings(files, tables)
    assert [(f.type, f.table, f.row) for f in found] == [("primary-key", "actors", 3)]
    assert validate.cached_row_findings(files, tables) == found, "a failing table is checked again"
    assert found == validate.row_findings(files, tables)


def test_a_foreign_key_target_whose_keys_changed_checks_the_referencing_table_again(
    staged: tuple[Path, dict[str, Resource]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, tables = staged
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", str(tmp_path / "verdicts"))
    files = {name: root / "data" / f"{name}.csv" for name in tables}
    assert validate.cached_row_findings(files, tables) == []
    actors = files["actors"]
    text = actors.read_text(encoding="utf-8")
    header, *rows = text.splitlines(keepends=True)
    referenced = [r for r in rows if r.split(",")[0] in (files["votes"].read_text(encoding="utf-8"))]
    assert referenced, "the mini project's votes name an actor"
    actors.write_text(header + "".join(r for r in rows if r != referenced[0]), encoding="utf-8")
    found = validate.cached_row_findings(files, tables)
    assert found == validate.row_findings(files, tables)
    assert any(f.type == "foreign-key" for f in found), "the referencing tables were checked again"


def test_no_cache_checks_everything(
    staged: tuple[Path, dict[str, Resource]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, tables = staged
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", "off")
    assert VerdictCache.for_check("rows").folder is None
    seen = record_row_checks(monkeypatch)
    files = {name: root / "data" / f"{name}.csv" for name in tables}
    validate.cached_row_findings(files, tables)
    validate.cached_row_findings(files, tables)
    assert seen == [set(tables), set(tables)]


def test_a_changed_parquet_file_is_compared_again(
    staged: tuple[Path, dict[str, Resource]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, tables = staged
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", str(tmp_path / "verdicts"))
    assert validate.cached_format_findings(root, tables) == []
    import pyarrow.parquet as pq

    path = root / "data/parquet/votes.parquet"
    pq.write_table(pq.read_table(path).slice(0, 0), path)  # no rows
    found = validate.cached_format_findings(root, tables)
    assert [(e.type, e.coordinates["table"]) for e in found] == [("outputs-disagree", "votes")]


def test_a_changed_text_checks_the_excerpts_again(
    staged: tuple[Path, dict[str, Resource]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, tables = staged
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", str(tmp_path / "verdicts"))
    texts = {"article": (root / "data/raw/article.txt").read_text(encoding="utf-8")}
    assert validate.cached_excerpt_findings(texts, root, tables) == []
    changed = {"article": "X" + texts["article"][1:]} if texts["article"][0] != "X" else {"article": "Y"}
    found = validate.cached_excerpt_findings(changed, root, tables)
    assert found
    assert [e.message for e in found] == [e.message for e in validate.excerpt_findings(changed, root, tables)]


def record_csv_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The CSV files the build writes (not those it copies from the release it replaces)."""
    written: list[str] = []
    write = publish.write_csv_maybe_gz

    def recording(arrow: Any, plain: Path, *rest: Any) -> Path:
        written.append(plain.name)
        return write(arrow, plain, *rest)

    monkeypatch.setattr(publish, "write_csv_maybe_gz", recording)
    return written


def test_unchanged_tables_are_copied_from_the_release_only_when_its_bytes_are_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", str(tmp_path / "cache"))
    root = assemble(tmp_path / "mini", "mini")
    build(root)
    first = released_files(root)
    written = record_csv_writes(monkeypatch)
    build(root)
    assert written == [], "every table unchanged: its files are the release's"
    assert released_files(root) == first

    votes = root / "data/votes.csv"
    votes.write_bytes(votes.read_bytes() + b"\n")  # the release's file no longer has its bytes
    build(root)
    assert written == ["votes.csv"], "a file that changed is written again, never copied"
    assert released_files(root) == first
