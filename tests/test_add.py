"""`newstables add`: an article is checked, hashed and stored byte for byte, or refused clearly."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from newstables.cli import app
from tests.conftest import FIXTURES, assemble

ARTICLES = FIXTURES / "articles"
GAZETTE = ARTICLES / "harbour-gazette.txt"
OPTIONS = ["--outlet", "Harbour Gazette", "--url", "https://example.org/ferries", "--published", "2026-04-16"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the real project's inputs (the seed article is document 'article')."""
    return assemble(tmp_path / "repo", "repo")


def add(project: Path, path: Path | str, *extra: str) -> Any:
    """Run ``newstables add PATH`` with the default options (``extra`` may override them)."""
    args = ["add", str(path), *OPTIONS, *extra, "--project", str(project), "--json"]
    return CliRunner().invoke(app, args)


def error_of(result: Any) -> dict[str, Any]:
    """The first JSON error a failed command printed, after checking it failed cleanly."""
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    errors: list[dict[str, Any]] = json.loads(result.stderr)["errors"]
    return errors[0]


SEED_FOLDER = "data/articles/article"


def corpus_state(project: Path) -> list[str]:
    """Every path under data/articles but the seed's folder (hidden temporary folders included)."""
    folder = project / "data/articles"
    if not folder.exists():
        return []
    paths = (p.relative_to(project).as_posix() for p in folder.rglob("*"))
    return sorted(p for p in paths if p != SEED_FOLDER and not p.startswith(SEED_FOLDER + "/"))


def test_add_stores_the_bytes_and_the_metadata(project: Path) -> None:
    result = add(project, GAZETTE, "--language", "en", "--relation", "fictional test article")
    assert result.exit_code == 0, result.output
    (folder,) = [p for p in (project / "data/articles").iterdir() if p.name != "article"]
    assert folder.name.startswith("harbour-gazette-2026-04-16-")
    assert (folder / "article.txt").read_bytes() == GAZETTE.read_bytes()
    meta = yaml.safe_load((folder / "meta.yaml").read_text(encoding="utf-8"))
    assert meta["document_id"] == folder.name
    assert meta["outlet"] == "Harbour Gazette"
    assert meta["url"] == "https://example.org/ferries"
    assert (meta["published"], meta["published_precision"], meta["published_basis"]) == (
        "2026-04-16",
        "day",
        "stated",
    )
    assert meta["language"] == "en" and meta["relation"] == "fictional test article"
    assert meta["captured"] is None and meta["rights"] is None  # unknown stays empty
    assert folder.name.endswith(meta["sha256"][:8])
    assert meta["bytes"] == len(GAZETTE.read_bytes())
    assert not [p for p in (project / "data/articles").iterdir() if p.name.startswith(".")]


def test_add_with_an_explicit_id(project: Path) -> None:
    result = add(project, GAZETTE, "--id", "gazette-ferries")
    assert result.exit_code == 0, result.output
    assert (project / "data/articles/gazette-ferries/article.txt").is_file()


def test_a_duplicate_names_the_existing_document(project: Path) -> None:
    assert add(project, GAZETTE, "--id", "first").exit_code == 0
    before = corpus_state(project)
    error = error_of(add(project, GAZETTE, "--id", "second"))
    assert error["type"] == "add-duplicate-article" and error["other"] == "first"
    assert corpus_state(project) == before


def test_the_seed_counts_as_a_document(project: Path) -> None:
    error = error_of(add(project, project / "data/articles/article/article.txt"))
    assert (error["type"], error["other"]) == ("add-duplicate-article", "article")
    assert corpus_state(project) == []


def write(tmp_path: Path, data: bytes) -> Path:
    """A file holding ``data``."""
    path = tmp_path / "input.txt"
    path.write_bytes(data)
    return path


def huge(tmp_path: Path) -> Path:
    """A 20 MB file (sparse: its size is what is refused, before anything is read)."""
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(20 * 1024 * 1024)
    return path


def symlink(tmp_path: Path) -> Path:
    """A symbolic link to a valid article."""
    link = tmp_path / "link.txt"
    link.symlink_to(GAZETTE)
    return link


BAD_FILES: dict[str, tuple[Callable[[Path], Path], str, dict[str, Any]]] = {
    "not-utf8": (lambda t: write(t, b"caf\xe9 au lait\n"), "article-not-utf8", {"offset": 3}),
    "empty": (lambda t: write(t, b""), "add-article-empty", {}),
    "whitespace-only": (lambda t: write(t, b" \n\n\t\n"), "add-article-empty", {}),
    "binary": (lambda t: write(t, b"\x7fELF\x02\x01\x01 not text"), "add-article-binary", {"offset": 0}),
    "png": (lambda t: write(t, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "add-article-nul", {"offset": 8}),
    "nul": (lambda t: write(t, b"Ferry talks\x00 resume\n"), "add-article-nul", {"offset": 11}),
    "bom": (lambda t: write(t, b"\xef\xbb\xbfFerry talks resume\n"), "article-has-bom", {"line": 1}),
    "not-nfc": (
        lambda t: write(t, "Line one\nNu\u0301n\u0303ez said\n".encode()),
        "add-article-not-nfc",
        {"line": 2},
    ),
    "mixed-endings": (
        lambda t: write(t, b"one\r\ntwo\nthree\n"),
        "add-article-mixed-line-endings",
        {"line": 2},
    ),
    "20-mb": (huge, "add-article-too-large", {"expected": 5 * 1024 * 1024}),
    "folder": (lambda t: t, "add-path-is-folder", {}),
    "symlink": (symlink, "add-path-is-symlink", {}),
    "missing": (lambda t: t / "nope.txt", "add-path-missing", {}),
    "fifo": (lambda t: (os.mkfifo(t / "pipe.txt"), t / "pipe.txt")[1], "add-path-not-a-file", {}),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_articles_are_refused(case: str, project: Path, tmp_path: Path) -> None:
    make, error_type, coordinates = BAD_FILES[case]
    source_dir = tmp_path / "inputs"
    source_dir.mkdir()
    path = make(source_dir)
    error = error_of(add(project, path))
    assert error["type"] == error_type, error["message"]
    assert {k: error.get(k) for k in coordinates} == coordinates
    assert error["file"].endswith(path.name)
    assert corpus_state(project) == []


@pytest.mark.parametrize("bad_id", ["../escape", "Upper", "two  words", "a/b", "-lead", "x" * 81, ""])
def test_an_id_must_be_a_slug(bad_id: str, project: Path) -> None:
    error = error_of(add(project, GAZETTE, "--id", bad_id))
    assert (error["type"], error["value"]) == ("add-invalid-id", bad_id)
    assert corpus_state(project) == []


@pytest.mark.parametrize("taken", ["article", "gazette"])
def test_an_id_in_use_is_refused(taken: str, project: Path) -> None:
    (project / "data/articles/gazette").mkdir(parents=True)
    error = error_of(add(project, GAZETTE, "--id", taken))
    assert (error["type"], error["value"]) == ("add-id-exists", taken)


@pytest.mark.parametrize("option,value", [("--published", "2026-4-16"), ("--published", "2026-02-30")])
def test_a_bad_date_is_refused(option: str, value: str, project: Path) -> None:
    error = error_of(add(project, GAZETTE, option, value))
    assert (error["type"], error["field"], error["value"]) == ("add-invalid-option", option, value)


def test_an_interrupted_add_leaves_nothing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(self: Path, target: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "rename", crash)
    with pytest.raises(KeyboardInterrupt):
        from newstables.articles import add_article
        from newstables.project import Project

        add_article(Project(project), GAZETTE, "Gazette", "https://example.org", "2026-04-16")
    assert os.listdir(project / "data/articles") == ["article"]


def test_add_help_has_an_example() -> None:
    result = CliRunner().invoke(app, ["add", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output


def test_a_symlinked_corpus_folder_is_refused(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(project / "data/articles")
    (project / "data/articles").symlink_to(elsewhere)
    error = error_of(add(project, GAZETTE))
    assert (error["type"], error["file"]) == ("corpus-path-is-symlink", "data/articles")
    assert list(elsewhere.iterdir()) == []
