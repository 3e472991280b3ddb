"""Cut a new version in one step: set ``version`` and ``created`` in ``schemas/package.yaml``
(only those two lines change: comments and layout are kept), then regenerate
``CITATION.cff``, the data dictionary (``docs/`` and the README section) and add a dated
``CHANGELOG.md`` entry.

The release date is never read from the clock (same inputs, same bytes): the person cutting
the release gives it. If any step fails, every file is put back as it was.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from newstables.checksums import sha256_file
from newstables.diff import DocumentChanges, DocumentRows, document_lines
from newstables.errors import NewstablesError
from newstables.project import PACKAGE_METADATA, Project, load_metadata

LEVELS = ("patch", "minor", "major")
AUTO = "auto"  # the level the documents call for (an added article: minor)
CHANGELOG = Path("CHANGELOG.md")
GENERATED = (Path("CITATION.cff"), Path("docs/data-dictionary.md"), Path("README.md"))
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


@dataclass
class BumpResult:
    """What a bump changed: the versions, the release date and the files written."""

    level: str
    old_version: str
    new_version: str
    date: str
    written: list[Path] = field(default_factory=list)
    proposed: str | None = None  # the level the documents call for, when a previous release is known
    reason: str | None = None  # why, e.g. "1 document added (harbour-gazette): minor"
    documents: DocumentChanges | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "level": self.level,
            "old_version": self.old_version,
            "new_version": self.new_version,
            "date": self.date,
            "proposed": self.proposed,
            "reason": self.reason,
            "documents": self.documents.to_dict() if self.documents is not None else None,
            "written": [p.as_posix() for p in self.written],
        }

    def lines(self) -> list[str]:
        """What the bump did, for people: the versions, and the proposal with its reason."""
        lines = [f"version {self.old_version} -> {self.new_version}, released {self.date}"]
        if self.proposed is not None:
            lines.append(f"proposed: {self.proposed} ({self.reason})")
            if LEVELS.index(self.level) < LEVELS.index(self.proposed):
                lines.append(f"note: you chose {self.level}, below the proposed {self.proposed}")
        return lines


def _invalid(field_name: str, value: Any, detail: str) -> NewstablesError:
    return NewstablesError(
        "bump-invalid", file=PACKAGE_METADATA.as_posix(), field=field_name, value=value, detail=detail
    )


def next_version(version: str, level: str) -> str:
    """The semantic version after a ``patch``, ``minor`` or ``major`` bump."""
    match = _VERSION.fullmatch(version)
    if not match:
        raise _invalid("version", version, "expected MAJOR.MINOR.PATCH to bump it")
    if level not in LEVELS:
        raise _invalid("version", version, f"bump {level!r} is not one of {', '.join(LEVELS)}")
    major, minor, patch = (int(g) for g in match.groups())
    if level == "major":
        return f"{major + 1}.0.0"
    if level == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def parse_date(text: str, previous: str) -> str:
    """A release date ``YYYY-MM-DD``: a real calendar day, not before the previous release."""
    try:
        day = dt.date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        day = None
    if day is None:
        raise _invalid("created", text, "expected a real calendar date YYYY-MM-DD (given with --date)")
    if text < previous:
        raise _invalid("created", text, f"is before the previous release date {previous}")
    return text


def set_scalar(text: str, key: str, value: str) -> str:
    """``text`` with the top-level ``key: value`` line's value replaced (quoted), keeping
    the line's trailing comment and everything else byte for byte."""
    pattern = re.compile(
        rf"^({re.escape(key)}[ \t]*:[ \t]*)(\"[^\"\n]*\"|'[^'\n]*'|[^\s#][^#\n]*?)([ \t]*(?:#[^\n]*)?)$",
        re.M,
    )
    matches = list(pattern.finditer(text))
    if len(matches) != 1:
        raise _invalid(key, None, f"expected exactly one top-level line '{key}: ...' to edit")
    match = matches[0]
    return text[: match.start(2)] + f'"{value}"' + text[match.end(2) :]


def bumped_package_text(text: str, version: str, created: str) -> str:
    """``package.yaml`` with the new version and ``created``, checked by parsing it back."""
    edited = set_scalar(set_scalar(text, "version", version), "created", created)
    parsed = yaml.safe_load(edited)
    if str(parsed.get("version")) != version or str(parsed.get("created")) != created:
        raise _invalid("version", version, "the edited file does not read back as the new version")
    return edited


def changelog_entry(
    result: BumpResult, tables: list[str], counts: dict[str, int], note: str | None = None
) -> str:
    """A dated CHANGELOG entry: version, date, bump (and why), the note, the documents added,
    removed or changed, and the accepted row counts."""
    why = f" Proposed from the documents: {result.reason}." if result.reason else ""
    lines = [
        f"## {result.new_version} — {result.date}",
        "",
        f"{result.level.capitalize()} release (from {result.old_version}).{why}",
        "",
    ]
    if note:
        lines.append(f"- {' '.join(note.split())}")
    if result.documents is not None:
        lines += document_lines(result.documents)
    listed = [f"`{t}` ({counts[t]})" for t in tables if t in counts]
    if listed:
        lines.append("- Tables (rows): " + ", ".join(listed) + ".")
    return "\n".join(lines).rstrip("\n") + "\n"


def with_entry(changelog: str, entry: str, version: str) -> str:
    """The CHANGELOG with ``entry`` above the newest one (or at the end when there is none)."""
    if re.search(rf"^## {re.escape(version)}\b", changelog, flags=re.M):
        raise NewstablesError(
            "bump-invalid",
            file=CHANGELOG.as_posix(),
            field="version",
            value=version,
            detail="CHANGELOG.md already has an entry for this version",
        )
    match = re.search(r"^## ", changelog, flags=re.M)
    if match is None:
        return changelog.rstrip("\n") + "\n\n" + entry
    return changelog[: match.start()] + entry + "\n" + changelog[match.start() :]


@contextmanager
def restoring(paths: list[Path]) -> Iterator[None]:
    """Put every file of ``paths`` back as it was (or remove it) if the block fails."""
    saved = {p: p.read_bytes() if p.is_file() else None for p in paths}
    try:
        yield
    except BaseException:
        for path, data in saved.items():
            if data is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(data)
        raise


def touched_files(project: Project) -> list[Path]:
    """Every file a bump may write."""
    return [project.path(p) for p in (PACKAGE_METADATA, CHANGELOG, *GENERATED)]


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def project_documents(project: Project) -> DocumentRows:
    """The project's documents as a release would list them: the sha256 of each text and the
    values of its ``meta.yaml`` (read from the inputs, no build needed)."""
    from newstables.project import document_text_path
    from newstables.read import META_COLUMNS, document_records, read_documents

    documents: DocumentRows = {}
    for record in document_records(project, read_documents(project)):
        document_id = str(record["document_id"])
        row: dict[str, str | None] = {
            column: None if record.get(column) is None else str(record[column])
            for column in META_COLUMNS.values()
        }
        row["sha256"] = sha256_file(document_text_path(project, document_id))
        documents[document_id] = row
    return documents


def previous_release(project: Project, version: str, previous: Path | None, dist: Path) -> Path | None:
    """The release to compare the documents with: ``previous`` when given, else the
    release of the current version in ``dist`` (``dist/<name>-<version>``) if there is one."""
    if previous is not None:
        return previous
    name = load_metadata(project).get("name")
    candidate = dist / f"{name}-{version}"
    return candidate if candidate.is_dir() else None


def document_changes(project: Project, previous: Path) -> DocumentChanges:
    """Documents added, removed or changed in the project since the release ``previous``
    (a folder or an archive; a release without a ``documents`` table holds the seed only)."""
    from newstables.diff import compare_documents, load_package, opened_release, release_documents

    with opened_release(previous) as folder:
        return compare_documents(release_documents(load_package(folder)), project_documents(project))


def choose_level(level: str, changes: DocumentChanges | None, since: Path | None) -> str:
    """The bump level: the one given, or for ``auto`` the one the documents call for."""
    if level != AUTO:
        return level
    if changes is None:
        detail = "no previous release to compare the documents with: give --previous or the level"
    elif changes.bump == "none":
        detail = f"no document added, removed or changed since {since}: give the level"
    else:
        return changes.bump
    raise _invalid("version", level, detail)


def bump(
    project_root: Path,
    level: str,
    date: str,
    note: str | None = None,
    previous: Path | None = None,
    dist: Path = Path("dist"),
) -> BumpResult:
    """Bump the version (``patch``/``minor``/``major``, or ``auto``: the level the documents
    call for) with release date ``date`` (``YYYY-MM-DD``, never the clock); regenerate the
    citation, the dictionary and add a dated CHANGELOG entry. The documents are compared
    with the previous release (``previous``, else ``dist/<name>-<version>`` if present):
    an added article proposes ``minor``, and the entry lists the documents added, removed
    and changed. Returns what changed; on failure nothing is changed.

    Example: ``bump(Path("."), "minor", "2026-12-05")`` turns 0.1.0 into 0.2.0.
    """
    from newstables.counts import read_expected
    from newstables.docs import write_docs
    from newstables.metadata import release_date
    from newstables.project import table_names

    project = Project(project_root.resolve())
    metadata = load_metadata(project)
    old = str(metadata["version"])
    since = previous_release(project, old, previous, dist)
    changes = document_changes(project, since) if since is not None else None
    level = choose_level(level, changes, since)
    result = BumpResult(level, old, next_version(old, level), parse_date(date, release_date(metadata)))
    if changes is not None and changes.bump != "none":
        result.proposed, result.reason, result.documents = changes.bump, changes.reason(), changes
    package_path = project.path(PACKAGE_METADATA)
    package_text = bumped_package_text(
        package_path.read_text(encoding="utf-8"), result.new_version, f"{result.date}T00:00:00Z"
    )
    changelog_path = project.path(CHANGELOG)
    changelog = changelog_path.read_text(encoding="utf-8") if changelog_path.is_file() else "# Changelog\n"
    tables = table_names(metadata)
    entry = changelog_entry(result, tables, read_expected(project, tables), note)
    changelog = with_entry(changelog, entry, result.new_version)
    with restoring(touched_files(project)):
        _write(package_path, package_text)
        regenerated = write_docs(project.root)
        _write(changelog_path, changelog)
    result.written = [PACKAGE_METADATA, *regenerated, CHANGELOG]
    return result


def release_with_bump(
    project_root: Path, dist: Path, previous: Path | None, level: str, date: str, note: str | None = None
) -> tuple[BumpResult, list[Path]]:
    """Bump, then release the new version; if the release fails the bump is undone.

    Example: ``release_with_bump(Path("."), Path("dist"), None, "patch", "2026-12-05")``.
    """
    from newstables.release import release

    project = Project(project_root.resolve())
    with restoring(touched_files(project)):
        result = bump(project.root, level, date, note, previous, dist)
        placed = release(project.root, dist, previous)
    return result, placed
