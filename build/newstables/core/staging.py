"""Staging and atomic commit: what ``build`` and ``release`` write becomes visible all at
once, or not at all, whatever moment the process is killed.

How (the design, in order):

1. ``staging_area(out)`` locks ``out`` (an exclusive ``flock`` on the folder itself, no
   lock file), finishes what a killed run left (``recover_locked``) and yields a fresh
   staging folder ``out/.staging-newstables-*`` (``dist/.release-newstables-*`` for
   releases) on the same file
   system as the targets.
2. Everything is written and checked inside the staging folder.
3. ``commit`` writes a journal ``out/.newstables-commit.json`` listing every move
   (source -> target, relative to ``out``) with one atomic rename: the commit point. It
   then performs the renames in the listed order and deletes the journal.
4. A run killed before the journal exists leaves the old state plus a staging folder,
   which the next writer removes (it holds the lock, so no live run owns it). A run killed
   after leaves the journal: the next command that writes or reads the folder (build,
   release, verify, query, diff) rolls it forward first — every move is an idempotent
   rename of a file that is still in staging — so nobody ever reads a mix of old and new.

A target on another file system than ``out`` (``data/`` mounted elsewhere) cannot be
renamed into; its file is copied next to the target first (before the journal), so every
journaled move is a same-file-system rename.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from newstables.errors import NewstablesError

JOURNAL = ".newstables-commit.json"
STAGING_PREFIX = ".staging-newstables-"
RELEASE_PREFIX = ".release-newstables-"
# Only folders with these (our own) prefixes are ever removed as leftovers.
STAGING_PREFIXES = (STAGING_PREFIX, RELEASE_PREFIX)
# Folders (relative to ``out``) where staging leftovers can sit: the staging folders at the
# top, and cross-file-system copies next to their targets.
LEFTOVER_DIRS = (".", "data", "data/parquet", "schemas", "validation", "validation/report")
PARTITION_FOLDERS = "data/parquet/*/*"

Move = tuple[str, str]


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def locked(folder: Path, wait: bool = False) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` while the block runs.

    A writer does not wait: a second run on the same folder is refused (``folder-busy``).
    A reader that must roll a journal forward waits (``wait=True``) for the writer to end.
    The kernel drops the lock when its process dies, so a killed run never blocks the next.
    """
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise NewstablesError("folder-busy", file=str(folder)) from exc
        yield
    finally:
        os.close(fd)


def ensure_folder(out: Path) -> None:
    """Create ``out`` if needed; refuse a file in its place or a folder that cannot be made."""
    if out.exists() and not out.is_dir():
        raise NewstablesError("output-not-a-folder", file=str(out))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise unwritable(exc, out) from exc


def unwritable(exc: OSError, out: Path) -> NewstablesError:
    """The catalogued error for a write that the system refused (EACCES, EROFS, ENOSPC, ...)."""
    reason = exc.strerror or str(exc)
    return NewstablesError(
        "output-unwritable",
        file=str(exc.filename or out),
        detail=reason,
        code=errno.errorcode.get(exc.errno or 0, "no errno"),
    )


def _is_output_error(exc: OSError, out: Path) -> bool:
    """True when an OSError concerns the outputs (a path under ``out``, or no path at all)."""
    if exc.filename is None:
        return True
    return Path(os.fsdecode(exc.filename)).resolve().is_relative_to(out.resolve())


# --- the journal ------------------------------------------------------------------------------


def write_journal(out: Path, staging: Path, moves: list[Move]) -> None:
    """Write the list of moves as ``out/JOURNAL`` in one atomic rename (the commit point)."""
    draft = staging / (JOURNAL + ".draft")
    with draft.open("w", encoding="utf-8") as handle:
        json.dump({"staging": staging.name, "moves": [list(m) for m in moves]}, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(draft, out / JOURNAL)
    _fsync_dir(out)


def read_journal(out: Path) -> list[Move]:
    """The moves of a leftover journal; a catalogued error when it is not one of ours."""
    path = out / JOURNAL
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        moves = [(str(a), str(b)) for a, b in data["moves"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise NewstablesError("commit-journal-invalid", file=str(path), detail=str(exc)) from exc
    for pair in moves:
        for relative in pair:
            if Path(relative).is_absolute() or ".." in Path(relative).parts:
                raise NewstablesError(
                    "commit-journal-invalid", file=str(path), detail=f"unsafe path {relative!r}"
                )
    return moves


def apply_moves(out: Path, moves: list[Move]) -> None:
    """Perform the journaled renames; a move whose source is gone was done already."""
    for source, target in moves:
        if os.path.lexists(out / source):
            (out / target).parent.mkdir(parents=True, exist_ok=True)
            os.replace(out / source, out / target)
    for folder in sorted({(out / target).parent for _, target in moves}):
        _fsync_dir(folder)


def roll_forward(out: Path) -> bool:
    """Finish the commit a killed run left in ``out`` (lock held); True when there was one."""
    if not (out / JOURNAL).is_file():
        return False
    apply_moves(out, read_journal(out))
    (out / JOURNAL).unlink()
    _fsync_dir(out)
    return True


def leftovers(out: Path) -> list[Path]:
    """Staging folders and cross-file-system copies left in ``out`` by dead runs."""
    found = []
    # the fixed folders, and the partition folders of partitioned tables (core.parts)
    folders = [out / relative for relative in LEFTOVER_DIRS] + list(out.glob(PARTITION_FOLDERS))
    for folder in folders:
        if folder.is_dir() and not folder.is_symlink():
            found += [p for p in folder.iterdir() if p.name.startswith(STAGING_PREFIXES)]
    return sorted(found)


def remove(path: Path) -> None:
    """Delete a file or folder without following links."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def recover_locked(out: Path) -> None:
    """Roll a leftover journal forward, then remove stale staging (the caller holds the lock)."""
    roll_forward(out)
    for path in leftovers(out):
        remove(path)


def recover(folder: Path, clean: bool = False) -> None:
    """For readers: finish what a killed run left in ``folder`` before reading it.

    A leftover journal is rolled forward (waiting for the lock, so a live commit ends
    first): what is read is then the complete new state. With ``clean``, stale staging
    folders are removed too when no other run holds the folder.

    Example: ``recover(Path("."))`` before reading ``data/newstables.duckdb``.
    """
    if not folder.is_dir():
        return
    if (folder / JOURNAL).is_file():
        with locked(folder, wait=True):
            try:
                roll_forward(folder)
            except OSError as exc:
                raise unwritable(exc, folder) from exc
    if clean and leftovers(folder):
        try:
            with locked(folder):
                recover_locked(folder)
        except (NewstablesError, OSError):
            pass  # a live run owns them, or the folder is read-only: nothing to finish


def recover_around(path: Path) -> None:
    """``recover`` the folder of ``path`` and its two parents (a table file, a project
    folder, a release folder inside ``dist/``)."""
    path = path.absolute()
    for folder in [path, *list(path.parents)[:2]]:
        recover(folder)


# --- staging and commit -----------------------------------------------------------------------


@contextmanager
def staging_area(out: Path, prefix: str = STAGING_PREFIX) -> Iterator[Path]:
    """Lock ``out``, clean up after killed runs and yield a fresh staging folder inside it.

    The staging folder is removed afterwards whatever happens. An OSError about the outputs
    (read-only or full disk, permissions) becomes the catalogued ``output-unwritable``.

    Example: ``with staging_area(Path(".")) as staging: ...; commit(Path("."), staging, paths)``.
    """
    ensure_folder(out)
    with locked(out):
        try:
            recover_locked(out)
            staging = Path(tempfile.mkdtemp(prefix=prefix, dir=out))
        except OSError as exc:
            raise unwritable(exc, out) from exc
        try:
            yield staging
        except OSError as exc:
            if _is_output_error(exc, out):
                raise unwritable(exc, out) from exc
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def same_file_system(source: Path, target_dir: Path) -> bool:
    """True when a rename from ``source`` into ``target_dir`` stays on one file system."""
    return os.stat(source).st_dev == os.stat(target_dir).st_dev


def place_next_to_target(out: Path, staging: Path, relative: Path) -> str:
    """The source to rename from: the staged file, or (when the target lies on another
    file system) a copy of it made next to the target. Returned relative to ``out``."""
    source, target = staging / relative, out / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if same_file_system(source, target.parent):
        return source.relative_to(out).as_posix()
    twin = target.parent / f"{staging.name}.{target.name}"
    if source.is_dir():
        shutil.copytree(source, twin, symlinks=True)
    else:
        shutil.copyfile(source, twin, follow_symlinks=False)
    return twin.relative_to(out).as_posix()


# Inside a staging folder: where ``commit`` moves published files that the new state no longer
# has (removed with the staging folder, or as a leftover after a kill).
OBSOLETE = ".obsolete"


def commit(out: Path, staging: Path, relative_paths: list[Path], obsolete: Sequence[Path] = ()) -> None:
    """Move ``staging/<path>`` to ``out/<path>`` for every path, atomically as a whole, and
    move every ``obsolete`` path of ``out`` (files the new state does not have, such as parts
    of a year that lost its rows) out of the release, into the staging folder.

    The moves happen in the given order, obsolete files first (put a completeness marker
    last). An obsolete path is never one of ``relative_paths``, so rolling the journal forward
    twice cannot move a new file away.
    """
    published = {rel.as_posix() for rel in relative_paths}
    leaving = [rel for rel in obsolete if rel.as_posix() not in published]
    away = [(rel.as_posix(), obsolete_target(out, staging, rel)) for rel in leaving]
    moves = away + [(place_next_to_target(out, staging, rel), rel.as_posix()) for rel in relative_paths]
    write_journal(out, staging, moves)
    roll_forward(out)
    for _, target in away:  # moved next to themselves (another file system): now delete them
        if not Path(target).parts[0].startswith(STAGING_PREFIXES):
            remove(out / target)


def obsolete_target(out: Path, staging: Path, relative: Path) -> str:
    """Where ``commit`` moves an obsolete file (relative to ``out``): into the staging folder,
    or, when the file lies on another file system, next to itself under a staging-prefixed name
    (a leftover the next run removes, should this one die before deleting it)."""
    source = out / relative
    if same_file_system(source, staging):
        return (staging / OBSOLETE / relative).relative_to(out).as_posix()
    return (source.parent / f"{staging.name}.obsolete.{source.name}").relative_to(out).as_posix()
