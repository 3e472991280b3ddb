"""File checksums, shared by the build, release and verify."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

# A file hashed once in this process is not read again while it is unchanged: the build hashes
# each file it publishes for datapackage.json, then the integrity check compares the descriptor
# with the files (3 GB at a million statements). A digest is remembered under the file's path
# and everything a write changes in its status (size, modification and change times in
# nanoseconds, inode, device), and only when that status is the same after the read as before
# it and the file was last changed well before the read began: a file system stamps times in
# ticks of a few milliseconds, so a write within the tick of the last change could leave them
# as they were ("racily clean", as git calls it); such a file is simply read again next time.
RACY_NS = 100_000_000
_remembered: dict[str, tuple[tuple[int, ...], str]] = {}
_lock = threading.Lock()


def _status(path: Path) -> tuple[int, ...]:
    status = os.stat(path)
    return (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino, status.st_dev)


def sha256_file(path: Path) -> str:
    """SHA-256 hex digest of a file, read in blocks (or remembered from an earlier read of
    the same, unchanged file in this process)."""
    key = os.path.abspath(path)
    before = _status(path)
    with _lock:
        known = _remembered.get(key)
    if known is not None and known[0] == before:
        return known[1]
    started = time.time_ns()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    found = digest.hexdigest()
    if _status(path) == before and max(before[1], before[2]) < started - RACY_NS:
        with _lock:
            _remembered[key] = (before, found)
    return found
