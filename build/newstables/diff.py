"""Compare two releases: rows added / removed / changed by primary key, schema changes,
and the semantic-version bump they call for (Data Package versioning).

Bump rules: a removed table, removed or renamed field, changed field type, changed primary
key or removed row (its id disappears) -> ``major``; an added table, field or row ->
``minor``; only changed values -> ``patch``; nothing -> ``none``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from newstables.core.formats import arrow_table, read_csv_text_sql, write_csv, write_parquet
from newstables.core.model import CHANGES, changes_resource, changes_schema_text, read_descriptor
from newstables.errors import ErrorList, NewstablesError
from newstables.project import DATAPACKAGE, csv_path, parquet_path, schema_path
from newstables.verify import ARCHIVE_SUFFIXES, extract_archive

ID_MAP = Path("id-map.yaml")  # legacy (before the redirects table): read in old releases only
REDIRECTS = "redirects"
BUMP_ORDER = ("none", "patch", "minor", "major")
KEY_SEPARATOR = "/"
Rows = dict[tuple[str, ...], dict[str, str | None]]


@dataclass
class Package:
    """A release (or build output) read for comparison: version, schemas and rows."""

    root: Path
    version: str
    schemas: dict[str, dict[str, Any]]
    rows: dict[str, Rows]


@dataclass
class TableDiff:
    """What changed in one table between two releases."""

    name: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[tuple[str, list[str]]] = field(default_factory=list)
    fields_added: list[str] = field(default_factory=list)
    fields_removed: list[str] = field(default_factory=list)
    types_changed: list[tuple[str, str, str]] = field(default_factory=list)
    table_added: bool = False
    table_removed: bool = False
    key_changed: bool = False

    @property
    def bump(self) -> str:
        """The version bump this table's changes call for."""
        if (
            self.table_removed
            or self.fields_removed
            or self.types_changed
            or self.key_changed
            or self.removed
        ):
            return "major"
        if self.table_added or self.fields_added or self.added:
            return "minor"
        return "patch" if self.changed else "none"


# What tells two captures of a document apart: its text (sha256) and its meta.yaml values.
DOCUMENT_FIELDS = (
    "sha256",
    "outlet",
    "url",
    "date_published",
    "date_precision",
    "date_basis",
    "language",
    "relation",
    "relation_source_id",
)
SEED_DOCUMENT = "article"
DocumentRows = dict[str, dict[str, str | None]]


@dataclass
class DocumentChanges:
    """Documents (articles) added, removed and changed (text or metadata) between releases."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[tuple[str, list[str]]] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # document id -> "outlet, date"

    @property
    def bump(self) -> str:
        """A removed document is ``major`` (its ids disappear), an added one ``minor``, a
        re-captured text or corrected metadata ``patch``."""
        if self.removed:
            return "major"
        if self.added:
            return "minor"
        return "patch" if self.changed else "none"

    def reason(self) -> str | None:
        """Why the documents call for their bump, in one sentence (``None``: no change)."""
        parts = [
            f"{len(ids)} document{'s' if len(ids) != 1 else ''} {verb} ({', '.join(ids)})"
            for verb, ids in (
                ("added", self.added),
                ("removed", self.removed),
                ("changed", [d for d, _ in self.changed]),
            )
            if ids
        ]
        return f"{'; '.join(parts)}: {self.bump}" if parts else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "bump": self.bump,
            "reason": self.reason(),
            "added": [{"document_id": d, "label": self.labels.get(d)} for d in self.added],
            "removed": [{"document_id": d, "label": self.labels.get(d)} for d in self.removed],
            "changed": [
                {"document_id": d, "fields": f, "label": self.labels.get(d)} for d, f in self.changed
            ],
        }


def _blank(value: str | None) -> str | None:
    return None if value in (None, "") else str(value)


def release_documents(package: Package) -> DocumentRows:
    """The documents of a release by id. A release from before the corpus layout (no
    ``documents`` table: 0.1.0, 0.2.0) holds the seed document only, known by the sha256 of
    its ``sources`` row."""
    if "documents" in package.rows:
        return {key[0]: dict(row) for key, row in package.rows["documents"].items()}
    seed = package.rows.get("sources", {}).get((SEED_DOCUMENT,), {})
    return {SEED_DOCUMENT: {"sha256": seed.get("sha256")}}


def document_label(row: dict[str, str | None]) -> str:
    """``outlet, date`` of a document, for people (empty parts left out)."""
    return ", ".join(str(v) for v in (row.get("outlet"), row.get("date_published")) if _blank(v))


def compare_documents(old: DocumentRows, new: DocumentRows) -> DocumentChanges:
    """Documents added, removed and changed; a field counts as changed only when both sides
    know it (an old release without meta.yaml values compares the text's sha256 alone)."""
    changes = DocumentChanges(added=sorted(new.keys() - old.keys()), removed=sorted(old.keys() - new.keys()))
    for document_id in sorted(old.keys() & new.keys()):
        before, after = old[document_id], new[document_id]
        differing = [
            f for f in DOCUMENT_FIELDS if f in before and f in after and _blank(before[f]) != _blank(after[f])
        ]
        if differing:
            changes.changed.append((document_id, differing))
    changes.labels = {d: document_label(row) for d, row in {**old, **new}.items() if document_label(row)}
    return changes


@dataclass
class Diff:
    """The comparison of two releases."""

    old_version: str
    new_version: str
    tables: list[TableDiff]
    documents: DocumentChanges = field(default_factory=DocumentChanges)

    @property
    def bump(self) -> str:
        """The largest bump any table (or the documents) calls for."""
        bumps = [t.bump for t in self.tables] + [self.documents.bump]
        return max(bumps, key=BUMP_ORDER.index, default="none")


# --- reading ----------------------------------------------------------------------------------


def read_rows(path: Path, key: list[str], id_maps: dict[str, list[dict[str, str]]]) -> Rows:
    """A CSV's rows as text keyed by primary key, with id-map renames applied per column."""
    con = duckdb.connect()
    try:
        relation = con.execute(f"SELECT * FROM {read_csv_text_sql(path)}")
    except duckdb.Error as exc:
        raise NewstablesError(
            "not-a-package", file=str(path), detail=f"unreadable CSV: {' '.join(str(exc).split())[:200]}"
        ) from exc
    columns = [c[0] for c in relation.description]
    for name in key:
        if name not in columns:
            con.close()
            raise NewstablesError("schema-field-missing", file=str(path), field=name)
    rows: Rows = {}
    for values in relation.fetchall():
        row = dict(zip(columns, values, strict=True))
        for column, maps in id_maps.items():
            for mapping in maps:
                if row.get(column) in mapping:
                    row[column] = mapping[str(row[column])]
        rows[tuple(str(row.get(k)) for k in key)] = row
    con.close()
    return rows


def load_id_map(root: Path) -> dict[str, dict[str, str]]:
    """The ids a release redirects, table -> {old_id: final id}: its ``redirects`` table
    (``data/redirects.csv``, chains followed to the final id), or, for a release published
    before that table existed, its legacy ``id-map.yaml``; else an empty map."""
    redirects = root / csv_path(REDIRECTS)
    if redirects.is_file():
        return read_redirects(redirects)
    path = root / ID_MAP
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    valid = isinstance(data, dict) and all(
        isinstance(m, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in m.items())
        for m in data.values()
    )
    if not valid:
        raise NewstablesError(
            "id-map-invalid",
            file=ID_MAP.as_posix(),
            detail="not a mapping of table names to {old_id: new_id} string maps",
        )
    return {str(table): dict(mapping) for table, mapping in data.items()}


def read_redirects(path: Path) -> dict[str, dict[str, str]]:
    """``data/redirects.csv`` as table -> {old_id: final id}, following chains (a loop, which
    the build refuses, stops where it closes)."""
    con = duckdb.connect()
    try:
        found = con.execute(f"SELECT table_name, old_id, new_id FROM {read_csv_text_sql(path)}").fetchall()
    except duckdb.Error as exc:
        raise NewstablesError(
            "not-a-package", file=str(path), detail=f"unreadable CSV: {' '.join(str(exc).split())[:200]}"
        ) from exc
    finally:
        con.close()
    pairs: dict[str, dict[str, str]] = {}
    for table, old, new in found:
        if new is not None:  # a retraction (empty new_id) renames nothing: the row is removed
            pairs.setdefault(str(table), {})[str(old)] = str(new)
    resolved: dict[str, dict[str, str]] = {}
    for table, mapping in pairs.items():
        for old, new in mapping.items():
            seen, current = {old}, new
            while current in mapping and current not in seen:
                seen.add(current)
                current = mapping[current]
            resolved.setdefault(table, {})[old] = current
    return resolved


def column_id_maps(
    table: str, schema: dict[str, Any], id_map: dict[str, dict[str, str]]
) -> dict[str, list[dict[str, str]]]:
    """Which columns of ``table`` carry ids that the id map renames.

    A table's own single-column primary key takes its table's map; a single-column foreign
    key takes the map of the table it references.
    """
    maps: dict[str, list[dict[str, str]]] = {}
    key = schema.get("primaryKey", [])
    if len(key) == 1 and table in id_map:
        maps.setdefault(key[0], []).append(id_map[table])
    for fk in schema.get("foreignKeys", []):
        target = fk["reference"]["resource"] or table
        if len(fk["fields"]) == 1 and target in id_map and fk["fields"][0] not in maps:
            maps.setdefault(fk["fields"][0], []).append(id_map[target])
    return maps


def release_schema(root: Path, resource: dict[str, Any]) -> dict[str, Any]:
    """A released table's schema: fields with a name and type, and a primary key."""
    relative = str(resource["schema"])
    path = root / relative
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NewstablesError("schema-invalid", file=relative, detail=f"cannot read it: {exc}") from exc
    fields = schema.get("fields") if isinstance(schema, dict) else None
    valid = (
        isinstance(fields, list)
        and all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in fields)
        and isinstance(schema.get("primaryKey"), list)
        and isinstance(schema.get("foreignKeys", []), list)
    )
    if not valid:
        raise NewstablesError(
            "schema-invalid", file=relative, detail="expected fields (each with a name) and a primaryKey list"
        )
    return dict(schema)


def rekey_composite(rows: Rows, key: list[str], mapping: dict[str, str]) -> Rows:
    """Redirect rows of a table with a composite key: ``id-map.yaml`` names them by their key
    values joined with ``/`` (e.g. ``statement/event/made_in: statement/event/planned_for``),
    as the diff prints them. A mapping whose new key has the wrong number of parts is ignored."""
    moved: Rows = {}
    for old_key, row in rows.items():
        new_key = tuple(mapping.get("/".join(old_key), "/".join(old_key)).split("/"))
        if len(new_key) != len(key):
            new_key = old_key
        moved[new_key] = {**row, **dict(zip(key, new_key, strict=True))}
    return moved


def load_package(root: Path, id_map: dict[str, dict[str, str]] | None = None) -> Package:
    """Read a release folder (or build output) with ``datapackage.json``."""
    descriptor, problems = read_descriptor(root / DATAPACKAGE, str(root / DATAPACKAGE))
    if descriptor is None:
        raise problems[0]
    schemas: dict[str, dict[str, Any]] = {}
    rows: dict[str, Rows] = {}
    for resource in descriptor["resources"]:
        if resource.get("format") != "csv" or not isinstance(resource.get("schema"), str):
            continue
        name = str(resource.get("name"))
        schemas[name] = release_schema(root, resource)
        maps = column_id_maps(name, schemas[name], id_map or {})
        rows[name] = read_rows(root / str(resource.get("path")), schemas[name]["primaryKey"], maps)
        if len(schemas[name]["primaryKey"]) > 1 and name in (id_map or {}):
            rows[name] = rekey_composite(rows[name], schemas[name]["primaryKey"], (id_map or {})[name])
    return Package(root, str(descriptor.get("version", "")), schemas, rows)


# --- comparing --------------------------------------------------------------------------------


def _types(schema: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["type"] for f in schema.get("fields", [])}


def compare_schemas(diff: TableDiff, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Record fields added, removed and retyped, and a changed primary key."""
    old_types, new_types = _types(old), _types(new)
    diff.fields_added = [f for f in new_types if f not in old_types]
    diff.fields_removed = [f for f in old_types if f not in new_types]
    diff.types_changed = [
        (f, old_types[f], new_types[f]) for f in new_types if f in old_types and old_types[f] != new_types[f]
    ]
    diff.key_changed = list(old.get("primaryKey", [])) != list(new.get("primaryKey", []))


def compare_rows(diff: TableDiff, old: Rows, new: Rows, columns: list[str]) -> None:
    """Record rows added, removed and changed (with the differing columns)."""
    diff.added = sorted(KEY_SEPARATOR.join(k) for k in new.keys() - old.keys())
    diff.removed = sorted(KEY_SEPARATOR.join(k) for k in old.keys() - new.keys())
    for key in sorted(old.keys() & new.keys()):
        differing = [c for c in columns if old[key].get(c) != new[key].get(c)]
        if differing:
            diff.changed.append((KEY_SEPARATOR.join(key), differing))


def compare_table(name: str, old: Package, new: Package) -> TableDiff:
    """Compare one table present in either release."""
    diff = TableDiff(name)
    if name not in old.schemas:
        diff.table_added = True
        diff.added = sorted(KEY_SEPARATOR.join(k) for k in new.rows[name])
        return diff
    if name not in new.schemas:
        diff.table_removed = True
        diff.removed = sorted(KEY_SEPARATOR.join(k) for k in old.rows[name])
        return diff
    compare_schemas(diff, old.schemas[name], new.schemas[name])
    if not diff.key_changed:
        common = [f for f in _types(new.schemas[name]) if f in _types(old.schemas[name])]
        compare_rows(diff, old.rows[name], new.rows[name], common)
    return diff


def compare(old: Package, new: Package) -> Diff:
    """Compare every table of two releases (new order first, then tables only in old)."""
    names = list(new.schemas) + [n for n in old.schemas if n not in new.schemas]
    names = [n for n in names if n != CHANGES]
    documents = compare_documents(release_documents(old), release_documents(new))
    return Diff(old.version, new.version, [compare_table(n, old, new) for n in names], documents)


def is_archive(path: Path) -> bool:
    """True for a file named like a release archive (``.zip``, ``.tar.gz``, ``.tgz``)."""
    return path.is_file() and path.name.endswith(ARCHIVE_SUFFIXES)


@contextmanager
def opened_release(path: Path) -> Iterator[Path]:
    """The release folder to read: ``path`` itself, or, for an archive, the folder it holds,
    extracted by verify's safe extraction into a temporary folder removed afterwards."""
    if not is_archive(path):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="newstables-diff-") as tmp:
        root, errors = extract_archive(path, Path(tmp))
        if errors:
            raise ErrorList(errors)
        yield root


def diff_paths(old_root: Path, new_root: Path) -> Diff:
    """Compare two releases (folders or their .zip / .tar.gz archives); NEW's redirects
    (its ``redirects`` table, or a legacy ``id-map.yaml``) rename OLD's ids before comparing.

    Example: ``diff_paths(Path("dist/x-0.1.0.zip"), Path("dist/x-0.2.0")).bump`` -> ``"minor"``.
    """
    from newstables.core.staging import recover_around

    with opened_release(old_root) as old, opened_release(new_root) as new:
        recover_around(old)
        recover_around(new)
        id_map = load_id_map(new)
        return compare(load_package(old, id_map), load_package(new))


# --- reporting --------------------------------------------------------------------------------


def _table_lines(table: TableDiff) -> list[str]:
    parts = []
    if table.table_added:
        parts.append("new table")
    if table.table_removed:
        parts.append("table removed")
    if table.key_changed:
        parts.append("primary key changed")
    parts += [f"field `{f}` added" for f in table.fields_added]
    parts += [f"field `{f}` removed" for f in table.fields_removed]
    parts += [f"field `{f}` type {a} → {b}" for f, a, b in table.types_changed]
    lines = [f"- **{table.name}**: " + "; ".join(parts)] if parts else []
    lines += [f"- **{table.name}**: added `{k}`" for k in table.added]
    lines += [f"- **{table.name}**: removed `{k}`" for k in table.removed]
    lines += [f"- **{table.name}**: changed `{k}` ({', '.join(cols)})" for k, cols in table.changed]
    return lines


def document_lines(documents: DocumentChanges) -> list[str]:
    """One Markdown line per document added, removed or changed (with what changed)."""

    def named(document_id: str) -> str:
        label = documents.labels.get(document_id)
        return f"`{document_id}`" + (f" ({label})" if label else "")

    lines = [f"- Document added: {named(d)}" for d in documents.added]
    lines += [f"- Document removed: {named(d)}" for d in documents.removed]
    lines += [f"- Document changed: {named(d)}: {', '.join(fields)}" for d, fields in documents.changed]
    return lines


def markdown(diff: Diff, heading: str = "##") -> str:
    """A CHANGELOG-ready Markdown summary of the comparison: documents first, then rows
    (``heading``: ``##`` for an entry of its own, ``###`` for a section inside the entry the
    bump wrote for this version)."""
    counts = {
        kind: sum(len(getattr(t, kind)) for t in diff.tables) for kind in ("added", "removed", "changed")
    }
    documents = diff.documents
    lines = [
        f"{heading} {diff.new_version} (from {diff.old_version}; proposed bump: {diff.bump})"
        if heading == "##"
        else f"{heading} Changes since {diff.old_version} (proposed bump: {diff.bump})",
        "",
        f"Documents added: {len(documents.added)}, removed: {len(documents.removed)}, "
        f"changed: {len(documents.changed)}. "
        f"Rows added: {counts['added']}, removed: {counts['removed']}, changed: {counts['changed']}.",
        "",
    ]
    body = document_lines(documents) + [line for table in diff.tables for line in _table_lines(table)]
    return "\n".join(lines + (body or ["- No changes."])) + "\n"


def row_totals(diff: Diff) -> dict[str, int]:
    """Rows added, removed and changed over all tables."""
    return {kind: sum(len(getattr(t, kind)) for t in diff.tables) for kind in ("added", "removed", "changed")}


def table_dict(table: TableDiff) -> dict[str, Any]:
    """One table's changes as JSON-ready data."""
    return {
        "name": table.name,
        "bump": table.bump,
        "rows": {"added": len(table.added), "removed": len(table.removed), "changed": len(table.changed)},
        "added": table.added,
        "removed": table.removed,
        "changed": [{"key": key, "columns": columns} for key, columns in table.changed],
        "table_added": table.table_added,
        "table_removed": table.table_removed,
        "key_changed": table.key_changed,
        "fields_added": table.fields_added,
        "fields_removed": table.fields_removed,
        "types_changed": [{"field": f, "old": a, "new": b} for f, a, b in table.types_changed],
    }


def diff_dict(diff: Diff) -> dict[str, Any]:
    """The whole comparison as JSON-ready data: versions, proposed bump, totals, tables."""
    return {
        "old_version": diff.old_version,
        "new_version": diff.new_version,
        "bump": diff.bump,
        "rows": row_totals(diff),
        "documents": diff.documents.to_dict(),
        "tables": [table_dict(t) for t in diff.tables],
    }


def change_rows(diff: Diff) -> list[dict[str, Any]]:
    """Rows of the ``changes`` table, sorted by table and key."""
    rows: list[dict[str, Any]] = []
    for table in diff.tables:
        rows += [
            {"table_name": table.name, "primary_key": k, "change": "added", "changed_columns": None}
            for k in table.added
        ]
        rows += [
            {"table_name": table.name, "primary_key": k, "change": "removed", "changed_columns": None}
            for k in table.removed
        ]
        rows += [
            {
                "table_name": table.name,
                "primary_key": k,
                "change": "changed",
                "changed_columns": ";".join(cols),
            }
            for k, cols in table.changed
        ]
    return sorted(rows, key=lambda r: (r["table_name"], r["primary_key"]))


def write_changes(diff: Diff, root: Path) -> list[Path]:
    """Write the ``changes`` table (CSV, Parquet) and its schema file into ``root``.

    The table is an ordinary resource of the metadata model (``core/changes.schema.json``).
    """
    schema_file = root / schema_path(CHANGES)
    if not schema_file.is_file():
        schema_file.parent.mkdir(parents=True, exist_ok=True)
        schema_file.write_text(changes_schema_text(), encoding="utf-8")
    description = f"Rows added, removed or changed since version {diff.old_version}."
    arrow = arrow_table(changes_resource(description), change_rows(diff))
    (root / parquet_path(CHANGES)).parent.mkdir(parents=True, exist_ok=True)
    write_csv(arrow, root / csv_path(CHANGES))
    write_parquet(arrow, root / parquet_path(CHANGES))
    if (root / "SHA256SUMS").is_file():
        print(
            f"note: {root / 'SHA256SUMS'} does not list the changes table; re-release to seal it",
            file=sys.stderr,
        )
    return [csv_path(CHANGES), parquet_path(CHANGES), schema_path(CHANGES)]
