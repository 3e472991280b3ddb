"""`newstables diff`: row and schema changes by primary key, and the version bump they need."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from newstables.diff import diff_paths
from newstables.errors import NewstablesError
from tests.test_release import Releases, shared_releases


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Releases:
    """The session's 0.1.0 and 0.2.0 releases."""
    return shared_releases(tmp_path_factory, with_v2=True)


def test_diff_of_the_two_releases_finds_exactly_the_edits(releases: Releases) -> None:
    diff = diff_paths(releases.folder("0.1.0"), releases.folder("0.2.0"))
    changes = {
        t.name: (t.added, t.removed, t.changed) for t in diff.tables if t.added or t.removed or t.changed
    }
    assert changes == {
        "actors": ([], [], [("jake-sullivan", ["role_title"])]),
        "statements": (["sullivan-rome-plan"], [], []),
    }
    assert not any(t.fields_added or t.fields_removed or t.types_changed for t in diff.tables)
    assert (diff.old_version, diff.new_version, diff.bump) == ("0.1.0", "0.2.0", "minor")


def test_cli_writes_the_changes_table_and_prints_markdown(
    tmp_path: Path, releases: Releases, cli: object
) -> None:
    new = Path(shutil.copytree(releases.folder("0.2.0"), tmp_path / "new"))
    result = cli("diff", releases.folder("0.1.0"), new, "--write-changes")  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    assert "## 0.2.0 (from 0.1.0; proposed bump: minor)" in result.output
    assert "- **actors**: changed `jake-sullivan` (role_title)" in result.output
    assert "- **statements**: added `sullivan-rome-plan`" in result.output
    csv_rows = (new / "data/changes.csv").read_text(encoding="utf-8").splitlines()
    assert csv_rows == [
        "table_name,primary_key,change,changed_columns",
        "actors,jake-sullivan,changed,role_title",
        "statements,sullivan-rome-plan,added,",
    ]
    parquet = (
        duckdb.connect()
        .execute(f"SELECT count(*) FROM read_parquet('{new / 'data/parquet/changes.parquet'}')")
        .fetchall()
    )
    assert parquet == [(2,)]
    schema = json.loads((new / "schemas/changes.schema.json").read_text(encoding="utf-8"))
    assert [f["name"] for f in schema["fields"]] == ["table_name", "primary_key", "change", "changed_columns"]


# --- bump rules on tiny synthetic packages ---------------------------------------------------

FIELDS = [
    {"name": "item_id", "type": "string"},
    {"name": "label", "type": "string"},
    {"name": "size", "type": "integer"},
]
ROWS = [["a", "Alpha", "1"], ["b", "Beta", "2"]]


def package(
    root: Path, version: str, rows: list[list[str]], fields: list[dict[str, Any]] | None = None
) -> Path:
    """A one-table package folder: datapackage.json, a schema and a CSV."""
    fields = fields or FIELDS
    (root / "data").mkdir(parents=True)
    (root / "schemas").mkdir()
    (root / "schemas/items.schema.json").write_text(json.dumps({"fields": fields, "primaryKey": ["item_id"]}))
    lines = [",".join(f["name"] for f in fields)] + [",".join(r) for r in rows]
    (root / "data/items.csv").write_text("\n".join(lines) + "\n")
    resource = {
        "name": "items",
        "path": "data/items.csv",
        "format": "csv",
        "schema": "schemas/items.schema.json",
    }
    (root / "datapackage.json").write_text(json.dumps({"version": version, "resources": [resource]}))
    return root


@pytest.mark.parametrize(
    ("rows", "fields", "bump"),
    [
        (ROWS, None, "none"),
        ([["a", "Alpha", "1"], ["b", "Beta", "3"]], None, "patch"),
        ([*ROWS, ["c", "Gamma", "3"]], None, "minor"),
        ([["a", "Alpha", "1"]], None, "major"),
        ([[*r, "x"] for r in ROWS], [*FIELDS, {"name": "note", "type": "string"}], "minor"),
        ([r[:2] for r in ROWS], FIELDS[:2], "major"),
        (ROWS, [*FIELDS[:2], {"name": "size", "type": "string"}], "major"),
    ],
)
def test_bump_rules(
    tmp_path: Path, rows: list[list[str]], fields: list[dict[str, Any]] | None, bump: str
) -> None:
    old = package(tmp_path / "old", "1.0.0", ROWS)
    new = package(tmp_path / "new", "1.1.0", rows, fields)
    assert diff_paths(old, new).bump == bump


def test_id_map_renames_old_ids_before_comparing(tmp_path: Path) -> None:
    old = package(tmp_path / "old", "1.0.0", ROWS)
    new = package(tmp_path / "new", "1.0.1", [["alpha", "Alpha", "1"], ["b", "Beta", "2"]])
    unmapped = diff_paths(old, new).tables[0]
    assert (unmapped.added, unmapped.removed) == (["alpha"], ["a"])
    (new / "id-map.yaml").write_text("items:\n  a: alpha\n")
    assert diff_paths(old, new).bump == "none"


def test_a_malformed_id_map_is_named(tmp_path: Path) -> None:
    old = package(tmp_path / "old", "1.0.0", ROWS)
    new = package(tmp_path / "new", "1.0.1", ROWS)
    (new / "id-map.yaml").write_text("items: [a, alpha]\n")
    with pytest.raises(NewstablesError) as caught:
        diff_paths(old, new)
    assert (caught.value.type, caught.value.coordinates["file"]) == ("id-map-invalid", "id-map.yaml")


def test_a_folder_without_datapackage_is_refused(tmp_path: Path, cli: object) -> None:
    old = package(tmp_path / "old", "1.0.0", ROWS)
    result = cli("diff", old, tmp_path)  # type: ignore[operator]
    assert result.exit_code == 2 and "not-a-package" in result.output
