"""Stage 4, validate: the structural checks on the staged release.

Each check returns its findings (catalogued errors, empty when it passes) rather than
raising, so that the report shows what really happened: Frictionless validates the
descriptor and the schemas, and its row checks run as DuckDB SQL (``core.rowchecks``);
DuckDB checks that every excerpt is the text at its offsets and that CSV, Parquet and the
DuckDB file hold the same rows. The semantic gate (Great Expectations suites, coverage)
lives in ``gate``.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import importlib.metadata
import json
import re
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from newstables.checksums import sha256_file
from newstables.core.bounded import bounded_connection
from newstables.core.cache import VerdictCache
from newstables.core.formats import read_csv_sql, read_csv_text_sql, utf8_array
from newstables.core.model import Resource, parse_schema, quote_literal
from newstables.core.paths import user_cache_dir
from newstables.core.progress import stage
from newstables.core.rowchecks import RowFinding, row_findings
from newstables.errors import NewstablesError
from newstables.project import CONTEXT_CHARS, DUCKDB_FILE, SEED_DOCUMENT, parquet_files, published_csv

__all__ = [
    "EarlyRows",
    "cached_excerpt_findings",
    "cached_format_findings",
    "cached_row_findings",
    "excerpt_findings",
    "format_findings",
    "frictionless_findings",
    "read_csv_sql",
    "read_csv_text_sql",
]

MAX_REPORTED = 10


def frictionless_findings(
    staging: Path,
    tables: dict[str, Resource] | None = None,
    early: EarlyRows | None = None,
    spill: Path | None = None,
) -> list[NewstablesError]:
    """Frictionless's verdict on ``datapackage.json``, as one finding (empty when valid).

    Frictionless itself validates the metadata: the descriptor and every Table Schema it
    points to. The row-level checks Frictionless would run on every CSV (types,
    constraints, unique, primary and foreign keys) run as DuckDB SQL generated from the
    schemas (``core.rowchecks``: the same findings, in Frictionless's vocabulary, at a
    fraction of the time). ``tables`` are the schemas the CSVs were written with; without
    them (verify) they are read from the descriptor. ``early``: the row checks a build started
    on the staged CSVs before it wrote the descriptor (used when the descriptor lists exactly
    those files; otherwise they run again here). ``spill``: where DuckDB may spill (the
    build's staging area), its memory being bounded (``core.bounded``).
    """
    descriptor = staging / "datapackage.json"
    # Frictionless (pure Python) checks the metadata in a thread and the files are hashed in
    # another (hashlib lets go of the interpreter lock) while DuckDB, which does too, runs the
    # row checks: on two cores they overlap. The row checks count only when the metadata and
    # the files pass (as before, when they ran after).
    with ThreadPoolExecutor(max_workers=2) as pool:
        metadata = pool.submit(frictionless_metadata_problems, staging, descriptor)
        integrity = pool.submit(integrity_problems, staging, descriptor)
        rows: list[str] | None = None
        if early is not None:
            rows = early.result_for(staging, descriptor, tables)
        if rows is None:
            try:
                rows = row_problems(staging, descriptor, tables, spill)
            except (duckdb.Error, NewstablesError, OSError, ValueError):
                rows = None  # on metadata Frictionless refuses: reported below, else raised again
        problems = metadata.result() + integrity.result()
    if not problems:
        problems = rows if rows is not None else row_problems(staging, descriptor, tables, spill)
    if not problems:
        return []
    detail = "; ".join(problems[:MAX_REPORTED])
    return [NewstablesError("frictionless-invalid", file="datapackage.json", detail=detail)]


def row_problems(
    staging: Path, descriptor: Path, tables: dict[str, Resource] | None, spill: Path | None = None
) -> list[str]:
    """Frictionless's row-level findings on every CSV the descriptor lists, as DuckDB SQL."""
    resources, csv_files = csv_resources(staging, descriptor, tables)
    con = bounded_connection(spill)
    try:
        found = row_findings(csv_files, resources, con)
    finally:
        con.close()
    return _worded(found)


def _worded(findings: list[RowFinding]) -> list[str]:
    return [
        f"{f.type} table {f.table} row {f.row} field {f.field or '-'}" + (f": {f.note}" if f.note else "")
        for f in findings
    ]


@dataclass
class EarlyRows:
    """Row checks started on a build's staged CSVs before ``datapackage.json`` lists them (the
    build writes the reader formats meanwhile): the files checked and the pending problems."""

    files: dict[str, Path]
    problems: Future[list[str]]

    @classmethod
    def start(cls, pool: ThreadPoolExecutor, staging: Path, tables: dict[str, Resource]) -> EarlyRows:
        """Check the CSVs staged for ``tables`` (``data/<table>.csv`` or ``.csv.gz``) in ``pool``."""
        files = {name: staging / published_csv(staging, name) for name in tables}
        files = {name: path for name, path in files.items() if path.is_file()}
        return cls(files, pool.submit(cls._check, files, tables))

    @staticmethod
    def _check(files: dict[str, Path], tables: dict[str, Resource]) -> list[str]:
        with stage("check: rows"):
            return _worded(cached_row_findings(files, tables))

    @classmethod
    def start_bounded(
        cls, pool: ThreadPoolExecutor, staging: Path, tables: dict[str, Resource], spill: Path, share: float
    ) -> EarlyRows:
        """:meth:`start` for the sharded build, while it writes the DuckDB file on the other core:
        one DuckDB thread and ``share`` of the memory limit (``core.bounded``), spilling to
        ``spill`` (removed after), nothing remembered (as ``row_problems``)."""
        files = {name: staging / published_csv(staging, name) for name in tables}
        files = {name: path for name, path in files.items() if path.is_file()}
        return cls(files, pool.submit(cls._check_bounded, files, tables, spill, share))

    @staticmethod
    def _check_bounded(
        files: dict[str, Path], tables: dict[str, Resource], spill: Path, share: float
    ) -> list[str]:
        with stage("check: rows"):
            con = bounded_connection(spill, threads=1, share=share)
            try:
                return _worded(row_findings(files, tables, con))
            finally:
                con.close()
                shutil.rmtree(spill, ignore_errors=True)

    def result_for(
        self, staging: Path, descriptor: Path, tables: dict[str, Resource] | None
    ) -> list[str] | None:
        """The problems, when the descriptor lists exactly the files checked (with these
        schemas) and the checks ran through; None otherwise (they are then run again)."""
        _, listed = csv_resources(staging, descriptor, tables)
        if listed != self.files:
            return None
        try:
            return self.problems.result()
        except (duckdb.Error, NewstablesError, OSError, ValueError):
            return None


SHA256_HASH = re.compile(r"sha256:[0-9a-f]{64}")
HASH_PLACEHOLDER = "sha256:" + "0" * 64


def frictionless_metadata_problems(root: Path, descriptor: Path) -> list[str]:
    """Frictionless's errors on the descriptor and on each Table Schema file it names.

    A verdict of "valid" is remembered (``core.paths.user_cache_dir``) under a key made of the
    Frictionless version, the descriptor with each resource's ``bytes`` and ``hash`` replaced
    by placeholders of the same form, and the schema files: an edit that only changes data
    (new sizes and hashes) is then not checked by Frictionless again, which takes it most of a
    second. Sizes and hashes are still checked against the files (``integrity_problems``).
    """
    key = metadata_cache_key(root, descriptor)
    folder = user_cache_dir("frictionless")
    remembered = folder / f"{key}.valid" if folder is not None and key is not None else None
    if remembered is not None and remembered.is_file():
        return []
    problems = _frictionless_metadata_problems(root, descriptor)
    if remembered is not None and not problems:
        with contextlib.suppress(OSError):  # a cache that cannot be written is not used
            remembered.parent.mkdir(parents=True, exist_ok=True)
            remembered.write_text("valid\n", encoding="utf-8")
    return problems


def metadata_cache_key(root: Path, descriptor: Path) -> str | None:
    """The key of a descriptor's Frictionless verdict (see above), or None when the descriptor
    or a schema it names cannot be read, or a size or hash is not of the expected form."""
    try:
        data = json.loads(descriptor.read_text(encoding="utf-8"))
        version = importlib.metadata.version("frictionless")
    except (OSError, ValueError, importlib.metadata.PackageNotFoundError):
        return None
    listed = data.get("resources") if isinstance(data, dict) else None
    if not isinstance(listed, list):
        return None
    resources = [r for r in listed if isinstance(r, dict)]
    parts: list[Any] = [version]
    for resource in resources:
        size, digest = resource.get("bytes"), resource.get("hash")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            return None
        if digest is not None and not (isinstance(digest, str) and SHA256_HASH.fullmatch(digest)):
            return None
        schema = resource.get("schema")
        if isinstance(schema, str):
            if not _safe(schema):
                return None
            try:
                parts.append(sha256_file(root / schema))
            except OSError:
                return None
    for resource in resources:  # the descriptor as read once above, sizes and hashes masked
        resource.update({k: v for k, v in (("bytes", 0), ("hash", HASH_PLACEHOLDER)) if k in resource})
    parts.append(data)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _frictionless_metadata_problems(root: Path, descriptor: Path) -> list[str]:
    import frictionless

    report = frictionless.Package.validate_descriptor(str(descriptor))
    problems = [f"{t}: {n}" for t, n in report.flatten(["type", "note"])]
    for resource in _resources(descriptor):
        schema = resource.get("schema")
        if isinstance(schema, str) and _safe(schema) and (root / schema).is_file():
            checked = frictionless.Schema.validate_descriptor(str(root / schema))
            problems += [f"{schema}: {t}: {n}" for t, n in checked.flatten(["type", "note"])]
    return problems


def integrity_problems(root: Path, descriptor: Path) -> list[str]:
    """Frictionless's file checks: each resource's ``bytes`` and ``hash`` (``byte-count``,
    ``hash-count`` in its vocabulary) against its file."""
    problems = []
    for entry in _resources(descriptor):
        path = entry.get("path")
        if not isinstance(path, str) or not _safe(path) or not (root / path).is_file():
            continue
        size, digest = entry.get("bytes"), str(entry.get("hash", ""))
        if size is not None and size != (root / path).stat().st_size:
            problems.append(f"byte-count {path}: {(root / path).stat().st_size} bytes; expected {size}")
        if digest.startswith("sha256:") and sha256_file(root / path) != digest.removeprefix("sha256:"):
            problems.append(f"hash-count {path}: the sha256 differs from the descriptor's")
    return problems


def _resources(descriptor: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(descriptor.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    listed = data.get("resources") if isinstance(data, dict) else None
    return [r for r in listed if isinstance(r, dict)] if isinstance(listed, list) else []


def _safe(relative: str) -> bool:
    return not Path(relative).is_absolute() and ".." not in Path(relative).parts


def csv_resources(
    root: Path, descriptor: Path, tables: dict[str, Resource] | None
) -> tuple[dict[str, Resource], dict[str, Path]]:
    """The CSV resources of a descriptor: their schemas (given, or parsed from the schema
    files) and their files."""
    resources: dict[str, Resource] = {}
    files: dict[str, Path] = {}
    for entry in _resources(descriptor):
        name, path, schema = entry.get("name"), entry.get("path"), entry.get("schema")
        if entry.get("format") != "csv" or not isinstance(name, str) or not isinstance(path, str):
            continue
        if not _safe(path) or not (root / path).is_file():
            continue
        if tables is not None and name in tables:
            resources[name] = tables[name]
        elif isinstance(schema, str) and _safe(schema) and (root / schema).is_file():
            try:
                loaded = json.loads((root / schema).read_text(encoding="utf-8"))
                resources[name] = parse_schema(loaded, schema, {"name": name})
            except (ValueError, NewstablesError):
                continue  # reported by the metadata checks and by verify's schema checks
        else:
            continue
        files[name] = root / path
    return resources, files


def validate_frictionless(staging: Path, tables: dict[str, Resource] | None = None) -> None:
    """Raise the Frictionless finding, if any (for callers that stop at the first problem)."""
    for error in frictionless_findings(staging, tables):
        raise error


def excerpt_findings(
    texts: dict[str, str] | str,
    staging: Path,
    tables: dict[str, Resource],
    spill: Path | None = None,
    from_database: bool = False,
) -> list[NewstablesError]:
    """Every published excerpt equals ``raw[char_start:char_end]`` of its document, and its
    ``prefix``/``suffix`` (when the table has them) are the text right before and after it
    (read back from CSV). ``texts`` maps document ids to texts; a single text is the seed's.

    ``from_database``: the rows are read from the staged DuckDB file instead (the build, whose
    format check proves it holds the CSV's rows): only the evidence columns are read, where a
    CSV (gzip-compressed at scale) would be parsed whole. Findings name the CSV either way.
    ``spill``: where DuckDB may spill, its memory being bounded (``core.bounded``)."""
    documents = {SEED_DOCUMENT: texts} if isinstance(texts, str) else texts
    found = []
    con = bounded_connection(spill)
    # DuckDB compares every row with its document's text (substr and length count code points,
    # as Python does) and returns only the rows that may be wrong; Python checks those again and
    # words the findings, so a release of millions of rows never comes back into Python.
    ids = sorted(documents)
    con.register(
        "documents_text",
        pa.Table.from_arrays(
            [utf8_array(ids), utf8_array([documents[d] for d in ids], large=True)],
            schema=pa.schema([("document_id", pa.string()), ("text", pa.large_string())]),
        ),
    )
    database = staging / DUCKDB_FILE
    if from_database:
        con.execute(f"ATTACH {quote_literal(database.as_posix())} AS db (READ_ONLY)")
    for table, resource in tables.items():
        if not {"char_start", "char_end", "excerpt"} <= set(resource.columns):
            continue
        path = staging / published_csv(staging, table)
        relation = f"db.main.{table}" if from_database else read_csv_sql(path, resource)
        extra = [c if c in resource.columns else "NULL" for c in ("document_id", "prefix", "suffix")]
        context = (
            f" OR coalesce(c.prefix, '') <> substr(d.text, greatest(c.char_start - {CONTEXT_CHARS}, 0) + 1, "
            f"c.char_start - greatest(c.char_start - {CONTEXT_CHARS}, 0)) "
            f"OR coalesce(c.suffix, '') <> substr(d.text, c.char_end + 1, {CONTEXT_CHARS})"
            if "prefix" in resource.columns
            else ""
        )
        inner = ", ".join(
            f"{e} AS {n}" for e, n in zip(extra, ("document_id", "prefix", "suffix"), strict=True)
        )
        rows = con.execute(
            "SELECT c.char_start, c.char_end, c.excerpt, c.document_id, c.prefix, c.suffix "
            f"FROM (SELECT char_start, char_end, excerpt, {inner} "
            f"      FROM {relation} WHERE char_start IS NOT NULL) c "
            f"LEFT JOIN documents_text d ON d.document_id = coalesce(c.document_id, '{SEED_DOCUMENT}') "
            "WHERE d.text IS NULL OR c.char_start < 0 OR c.char_end > length(d.text) "
            "OR substr(d.text, c.char_start + 1, c.char_end - c.char_start) IS DISTINCT FROM c.excerpt"
            f"{context}"
        ).fetchall()
        file = published_csv(staging, table).as_posix()
        for start, end, excerpt, document_id, prefix, suffix in rows:
            raw = documents.get(document_id or SEED_DOCUMENT)
            coordinates = {"file": file, "record": f"[{start}, {end})", "line": "-"}
            if raw is None:
                found.append(
                    NewstablesError(
                        "unknown-document",
                        **coordinates,
                        field="document_id",
                        value=document_id,
                        expected=", ".join(sorted(documents)),
                    )
                )
                continue
            if raw[start:end] != excerpt:
                found.append(
                    NewstablesError(
                        "offsets-mismatch",
                        **coordinates,
                        start=start,
                        end=end,
                        found=raw[start:end],
                        value=excerpt,
                    )
                )
            if "prefix" in resource.columns and (
                (prefix or "") != raw[max(0, start - CONTEXT_CHARS) : start]
                or (suffix or "") != raw[end : end + CONTEXT_CHARS]
            ):
                found.append(NewstablesError("context-mismatch", **coordinates, start=start, end=end))
    con.close()
    return found


def check_excerpts(raw: dict[str, str] | str, staging: Path, tables: dict[str, Resource]) -> None:
    """Raise the first excerpt finding, if any (``raw``: every document's text by id, or the seed's)."""
    for error in excerpt_findings(raw, staging, tables):
        raise error


def format_findings(
    staging: Path, tables: dict[str, Resource], spill: Path | None = None
) -> list[NewstablesError]:
    """CSV, Parquet and the DuckDB file hold exactly the same rows for every table.

    Each format is read once, streaming, into a multiset digest of its rows (count, sum and
    xor of a 64-bit hash of each row, every column cast to the model's type): equal digests
    pass. Only a table whose digests differ is compared row by row (a grouping of every
    row), to say how many rows differ. ``spill``: as for :func:`excerpt_findings`."""
    found = []
    con = bounded_connection(spill)
    con.execute(f"ATTACH {quote_literal((staging / DUCKDB_FILE).as_posix())} AS db (READ_ONLY)")
    for table, resource in tables.items():
        csv_file = published_csv(staging, table)
        csv = read_csv_sql(staging / csv_file, resource)
        others = {
            "parquet": read_parquet_sql(staging, parquet_files(staging, table), resource.columns),
            "duckdb": f"db.main.{table}",
        }
        try:
            wanted = _digest(con, csv, resource)
            if all(_digest(con, relation, resource) == wanted for relation in others.values()):
                continue
        except duckdb.Error:
            pass  # a column or type a format lacks: the comparison below says how they differ
        # The CSV is parsed once, then compared with each other format.
        con.execute(f"CREATE OR REPLACE TEMP TABLE csv_rows AS FROM {csv}")
        for name, relation in others.items():
            found += _compare(con, table, "csv_rows", relation, name, csv_file.as_posix())
        con.execute("DROP TABLE csv_rows")
    con.close()
    return found


def _digest(con: duckdb.DuckDBPyConnection, relation: str, resource: Resource) -> tuple[Any, ...]:
    """A digest of a relation's rows as a multiset: their count, and the sum (as a 128-bit
    integer) and xor of a hash of each row, its columns cast to the model's types."""
    cells = ", ".join(f'CAST("{f.name}" AS {f.to_sql()})' for f in resource.fields)
    row_hash = f"hash({cells})" if len(resource.fields) > 1 else f"hash({cells}, NULL)"
    return tuple(
        con.execute(
            f"SELECT count(*), coalesce(sum(CAST(h AS HUGEINT)), 0), coalesce(bit_xor(h), 0) "
            f"FROM (SELECT {row_hash} AS h FROM {relation})"
        ).fetchall()[0]
    )


def read_parquet_sql(root: Path, files: list[Path], columns: list[str]) -> str:
    """A DuckDB relation over a table's Parquet file or parts (the table's columns, in schema
    order, without the hive ``year`` column that the folder names carry)."""
    paths = ", ".join(quote_literal((root / f).as_posix()) for f in files)
    selected = ", ".join(f'"{c}"' for c in columns)
    return f"(SELECT {selected} FROM read_parquet([{paths}], hive_partitioning = false))"


def check_formats_agree(staging: Path, tables: dict[str, Resource]) -> None:
    """Raise the first format-agreement finding, if any."""
    for error in format_findings(staging, tables):
        raise error


def _compare(
    con: duckdb.DuckDBPyConnection, table: str, csv: str, other: str, name: str, csv_file: str
) -> list[NewstablesError]:
    # Rows as a multiset: how often each distinct row occurs in either format; the rows whose
    # counts differ are the symmetric EXCEPT ALL (one grouping, ~20x faster than EXCEPT ALL).
    described = con.execute(f"DESCRIBE {csv}").fetchall()
    columns = ", ".join('"' + str(row[0]).replace('"', '""') + '"' for row in described)
    csv_rows, other_rows, differing = con.execute(
        "SELECT coalesce(sum(in_csv), 0), coalesce(sum(in_other), 0), "
        "coalesce(sum(abs(in_csv - in_other)), 0) FROM ("
        "SELECT count(*) FILTER (WHERE __side = 1) AS in_csv, "
        "count(*) FILTER (WHERE __side = 2) AS in_other FROM ("
        f"SELECT {columns}, 1 AS __side FROM {csv} UNION ALL SELECT {columns}, 2 FROM {other}"
        f") GROUP BY {columns})"
    ).fetchall()[0]
    counts = (csv_rows, other_rows)
    if counts[0] != counts[1] or differing:
        return [
            NewstablesError(
                "outputs-disagree",
                file=csv_file,
                table=table,
                detail=f"CSV has {counts[0]} rows, {name} {counts[1]}; {differing} rows differ",
            )
        ]
    return []


# --- per-table verdicts remembered (core.cache.VerdictCache) -------------------------------------
# A build that changed one table checks that table, not the others: each check's verdict on a
# table is keyed by what decides it (the table's file bytes and schema, and for the row checks the
# key values of the tables its foreign keys reference). Only "passed" is remembered; the findings
# of a table checked again are exactly those of a check of every table.


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes ("-" when it is missing)."""
    return sha256_file(path) if path.is_file() else "-"


def referenced_keys_digest(path: Path, resource: Resource, fields: tuple[str, ...]) -> str:
    """A hash of the distinct values of ``fields`` in a CSV (its cells as text, matched to the
    schema's fields by position as the row checks match them): what a foreign key to it checks."""
    names = [f.name for f in resource.fields]
    if not path.is_file() or any(f not in names for f in fields):
        return "-"
    positions = [names.index(f) for f in fields]
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            rows = csv.reader(handle)
            header = next(rows, [])
            seen = {tuple(r[i] if i < len(r) else None for i in positions) for r in rows}
    except (OSError, UnicodeDecodeError, csv.Error, EOFError):
        return "-"
    return hashlib.sha256(repr((header, sorted(seen, key=repr))).encode()).hexdigest()


def row_verdict_keys(
    cache: VerdictCache, files: dict[str, Path], tables: dict[str, Resource]
) -> dict[str, str]:
    """Each CSV's row-check key: its bytes and schema, and for each foreign key the referenced
    table's schema and key values (or that it is not checked: absent, or a file not given)."""
    keys = {}
    digests: dict[tuple[str, tuple[str, ...]], str] = {}  # each referenced table's keys read once
    for name, path in files.items():
        resource = tables[name]
        parts = [name, file_digest(path), repr(resource)]
        for fk in resource.foreign_keys:
            target = fk.resource or name
            if target in files and target in tables:
                seen = (target, fk.reference_fields)
                if seen not in digests:
                    digests[seen] = referenced_keys_digest(files[target], tables[target], fk.reference_fields)
                parts += [target, repr(tables[target]), digests[seen]]
            else:
                parts += [target, "not checked"]
        keys[name] = cache.key(*parts)
    return keys


def cached_row_findings(files: dict[str, Path], tables: dict[str, Resource]) -> list[RowFinding]:
    """``core.rowchecks.row_findings`` of these CSVs, checking only those whose verdict is not
    remembered (with the files their foreign keys reference, which the checks read)."""
    cache = VerdictCache.for_check("rows")
    if cache.folder is None:
        return row_findings(files, tables)
    keys = row_verdict_keys(cache, files, tables)
    todo = {name for name in files if not cache.passed(keys[name])}
    needed = todo | {fk.resource or name for name in todo for fk in tables[name].foreign_keys}
    found = row_findings({n: p for n, p in files.items() if n in needed}, tables) if todo else []
    failing = {f.table for f in found}
    for name in sorted(todo - failing):
        cache.remember(keys[name])
    return found


def texts_digest(texts: dict[str, str] | str) -> str:
    """A hash of every document's id and text."""
    documents = {SEED_DOCUMENT: texts} if isinstance(texts, str) else texts
    digest = hashlib.sha256()
    for document in sorted(documents):
        digest.update(f"{len(document)}:{document}{len(documents[document])}:".encode())
        digest.update(documents[document].encode())
    return digest.hexdigest()


def cached_excerpt_findings(
    texts: dict[str, str] | str, staging: Path, tables: dict[str, Resource]
) -> list[NewstablesError]:
    """:func:`excerpt_findings`, checking only the tables whose verdict is not remembered (keyed
    by the table's CSV bytes and schema and every document's text)."""
    cache = VerdictCache.for_check("excerpts")
    if cache.folder is None:
        return excerpt_findings(texts, staging, tables)
    documents = texts_digest(texts)
    keys = {
        name: cache.key(name, file_digest(staging / published_csv(staging, name)), repr(r), documents)
        for name, r in tables.items()
    }
    todo = {name: r for name, r in tables.items() if not cache.passed(keys[name])}
    found = excerpt_findings(texts, staging, todo) if todo else []
    return _remember_passed(cache, keys, todo, found)


def cached_format_findings(staging: Path, tables: dict[str, Resource]) -> list[NewstablesError]:
    """:func:`format_findings`, checking only the tables whose verdict is not remembered, keyed by
    the table's CSV and Parquet bytes and schema. The DuckDB file is written whole on every build,
    from the same Arrow table as the Parquet file (``publish.write_data``), so those bytes and the
    code version (in every key) decide its table too."""
    cache = VerdictCache.for_check("formats")
    if cache.folder is None:
        return format_findings(staging, tables)
    keys = {}
    for name, resource in tables.items():
        files = [published_csv(staging, name), *parquet_files(staging, name)]
        keys[name] = cache.key(name, repr(resource), *(f"{f}={file_digest(staging / f)}" for f in files))
    todo = {name: r for name, r in tables.items() if not cache.passed(keys[name])}
    found = format_findings(staging, todo) if todo else []
    return _remember_passed(cache, keys, todo, found)


def _remember_passed(
    cache: VerdictCache, keys: dict[str, str], checked: dict[str, Resource], found: list[NewstablesError]
) -> list[NewstablesError]:
    """Remember "passed" for every table checked, only when the check found nothing at all (a
    finding names a file or a table, not always both: nothing is guessed)."""
    if not found:
        for name in checked:
            cache.remember(keys[name])
    return found
