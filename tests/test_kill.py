"""SIGKILL at every stage of a commit: readers see all-old or all-new, the next run recovers.

Each case runs ``newstables build`` or ``release`` in a subprocess whose ``sitecustomize``
(tests/killhooks/) sends SIGKILL to the process just before a chosen rename or unlink, then
checks the folder byte by byte against the complete old and the complete new state.

Kill points (in the order a run reaches them):

build (project folder, in place)
  B1 before the journal is placed: everything staged and validated, commit point not reached
  B2 after the journal, in the middle of the moves (schemas and CSVs new, Parquet old)
  B3 after every move, before the journal is removed
release (dist/)
  R1 inside the release's own build, in the middle of its moves into the staging folder
  R3 after the .zip is moved, before the .tar.gz and the folder (the "archives without a
     folder" state a reader must never see)
  R5 after every move, before the journal is removed
(R2, before the release journal, and R4, before the folder, behave as B1 and R3; they are
left out to keep the suite fast: every kill costs a full build.)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from newstables.core.model import load_package
from tests.conftest import REPO, assemble

HOOKS = Path(__file__).parent / "killhooks"
JOURNAL = ".newstables-commit.json"
LEFTOVER_PREFIXES = (".staging-newstables-", ".release-newstables-")
# The release the mini project (the repo's package.yaml) cuts: <name>-<version>.
BASE = "{0.name}-{0.version}".format(load_package(REPO))
KILLED = -9


def newstables(*args: object, kill: tuple[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess; with ``kill=(op, path glob)`` it is SIGKILLed there."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HOOKS), *sys.path]))
    if kill is not None:
        env["NEWSTABLES_KILL_OP"], env["NEWSTABLES_KILL_PATH"] = kill
    command = [sys.executable, "-m", "newstables", *map(str, args)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)


def is_leftover(relative: Path) -> bool:
    """A journal or a staging folder/file: machinery, not part of what a reader reads."""
    return relative.name == JOURNAL or any(p.startswith(LEFTOVER_PREFIXES) for p in relative.parts)


def state(root: Path, with_leftovers: bool = False) -> dict[str, str]:
    """sha256 of every file under ``root`` by relative path (leftovers excluded unless asked)."""
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and (with_leftovers or not is_leftover(relative)):
            files[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def leftovers(root: Path) -> list[str]:
    """Every journal and staging entry anywhere under ``root``."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if is_leftover(p.relative_to(root)))


# --- build ------------------------------------------------------------------------------------


def change_input(root: Path) -> None:
    """An input edit that changes every kind of output (CSV, Parquet, DuckDB, descriptor, report)."""
    actors = root / "data/annotations/actors.yaml"
    actors.write_text(
        actors.read_text(encoding="utf-8").replace("canonical_name: CNN", "canonical_name: CNN Intl")
    )


@pytest.fixture(scope="module")
def build_states(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], dict[str, str]]:
    """A built mini project with an edited input (the old state), and the new state."""
    old = assemble(tmp_path_factory.mktemp("kill") / "old", "mini")
    assert newstables("build", "--project", old).returncode == 0
    change_input(old)
    new = tmp_path_factory.mktemp("kill") / "new"
    shutil.copytree(old, new / "mini")
    assert newstables("build", "--project", new / "mini").returncode == 0
    assert state(old) != state(new / "mini")
    return old, state(old), state(new / "mini")


BUILD_POINTS = {
    "B1": ("replace", "{root}/" + JOURNAL, "old"),
    "B2": ("replace", "{root}/data/parquet/actors.parquet", "new"),
    "B3": ("unlink", "{root}/" + JOURNAL, "new"),
}


def killed_build(template: Path, target: Path, point: str) -> Path:
    """Copy the old project to ``target`` and run a build killed at ``point``."""
    shutil.copytree(template, target)
    op, glob, _ = BUILD_POINTS[point]
    result = newstables("build", "--project", target, kill=(op, glob.format(root=target)))
    assert result.returncode == KILLED, f"{point}: not killed: {result.returncode} {result.stderr[-500:]}"
    return target


def test_build_killed_at_every_commit_step(
    build_states: tuple[Path, dict[str, str], dict[str, str]], tmp_path: Path
) -> None:
    template, old, new = build_states
    with ThreadPoolExecutor(max_workers=2) as pool:
        roots = dict(
            zip(
                BUILD_POINTS,
                pool.map(lambda p: killed_build(template, tmp_path / p, p), BUILD_POINTS),
                strict=True,
            )
        )
    for point in ("B1", "B3"):
        root, expected = roots[point], old if BUILD_POINTS[point][2] == "old" else new
        # Straight after the kill: without a journal the folder is the old state untouched.
        if not (root / JOURNAL).exists():
            assert state(root) == old, f"{point}: no journal, yet outputs changed"
        # Any reader first finishes the commit: it then sees exactly one complete state.
        assert newstables("query", "SELECT 1", "--db", root / "data/newstables.duckdb").returncode == 0
        assert not (root / JOURNAL).exists(), point
        assert state(root) == expected, f"{point}: not the complete {BUILD_POINTS[point][2]} state"
    assert leftovers(roots["B1"]), "B1 leaves its staging folder (cleaned by the next run)"
    # B2 died between moves: the next build itself rolls the journal forward, removes the
    # staging folder and succeeds.
    root = roots["B2"]
    assert (root / JOURNAL).exists() and leftovers(root) != [JOURNAL], "journal and staging left"
    assert state(root) not in (old, new), "B2 is mid-commit (the journal marks it)"
    assert newstables("build", "--project", root).returncode == 0
    assert leftovers(root) == [] and state(root, with_leftovers=True) == new


# --- release ----------------------------------------------------------------------------------


RELEASE_POINTS = {
    "R1": ("replace", "{dist}/.release-newstables-*/build/data/parquet/actors.parquet", "old"),
    "R3": ("replace", "{dist}/" + BASE + ".tar.gz", "new"),
    "R5": ("unlink", "{dist}/" + JOURNAL, "new"),
}


def killed_release(project: Path, dist: Path, point: str) -> Path:
    """Run a release of ``project`` into the empty ``dist``, killed at ``point``."""
    dist.mkdir(parents=True)
    op, glob, _ = RELEASE_POINTS[point]
    result = newstables("release", "--project", project, "--dist", dist, kill=(op, glob.format(dist=dist)))
    assert result.returncode == KILLED, f"{point}: not killed: {result.returncode} {result.stderr[-500:]}"
    return dist


def test_release_killed_at_every_commit_step(tmp_path: Path) -> None:
    project = assemble(tmp_path / "mini", "mini")
    with ThreadPoolExecutor(max_workers=2) as pool:
        dists = dict(
            zip(
                RELEASE_POINTS,
                pool.map(lambda p: killed_release(project, tmp_path / p / "dist", p), RELEASE_POINTS),
                strict=True,
            )
        )
    # R1 died before its commit point: the next release cleans the staging up and completes.
    reference = dists["R1"]
    assert state(reference) == {} and leftovers(reference), "R1: dist/ must still look empty"
    result = newstables("release", "--project", project, "--dist", reference)
    assert result.returncode == 0, result.stderr
    new = state(reference, with_leftovers=True)
    assert leftovers(reference) == [] and sorted({k.split("/")[0] for k in new}) == [
        BASE,
        f"{BASE}.tar.gz",
        f"{BASE}.zip",
    ]
    for point, dist in dists.items():
        if point == "R1":
            continue
        if not (dist / JOURNAL).exists():
            assert state(dist) == {}, f"{point}: no journal, yet dist/ changed"
        # verify finishes the commit first, then checks the complete release.
        result = newstables("verify", dist / BASE)
        expected = RELEASE_POINTS[point][2]
        assert not (dist / JOURNAL).exists(), point
        assert state(dist) == ({} if expected == "old" else new), (
            f"{point}: not the complete {expected} state"
        )
        assert (result.returncode == 0) == (expected == "new"), f"{point}: {result.stderr[-300:]}"
    # A later release run removes the stale staging of the killed ones.
    result = newstables("release", "--project", project, "--dist", dists["R3"], "--skip-existing")
    assert result.returncode == 0 and leftovers(dists["R3"]) == [], result.stderr
