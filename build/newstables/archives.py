"""Deterministic release archives: a zip and a .tar.gz of a release folder whose bytes depend
only on the files and on one timestamp taken from the metadata (never the clock).

Entries are sorted, permissions fixed (0o644 files, 0o755 folders), owners and user names
empty, and the gzip header carries neither a time nor a file name.
"""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
import tarfile
import zipfile
from pathlib import Path

from newstables.core.model import Package
from newstables.verify import SUMS, release_files

FILE_MODE = 0o644
DIR_MODE = 0o755


def fixed_mtime(package: Package) -> int:
    """The archives' timestamp: ``created`` of package.yaml as a UTC epoch second."""
    created = dt.datetime.fromisoformat(package.created.replace("Z", "+00:00"))
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return int(created.timestamp())


def normalise_modes(folder: Path) -> None:
    """Fixed permissions: 0o644 for files, 0o755 for folders."""
    folder.chmod(DIR_MODE)
    for path in folder.rglob("*"):
        path.chmod(DIR_MODE if path.is_dir() else FILE_MODE)


def archive_entries(folder: Path) -> list[tuple[str, Path]]:
    """(archive name, path) of every folder and file, sorted, under ``<folder name>/``."""
    base = folder.name
    files = [*release_files(folder), SUMS]
    dirs = {base}
    for relative in files:
        parts = relative.split("/")
        dirs.update(base + "/" + "/".join(parts[:i]) for i in range(1, len(parts)))
    names = [(d + "/", folder.parent / d) for d in dirs]
    names += [(f"{base}/{rel}", folder / rel) for rel in files]
    return sorted(names)


def write_zip(folder: Path, target: Path, mtime: int) -> None:
    """A zip with sorted entries, a fixed timestamp and fixed permissions."""
    stamp = dt.datetime.fromtimestamp(max(mtime, 315532800), dt.UTC).timetuple()[:6]
    with zipfile.ZipFile(target, "w") as zf:
        for name, path in archive_entries(folder):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 3  # unix, so that the permission bits are read
            if name.endswith("/"):
                info.external_attr = (0o40000 | DIR_MODE) << 16 | 0x10
                zf.writestr(info, b"")
            else:
                info.external_attr = (0o100000 | FILE_MODE) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                with path.open("rb") as source, zf.open(info, "w") as sink:
                    shutil.copyfileobj(source, sink)


def write_tar_gz(folder: Path, target: Path, mtime: int) -> None:
    """A .tar.gz with sorted entries, fixed mtime/permissions, uid/gid 0, no user names,
    and a gzip header with mtime 0 and no file name."""
    with (
        target.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tf,
    ):
        for name, path in archive_entries(folder):
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
            if name.endswith("/"):
                info.type, info.mode = tarfile.DIRTYPE, DIR_MODE
                tf.addfile(info)
            else:
                info.mode, info.size = FILE_MODE, path.stat().st_size
                with path.open("rb") as source:
                    tf.addfile(info, source)
