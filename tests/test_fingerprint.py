"""The input fingerprint: a build of unchanged inputs is a no-op; any change rebuilds.

A built copy of the mini project is made once; each case copies it, changes one thing and
asks ``up_to_date`` (hit or miss), and the end-to-end cases run ``newstables build`` and
check that it rebuilt the very bytes of a full build.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from newstables.cli import app
from newstables.core import fingerprint
from newstables.core.fingerprint import BUILD_STAMP, input_fingerprint, up_to_date
from newstables.core.staging import locked
from tests.conftest import assemble


def build(root: Path, *extra: str) -> dict[str, object]:
    """``newstables build --json`` of ``root``: its JSON result (asserting exit 0)."""
    result = CliRunner().invoke(app, ["build", "--project", str(root), "--json", *extra])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def outputs(root: Path) -> dict[str, str]:
    """sha256 of every output the build stamp lists (the stamp itself included)."""
    listed = json.loads((root / BUILD_STAMP).read_text(encoding="utf-8"))["outputs"]
    files = {name: hashlib.sha256((root / name).read_bytes()).hexdigest() for name in listed}
    return {**files, BUILD_STAMP.name: hashlib.sha256((root / BUILD_STAMP).read_bytes()).hexdigest()}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini project, built once."""
    root = assemble(tmp_path_factory.mktemp("fingerprint") / "mini", "mini")
    assert "up_to_date" not in build(root)
    return root


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built mini project (the stamp's paths are relative: it still holds)."""
    shutil.copytree(built, tmp_path / "mini", symlinks=True)
    return tmp_path / "mini"


def test_nothing_changed_is_up_to_date_and_writes_nothing(project: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in project.rglob("*") if p.is_file()}
    data = build(project)
    assert data["up_to_date"] is True and data["tables"], "the recorded row counts are printed"
    assert {p: p.stat().st_mtime_ns for p in project.rglob("*") if p.is_file()} == before


def append_comment(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")


def edit_schema(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["fields"][1]["description"] += " (edited)"
    path.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")


INPUT_EDITS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "annotation": ("data/annotations/actors.yaml", append_comment),
    "schema": ("schemas/actors.schema.json", edit_schema),
    "package metadata": ("schemas/package.yaml", append_comment),
    "suite SQL": ("validation/statements.sql", append_comment),
    "expected counts": ("validation/expected_counts.yaml", append_comment),
}


@pytest.mark.parametrize("kind", sorted(INPUT_EDITS))
def test_an_edited_input_is_not_up_to_date(project: Path, kind: str) -> None:
    relative, edit = INPUT_EDITS[kind]
    assert up_to_date(project, project)
    edit(project / relative)
    assert not up_to_date(project, project), f"an edited {kind} must rebuild"


def test_a_new_or_removed_input_file_is_not_up_to_date(project: Path) -> None:
    article = project / "data/raw/article.txt"  # the mini project keeps the legacy layout
    (project / "data/annotations/notes.txt").write_text("new\n", encoding="utf-8")
    assert not up_to_date(project, project)
    (project / "data/annotations/notes.txt").unlink()
    assert up_to_date(project, project)
    article.with_name("moved.txt").write_bytes(article.read_bytes())
    article.unlink()
    assert not up_to_date(project, project)


def test_code_and_library_versions_are_inputs(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fingerprinted = input_fingerprint(project)
    monkeypatch.setattr(fingerprint, "environment_lines", lambda: ["dist duckdb-9.9.9.dist-info"])
    assert input_fingerprint(project) != fingerprinted, "another library version is another input"
    monkeypatch.undo()
    monkeypatch.setattr(fingerprint, "package_lines", lambda: ["code cli.py 0"])
    assert input_fingerprint(project) != fingerprinted, "edited code is another input"


@pytest.mark.parametrize("how", ["deleted", "corrupted", "symlinked"])
def test_a_missing_or_changed_output_is_rebuilt_to_the_same_bytes(project: Path, how: str) -> None:
    before = outputs(project)
    target = project / "data/actors.csv"
    if how == "deleted":
        target.unlink()
    elif how == "corrupted":
        target.write_bytes(target.read_bytes().replace(b",", b";", 1))
    else:
        copy = project / "actors-copy.csv"
        shutil.copyfile(target, copy)
        target.unlink()
        target.symlink_to(copy)
    assert not up_to_date(project, project)
    assert "up_to_date" not in build(project), "a damaged output means a real build"
    assert outputs(project) == before, "the rebuilt outputs are byte for byte the old ones"
    assert up_to_date(project, project)


def test_an_edited_annotation_rebuilds_and_restoring_it_is_up_to_date_again(project: Path) -> None:
    actors = project / "data/annotations/actors.yaml"
    text = actors.read_text(encoding="utf-8")
    actors.write_text(text.replace("canonical_name: CNN", "canonical_name: CNN Intl"), encoding="utf-8")
    assert "up_to_date" not in build(project)
    assert "CNN Intl" in (project / "data/actors.csv").read_text(encoding="utf-8")
    assert build(project)["up_to_date"] is True
    actors.write_text(text, encoding="utf-8")
    assert "up_to_date" not in build(project), "the stamp now records the edited inputs"


def test_pending_work_a_busy_folder_or_a_linked_input_is_never_up_to_date(project: Path) -> None:
    assert up_to_date(project, project)
    journal = project / ".newstables-commit.json"
    journal.write_text("{}", encoding="utf-8")
    assert not up_to_date(project, project), "a leftover commit journal is finished by a real build"
    journal.unlink()
    (project / "validation/report-failed").mkdir()
    assert not up_to_date(project, project), "a failed report is cleared by a real build"
    (project / "validation/report-failed").rmdir()
    with locked(project):
        assert not up_to_date(project, project), "a live run holds the folder"
    assert up_to_date(project, project)
    (project / "data/annotations/linked.yaml").symlink_to(project / "data/annotations/actors.yaml")
    assert not up_to_date(project, project), "a link is refused by the real build, never skipped"


def test_force_builds_anyway(project: Path) -> None:
    stamp = (project / BUILD_STAMP).stat().st_mtime_ns
    assert "up_to_date" not in build(project, "--force")
    assert (project / BUILD_STAMP).stat().st_mtime_ns != stamp


def test_a_failed_build_keeps_the_old_stamp_and_is_not_up_to_date(project: Path) -> None:
    before = outputs(project)
    actors = project / "data/annotations/actors.yaml"
    actors.write_text(actors.read_text(encoding="utf-8") + "- {actor_id: Not A Slug}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["build", "--project", str(project), "--json"])
    assert result.exit_code == 2
    assert outputs(project) == before and not up_to_date(project, project)


def test_release_check_and_record(project: Path) -> None:
    """The fast path of ``make release``: check-release, record-release (stdlib only)."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "newstables.core.fingerprint", *args, "--dist", "dist"]
        return subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)

    assert run("check-release").returncode == 1, "no release recorded yet"
    name = "{0[name]}-{0[version]}".format(_package(project))
    (project / "dist" / name).mkdir(parents=True)
    for suffix in (".zip", ".tar.gz", "/SHA256SUMS"):
        (project / "dist" / (name + suffix)).write_bytes(b"archive " + suffix.encode())
    assert run("record-release").returncode == 0
    checked = run("check-release")
    assert checked.returncode == 0 and "up to date" in checked.stdout
    (project / "dist" / f"{name}.zip").unlink()
    assert run("check-release").returncode == 1, "a missing archive is released again"
    shows_imports = [sys.executable, "-X", "importtime", "-m", "newstables.core.fingerprint", "check-release"]
    imported = subprocess.run(shows_imports, cwd=project, capture_output=True, text=True, check=False).stderr
    heavy_modules = ("duckdb", "pyarrow", "great_expectations", "frictionless", "yaml")
    heavy = [m for m in heavy_modules if f" {m}\n" in imported]
    assert heavy == [], f"the no-op check imports {heavy}"


def _package(root: Path) -> dict[str, str]:
    import yaml

    data: dict[str, str] = yaml.safe_load((root / "schemas/package.yaml").read_text(encoding="utf-8"))
    return data


def test_fingerprint_ignores_reports_and_caches(project: Path) -> None:
    fingerprinted = input_fingerprint(project)
    (project / "validation/report/extra.txt").write_text("x", encoding="utf-8")
    (project / "data/annotations/__pycache__").mkdir()
    assert input_fingerprint(project) == fingerprinted
    assert os.path.isdir(project / "validation/report")


# --- the stat cache -------------------------------------------------------------------------------


@pytest.fixture
def trusting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A private stat cache that remembers even files written a moment ago (``RACY_NS`` is
    set to trust times up to a second ahead), so that a test need not wait for files to settle."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", str(folder))
    monkeypatch.setattr(fingerprint, "RACY_NS", -1_000_000_000)
    return folder / fingerprint.CACHE_KIND


def fingerprinted(root: Path) -> tuple[str, int]:
    """The fingerprint of ``root`` with the project's stat cache, and how many files it read."""
    cache = fingerprint.HashCache(root)
    found = input_fingerprint(root, cache)
    cache.save()
    return found, cache.hashed


def test_the_stat_cache_rehashes_only_changed_files(project: Path, trusting: Path) -> None:
    inputs = len(fingerprint.input_files(project))
    first, hashed = fingerprinted(project)
    assert hashed == inputs and list(trusting.glob("*.txt"))
    assert fingerprinted(project) == (first, 0), "unchanged files are not read again"
    time.sleep(0.05)  # past the file system's clock tick: the edit gets a new change time
    actors = project / "data/annotations/actors.yaml"
    before = actors.stat()
    actors.write_text(actors.read_text(encoding="utf-8").replace("a", "b", 1), encoding="utf-8")
    os.utime(actors, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same mtime
    assert actors.stat().st_size == before.st_size
    edited, hashed = fingerprinted(project)
    assert edited != first and hashed == 1, "the change time gives the edit away"
    assert edited == input_fingerprint(project, fingerprint.HashCache(Path("/nonexistent")))


def test_a_file_changed_just_before_the_fingerprint_is_not_remembered(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", str(tmp_path / "cache"))
    (project / "data/annotations/notes.txt").write_text("new\n", encoding="utf-8")
    cache = fingerprint.HashCache(project)
    input_fingerprint(project, cache)
    remembered = {Path(p).relative_to(project).as_posix() for p in cache.seen}
    assert "data/annotations/notes.txt" not in remembered, "racily clean: hashed again next time"
    settled = project / "data/raw/article.txt"
    old = time.time_ns() - 10 * fingerprint.RACY_NS
    os.utime(settled, ns=(old, old))  # (its change time is still now: not remembered either)
    cache = fingerprint.HashCache(project)
    input_fingerprint(project, cache)
    assert not any(Path(p).name == "article.txt" for p in cache.seen)


def test_no_cache_or_a_damaged_one_gives_the_same_fingerprint(
    project: Path, trusting: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = fingerprinted(project)
    for cache in trusting.glob("*.txt"):
        cache.write_text(fingerprint.CACHE_VERSION + "\nnot a line\n", encoding="utf-8")
    assert fingerprinted(project)[0] == first
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", "off")
    assert fingerprint.HashCache(project).file is None
    assert fingerprinted(project) == (first, len(fingerprint.input_files(project)))


def test_a_warm_no_op_reads_no_project_file(
    project: Path, trusting: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert up_to_date(project, project)  # fills the cache with the inputs and the outputs
    read: list[str] = []
    hash_file = fingerprint._hash_file  # every file read goes through it

    def counted(path: Path | str, again: bool = False) -> tuple[str, os.stat_result, os.stat_result | None]:
        read.append(str(path))
        return hash_file(path, again)

    monkeypatch.setattr(fingerprint, "_hash_file", counted)
    assert up_to_date(project, project)
    assert not [p for p in read if p.startswith(str(project))]
    time.sleep(0.05)
    append_comment(project / "data/annotations/actors.yaml")
    assert not up_to_date(project, project)
    assert [p for p in read if p.startswith(str(project))] == [str(project / "data/annotations/actors.yaml")]


def test_the_scan_lists_what_os_walk_lists(project: Path) -> None:
    (project / "data/annotations/sub").mkdir()
    (project / "data/annotations/sub/x.yaml").write_text("[]\n", encoding="utf-8")
    walked = sorted(
        [n for top in fingerprint.INPUT_DIRS for n in fingerprint._files_under(project, top)]
        + [n for n in fingerprint.INPUT_FILES if (project / n).exists()]
    )
    assert fingerprint.input_files(project) == walked and "data/annotations/sub/x.yaml" in walked


def test_many_files_are_hashed_in_threads_to_the_same_fingerprint(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    off = fingerprint.HashCache(Path("/nonexistent"))  # a cache that knows nothing: every file read
    one_thread = input_fingerprint(project, off)
    monkeypatch.setattr(fingerprint, "PARALLEL_FROM", 1)  # the mini project as if it were a corpus
    threads: list[str] = []
    real = fingerprint._hash_file  # every file read goes through it

    def noted(path: Path | str, again: bool = False) -> tuple[str, os.stat_result, os.stat_result | None]:
        if str(path).startswith(str(project)):  # (the package's own files are hashed too)
            threads.append(threading.current_thread().name)
        return real(path, again)

    monkeypatch.setattr(fingerprint, "_hash_file", noted)
    cache = fingerprint.HashCache(Path("/nonexistent"))
    assert input_fingerprint(project, cache) == one_thread
    assert cache.hashed == len(fingerprint.input_files(project)) == len(threads)
    assert "MainThread" not in threads
    (project / "data/raw/linked.txt").symlink_to(project / "data/raw/article.txt")
    with pytest.raises(fingerprint.NotFingerprintable, match=r"linked\.txt"):
        input_fingerprint(project, fingerprint.HashCache(Path("/nonexistent")))


def test_a_cold_fingerprint_refuses_a_fifo_or_a_link_without_waiting(project: Path) -> None:
    off = fingerprint.HashCache(Path("/nonexistent"))  # nothing remembered: no file is looked up first
    entries = fingerprint.input_entries(project, with_stat=False)
    assert entries and all(info is None for _, info in entries)
    assert input_fingerprint(project, off) == input_fingerprint(project, fingerprint.HashCache(project))
    fifo = project / "data/raw/pipe.txt"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer: it is refused instead
    with pytest.raises(fingerprint.NotFingerprintable, match=r"pipe\.txt"):
        input_fingerprint(project, fingerprint.HashCache(Path("/nonexistent")))
    fifo.unlink()
    (project / "data/raw/linked.txt").symlink_to(project / "data/raw/article.txt")
    with pytest.raises(fingerprint.NotFingerprintable, match=r"linked\.txt"):
        input_fingerprint(project, fingerprint.HashCache(Path("/nonexistent")))


def test_output_hashes_take_a_described_hash_only_for_a_file_of_its_size(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("a\n1\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("b\n2\n", encoding="utf-8")
    real = fingerprint.output_hashes(tmp_path, ["a.csv", "b.csv"])
    descriptor = tmp_path / "datapackage.json"
    resources = [
        {"path": "a.csv", "bytes": 4, "hash": "sha256:" + "1" * 64},  # the size matches: taken
        {"path": "x", "parts": [{"path": "b.csv", "bytes": 5, "hash": "sha256:" + "2" * 64}]},  # not
    ]
    descriptor.write_text(json.dumps({"resources": resources}), encoding="utf-8")
    described = fingerprint.described_hashes(descriptor)
    assert described == {"a.csv": (4, "1" * 64), "b.csv": (5, "2" * 64)}
    assert fingerprint.output_hashes(tmp_path, ["a.csv", "b.csv"], described) == {
        "a.csv": "1" * 64,
        "b.csv": real["b.csv"],
    }
    assert fingerprint.described_hashes(tmp_path / "missing.json") == {}


def settled(project: Path) -> None:
    """Wait until every file of ``project`` (just copied) is older than a build started now."""
    time.sleep(2 * fingerprint.CLOCK_SLACK_NS / 1e9)


def test_a_fingerprint_taken_during_the_build_refuses_what_changed_since_it_began(project: Path) -> None:
    settled(project)
    unchanged = input_fingerprint(project, fingerprint.HashCache(Path("/nonexistent")))
    assert fingerprint.FingerprintDuringBuild(project).result() == unchanged
    for change in ("edited", "added", "removed"):
        case = project.parent / change
        shutil.copytree(project, case, symlinks=True)
        settled(case)
        began = time.time_ns() - fingerprint.CLOCK_SLACK_NS
        assert input_fingerprint(case, fingerprint.HashCache(Path("/nonexistent"), began))  # nothing yet
        if change == "edited":
            append_comment(case / "data/annotations/actors.yaml")
        elif change == "added":
            (case / "data/annotations/new.yaml").write_text("[]\n", encoding="utf-8")
        else:
            (case / "data/raw/article.txt").unlink()
        # (a cache that remembers every file: a remembered hash is refused too)
        for cache in (fingerprint.HashCache(Path("/nonexistent"), began), fingerprint.HashCache(case, began)):
            with pytest.raises(fingerprint.NotFingerprintable, match="changed while the build ran"):
                input_fingerprint(case, cache)
        settled(case)
        assert fingerprint.FingerprintDuringBuild(case).result() is not None, "an edit before it began"
    stopped = fingerprint.FingerprintDuringBuild(project)
    stopped.cancel()  # a failed build: the thread ends (the answer, had it finished, is kept)
    assert not stopped._pool._threads or all(not t.is_alive() for t in stopped._pool._threads)


def test_an_input_edited_while_a_sharded_build_reads_is_never_taken_as_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newstables import pipeline
    from newstables.shards import SHARD_ENV, WORKERS_ENV
    from newstables.synth import default_template, synth

    project = tmp_path / "corpus"
    synth(project, 3, 5, default_template())
    monkeypatch.setenv(SHARD_ENV, "1")
    monkeypatch.setenv(WORKERS_ENV, "1")
    settled(project)
    pipeline.build(project)  # the fingerprint taken alongside the shards (none handed over)
    assert up_to_date(project, project), "unchanged inputs: the stamp is written"
    real, hashing = pipeline.build_corpus, fingerprint.input_fingerprint
    edited = project / "data/articles/synth-000001/annotations/statements.yaml"
    done = threading.Event()

    def edit_while_reading(*args: object) -> object:
        corpus = real(*args)  # the shards read the file; then it is edited ...
        append_comment(edited)
        done.set()
        return corpus

    def after_the_edit(*args: object) -> str:
        done.wait(60)  # ... and only then hashed: the new bytes, while the outputs are of the old
        return hashing(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "build_corpus", edit_while_reading)
    monkeypatch.setattr(fingerprint, "input_fingerprint", after_the_edit)
    pipeline.build(project)
    assert done.is_set()
    assert not up_to_date(project, project), "the build read the old file: it must run again"
    monkeypatch.setattr(pipeline, "build_corpus", real)
    monkeypatch.setattr(fingerprint, "input_fingerprint", hashing)
    settled(project)
    pipeline.build(project)
    assert up_to_date(project, project)
