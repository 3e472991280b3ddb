"""The release is reproducible, and every row is traceable to the article."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from newstables.pipeline import build
from tests.conftest import REPO

REPRODUCIBLE = [
    "datapackage.json",
    "data/*.csv",
    "data/parquet/*.parquet",
    "data/parquet/*/*/*.parquet",
    "validation/report/*",
    "schemas/*.schema.json",
    "data/newstables.duckdb",
    "data/newstables.sqlite",
    "data/newstables.xlsx",
    "viewer/index.html",
    "datasette/metadata.json",
]


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real project built from its committed inputs into a new folder."""
    from tests.conftest import assemble

    root = tmp_path_factory.mktemp("fresh")
    project = assemble(root / "project", "repo")
    build(project, root / "out")
    return root / "out"


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for pattern in REPRODUCIBLE
        for p in sorted(root.glob(pattern))
    }


def test_a_fresh_build_reproduces_the_committed_release_byte_for_byte(fresh_release: Path) -> None:
    committed, fresh = _files(REPO), _files(fresh_release)
    assert sorted(fresh) == sorted(committed), "the same files are published"
    changed = [name for name in fresh if fresh[name] != committed[name]]
    assert not changed, f"rebuild changed {changed}: run `make release` and commit"


def test_every_excerpt_is_the_text_at_its_offsets(fresh_release: Path) -> None:
    """Every span is the text of its own document at its offsets, context included."""
    texts = {
        folder.name: (folder / "article.txt").read_text(encoding="utf-8")
        for folder in (REPO / "data/articles").iterdir()
        if (folder / "article.txt").is_file()
    }
    descriptor = json.loads((fresh_release / "datapackage.json").read_text(encoding="utf-8"))
    con = duckdb.connect()
    checked = 0
    for resource in descriptor["resources"]:
        if resource["format"] != "csv":
            continue
        schema = json.loads((fresh_release / resource["schema"]).read_text(encoding="utf-8"))
        if "excerpt" not in {f["name"] for f in schema["fields"]}:  # documents: the text itself
            continue
        rows = con.execute(
            "SELECT document_id, char_start, char_end, prefix, excerpt, suffix FROM "
            f"read_csv('{fresh_release / resource['path']}', all_varchar=true) WHERE char_start <> ''"
        ).fetchall()
        for document_id, start, end, prefix, excerpt, suffix in rows:
            raw, s, e, prefix, suffix = texts[document_id], int(start), int(end), prefix or "", suffix or ""
            assert raw[s:e] == excerpt, f"{resource['name']} {document_id} [{start}, {end})"
            assert raw[s - len(prefix) : s] == prefix and raw[e : e + len(suffix)] == suffix
            checked += 1
    assert checked > 200


def test_the_raw_article_is_the_untouched_source_copy() -> None:
    sources = (
        duckdb.connect()
        .execute(
            f"SELECT sha256 FROM read_csv('{REPO / 'data/sources.csv'}', all_varchar=true) "
            "WHERE source_id = 'article'"
        )
        .fetchall()
    )
    import hashlib

    assert sources == [
        (hashlib.sha256((REPO / "data/articles/article/article.txt").read_bytes()).hexdigest(),)
    ]


def test_the_duckdb_file_is_written_for_duckdb_1_2_and_later(fresh_release: Path) -> None:
    con = duckdb.connect()
    con.execute(f"ATTACH '{fresh_release / 'data/newstables.duckdb'}' AS r (READ_ONLY)")
    version = con.execute(
        "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name='r'"
    ).fetchall()
    assert version == [("v1.2.0+",)], version


def test_csv_is_lf_terminated_utf8_with_a_header(fresh_release: Path) -> None:
    data = (fresh_release / "data/statements.csv").read_bytes()
    assert b"\r\n" not in data
    assert data.decode("utf-8").startswith("statement_id,")


def test_frictionless_accepts_the_committed_package() -> None:
    import frictionless

    report = frictionless.validate(REPO / "datapackage.json")
    assert report.valid, report.flatten(["type", "note"])[:5]
