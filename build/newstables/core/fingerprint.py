"""Input fingerprints: "nothing changed, the outputs are up to date" without building.

A build records, next to its outputs and committed with them (``.newstables-build.json``),
the fingerprint of every input it read and the SHA-256 of every output it wrote. The
fingerprint is one hash over:

- every file of the project's input folders (``data/articles``, ``data/annotations``,
  ``data/raw``, ``schemas``, ``validation`` without its reports) and ``id-map.yaml``;
- every file of the installed ``newstables`` package (code, SQL, templates, catalogues);
- the Python version and the installed distributions (``*.dist-info`` names carry the
  versions of the pinned libraries).

Before building, ``newstables build`` asks :func:`up_to_date`: when the fingerprint is the
recorded one, every recorded output still has its recorded hash, no commit is pending and
no other run holds the folder, there is nothing to do. Anything unusual (a symbolic link
or unreadable input, a missing, changed or linked output, a leftover journal or failed
report) answers "not up to date", and the real build then runs and reports it. A stale
output is therefore never taken as current: the answer is yes only for exactly the bytes
a successful build of exactly these inputs wrote.

Hashing every input of a large corpus (800,000 files at 100,000 articles) is what a no-op would
cost; a stat cache avoids it, as git's index does. :class:`HashCache` remembers, per project, each
file's SHA-256 with its size, modification and change times (nanoseconds), inode and device, in
the user cache folder (``$NEWSTABLES_CACHE_DIR``, else ``$XDG_CACHE_HOME/newstables`` or
``~/.cache/newstables``, folder ``fingerprint``; ``NEWSTABLES_CACHE_DIR=off`` turns it off), and
takes the remembered hash only when all five are unchanged. Any write to a file changes its
change time (which no program can set back), so a changed file is always hashed again, with one
exception that git calls "racily clean": a file edited twice within one tick of the file
system's clock, the first edit hashed in between, keeps its times and size. A hash is therefore
remembered only for a file whose times are more than :data:`RACY_NS` older than the moment the
hashing began (a file edited just before or during a fingerprint is hashed again next time),
and only when the file's stat did not change while it was read. A cache that cannot be read or
written is ignored: the files are hashed. The answer is the same as without the cache.

``make release`` does the same for the whole release (build, docs, dist archives) with
``python -m newstables.core.fingerprint check-release``, which imports nothing but the
standard library, and records it after a successful release with ``record-release``.

This module imports only the standard library, so that a no-op costs milliseconds.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import stat
import sys
import sysconfig
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

BUILD_STAMP = Path(".newstables-build.json")
RELEASE_STAMP = Path(".newstables-release.json")
INPUT_DIRS = ("data/articles", "data/annotations", "data/raw", "schemas", "validation")
INPUT_FILES = ("id-map.yaml",)
# Outputs inside the input folders: never part of the fingerprint.
SKIPPED_DIRS = ("validation/report", "validation/report-failed")
SKIPPED_NAMES = ("__pycache__",)
# Files whose presence means a run is pending or failed: never "up to date" then.
PENDING = (".newstables-commit.json", "validation/report-failed")
DOCS_OUTPUTS = ("docs/data-dictionary.md", "README.md", "CITATION.cff")
PACKAGE_DIR = Path(__file__).resolve().parents[1]
STAMP_VERSION = 1
# A file whose modification or change time is less than this before the hashing began is not
# remembered (git's "racily clean" files): wider than any file system's clock tick (2 s on FAT).
RACY_NS = 3_000_000_000
CACHE_ENV = "NEWSTABLES_CACHE_DIR"
CACHE_KIND = "fingerprint"
CACHE_VERSION = "newstables-hash-cache 1"
CACHE_FILES_KEPT = 32  # projects remembered; the least recently written is dropped first


class NotFingerprintable(Exception):
    """An input the fingerprint cannot vouch for (a link, a special or unreadable file)."""


def sha256_bytes(path: Path | str) -> str:
    """SHA-256 of a regular file that is not a symbolic link; :class:`NotFingerprintable` otherwise."""
    return _hash_file(path)[0]


# Read flags: a link is refused by the open itself (O_NOFOLLOW), and a FIFO put in place of an
# input does not block the build (O_NONBLOCK; it is refused as not a regular file).
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_BLOCK = 1 << 20


def _hash_file(path: Path | str, again: bool = False) -> tuple[str, os.stat_result, os.stat_result | None]:
    """SHA-256 of a regular file that is not a symbolic link, with its ``fstat`` before reading
    and (``again``) after. One descriptor does it all: open, fstat, read, close, with no
    ``lstat`` of the path (a corpus has hundreds of thousands of small files, and the system
    calls per file are most of their cost); a small file is read in one call of its size."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise NotFingerprintable(str(path)) from exc
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise NotFingerprintable(str(path))
        digest = hashlib.sha256()
        want = min(before.st_size + 1, _BLOCK)  # one byte more: the end of the file in the same read
        while block := os.read(fd, want):
            digest.update(block)
            want = _BLOCK
        after = os.fstat(fd) if again else None
    except OSError as exc:
        raise NotFingerprintable(str(path)) from exc
    finally:
        os.close(fd)
    return digest.hexdigest(), before, after


Signature = tuple[int, int, int, int, int]  # size, mtime_ns, ctime_ns, inode, device


def _signature(info: os.stat_result) -> Signature:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


def cache_folder() -> Path | None:
    """Where the stat caches are kept (``core.paths.user_cache_dir("fingerprint")``, repeated
    here: this module imports only the standard library); None when caching is off."""
    configured = os.environ.get(CACHE_ENV)
    if configured == "off":
        return None
    base = configured or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "newstables"
    )
    return Path(base) / CACHE_KIND


class HashCache:
    """SHA-256 of files, remembered by their stat (see the module docstring): one cache file per
    project folder, holding the files one fingerprint (or no-op check) hashed."""

    def __init__(self, root: Path, since_ns: int | None = None) -> None:
        folder = cache_folder()
        # (``since_ns``: see :class:`FingerprintDuringBuild`) an input whose modification or change
        # time is this or later is refused as NotFingerprintable: it changed while the build ran.
        self.since = since_ns
        self.stopped = threading.Event()  # set: the next file is refused, the caller gave up
        key = hashlib.sha256(os.fsencode(root.resolve())).hexdigest()[:32]
        self.file = folder / f"{key}.txt" if folder is not None else None
        self.started = time.time_ns()
        self.known = self._load()
        self.seen: dict[str, tuple[Signature, str]] = {}
        self.hashed = 0  # files read this time
        self._counting = threading.Lock()

    def _load(self) -> dict[str, tuple[Signature, str]]:
        if self.file is None:
            return {}
        try:
            text = self.file.read_text(encoding="utf-8", errors="surrogateescape")
        except OSError:
            return {}
        lines = text.split("\n")
        if not lines or lines[0] != CACHE_VERSION:
            return {}
        known: dict[str, tuple[Signature, str]] = {}
        try:
            for line in lines[1:]:
                if line:
                    digest, size, mtime, ctime, inode, device, path = line.split(" ", 6)
                    known[path] = ((int(size), int(mtime), int(ctime), int(inode), int(device)), digest)
        except ValueError:
            return {}  # a damaged cache is no cache
        return known

    def sha256(self, path: Path | str, info: os.stat_result | None = None) -> str:
        """SHA-256 of a regular file that is not a symbolic link (``info``: its ``lstat``, when
        the caller has it; without it and with nothing remembered, the file is not looked up
        before it is read); :class:`NotFingerprintable` otherwise."""
        key = os.fspath(path)
        if self.stopped.is_set():
            raise NotFingerprintable(key)
        if info is None and self.known:
            try:
                info = os.lstat(path)
            except OSError as exc:
                raise NotFingerprintable(key) from exc
        if info is not None:
            if not stat.S_ISREG(info.st_mode):
                raise NotFingerprintable(key)
            known = self.known.get(key)
            if known is not None and known[0] == _signature(info):
                self._refuse_if_changed(key, info)
                self.seen[key] = known
                return known[1]
        remember = self.file is not None
        digest, before, after = _hash_file(path, again=remember or self.since is not None)
        for seen in (info, before, after):
            self._refuse_if_changed(key, seen)
        with self._counting:  # files may be hashed in several threads (input_digests)
            self.hashed += 1
        if remember and after is not None:
            # remembered only when the file did not change while it was read, nor just before
            signature = _signature(before)
            unchanged = _signature(after) == signature and (info is None or _signature(info) == signature)
            settled = max(before.st_mtime_ns, before.st_ctime_ns) < self.started - RACY_NS
            if unchanged and settled and "\n" not in key:
                self.seen[key] = (signature, digest)
        return digest

    def _refuse_if_changed(self, key: str, info: os.stat_result | None) -> None:
        if self.since is not None and info is not None and changed_since(info, self.since):
            raise NotFingerprintable(f"{key} changed while the build ran")

    def save(self) -> None:
        """Remember the files hashed or confirmed this time (only they: a removed file is
        forgotten); nothing is written when nothing changed. Failures are ignored."""
        if self.file is None or self.seen == self.known:
            return
        lines = [CACHE_VERSION]
        lines += [f"{d} {' '.join(map(str, s))} {path}" for path, (s, d) in self.seen.items()]
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            draft = self.file.with_name(f"{self.file.name}.{os.getpid()}.draft")
            draft.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogateescape")
            os.replace(draft, self.file)
            _prune(self.file.parent)
        except OSError:
            return


def _prune(folder: Path) -> None:
    """Keep the caches of the :data:`CACHE_FILES_KEPT` most recently written projects."""
    caches = sorted(folder.glob("*.txt"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in caches[CACHE_FILES_KEPT:]:
        old.unlink(missing_ok=True)


def _files_under(root: Path, relative: str) -> Iterator[str]:
    """Every file below ``root/relative`` (relative posix paths, sorted); links and special
    files are refused, skipped folders left out."""
    top = root / relative
    if os.path.islink(top):
        raise NotFingerprintable(str(top))
    if not top.is_dir():
        return
    for folder, dirs, files in os.walk(top):
        base = Path(folder).relative_to(root).as_posix()
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_NAMES and f"{base}/{d}" not in SKIPPED_DIRS)
        for name in dirs:
            if os.path.islink(Path(folder) / name):
                raise NotFingerprintable(f"{base}/{name}")
        for name in sorted(files):
            yield f"{base}/{name}"


def input_files(root: Path) -> list[str]:
    """The project's input files, relative to ``root`` and sorted."""
    return [name for name, _ in input_entries(root)]


def changed_since(info: os.stat_result, since_ns: int) -> bool:
    """True when the file or folder ``info`` describes was modified (or its inode changed) at
    ``since_ns`` or later."""
    return max(info.st_mtime_ns, info.st_ctime_ns) >= since_ns


def input_entries(
    root: Path, with_stat: bool = True, since_ns: int | None = None
) -> list[tuple[str, os.stat_result | None]]:
    """The project's input files, relative to ``root`` and sorted, each with its ``lstat``
    (``with_stat``; else None: a cold fingerprint reads every file anyway, and a folder scan
    tells files from folders without a system call per file) (``os.scandir``: no path
    objects; the files ``os.walk`` in :func:`_files_under` would list, and an unreadable
    folder is :class:`NotFingerprintable` rather than skipped). ``since_ns``: a folder
    modified at that time or later (a file added, removed or renamed in it) is
    :class:`NotFingerprintable`, looked at after it is listed (:class:`FingerprintDuringBuild`)."""
    found: list[tuple[str, os.stat_result | None]] = []
    base = os.fspath(root)
    for top in INPUT_DIRS:
        path = os.path.join(base, top)
        if os.path.islink(path):
            raise NotFingerprintable(path)
        if os.path.isdir(path):
            _scan(base, top, found, with_stat, since_ns)
    found += [(name, None) for name in INPUT_FILES if os.path.lexists(root / name)]
    if since_ns is not None:  # a whole input folder of data/ removed or added meanwhile
        _refuse_changed_folder(base, "data", since_ns)
    return sorted(found, key=lambda entry: entry[0])


def _refuse_changed_folder(base: str, relative: str, since_ns: int) -> None:
    try:
        info = os.lstat(os.path.join(base, relative))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise NotFingerprintable(relative) from exc
    if changed_since(info, since_ns):
        raise NotFingerprintable(f"{relative} changed while the build ran")


def _scan(
    base: str,
    relative: str,
    found: list[tuple[str, os.stat_result | None]],
    with_stat: bool,
    since_ns: int | None = None,
) -> None:
    try:
        with os.scandir(os.path.join(base, relative)) as listing:
            entries = list(listing)
        if since_ns is not None:  # after listing: a change made before it is seen either way
            _refuse_changed_folder(base, relative, since_ns)
        for entry in entries:
            name = f"{relative}/{entry.name}"
            if entry.is_dir():  # as os.walk: a link to a folder is a folder, refused below
                if entry.name in SKIPPED_NAMES or name in SKIPPED_DIRS:
                    continue
                if entry.is_symlink():
                    raise NotFingerprintable(name)
                _scan(base, name, found, with_stat, since_ns)
            else:
                found.append((name, entry.stat(follow_symlinks=False) if with_stat else None))
    except OSError as exc:
        raise NotFingerprintable(relative) from exc


def environment_lines() -> list[str]:
    """What besides the project decides the outputs: Python and the installed distributions."""
    lines = [f"python {sys.version}"]
    for folder in sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}):
        if os.path.isdir(folder):
            lines += sorted(f"dist {n}" for n in os.listdir(folder) if n.endswith(".dist-info"))
    return lines


def package_lines() -> list[str]:
    """The installed newstables package: every file's hash (an edited source counts)."""
    return [f"code {name} {sha256_bytes(PACKAGE_DIR / name)}" for name in _files_under_package()]


def _files_under_package() -> list[str]:
    return sorted(
        p.relative_to(PACKAGE_DIR).as_posix()
        for p in PACKAGE_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def input_fingerprint(root: Path, cache: HashCache | None = None) -> str:
    """One SHA-256 over every input file of ``root``, the package and the environment; the
    inputs' hashes come from ``cache`` (else the project's :class:`HashCache`, saved after).

    Raises :class:`NotFingerprintable` when an input is a link or cannot be read.
    """
    own = cache is None
    cache = cache or HashCache(root)
    digest = hashlib.sha256(f"newstables-fingerprint {STAMP_VERSION}\n".encode())
    # stats only to look hashes up
    entries = input_entries(root, with_stat=bool(cache.known), since_ns=cache.since)
    for (name, _), file_digest in zip(entries, _digests(cache, os.fspath(root), entries), strict=True):
        digest.update(f"input {name} {file_digest}\n".encode())
    for line in package_lines() + environment_lines():
        digest.update(line.encode() + b"\n")
    if own:
        cache.save()
    return digest.hexdigest()


# A corpus's fingerprint reads hundreds of thousands of small files; on a cold page cache it
# waits on the disk, so a second read is kept in flight (hashlib and file reads release the
# interpreter lock). More threads cost more CPU than they save (measured at 10,000 articles:
# 1.1 s CPU with one or two threads, 1.6 s with eight, the files hashed in a few microseconds
# each). Below PARALLEL_FROM files (the seed has a few dozen) one thread does it.
HASH_THREADS = 2
PARALLEL_FROM = 2_000


def input_digests(cache: HashCache, base: str, entries: list[tuple[str, os.stat_result | None]]) -> list[str]:
    """The SHA-256 of every entry (path relative to ``base``, its ``lstat`` or None), in
    order; in :data:`HASH_THREADS` threads for a large project. Raises
    :class:`NotFingerprintable` for the first entry (in order) that cannot be hashed."""

    return list(_digests(cache, base, entries))


def _digests(cache: HashCache, base: str, entries: list[tuple[str, os.stat_result | None]]) -> Iterator[str]:
    """:func:`input_digests`, given in order as the chunks are hashed (never all held: at
    800,000 files the list of hashes alone is a hundred megabytes)."""

    def run(chunk: list[tuple[str, os.stat_result | None]]) -> list[str]:
        return [cache.sha256(os.path.join(base, name), info) for name, info in chunk]

    if len(entries) < PARALLEL_FROM:
        yield from run(entries)
        return
    from concurrent.futures import ThreadPoolExecutor  # only here: a no-op check stays lean

    size = -(-len(entries) // (HASH_THREADS * 8))  # small chunks: a slow file delays little
    chunks = [entries[i : i + size] for i in range(0, len(entries), size)]
    with ThreadPoolExecutor(HASH_THREADS) as pool:
        try:
            for part in pool.map(run, chunks):
                yield from part
        except BaseException:  # an error, or a caller that gave up: the other chunks stop early
            cache.stopped.set()
            raise


# A file's times come from the kernel's coarse clock, up to one tick (at most 10 ms) behind the
# moment of the write: a write just after the build began may carry a time just before it.
CLOCK_SLACK_NS = 50_000_000


class FingerprintDuringBuild:
    """The inputs' fingerprint (:func:`input_fingerprint`), taken in a thread while the build
    reads the same files, rather than before it: on a cold disk the two wait on the same reads
    once instead of one after the other (the sharded build of a large corpus).

    The fingerprint is the stamp's promise that the outputs were built from exactly these
    inputs. Taken before reading, an edit made meanwhile only makes the next build run again;
    taken alongside, an input the build read before an edit and the fingerprint after would
    be recorded as current. So any input file or folder modified since just before the build
    began (:data:`CLOCK_SLACK_NS`; a change time cannot be set back) makes the answer None:
    no stamp is written, and the next build runs. A link or an unreadable input is None too.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache = HashCache(root, time.time_ns() - CLOCK_SLACK_NS)
        self.value: str | None = None
        from concurrent.futures import ThreadPoolExecutor  # imported here, before any thread runs

        self._pool = ThreadPoolExecutor(1, thread_name_prefix="fingerprint")
        self._future = self._pool.submit(self._take)

    def _take(self) -> str | None:
        try:
            taken = input_fingerprint(self.root, self.cache)
        except NotFingerprintable:
            return None
        self.cache.save()
        return taken

    def result(self) -> str | None:
        """The fingerprint, once taken (waits for it); None as said above."""
        try:
            return self._future.result()
        finally:
            self._pool.shutdown()

    def cancel(self) -> None:
        """Stop hashing (the build failed: its fingerprint is not needed) and wait for the thread."""
        self.cache.stopped.set()
        self._future.cancel()
        self._pool.shutdown()


def stamp_text(fingerprint: str, outputs: dict[str, str], counts: dict[str, int] | None = None) -> str:
    """The stamp recorded next to the outputs: the fingerprint, each output's hash and the
    tables' row counts (what ``build`` prints when it has nothing to do)."""
    data = {"version": STAMP_VERSION, "inputs": fingerprint, "outputs": outputs, "tables": counts or {}}
    return json.dumps(data, indent=1) + "\n"


def recorded_counts(out: Path) -> dict[str, int]:
    """The row counts the build stamp of ``out`` records (empty when it has none)."""
    try:
        tables = json.loads((out / BUILD_STAMP).read_text(encoding="utf-8")).get("tables")
    except (OSError, ValueError, AttributeError):
        return {}
    return {str(k): int(v) for k, v in tables.items()} if isinstance(tables, dict) else {}


def output_hashes(
    folder: Path, paths: Iterable[Path | str], described: dict[str, tuple[int, str]] | None = None
) -> dict[str, str]:
    """SHA-256 of each output file (relative to ``folder``), by posix path. ``described``: the
    bytes and SHA-256 a descriptor written moments ago recorded, by path (``datapackage.json``
    in the same staging folder): a file of that size is not read again (a release's files run
    to gigabytes; a wrong hash here would only make the next build run)."""
    found: dict[str, str] = {}
    for path in paths:
        name = Path(path).as_posix()
        size, digest = (described or {}).get(name, (-1, ""))
        if digest and _size(folder / path) == size:
            found[name] = digest
        else:
            found[name] = sha256_bytes(folder / path)
    return found


def _size(path: Path) -> int:
    try:
        info = os.lstat(path)
    except OSError:
        return -2
    return info.st_size if stat.S_ISREG(info.st_mode) else -2


def described_hashes(descriptor: Path) -> dict[str, tuple[int, str]]:
    """The bytes and SHA-256 of every file a data package descriptor lists (resources and their
    ``parts``), by path; empty when it cannot be read."""
    try:
        resources = json.loads(descriptor.read_text(encoding="utf-8")).get("resources", [])
    except (OSError, ValueError, AttributeError):
        return {}
    found: dict[str, tuple[int, str]] = {}
    for resource in resources if isinstance(resources, list) else []:
        parts = resource.get("parts") if isinstance(resource, dict) else None
        for entry in [resource, *(parts if isinstance(parts, list) else [])]:
            if not isinstance(entry, dict):
                continue
            path, size, digest = entry.get("path"), entry.get("bytes"), entry.get("hash")
            if isinstance(path, str) and isinstance(size, int) and str(digest).startswith("sha256:"):
                found[path] = (size, str(digest).removeprefix("sha256:"))
    return found


def _stamp_matches(out: Path, stamp: Path, fingerprint: str, cache: HashCache | None = None) -> bool:
    try:
        data = json.loads((out / stamp).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != STAMP_VERSION:
            return False
        hasher = cache or HashCache(out)
        if data.get("inputs") != fingerprint or not isinstance(data.get("outputs"), dict):
            return False
        return all(
            isinstance(h, str) and _inside(out, name) and hasher.sha256(out / name) == h
            for name, h in data["outputs"].items()
        )
    except (OSError, ValueError, NotFingerprintable):
        return False


def _inside(out: Path, name: str) -> bool:
    relative = Path(name)
    return not relative.is_absolute() and ".." not in relative.parts


def _free(out: Path) -> bool:
    """True when no other run holds ``out`` (the lock a build takes while writing)."""
    try:
        fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing releases the lock


def up_to_date(project_root: Path, out: Path, stamps: tuple[Path, ...] = (BUILD_STAMP,)) -> bool:
    """True when ``out`` holds exactly what a successful build of the current inputs of
    ``project_root`` wrote, as each of ``stamps`` records it (see the module docstring);
    False whenever in doubt."""
    return freshness(project_root, out, stamps)[0]


def freshness(
    project_root: Path, out: Path, stamps: tuple[Path, ...] = (BUILD_STAMP,)
) -> tuple[bool, str | None]:
    """:func:`up_to_date`, and the inputs' fingerprint when it was computed (None when the
    answer came before it, or an input is not fingerprintable): a build that follows hands it
    on rather than hashing everything again."""
    if not out.is_dir() or out.is_symlink() or any(os.path.lexists(out / p) for p in PENDING):
        return False, None
    if not _free(out):
        return False, None
    cache = HashCache(project_root)
    try:
        fingerprint = input_fingerprint(project_root, cache)
    except NotFingerprintable:
        return False, None
    current = all(_stamp_matches(out, stamp, fingerprint, cache) for stamp in stamps)
    cache.save()
    return current, fingerprint


# --- the whole release, for make ----------------------------------------------------------------


def release_files(root: Path, dist: Path) -> list[str]:
    """What a release run leaves besides the build outputs: the docs files and the archives
    of the current version in ``dist`` (named by the package's name and version)."""
    import yaml  # only when recording, never on the fast path

    package = yaml.safe_load((root / "schemas/package.yaml").read_text(encoding="utf-8"))
    base = f"{package['name']}-{package['version']}"
    relative = os.path.relpath(dist.resolve(), root.resolve())
    archives = [f"{relative}/{base}.zip", f"{relative}/{base}.tar.gz", f"{relative}/{base}/SHA256SUMS"]
    return [BUILD_STAMP.as_posix(), *[d for d in DOCS_OUTPUTS if (root / d).is_file()], *archives]


def record_release(root: Path, dist: Path) -> None:
    """Write ``.newstables-release.json`` after a successful ``make release``."""
    fingerprint = input_fingerprint(root)
    outputs = output_hashes(root, release_files(root, dist))
    draft = root / (RELEASE_STAMP.as_posix() + ".draft")
    draft.write_text(stamp_text(fingerprint, outputs), encoding="utf-8")
    os.replace(draft, root / RELEASE_STAMP)


def release_up_to_date(root: Path) -> bool:
    """True when the build stamp and the release stamp both still hold."""
    return up_to_date(root, root, (BUILD_STAMP, RELEASE_STAMP))


def main(argv: list[str]) -> int:
    """``check-release`` (exit 0 and say "up to date", or exit 1) or ``record-release``.

    Example: ``python -m newstables.core.fingerprint check-release --dist dist``
    """
    command = argv[0] if argv else ""
    dist = Path(argv[argv.index("--dist") + 1]) if "--dist" in argv else Path("dist")
    root = Path(".").resolve()
    if command == "check-release":
        if release_up_to_date(root):
            print("up to date: inputs, outputs and the release are unchanged")
            return 0
        return 1
    if command == "record-release":
        record_release(root, dist)
        return 0
    print("usage: python -m newstables.core.fingerprint check-release|record-release [--dist DIR]")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
