"""Verify a published release: a release folder, or its ``.zip`` / ``.tar.gz`` archive.

Every check runs and every problem is collected, so one run names all of them:
``SHA256SUMS`` against the files, each datapackage resource's path, bytes and hash, CSV
headers against the Table Schemas, Parquet readability, row counts, CSV / Parquet / DuckDB
agreement and Frictionless on the whole package.
"""

from __future__ import annotations

import json
import os
import stat
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import duckdb

from newstables.checksums import sha256_file
from newstables.core.formats import read_csv_sql, read_csv_text_sql
from newstables.core.model import Resource, parse_schema, read_descriptor
from newstables.core.parts import found_parts, is_part_path, table_folder
from newstables.errors import ErrorList, NewstablesError
from newstables.project import DATAPACKAGE, DUCKDB_FILE, parquet_files, parquet_path

SUMS = "SHA256SUMS"
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz")
# Limits checked on the archive's own listing BEFORE anything is extracted (a release is a
# few MB; these leave room for a hundred times that while refusing archive bombs).
MAX_MEMBER_BYTES = 512 * 2**20
MAX_TOTAL_BYTES = 2 * 2**30
MAX_MEMBERS = 10_000


def is_unsafe(path: str) -> bool:
    """True for a path that is absolute, has a drive or backslash, or contains ``..``."""
    pure = PurePosixPath(path)
    return (
        not path
        or pure.is_absolute()
        or "\\" in path
        or ".." in pure.parts
        or (len(path) > 1 and path[1] == ":")
    )


# --- archives -------------------------------------------------------------------------------


def _zip_member_ok(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return not is_unsafe(info.filename) and not (mode and stat.S_ISLNK(mode))


class _SizeBudget:
    """Counts members and bytes of an archive's listing against the limits."""

    def __init__(self, archive: Path) -> None:
        self.archive, self.members, self.total = archive, 0, 0

    def refusal(self, name: str, size: int) -> NewstablesError | None:
        """The error for the member that breaks a limit, or None while all is within them."""
        self.members, self.total = self.members + 1, self.total + size
        limits = [
            (size > MAX_MEMBER_BYTES, "member size", size, MAX_MEMBER_BYTES),
            (self.total > MAX_TOTAL_BYTES, "total size", self.total, MAX_TOTAL_BYTES),
            (self.members > MAX_MEMBERS, "member count", self.members, MAX_MEMBERS),
        ]
        for broken, what, found, limit in limits:
            if broken:
                return NewstablesError(
                    "archive-too-large",
                    file=self.archive.name,
                    value=name,
                    what=what,
                    found=found,
                    limit=limit,
                )
        return None


def _extract_zip(archive: Path, target: Path) -> list[NewstablesError]:
    """Extract a zip's plain files and folders; refuse unsafe or oversized members before
    writing any (zipfile never inflates a member past its listed size)."""
    with zipfile.ZipFile(archive) as zf:
        budget = _SizeBudget(archive)
        for info in zf.infolist():
            too_large = budget.refusal(info.filename, info.file_size)
            if too_large is not None:
                return [too_large]
        bad = [i.filename for i in zf.infolist() if not _zip_member_ok(i)]
        if bad:
            return [NewstablesError("unsafe-archive-member", file=archive.name, value=b) for b in bad]
        zf.extractall(target)
    return []


def _tar_members(tf: tarfile.TarFile, archive: Path) -> tuple[list[tarfile.TarInfo], list[NewstablesError]]:
    """The members of a tar, read header by header: the listing stops at the first member
    over a limit, so a huge member is never decompressed, let alone written."""
    budget = _SizeBudget(archive)
    members: list[tarfile.TarInfo] = []
    while (member := tf.next()) is not None:
        too_large = budget.refusal(member.name, member.size)
        if too_large is not None:
            return members, [too_large]
        members.append(member)
    return members, []


def _extract_tar(archive: Path, target: Path) -> list[NewstablesError]:
    """Extract a tar's regular files and folders; refuse unsafe or oversized members before
    writing any."""
    with tarfile.open(archive, "r:*") as tf:
        members, too_large = _tar_members(tf, archive)
        if too_large:
            return too_large
        bad = [m.name for m in members if is_unsafe(m.name) or not (m.isfile() or m.isdir())]
        if bad:
            return [NewstablesError("unsafe-archive-member", file=archive.name, value=b) for b in bad]
        tf.extractall(target, members=members, filter="data")
    return []


def extract_archive(archive: Path, target: Path) -> tuple[Path, list[NewstablesError]]:
    """Extract ``archive`` into ``target`` safely; return the release root and any refusals.

    The root is the archive's single top-level folder, or ``target`` when there is none.
    """
    try:
        if archive.name.endswith(".zip"):
            errors = _extract_zip(archive, target)
        else:
            errors = _extract_tar(archive, target)
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as exc:
        return target, [
            NewstablesError("not-a-package", file=archive.name, detail=f"cannot read the archive: {exc}")
        ]
    entries = list(target.iterdir())
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else target
    return root, errors


# --- SHA256SUMS -------------------------------------------------------------------------------


def release_files(root: Path) -> list[str]:
    """Every file under ``root`` (posix, relative, sorted), except ``SHA256SUMS`` itself."""
    files = (p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink())
    return sorted(f for f in files if f != SUMS)


def sha256sums_text(root: Path) -> str:
    """``SHA256SUMS`` for a release folder: ``<hex>  <path>`` lines, sorted by path."""
    return "".join(f"{sha256_file(root / rel)}  {rel}\n" for rel in release_files(root))


def parse_sums(text: str) -> tuple[dict[str, str], list[NewstablesError]]:
    """Parse ``sha256sum`` output into path -> hex, reporting malformed lines."""
    listed: dict[str, str] = {}
    errors = []
    for number, line in enumerate(text.splitlines(), start=1):
        digest, sep, name = line.partition("  ")
        name = name.removeprefix("*")
        if not sep or len(digest) != 64 or not name:
            errors.append(
                NewstablesError(
                    "checksum-list-mismatch",
                    file=SUMS,
                    detail=f"line {number} is not '<sha256>  <path>': {line!r}",
                )
            )
        else:
            listed[name] = digest.lower()
    return listed, errors


def check_sums(root: Path) -> list[NewstablesError]:
    """``SHA256SUMS`` lists exactly the files of the release, each with its hash."""
    sums = root / SUMS
    if not sums.is_file():
        return [
            NewstablesError(
                "checksum-list-mismatch",
                file=SUMS,
                detail="no such file; expected the checksum list of the release",
            )
        ]
    listed, errors = parse_sums(sums.read_text(encoding="utf-8"))
    present = set(release_files(root))
    for name, digest in sorted(listed.items()):
        if is_unsafe(name):
            errors.append(
                NewstablesError(
                    "checksum-list-mismatch", file=SUMS, detail=f"path {name!r} is absolute or contains '..'"
                )
            )
        elif name not in present:
            errors.append(
                NewstablesError(
                    "checksum-list-mismatch",
                    file=SUMS,
                    detail=f"{name} is listed but missing from the release",
                )
            )
        elif (found := sha256_file(root / name)) != digest:
            errors.append(NewstablesError("hash-mismatch", file=name, found=found, expected=digest))
    for name in sorted(present - set(listed)):
        errors.append(
            NewstablesError(
                "checksum-list-mismatch", file=SUMS, detail=f"{name} is in the release but not listed"
            )
        )
    return errors


# --- datapackage resources ------------------------------------------------------------------


def load_datapackage(root: Path) -> tuple[dict[str, Any] | None, list[NewstablesError]]:
    """Read ``datapackage.json`` (the model's release-descriptor loader); an error instead
    when it is missing, not JSON, or its ``resources`` is not a list of objects."""
    return read_descriptor(root / DATAPACKAGE, DATAPACKAGE.as_posix())


def check_resource_file(root: Path, resource: dict[str, Any]) -> list[NewstablesError]:
    """A resource's path is safe and exists, and its bytes and hash match the descriptor.

    A partitioned Parquet resource (``path`` a list, ``parts`` listing each part) is checked
    part by part instead: see :func:`check_parts`."""
    name, path = resource.get("name", "?"), resource.get("path")
    descriptor = DATAPACKAGE.as_posix()
    if isinstance(path, list) or "parts" in resource:
        return check_parts(root, resource)
    if not isinstance(path, str) or is_unsafe(path):
        return [NewstablesError("unsafe-resource-path", file=descriptor, record=name, value=path)]
    target = root / path
    if not target.is_file():
        return [NewstablesError("resource-missing", file=descriptor, record=name, value=path)]
    return check_file_stats(root, path, resource)


def check_file_stats(root: Path, path: str, listed: dict[str, Any]) -> list[NewstablesError]:
    """A file's size and SHA-256 against the ``bytes`` and ``hash`` its listing gives."""
    target = root / path
    errors = []
    if "bytes" in listed and target.stat().st_size != listed["bytes"]:
        errors.append(
            NewstablesError(
                "bytes-mismatch", file=path, found=target.stat().st_size, expected=listed["bytes"]
            )
        )
    algorithm, _, digest = str(listed.get("hash", "")).rpartition(":")
    if digest and algorithm in ("sha256", "") and (found := sha256_file(target)) != digest:
        errors.append(NewstablesError("hash-mismatch", file=path, found=found, expected=digest))
    return errors


def listed_parts(resource: dict[str, Any]) -> tuple[list[dict[str, Any]], list[NewstablesError]]:
    """The ``parts`` of a partitioned resource, checked against its ``path`` list: the same
    paths in the same order, each an object with a path. Problems are ``parts-invalid``."""
    name = str(resource.get("name", "?"))
    parts, paths = resource.get("parts"), resource.get("path")

    def invalid(detail: str) -> tuple[list[dict[str, Any]], list[NewstablesError]]:
        return [], [NewstablesError("parts-invalid", file=DATAPACKAGE.as_posix(), record=name, detail=detail)]

    well_formed = isinstance(parts, list) and all(
        isinstance(p, dict) and isinstance(p.get("path"), str) for p in parts
    )
    if not isinstance(parts, list) or not well_formed:
        return invalid("'parts' must be a list of objects with a path, bytes and hash")
    if not isinstance(paths, list) or [p["path"] for p in parts] != paths:
        return invalid("'path' must list exactly the paths of 'parts', in the same order")
    return parts, []


def check_parts(root: Path, resource: dict[str, Any]) -> list[NewstablesError]:
    """Every listed part is a safe path inside the table's folder, exists, and has its listed
    bytes and hash; no file in the table's folder is left unlisted."""
    descriptor, name = DATAPACKAGE.as_posix(), str(resource.get("name", "?"))
    parts, errors = listed_parts(resource)
    if errors:
        return errors
    table = name.removesuffix("-parquet")
    for part in parts:
        path = str(part["path"])
        if is_unsafe(path) or not is_part_path(path, table):
            errors.append(NewstablesError("unsafe-resource-path", file=descriptor, record=name, value=path))
        elif not (root / path).is_file():
            errors.append(NewstablesError("part-missing", file=path, record=name))
        else:
            errors += check_file_stats(root, path, part)
    if any(e.type == "unsafe-resource-path" for e in errors):
        return errors
    listed = {str(p["path"]) for p in parts}
    errors += [
        NewstablesError("part-unlisted", file=found, record=name)
        for found in found_parts(root, table)
        if found not in listed
    ]
    return errors


def load_resource_schema(
    root: Path, resource: dict[str, Any]
) -> tuple[Resource | None, list[NewstablesError]]:
    """The Table Schema of a table resource (inline or a safe relative path), checked by the
    metadata model."""
    schema = resource.get("schema")
    entry = {"name": str(resource.get("name", "?")), "title": "", "description": ""}
    if isinstance(schema, dict):
        return _parsed(schema, DATAPACKAGE.as_posix(), entry)
    if not isinstance(schema, str) or is_unsafe(schema):
        return None, [
            NewstablesError(
                "unsafe-resource-path",
                file=DATAPACKAGE.as_posix(),
                record=resource.get("name", "?"),
                value=schema,
            )
        ]
    if not (root / schema).is_file():
        return None, [NewstablesError("schema-missing", file=schema, table=resource.get("name"))]
    try:
        loaded = json.loads((root / schema).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, [NewstablesError("schema-invalid", file=schema, detail=str(exc))]
    return _parsed(loaded, schema, entry)


def _parsed(
    descriptor: Any, file: str, entry: dict[str, Any]
) -> tuple[Resource | None, list[NewstablesError]]:
    try:
        return parse_schema(descriptor, file, entry), []
    except NewstablesError as error:
        return None, [error]


# --- table contents ---------------------------------------------------------------------------


def csv_header(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """The header row of a CSV file, read by DuckDB as text."""
    relation = con.execute(f"SELECT * FROM {read_csv_text_sql(path)} LIMIT 0")
    return [column[0] for column in relation.description]


def check_header(
    con: duckdb.DuckDBPyConnection, root: Path, path: str, schema: Resource
) -> list[NewstablesError]:
    """A CSV's header lists exactly the schema's fields, in schema order."""
    try:
        header = csv_header(con, root / path)
    except duckdb.Error as exc:
        return [NewstablesError("frictionless-invalid", file=path, detail=f"unreadable CSV: {exc}")]
    fields = schema.columns
    errors = [NewstablesError("schema-field-missing", file=path, field=f) for f in fields if f not in header]
    errors += [NewstablesError("extra-column", file=path, field=c) for c in header if c not in fields]
    if not errors and header != fields:
        errors.append(
            NewstablesError(
                "column-order-mismatch", file=path, found=", ".join(header), expected=", ".join(fields)
            )
        )
    return errors


def parquet_rows(root: Path, table: str) -> tuple[int | None, list[NewstablesError]]:
    """Row count of a table's Parquet file (or of all its parts), or an error for each file
    that cannot be opened."""
    import pyarrow.parquet as pq

    total, errors = 0, []
    for path in parquet_files(root, table):
        relative = path.as_posix()
        if not (root / relative).is_file():
            return None, []  # reported by the resource checks
        try:
            total += pq.ParquetFile(root / relative).metadata.num_rows
        except Exception as exc:  # pyarrow raises several types for corrupt files
            errors.append(NewstablesError("parquet-unreadable", file=relative, detail=str(exc)))
    return (None if errors else total), errors


def parquet_label(root: Path, table: str) -> str:
    """How errors name a table's Parquet copy: its file, or its folder of parts."""
    if (root / table_folder(table)).is_dir():
        return table_folder(table).as_posix() + "/"
    return parquet_path(table).as_posix()


def check_table(
    con: duckdb.DuckDBPyConnection, root: Path, table: str, path: str, schema: Resource
) -> list[NewstablesError]:
    """Header, Parquet, row counts and CSV / Parquet / DuckDB agreement for one table."""
    from newstables.validate import check_formats_agree

    errors = check_header(con, root, path, schema)
    count, parquet_errors = parquet_rows(root, table)
    errors += parquet_errors
    if errors or count is None:
        return errors
    try:
        csv_count = con.execute(f"SELECT count(*) FROM {read_csv_sql(root / path, schema)}").fetchall()[0][0]
    except duckdb.Error as exc:
        return [NewstablesError("frictionless-invalid", file=path, detail=f"unreadable CSV: {exc}")]
    if csv_count != count:
        return [
            NewstablesError(
                "row-count-mismatch",
                file=parquet_label(root, table),
                found=count,
                expected=f"{csv_count} (as in {path})",
            )
        ]
    if (root / DUCKDB_FILE).is_file():
        try:
            check_formats_agree(root, {table: schema})
        except NewstablesError as error:
            errors.append(error)
        except duckdb.Error as exc:
            errors.append(
                NewstablesError(
                    "outputs-disagree",
                    file=DUCKDB_FILE.as_posix(),
                    table=table,
                    detail=str(exc).splitlines()[0],
                )
            )
    return errors


def check_tables(root: Path, descriptor: dict[str, Any]) -> list[NewstablesError]:
    """Check every resource file, then every CSV table against its schema and copies."""
    errors: list[NewstablesError] = []
    resources = [r for r in descriptor["resources"] if isinstance(r, dict)]
    broken = set()
    for resource in resources:
        found = check_resource_file(root, resource)
        errors += found
        if any(e.type in ("unsafe-resource-path", "resource-missing") for e in found):
            broken.add(resource.get("name"))
    con = duckdb.connect()
    for resource in resources:
        if resource.get("format") != "csv" or resource.get("name") in broken:
            continue
        schema, schema_errors = load_resource_schema(root, resource)
        errors += schema_errors
        if schema is not None:
            errors += check_table(con, root, str(resource["name"]), str(resource["path"]), schema)
    con.close()
    return errors


def check_frictionless(root: Path) -> list[NewstablesError]:
    """Frictionless on the whole package (its first errors, as one catalogued error)."""
    from newstables.validate import validate_frictionless

    try:
        validate_frictionless(root)
    except NewstablesError as error:
        return [error]
    return []


def check_excerpts_if_article(
    root: Path, descriptor: dict[str, Any], broken_files: set[str]
) -> list[NewstablesError]:
    """When the release ships the raw article, every excerpt equals its offsets' text.

    Tables already reported as broken (``broken_files``) are skipped: their columns cannot
    be trusted to match their schema.
    """
    from newstables.project import SEED_DOCUMENT, Project, document_ids, document_text_path
    from newstables.validate import check_excerpts

    project = Project(root)
    article = document_text_path(project, SEED_DOCUMENT)
    if not article.is_file():
        return []
    # every document the release ships: a span is checked against its own document's text
    paths = {d: document_text_path(project, d) for d in document_ids(project)}
    texts = {d: p.read_text(encoding="utf-8") for d, p in paths.items() if p.is_file()}
    schemas = {}
    for resource in descriptor["resources"]:
        if resource.get("format") == "csv" and resource.get("path") not in broken_files:
            schema, _ = load_resource_schema(root, resource)
            if schema and schema.has_field("excerpt"):
                schemas[str(resource["name"])] = schema
    try:
        check_excerpts(texts, root, schemas)
    except NewstablesError as error:
        return [error]
    return []


# --- entry points -----------------------------------------------------------------------------


def check_no_symlinks(root: Path) -> list[NewstablesError]:
    """A release holds no symbolic link (one could point at any file of the reader's machine).

    ``root`` itself may be a link (``dist/latest``); what it points to is checked."""
    from newstables.core.paths import symlinks_under

    real = root.resolve()
    return [
        NewstablesError("symlink-refused", file=link.relative_to(real).as_posix(), target=os.readlink(link))
        for link in symlinks_under(real)
    ]


def verify_folder(root: Path) -> tuple[list[NewstablesError], int]:
    """Run every check on a release folder; return all problems and the number of files.

    A folder with a symbolic link is refused before any file is read (nothing is followed).
    """
    links = check_no_symlinks(root)
    if links:
        return links, 0
    errors = check_sums(root)
    descriptor, package_errors = load_datapackage(root)
    errors += package_errors
    if descriptor is not None:
        table_errors = check_tables(root, descriptor)
        errors += table_errors
        # Frictionless opens every resource path: never run it on a package with unsafe paths.
        if not any(e.type == "unsafe-resource-path" for e in table_errors):
            errors += check_frictionless(root)
            broken = {str(e.coordinates.get("file")) for e in table_errors}
            errors += check_excerpts_if_article(root, descriptor, broken)
    return errors, len(release_files(root))


def _verify(path: Path) -> tuple[list[NewstablesError], int]:
    from newstables.core.staging import recover_around

    recover_around(path)
    if path.is_dir():
        return verify_folder(path)
    if not path.is_file() or not path.name.endswith(ARCHIVE_SUFFIXES):
        return [
            NewstablesError(
                "not-a-package",
                file=str(path),
                detail="expected a release folder, a .zip or a .tar.gz archive",
            )
        ], 0
    with tempfile.TemporaryDirectory(prefix="newstables-verify-") as tmp:
        root, errors = extract_archive(path, Path(tmp))
        if errors:
            return errors, 0
        return verify_folder(root)


def verify_path(path: Path) -> list[NewstablesError]:
    """Every problem found in a release folder or archive (empty when it verifies)."""
    return _verify(path)[0]


def verify(path: Path) -> int:
    """Verify a release folder or archive; return the number of files, or raise ErrorList.

    Example: ``verify(Path("dist/newstables-rome-meeting-2022-0.1.0.zip"))``.
    """
    errors, count = _verify(path)
    if errors:
        raise ErrorList(errors)
    return count
