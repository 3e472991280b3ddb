"""Hostile inputs a one-file fixture cannot express: symlinks, archive bombs, names that
become paths, unwritable or foreign output folders, a busy or half-committed folder.

Every refusal must be catalogued, exit non-zero, leave previous outputs byte-identical and
leave no staging behind.
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import struct
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from newstables.cli import app
from newstables.core import staging
from newstables.core.staging import JOURNAL, commit, locked, recover, staging_area
from newstables.errors import NewstablesError
from newstables.project import Project
from newstables.read import load_yaml_records
from newstables.verify import extract_archive, verify_path
from tests.conftest import assemble
from tests.test_bad_inputs import snapshot
from tests.test_release import NAME, shared_releases

RELEASE_FILES = ("SHA256SUMS",)


def run(*args: object) -> tuple[int, list[dict[str, Any]]]:
    """Run the CLI in-process with --json; return the exit code and the errors."""
    result = CliRunner().invoke(app, [*map(str, args), "--json"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}")
    text = result.stderr.strip()
    return result.exit_code, json.loads(text)["errors"] if text.startswith("{") else []


def staging_leftovers(root: Path) -> list[Path]:
    """Journals and staging folders anywhere under ``root``."""
    prefixes = (".staging-", ".release-")
    return [p for p in root.rglob("*") if p.name == JOURNAL or p.name.startswith(prefixes)]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini project, built once for this module."""
    root = assemble(tmp_path_factory.mktemp("safety") / "mini", "mini")
    assert run("build", "--project", root)[0] == 0
    return root


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built mini project."""
    shutil.copytree(built, tmp_path / "mini", symlinks=True)
    return tmp_path / "mini"


def refused_build(root: Path, error: str, *extra: str, **coordinates: Any) -> dict[str, Any]:
    """Build ``root``; assert the catalogued refusal, untouched outputs and no staging left."""
    before = snapshot(root)
    code, errors = run("build", "--project", root, *extra)
    assert code == 2 and errors, f"expected {error}, got exit {code}"
    first = errors[0]
    assert first["type"] == error, first["message"]
    assert {k: first.get(k) for k in coordinates} == coordinates, first["message"]
    assert snapshot(root) == before and not staging_leftovers(root)
    return first


# --- symlinks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "link", ["data/raw/private.txt", "data/annotations/notes.yaml", "schemas/extra", "validation/more.json"]
)
def test_a_symlink_in_any_input_folder_is_refused(project: Path, tmp_path: Path, link: str) -> None:
    outside = tmp_path / "private.txt"
    outside.write_text("secret\n", encoding="utf-8")
    (project / link).symlink_to(outside)
    error = refused_build(project, "symlink-refused", file=link)
    assert error["target"] == str(outside)


def test_a_release_never_follows_a_symlink_in_raw(tmp_path: Path) -> None:
    project = assemble(tmp_path / "mini", "mini")
    (tmp_path / "secret.txt").write_text("private key\n", encoding="utf-8")
    (project / "data/raw/notes.txt").symlink_to(tmp_path / "secret.txt")
    code, errors = run("release", "--project", project, "--dist", tmp_path / "dist")
    assert code == 2 and errors[0]["type"] == "symlink-refused"
    assert list((tmp_path / "dist").iterdir()) == [], "nothing released, no staging left"


@pytest.fixture(scope="module")
def release_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's 0.1.0 release folder."""
    return shared_releases(tmp_path_factory).folder("0.1.0")


@pytest.mark.parametrize("link", ["data/raw/passwd", "CHANGELOG.md"])
def test_verify_refuses_a_release_with_a_symlink(release_folder: Path, tmp_path: Path, link: str) -> None:
    folder = tmp_path / release_folder.name
    shutil.copytree(release_folder, folder)
    (folder / link).unlink(missing_ok=True)
    (folder / link).symlink_to("/etc/passwd")
    errors = [e.to_dict() for e in verify_path(folder)]
    assert [(e["type"], e["file"], e["target"]) for e in errors] == [("symlink-refused", link, "/etc/passwd")]
    assert run("verify", folder)[0] == 2


# --- archives ---------------------------------------------------------------------------------


def zip_claiming(size: int, target: Path) -> Path:
    """A one-member zip whose central directory claims an uncompressed size of ``size``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("release/huge.bin", b"x")
    data = bytearray(buffer.getvalue())
    central = data.rindex(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", size)
    target.write_bytes(bytes(data))
    return target


def tar_claiming(size: int, target: Path) -> Path:
    """A .tar.gz whose first member header claims ``size`` bytes (the data never follows)."""
    info = tarfile.TarInfo("release/huge.bin")
    info.size = size
    import gzip

    target.write_bytes(gzip.compress(info.tobuf(tarfile.PAX_FORMAT)))
    return target


@pytest.mark.parametrize("make", [zip_claiming, tar_claiming], ids=["zip", "tar.gz"])
def test_a_4_gib_member_is_refused_before_extraction(tmp_path: Path, make: Any) -> None:
    archive = make(4 * 2**30 - 2, tmp_path / ("bomb.zip" if make is zip_claiming else "bomb.tar.gz"))
    target = tmp_path / "extracted"
    target.mkdir()
    _, errors = extract_archive(archive, target)
    assert [(e.type, e.coordinates["what"], e.coordinates["value"]) for e in errors] == [
        ("archive-too-large", "member size", "release/huge.bin")
    ]
    assert list(target.iterdir()) == [], "nothing written"
    assert [e.type for e in verify_path(archive)] == ["archive-too-large"]


def test_member_count_and_total_size_are_capped(
    release_folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    archive = release_folder.parent / f"{release_folder.name}.zip"
    monkeypatch.setattr("newstables.verify.MAX_MEMBERS", 3)
    assert [e.coordinates["what"] for e in verify_path(archive)] == ["member count"]
    monkeypatch.setattr("newstables.verify.MAX_MEMBERS", 10_000)
    monkeypatch.setattr("newstables.verify.MAX_TOTAL_BYTES", 1000)
    assert [e.coordinates["what"] for e in verify_path(archive)] == ["total size"]


# --- YAML ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["- &a [*a]\n", "- " + "[" * 5000 + "]" * 5000 + "\n"], ids=["recursive-alias", "deep-nesting"]
)
def test_yaml_that_cannot_be_expanded_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "actors.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NewstablesError) as caught:
        load_yaml_records(Project(tmp_path), path)
    assert caught.value.type in ("yaml-too-large", "yaml-syntax")
    assert caught.value.coordinates["file"] == "actors.yaml"


# --- names and versions that become paths --------------------------------------------------------


def set_metadata(project: Path, field: str, value: str) -> None:
    """Replace one top-level field of schemas/package.yaml."""
    path = project / "schemas/package.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = [f"{field}: {json.dumps(value)}\n" if line.startswith(f"{field}:") else line for line in lines]
    assert changed != lines
    path.write_text("".join(changed), encoding="utf-8")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("version", "../../../escaped"),
        ("version", "0.1.0/../../x"),
        ("version", "1.0"),
        ("version", "01.0.0"),
        ("name", "../outside"),
        ("name", "Rome Meeting"),
        ("name", "/etc/x"),
    ],
)
def test_names_and_versions_are_checked_before_they_become_paths(
    tmp_path: Path, field: str, value: str
) -> None:
    project = assemble(tmp_path / "work" / "mini", "mini")
    set_metadata(project, field, value)
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    code, errors = run("release", "--project", project, "--dist", tmp_path / "work" / "dist")
    assert code == 2 and (errors[0]["type"], errors[0]["field"], errors[0]["value"]) == (
        "unsafe-name",
        field,
        value,
    )
    assert errors[0]["file"] == "schemas/package.yaml"
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == before, (
        "nothing written"
    )


def test_a_version_lower_than_a_released_one_is_refused(tmp_path: Path) -> None:
    project = assemble(tmp_path / "mini", "mini")
    dist = tmp_path / "dist"
    (dist / f"{NAME}-0.10.0").mkdir(parents=True)
    set_metadata(project, "version", "0.9.1")
    code, errors = run("release", "--project", project, "--dist", dist)
    assert code == 2
    assert (errors[0]["type"], errors[0]["value"], errors[0]["other"]) == (
        "version-not-newer",
        "0.9.1",
        "0.10.0",
    )
    assert [p.name for p in dist.iterdir()] == [f"{NAME}-0.10.0"]


# --- output folders -------------------------------------------------------------------------------


def test_out_and_dist_naming_a_file_are_refused(project: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("keep\n", encoding="utf-8")
    for command in (
        ["build", "--project", project, "--out", a_file],
        ["release", "--project", project, "--dist", a_file],
    ):
        code, errors = run(*command)
        assert code == 2 and (errors[0]["type"], errors[0]["file"]) == ("output-not-a-folder", str(a_file))
    assert a_file.read_text(encoding="utf-8") == "keep\n"


def test_build_out_never_overwrites_a_published_release(
    project: Path, release_folder: Path, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    shutil.copytree(release_folder, dist / release_folder.name)
    before = {p: p.read_bytes() for p in dist.rglob("*") if p.is_file()}
    for out in (dist / release_folder.name, dist / release_folder.name / "data", dist / "next", dist):
        code, errors = run("build", "--project", project, "--out", out)
        assert code == 2 and errors[0]["type"] == "output-is-a-release", out
    assert {p: p.read_bytes() for p in dist.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in dist.iterdir()) == [release_folder.name]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EROFS])
def test_a_full_or_read_only_output_folder_is_a_catalogued_error(
    project: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr("newstables.publish.write_parquet", refuse)
    # No cache: the unchanged tables' files are written, not copied from the release's own.
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", "off")
    # --force: the inputs are unchanged, so without it the build would be "up to date".
    error = refused_build(project, "output-unwritable", "--force", code=errno.errorcode[code])
    assert os.strerror(code) in error["message"]


def test_an_unwritable_dist_is_a_catalogued_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> str:
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "dist"))

    monkeypatch.setattr(staging.tempfile, "mkdtemp", refuse)
    code, errors = run(
        "release", "--project", assemble(tmp_path / "mini", "mini"), "--dist", tmp_path / "dist"
    )
    assert code == 2 and (errors[0]["type"], errors[0]["code"]) == ("output-unwritable", "EACCES")
    assert list((tmp_path / "dist").iterdir()) == []


def test_outputs_on_another_file_system_are_copied_then_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    (out / "data/a.csv").write_text("old\n", encoding="utf-8")
    renames: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:
        renames.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(staging, "same_file_system", lambda source, target_dir: False)
    monkeypatch.setattr(staging.os, "replace", replace)
    with staging_area(out) as folder:
        (folder / "data").mkdir()
        (folder / "data/a.csv").write_text("new\n", encoding="utf-8")
        (folder / "b.json").write_text("{}\n", encoding="utf-8")
        commit(out, folder, [Path("data/a.csv"), Path("b.json")])
    moves = [(s, d) for s, d in renames if d.name != JOURNAL]
    assert all(s.parent == d.parent for s, d in moves), "every journaled move stays in its folder"
    assert (out / "data/a.csv").read_text(encoding="utf-8") == "new\n" and (out / "b.json").is_file()
    assert not staging_leftovers(out)


# --- busy and half-committed folders --------------------------------------------------------------


def test_a_second_run_on_a_busy_folder_is_refused_and_its_staging_kept(project: Path) -> None:
    live = project / ".staging-newstables-live"
    live.mkdir()
    with locked(project):
        code, errors = run("build", "--project", project)
        assert code == 2 and errors[0]["type"] == "folder-busy"
        recover(project, clean=True)
        assert live.is_dir(), "the staging of a live run is never deleted"
    recover(project, clean=True)
    assert not live.exists(), "a dead run's staging is removed"


def test_a_leftover_journal_is_rolled_forward_by_readers(project: Path) -> None:
    folder = project / ".staging-newstables-dead"
    (folder / "data").mkdir(parents=True)
    (folder / "data/votes.csv").write_bytes((project / "data/votes.csv").read_bytes())
    (folder / "marker.txt").write_text("new\n", encoding="utf-8")
    moves = [
        [".staging-newstables-dead/marker.txt", "marker.txt"],
        [".staging-newstables-dead/data/votes.csv", "data/votes.csv"],
    ]
    (project / JOURNAL).write_text(json.dumps({"staging": folder.name, "moves": moves}), encoding="utf-8")
    code, _ = run("query", "SELECT count(*) FROM votes", "--db", project / "data/newstables.duckdb")
    assert code == 0 and (project / "marker.txt").read_text(encoding="utf-8") == "new\n"
    assert not (project / JOURNAL).exists()


def test_a_corrupt_journal_is_a_catalogued_error(project: Path) -> None:
    (project / JOURNAL).write_text("{not json", encoding="utf-8")
    code, errors = run("build", "--project", project)
    assert code == 2 and errors[0]["type"] == "commit-journal-invalid"
    (project / JOURNAL).write_text(json.dumps({"moves": [["../../etc/x", "a"]]}), encoding="utf-8")
    code, errors = run("build", "--project", project)
    assert (
        code == 2 and errors[0]["type"] == "commit-journal-invalid" and "unsafe path" in errors[0]["message"]
    )
