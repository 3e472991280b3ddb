"""The per-document build cache: a document whose inputs did not change is not resolved again.

A document's rows depend only on its text, its own annotation files, the regions registry
(boilerplate is never evidence), the table schemas with their derived-id templates, and the
code that builds rows. The cache key is the SHA-256 of all of these; an entry holds what
resolving the document's evidence found: the span of every record whose excerpt was searched
for in the text (a record without ``char_start``/``char_end``), by file and record number. On a
hit the records are read and their rows built again (typing and checks are cheaper than
storing and decoding them: an entry of whole records and rows was 25 KB a document, written
and read back at about the CPU cost of building them), but no excerpt is searched for: each
cached span is only checked against the text (``raw[start:end] == excerpt``), as every row's
evidence is. Everything that spans documents (keys, foreign keys, the gate) is checked on
every build.

The cache lives in ``.newstables-cache/`` in the project (ignored by git, never part of a
release), one SQLite database (``DocumentCache``); entries are JSON, never pickle, and a damaged
entry or database is a miss. Deleting the folder is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

CACHE_DIR = ".newstables-cache"
DATABASE = "documents.sqlite"
BUSY_SECONDS = 120.0  # how long a writer waits for another (a shard's entries take well under a second)
# Bump when the rows built from the same inputs change (a new column, a new rule).
CACHE_FORMAT = "newstables-document-cache-3"

# A document's entry: file (project-relative) -> record number in the file -> (start, end).
Spans = dict[str, dict[int, tuple[int, int]]]


@dataclass
class DocumentCache:
    """Cache entries by document, plus what this build found: hits, and documents resolved.

    The entries are rows of one SQLite database (``documents.sqlite`` in :attr:`folder`; key,
    JSON text), not one file per document: a corpus of 100,000 documents made as many files,
    and creating a file in that folder cost more CPU than encoding its entry. SQLite (in the
    standard library) lets the shard processes and concurrent builds read and write at once
    (write-ahead log, a wait on a busy database) and keeps a torn write out of the entries; a
    database that cannot be read is a miss, and is replaced when the next entry is saved."""

    root: Path
    fingerprint: str  # of everything shared by all documents (schemas, regions, code)
    hits: set[str] = field(default_factory=set)  # documents whose spans came from the cache
    misses: dict[str, str] = field(default_factory=dict)  # documents resolved, with their keys
    _connection: sqlite3.Connection | None = field(default=None, repr=False)
    _absent: bool | None = field(default=None, repr=False)  # no database when first asked

    @property
    def folder(self) -> Path:
        """Where the entries are."""
        return self.root / CACHE_DIR

    @property
    def database(self) -> Path:
        """The SQLite file holding the entries."""
        return self.folder / DATABASE

    def key(self, document_id: str, files: list[Path]) -> str:
        """The SHA-256 of the shared fingerprint, the document id and its files' names and bytes."""
        return self.key_of(document_id, [(path.name, path.read_bytes()) for path in files])

    def key_of(self, document_id: str, files: Iterable[tuple[str, bytes]]) -> str:
        """:meth:`key` of files already read: (name, bytes), in the order :meth:`key` takes them."""
        digest = hashlib.sha256(f"{self.fingerprint}\0{document_id}\0".encode())
        for name, data in files:
            digest.update(name.encode() + b"\0")
            digest.update(hashlib.sha256(data).digest())
        return digest.hexdigest()

    def load(self, key: str) -> Spans | None:
        """The entry for ``key``, or None (missing or unreadable: a miss, never an error)."""
        return self.load_many([key]).get(key)

    def load_many(self, keys: list[str]) -> dict[str, Spans]:
        """The entries of those ``keys`` that have a readable one (the others are misses), in one
        query per 900 keys (under the oldest SQLite limit of 999 parameters), not one per document."""
        if self._connection is None:
            if self._absent is None:  # asked once: a build's own entries are saved after its reads
                self._absent = not self.database.is_file()
            if self._absent:
                return {}
        found: dict[str, Spans] = {}
        try:
            connection = self._connect()
            for start in range(0, len(keys), 900):
                part = keys[start : start + 900]
                marks = ", ".join("?" * len(part))
                for key, body in connection.execute(
                    f"SELECT key, body FROM entries WHERE key IN ({marks})", part
                ).fetchall():
                    spans = _spans(body)
                    if spans is not None:
                        found[key] = spans
        except sqlite3.Error:
            return {}
        return found

    def save(self, key: str, spans: Spans) -> None:
        """Write one entry (see :meth:`save_all`)."""
        self.save_all([(key, spans)])

    def save_all(self, entries: list[tuple[str, Spans]]) -> None:
        """Write entries (key, spans) in one transaction; a database that cannot be written is
        replaced by a new one, once (a cache is never worth failing a build for)."""
        rows = [
            (
                key,
                json.dumps(
                    {
                        "format": CACHE_FORMAT,
                        "spans": {
                            file: [[index, *span] for index, span in sorted(found.items())]
                            for file, found in sorted(spans.items())
                        },
                    },
                    separators=(",", ":"),
                ),
            )
            for key, spans in entries
        ]
        self._absent = None
        for attempt in (1, 2):
            try:
                with self._connect() as connection:  # one transaction: committed, or rolled back
                    connection.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?)", rows)
                return
            except sqlite3.DatabaseError:
                self.close()
                if attempt == 1:
                    self.database.unlink(missing_ok=True)  # damaged: deleting the cache is safe

    def close(self) -> None:
        """Close the database (reopened when it is used again)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self.folder.mkdir(exist_ok=True)
            connection = sqlite3.connect(self.database, timeout=BUSY_SECONDS, isolation_level="DEFERRED")
            try:
                connection.execute("PRAGMA journal_mode = WAL")  # readers and one writer at once
                connection.execute("PRAGMA synchronous = NORMAL")  # a lost entry is a miss, no more
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, body TEXT NOT NULL)"
                    " WITHOUT ROWID"
                )
            except sqlite3.Error:
                connection.close()
                raise
            self._connection = connection
        return self._connection


def _spans(body: str) -> Spans | None:
    """An entry's spans from its JSON text (None: unreadable, or of another format)."""
    try:
        data = json.loads(body)
        if data.get("format") != CACHE_FORMAT:
            return None
        return {
            file: {index: (start, end) for index, start, end in spans}
            for file, spans in data["spans"].items()
        }
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None


def save_misses(cache: DocumentCache, tables: Sequence[tuple[str, Sequence[Any], Sequence[Any]]]) -> None:
    """Store, for every document this build resolved (``cache.misses``), the spans its records'
    excerpts were found at (``tables``: name, records, rows; the rows are not stored). A record
    is a ``read.Record``: ``folder_document`` says which document's folder it was read from
    (records of the corpus-wide registry are not stored: their document may change), ``file``
    and ``index`` where it stands, ``found_span`` what searching for its excerpt found (None:
    its offsets were given, or it has no excerpt). Every resolved document gets an entry, an
    empty one too: it says the document's inputs were built."""
    if not cache.misses:
        cache.close()
        return
    entries: dict[str, Spans] = {document: {} for document in cache.misses}
    for _, records, _ in tables:
        for record in records:
            span = record.found_span
            if span is not None:
                found = entries.get(record.folder_document)
                if found is not None:
                    found.setdefault(record.file, {})[record.index] = span
    cache.save_all([(cache.misses[document], spans) for document, spans in entries.items()])
    cache.close()  # the build's last use of the cache: the write-ahead log is folded in


def fingerprint(root: Path, shared_files: list[Path], extra: str) -> str:
    """The SHA-256 of the files every document's rows depend on, and of ``extra`` text."""
    digest = hashlib.sha256(f"{CACHE_FORMAT}\0{extra}\0".encode())
    for path in shared_files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest() if path.is_file() else b"-")
    return digest.hexdigest()


# --- per-table verdicts of the structural checks -----------------------------------------------


def code_version() -> str:
    """A hash of the running code and libraries: every file of the newstables package, the Python
    version and the installed distributions (computed once per process)."""
    if not _CODE:
        from newstables.core.fingerprint import environment_lines, package_lines

        lines = package_lines() + environment_lines()
        _CODE.append(hashlib.sha256("\n".join(lines).encode()).hexdigest())
    return _CODE[0]


_CODE: list[str] = []
VERDICT_FORMAT = "newstables-verdict-1"


@dataclass
class VerdictCache:
    """The tables a structural check passed on earlier builds, so that a build which changed one
    table does not check the others again.

    A key is the SHA-256 of everything the check's verdict on one table depends on (the check's
    name, the table's file bytes and schema, what it reads of other tables, and
    :func:`code_version`); only "passed" is remembered, so a table with findings, or one not
    seen before, is always checked. Entries are empty files named by their key, outside every
    project (``core.paths.user_cache_dir("verdicts")``; ``NEWSTABLES_CACHE_DIR=off``: no cache).
    A cache that cannot be read or written is simply not used.
    """

    folder: Path | None
    check: str

    @classmethod
    def for_check(cls, check: str) -> VerdictCache:
        """The cache of one check (see the class docstring)."""
        from newstables.core.paths import user_cache_dir

        return cls(user_cache_dir("verdicts"), check)

    def key(self, *parts: str) -> str:
        """The key of one table's verdict: the check, the code and ``parts``."""
        text = "\0".join([VERDICT_FORMAT, self.check, code_version(), *parts])
        return hashlib.sha256(text.encode()).hexdigest()

    def passed(self, key: str) -> bool:
        """True when a verdict "passed" was remembered under ``key``."""
        return self.folder is not None and (self.folder / key).is_file()

    def remember(self, key: str) -> None:
        """Remember "passed" under ``key`` (an empty file, created atomically)."""
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / key).touch()
        except OSError:
            pass  # a cache that cannot be written is not used


# --- per-table output files ------------------------------------------------------------------------

OUTPUT_FORMAT = "newstables-outputs-1"


@dataclass
class OutputCache:
    """The files a build wrote for one table (its CSV and Parquet files), remembered by what
    decides their bytes, so that a build which changed one table copies the others' files from
    the release it replaces instead of writing them again.

    A key is the SHA-256 of everything the files are written from (the table's Arrow IPC bytes,
    its schema, the writing settings, and :func:`code_version`); an entry records each file's
    release-relative path and SHA-256. A file is reused only when the release folder still holds
    it and the copy staged from it has the recorded hash: the staged bytes are always exactly
    those a fresh write gives. Entries live outside every project
    (``core.paths.user_cache_dir("outputs")``; ``NEWSTABLES_CACHE_DIR=off``: no reuse); a cache
    that cannot be read or written is not used.
    """

    folder: Path | None

    @classmethod
    def for_outputs(cls) -> OutputCache:
        """The cache of the build's table files (see the class docstring)."""
        from newstables.core.paths import user_cache_dir

        return cls(user_cache_dir("outputs"))

    def key(self, *parts: str) -> str:
        """The key of one table's files: the code and ``parts``."""
        text = "\0".join([OUTPUT_FORMAT, code_version(), *parts])
        return hashlib.sha256(text.encode()).hexdigest()

    def reuse(self, key: str, release: Path, staging: Path) -> list[str] | None:
        """Copy the files remembered under ``key`` from ``release`` into ``staging`` and return
        their relative paths (in the order remembered); None, with nothing left staged, when
        there is no entry or any file is missing or differs from its recorded hash."""
        if self.folder is None:
            return None
        try:
            recorded = json.loads((self.folder / key).read_text(encoding="utf-8"))
            files = [(str(name), str(digest)) for name, digest in recorded]
        except (OSError, ValueError, TypeError):
            return None
        copied: list[Path] = []
        try:
            for name, digest in files:
                relative = PurePosixPath(name)
                source = release / relative
                if relative.is_absolute() or ".." in relative.parts or source.is_symlink():
                    raise ValueError(name)
                target = staging / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                copied.append(target)
                shutil.copyfile(source, target)
                # The staged copy is what is checked: a file changed meanwhile is never taken.
                if _file_sha256(target) != digest:
                    raise ValueError(name)
        except (OSError, ValueError):
            for path in copied:
                path.unlink(missing_ok=True)
            return None
        return [name for name, _ in files]

    def remember(self, key: str, staging: Path, names: Sequence[str]) -> None:
        """Record the staged files ``names`` (relative paths) and their hashes under ``key``."""
        if self.folder is None:
            return
        try:
            files = [[name, _file_sha256(staging / name)] for name in names]
            self.folder.mkdir(parents=True, exist_ok=True)
            draft = self.folder / f"{key}.{os.getpid()}.{threading.get_ident()}.draft"
            draft.write_text(json.dumps(files), encoding="utf-8")
            os.replace(draft, self.folder / key)
        except OSError:
            pass  # a cache that cannot be written is not used


def _file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
