"""Path safety: names and versions that become paths, symlinks, and folders that must
never be written to.

A package name and version become ``dist/<name>-<version>``: both are checked against
strict patterns first, so that no value (``../x``, ``/etc``, ``1.0.0/../../x``) can put a
file outside ``dist/``. Symlinks are refused in every input folder and in release folders,
so a release never ships (and verify never reads) a file from outside its folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from newstables.errors import NewstablesError

NAME_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
VERSION_PATTERN = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
METADATA_FILE = "schemas/package.yaml"
INPUT_FOLDERS = ("data/raw", "data/annotations", "schemas", "validation")
SUMS = "SHA256SUMS"
# Inputs may hold generated sub-folders that are not read as inputs.
GENERATED = frozenset({"validation/report", "validation/report-failed"})


def semver(version: str) -> tuple[int, int, int] | None:
    """``MAJOR.MINOR.PATCH`` as a tuple of ints, or None when ``version`` is not one."""
    match = VERSION_PATTERN.fullmatch(version)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def check_release_identity(metadata: dict[str, Any]) -> tuple[str, str]:
    """The package name and version of ``package.yaml``, refused unless a lowercase slug
    and ``MAJOR.MINOR.PATCH`` (they become the release's folder and archive names)."""
    name, version = metadata.get("name"), metadata.get("version")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise NewstablesError(
            "unsafe-name",
            file=METADATA_FILE,
            field="name",
            value=name,
            expected="a lowercase slug such as rome-2022",
        )
    if not isinstance(version, str) or semver(version) is None:
        raise NewstablesError(
            "unsafe-name",
            file=METADATA_FILE,
            field="version",
            value=version,
            expected="MAJOR.MINOR.PATCH such as 0.2.0",
        )
    return name, version


def released_versions(dist: Path, name: str) -> list[tuple[int, int, int]]:
    """Versions of ``name`` that have a release folder in ``dist``."""
    found = []
    if dist.is_dir():
        for entry in dist.iterdir():
            parsed = (
                semver(entry.name.removeprefix(f"{name}-")) if entry.name.startswith(f"{name}-") else None
            )
            if parsed is not None and entry.is_dir():
                found.append(parsed)
    return sorted(found)


def refuse_older_version(dist: Path, name: str, version: str) -> None:
    """Refuse a version lower than the newest one already released in ``dist``."""
    released = released_versions(dist, name)
    new = semver(version)
    if released and new is not None and new < released[-1]:
        newest = ".".join(map(str, released[-1]))
        raise NewstablesError(
            "version-not-newer", file=METADATA_FILE, field="version", value=version, other=newest
        )


def symlinks_under(folder: Path) -> list[Path]:
    """Every symlink at or below ``folder`` (links are listed, never followed)."""
    if folder.is_symlink():
        return [folder]
    found = []
    for parent, dirs, files in os.walk(folder):
        found += [Path(parent) / n for n in dirs + files if (Path(parent) / n).is_symlink()]
    return sorted(found)


def refuse_input_symlinks(root: Path) -> None:
    """Refuse a symlink anywhere in the project's input folders (it could pull in a file
    from outside the project, e.g. a private key shipped in ``data/raw``)."""
    for relative in INPUT_FOLDERS:
        for link in symlinks_under(root / relative):
            name = link.relative_to(root).as_posix()
            if not any(name == g or name.startswith(g + "/") for g in GENERATED):
                raise NewstablesError("symlink-refused", file=name, target=os.readlink(link))


def refuse_published_target(out: Path) -> None:
    """Refuse ``build --out`` into a published release folder (one holding SHA256SUMS, or
    inside one) or into a ``dist/`` folder that holds releases."""
    out = out.absolute()
    for folder in [out, *out.parents]:
        if (folder / SUMS).is_file():
            raise NewstablesError("output-is-a-release", file=str(out), release=str(folder))
    for folder in [out, out.parent]:
        if folder.is_dir() and any((child / SUMS).is_file() for child in folder.iterdir() if child.is_dir()):
            raise NewstablesError("output-is-a-release", file=str(out), release=str(folder))


def user_cache_dir(kind: str) -> Path | None:
    """The folder of one kind of cached results, outside every project: under
    ``$NEWSTABLES_CACHE_DIR``, else ``$XDG_CACHE_HOME/newstables`` or ``~/.cache/newstables``;
    None when ``NEWSTABLES_CACHE_DIR=off`` (no caching at all)."""
    configured = os.environ.get("NEWSTABLES_CACHE_DIR")
    if configured == "off":
        return None
    base = configured or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "newstables"
    )
    return Path(base) / kind
