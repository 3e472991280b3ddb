"""Stages 1-3 at scale: read, resolve evidence and build tables in shards of documents.

A corpus of more documents than :func:`shard_size` (``NEWSTABLES_SHARD_DOCUMENTS``, default
500; 0 never shards) is not held in memory as Python rows. Its documents are cut into shards
of consecutive ids; each shard (in a pool of :func:`worker_count` processes) reads its texts and
annotation files, plus the corpus-wide records (``data/annotations/``) whose evidence lies in
one of its documents, builds and checks their rows with the same per-record functions as the
small build (types, constraints, evidence, formula triggers, date order, keys inside the shard),
writes each table's rows as one Parquet file typed by the model's Arrow schema
(``Resource.arrow_schema``) under a staging folder, and drops them. Every staged row carries
its locator (the ``LOCATOR`` columns: annotation file, record number and label, line, the line
of every field), so a check that runs later, in DuckDB over all shards, still names the file,
record, field and line a person edits; the locators are dropped at publication.

What spans shards runs in DuckDB over the staged files (:func:`corpus_checks`): primary keys
and unique fields, foreign keys, external rows resting on external sources, and the derived
``actor_aliases`` (:func:`derive_aliases`). The registry tables the cross-table Python checks
need whole (actors, sources, redirects) are small and kept as rows.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from newstables.core.bounded import bounded_connection
from newstables.core.cache import DocumentCache, save_misses
from newstables.core.model import Model, Resource, load_model, quote_literal
from newstables.core.progress import track
from newstables.coverage import (
    LARGE_CORPUS,
    CoverageResult,
    check_waivers,
    corpus_coverage,
    paragraphs_by_document,
)
from newstables.derived import EVIDENCE_COPY, check_redirects, check_wikidata_sources, event_reports
from newstables.errors import NewstablesError
from newstables.evidence import Region, resolve_document_regions
from newstables.project import (
    ANNOTATIONS,
    SEED_DOCUMENT,
    Project,
    document_folder,
    document_ids,
    document_text_path,
)
from newstables.read import (
    Record,
    attach_spans,
    document_records,
    load_yaml_records,
    read_article,
    refuse_draft_records,
)
from newstables.report import document_summaries
from newstables.tables import (
    EXTERNAL_KINDS,
    REPORT_ID,
    Table,
    built_rows,
    check_affiliation_chains,
    check_date_order,
    check_formula_triggers,
    check_primary_key,
    sort_rows,
)

SHARD_ENV = "NEWSTABLES_SHARD_DOCUMENTS"
WORKERS_ENV = "NEWSTABLES_SHARD_WORKERS"
DEFAULT_SHARD_DOCUMENTS = 500
# The columns every staged row carries besides the table's own: where its record stands.
LOCATOR = ("__order", "__file", "__index", "__line", "__lines", "__label")
LOCATOR_SCHEMA = pa.schema(
    [
        ("__order", pa.int64()),
        ("__file", pa.string()),
        ("__index", pa.int64()),
        ("__line", pa.int64()),
        ("__lines", pa.string()),
        ("__label", pa.string()),
    ]
)
# Tables the cross-table Python checks read whole (registry-sized, not growing with mentions).
KEPT_TABLES = ("actors", "sources", "redirects")
# Derived across the whole corpus, in DuckDB (the event's own report is derived per shard).
CORPUS_DERIVED = "actor_aliases"
ORDER_STRIDE = 2**32  # __order = shard * stride + position: registry records first in a shard


def shard_size() -> int:
    """Documents per shard (``NEWSTABLES_SHARD_DOCUMENTS``; 0: never shard)."""
    value = os.environ.get(SHARD_ENV, "")
    return int(value) if value.strip().isdigit() else DEFAULT_SHARD_DOCUMENTS


def worker_count() -> int:
    """Processes that build shards (``NEWSTABLES_SHARD_WORKERS``; default: the CPUs, at most 2)."""
    value = os.environ.get(WORKERS_ENV, "")
    return int(value) if value.strip().isdigit() and int(value) > 0 else min(2, os.cpu_count() or 1)


def wants_shards(project_root: Path) -> bool:
    """True when the project has more documents than one shard holds."""
    size = shard_size()
    return size > 0 and len(document_ids(Project(project_root.resolve()))) > size


class StagedRecord(Record):
    """A record rebuilt from a staged row's locator, to word an error found after staging."""

    staged_label: str = ""

    @property
    def label(self) -> str:
        """The label the record had when it was read."""
        return self.staged_label


def record_of(locator: dict[str, Any]) -> StagedRecord:
    """The record a staged row's locator columns describe."""
    record = StagedRecord()
    record.file, record.index, record.line = locator["__file"], locator["__index"], locator["__line"]
    record.lines = json.loads(locator["__lines"] or "{}")
    record.staged_label = locator["__label"]
    return record


@dataclass
class ShardJob:
    """What one shard needs: its documents and the corpus-wide records assigned to it."""

    root: Path
    number: int
    documents: list[str]
    registry: dict[str, list[Record]]
    default: str
    formula_waivers: set[str]
    waivers: dict[str, set[str]]
    work: Path
    total_documents: int
    # The per-document cache's shared fingerprint (``core.cache``); None: no cache.
    cache_fingerprint: str | None = None


@dataclass
class ShardResult:
    """What a shard hands back: everything but its big tables' rows, which are staged."""

    number: int
    texts: dict[str, str] = field(default_factory=dict)
    coverage: dict[str, list[CoverageResult]] = field(default_factory=dict)
    summaries: list[dict[str, Any]] = field(default_factory=list)
    paragraphs: dict[str, Any] = field(default_factory=dict)
    kept: dict[str, tuple[list[dict[str, Any]], list[Record]]] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)  # region id -> document
    error: tuple[str, dict[str, Any]] | None = None
    cache_hits: list[str] = field(default_factory=list)  # documents taken from the cache
    cache_misses: list[str] = field(default_factory=list)  # documents read and resolved


def staged_folder(work: Path, table: str) -> Path:
    """Where a table's staged shard files are written."""
    return work / table


def stage_rows(table: Table, work: Path, number: int) -> None:
    """Write a shard's rows of one table, with their locators, as one Parquet file."""
    if not table.rows:
        return
    arrow = staged_arrow(table.resource, table.rows)
    records = table.records
    base = number * ORDER_STRIDE
    # each locator column by a C loop over the records (``attrgetter``), millions of them
    lines = list(map(attrgetter("line"), records))
    if not set(map(type, lines)) <= {int}:
        lines = [line if isinstance(line, int) else 0 for line in lines]
    locators = {
        "__order": range(base, base + len(records)),
        "__file": list(map(attrgetter("file"), records)),
        "__index": list(map(attrgetter("index"), records)),
        "__line": lines,
        "__lines": list(
            map(staged_lines, map(attrgetter("lines"), records), map(attrgetter("line"), records))
        ),
        "__label": list(map(attrgetter("label"), records)),
    }
    for spec in LOCATOR_SCHEMA:
        arrow = arrow.append_column(spec, pa.array(locators[spec.name], spec.type))
    folder = staged_folder(work, table.name)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(arrow, folder / f"shard-{number:06d}.parquet", compression="zstd")


def staged_arrow(resource: Resource, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as an Arrow table typed from the resource's fields, empty strings as nulls: the
    table ``core.formats.arrow_table`` makes (``tests/test_shards.py`` compares them), built
    column by column with ``pa.array``, several times faster. (``arrow_table`` avoids
    ``pa.array`` because it imports pandas; a shard worker imports it for the locators anyway.)"""
    columns = []
    names = tuple(spec.name for spec in resource.fields)
    # A built row's keys are its table's columns in schema order (``build_row`` fills a copy of
    # one template): the rows' values are then transposed in one C loop (``zip``) rather than
    # looked up column by column; any other row shape, by name.
    if set(map(tuple, rows)) == {names}:
        by_column: list[Any] = list(zip(*map(dict.values, rows), strict=True))
    else:
        by_column = [list(map(itemgetter(name), rows)) for name in names]
    for spec, values in zip(resource.fields, by_column, strict=True):
        # only a text column can hold "" (a typed value is an int, bool or date, or None): the
        # test, a C loop too, is slow on other values (each compared to a string through Python)
        if spec.type == "string" and "" in values:
            values = [None if v == "" else v for v in values]
        columns.append(pa.array(values, spec.to_arrow()))
    return pa.Table.from_arrays(columns, schema=resource.arrow_schema())


def staged_lines(lines: dict[str, int], line: int) -> str | None:
    """A record's ``lines`` as staged: None when every key stands on the record's own line (a
    record written on one line, as most of a large corpus is), since ``Record.where`` then
    gives that line for any field anyway; else :func:`lines_json`."""
    for value in lines.values():
        if value != line:
            return lines_json(lines)
    return None


# Key order of a record's ``lines`` -> (keys sorted, format string of its JSON text).
_LINES_FORMATS: dict[tuple[str, ...], tuple[tuple[str, ...], str]] = {}


def lines_json(lines: dict[str, int]) -> str:
    """``json.dumps(lines, sort_keys=True)``, from one format string per set of keys (records
    of a file repeat their keys; the staged rows of a large corpus number in the millions)."""
    keys = tuple(lines)
    found = _LINES_FORMATS.get(keys)
    if found is None:
        order = tuple(sorted(keys))
        pairs = ", ".join(json.dumps(k).replace("{", "{{").replace("}", "}}") + ": {}" for k in order)
        if len(_LINES_FORMATS) > 10_000:
            _LINES_FORMATS.clear()
        found = _LINES_FORMATS[keys] = (order, "{{" + pairs + "}}")
    values = [lines[k] for k in found[0]]
    if set(map(type, values)) <= {int}:  # what JSON writes as str() does: no bool, float or text
        return found[1].format(*values)
    return json.dumps(lines, sort_keys=True)


def read_shard_records(
    project: Project, job: ShardJob, cache: DocumentCache | None = None, texts: dict[str, str] | None = None
) -> tuple[dict[str, list[Record]], list[Record]]:
    """The shard's records by table (its registry records first, then each document's files in
    id order) and its region records. With a ``cache``, a document whose inputs are unchanged
    brings the spans an earlier build found its excerpts at (``Record.cached_span``); the
    others are noted in ``cache.misses``, for the entries saved after the build. Each file is
    read once (its bytes hashed for the key, then parsed); ``texts``: the documents' texts,
    already read (the key hashes their bytes)."""
    names = [name for name in job.registry if name != "waivers"]  # waivers: read by the main process
    by_name: dict[str, list[Record]] = {name: list(records) for name, records in job.registry.items()}
    # first every document's files (bytes) and cache key, then their entries in one query
    read: list[tuple[str, Path, set[str], dict[str, bytes], str | None]] = []
    for document_id in job.documents:
        folder = document_folder(project, document_id) / "annotations"
        present = _files_in(folder)  # one listing rather than a look-up per table
        if not present:
            continue
        data: dict[str, bytes] = {}
        key = None
        if cache is not None:
            # the files ``read.read_annotations`` keys a document on (its ``*.yaml``), from the listing
            for name in sorted(name for name in present if name.endswith(".yaml")):
                data[name] = (folder / name).read_bytes()
            text_path = document_text_path(project, document_id)
            text = texts[document_id].encode("utf-8") if texts else text_path.read_bytes()
            key = cache.key_of(document_id, [(text_path.name, text), *data.items()])
        read.append((document_id, folder, present, data, key))
    entries = cache.load_many([key for *_, key in read if key is not None]) if cache is not None else {}
    for document_id, folder, present, data, key in read:
        spans = entries.get(key) if key is not None else None
        if cache is not None and key is not None:
            if spans is not None:
                cache.hits.add(document_id)
            else:
                cache.misses[document_id] = key
        where = project.rel(folder)
        for name in names:
            file = f"{name}.yaml"
            if file not in present:
                continue
            path = folder / file
            if file not in data:
                if not path.is_file():
                    continue
                data[file] = path.read_bytes()
            records = load_yaml_records(project, path, data=data[file], name=f"{where}/{file}")
            for record in records:
                record.folder_document = document_id
            if spans:
                attach_spans(records, spans)
            by_name[name] += records
        data.clear()  # a document's bytes are dropped once parsed
    return by_name, by_name.pop("regions", [])


def _files_in(folder: Path) -> set[str]:
    """The names in ``folder`` (empty when it is not a readable folder)."""
    try:
        return set(os.listdir(folder))
    except OSError:
        return set()


def build_shard(job: ShardJob) -> ShardResult:
    """Read, resolve, build, check and stage one shard (run in a worker process); a defect
    comes back as the error's type and coordinates (exceptions do not cross processes whole).

    The cyclic garbage collector is paused while a shard is built: a shard allocates some
    million records, rows and cache entries that all live until it ends, and each full
    collection walked all of them again (a quarter of a shard's CPU with the cache on). What
    a shard leaves behind is collected once, when it is done; a shard's memory is bounded by
    its size, so the pause is too."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build_shard(job)
    except NewstablesError as error:
        return ShardResult(job.number, error=(error.type, error.coordinates))
    finally:
        if enabled:
            gc.enable()


def _build_shard(job: ShardJob) -> ShardResult:
    project = Project(job.root)
    model = load_model(project.root)
    texts = {document_id: read_article(project, document_id) for document_id in job.documents}
    cache = DocumentCache(project.root, job.cache_fingerprint) if job.cache_fingerprint else None
    records, region_records = read_shard_records(project, job, cache, texts)
    records.pop("waivers", None)  # read and checked by the main process
    refuse_draft_records([*records.values(), region_records])
    if "documents" in model.package.table_names:
        records["documents"] = document_records(project, texts)
    regions = resolve_document_regions(texts, region_records, job.default)
    tables = build_shard_tables(project, model, texts, regions, records, job)
    result = ShardResult(job.number, texts=texts)
    if cache is not None:
        pairs = [(n, t.records, t.rows) for n, t in tables.items() if n != "documents"]
        save_misses(cache, [*pairs, ("regions", region_records, [])])
        result.cache_hits, result.cache_misses = sorted(cache.hits), sorted(cache.misses)
    result.regions = {r.region_id: d for d, found in regions.items() for r in found}
    # counts and gaps only in a large corpus, as the small build does
    large = job.total_documents > LARGE_CORPUS
    result.coverage = corpus_coverage(texts, regions, tables, job.waivers, keep_hits=not large)
    if not large:
        result.paragraphs = paragraphs_by_document(texts, regions, tables)
    result.summaries = document_summaries(tables, result.coverage, result.paragraphs)["documents"]
    for name, table in tables.items():
        if name in KEPT_TABLES:
            result.kept[name] = (table.rows, table.records)
        stage_rows(table, job.work, job.number)
    return result


def build_shard_tables(
    project: Project,
    model: Model,
    texts: dict[str, str],
    regions: dict[str, list[Region]],
    records: dict[str, list[Record]],
    job: ShardJob,
) -> dict[str, Table]:
    """Build and check every table's rows of one shard (the per-record and in-shard checks of
    ``tables.build_tables``; what spans shards is left to :func:`corpus_checks`)."""
    tables: dict[str, Table] = {}
    for resource in model.resources:
        table = Table(resource.name, resource, records=list(records.get(resource.name, [])))
        table.rows = built_rows(project, texts, regions, resource, table.records, job.default)
        if resource.name == "event_reports" and "events" in tables:
            for row, record in event_reports(tables, resource.id_template or REPORT_ID):
                table.rows.append({name: row.get(name) for name in table.columns})
                table.records.append(record)
        check_primary_key(table)
        check_date_order(table)
        check_formula_triggers(table, job.formula_waivers)
        tables[resource.name] = table
    return tables


@dataclass
class Corpus:
    """The sharded build's results: the staging folder of rows and what was handed back."""

    model: Model
    project: Project
    work: Path
    texts: dict[str, str]
    default: str
    waivers: dict[str, set[str]]
    coverage: dict[str, list[CoverageResult]]
    summaries: list[dict[str, Any]]
    paragraphs: dict[str, Any]
    kept: dict[str, Table]
    cache_hits: list[str] = field(default_factory=list)  # documents taken from the cache
    cache_misses: list[str] = field(default_factory=list)  # documents read and resolved


def read_registry(project: Project, names: list[str]) -> dict[str, list[Record]]:
    """The corpus-wide records of ``data/annotations/``, by table (plus regions and waivers)."""
    folder = project.path(ANNOTATIONS)
    found: dict[str, list[Record]] = {name: [] for name in names}
    if folder.is_dir():
        for name in names:
            path = folder / f"{name}.yaml"
            if path.is_file():
                found[name] = load_yaml_records(project, path)
    return found


def all_waivers(project: Project, registry: list[Record], documents: list[str]) -> list[Record]:
    """The registry's waivers and every document's, in the small build's order."""
    found = list(registry)
    for document_id in documents:
        path = document_folder(project, document_id) / "annotations" / "waivers.yaml"
        if path.is_file():
            for record in load_yaml_records(project, path):
                record.folder_document = document_id
                found.append(record)
    return found


def plan_shards(
    registry: dict[str, list[Record]], documents: list[str], size: int, default: str
) -> list[tuple[list[str], dict[str, list[Record]]]]:
    """Cut the documents into shards of ``size`` and give each corpus-wide record to the shard
    of its document (a record naming no known document goes to the first, which refuses it)."""
    shards = [documents[i : i + size] for i in range(0, len(documents), size)] or [[]]
    where = {d: i // size for i, d in enumerate(documents)}
    plans: list[tuple[list[str], dict[str, list[Record]]]] = [
        (ids, {name: [] for name in registry}) for ids in shards
    ]
    for name, records in registry.items():
        if name == "waivers":
            continue
        for record in records:
            plans[where.get(record.document(default), 0)][1][name].append(record)
    return plans


def build_corpus(project_root: Path, work: Path, cache_fingerprint: str | None = None) -> Corpus:
    """Read, build and stage every shard of the corpus; the entry function of the sharded stages.

    With ``cache_fingerprint`` (the per-document cache's, ``core.cache``), a document whose
    inputs did not change since an earlier build is not read or resolved again: adding one
    article to a large corpus resolves that article's evidence only. What spans documents
    (keys, references, aliases, the gate) is checked again over every row."""
    project = Project(project_root.resolve())
    model = load_model(project.root)
    documents = document_ids(project) or [SEED_DOCUMENT]
    default = SEED_DOCUMENT if SEED_DOCUMENT in documents or len(documents) != 1 else documents[0]
    names = [*(n for n in model.package.table_names if n != "documents"), "regions", "waivers"]
    registry = read_registry(project, names)
    refuse_draft_records(list(registry.values()))
    waiver_records = all_waivers(project, registry["waivers"], documents)
    waivers = check_waivers(waiver_records)
    size = shard_size() or len(documents)
    jobs = [
        ShardJob(
            project.root,
            n,
            ids,
            assigned,
            default,
            waivers["formula"],
            waivers,
            work,
            len(documents),
            cache_fingerprint,
        )
        for n, (ids, assigned) in enumerate(plan_shards(registry, documents, size, default))
    ]
    corpus = Corpus(model, project, work, {}, default, waivers, {}, [], {}, {})
    kept: dict[str, tuple[list[dict[str, Any]], list[Record]]] = {n: ([], []) for n in KEPT_TABLES}
    regions: dict[str, str] = {}
    for result in track(_run(jobs), len(jobs), "build shards", "shard"):
        if result.error is not None:
            error_type, coordinates = result.error
            raise NewstablesError(error_type, **coordinates)
        for region_id, document_id in result.regions.items():
            if region_id in regions and regions[region_id] != document_id:
                raise NewstablesError(
                    "duplicate-id",
                    file=f"data/articles/{document_id}/annotations/regions.yaml",
                    record=region_id,
                    line="-",
                    field="region_id",
                    value=region_id,
                    other=regions[region_id],
                )
            regions[region_id] = document_id
        corpus.texts.update(result.texts)
        corpus.cache_hits += result.cache_hits
        corpus.cache_misses += result.cache_misses
        corpus.coverage.update(result.coverage)
        corpus.summaries += result.summaries
        corpus.paragraphs.update(result.paragraphs)
        for name, (rows, records) in result.kept.items():
            kept[name][0].extend(rows)
            kept[name][1].extend(records)
    for name, (rows, records) in kept.items():
        if name in model.package.table_names:
            table = Table(name, model.tables[name], rows, records)
            sort_rows(table)
            corpus.kept[name] = table
    return corpus


def _run(jobs: list[ShardJob]) -> Iterator[ShardResult]:
    """Each shard's result, in shard order: in a process pool when there is more than one."""
    workers = min(worker_count(), len(jobs))
    if workers <= 1:
        yield from map(build_shard, jobs)
        return
    with ProcessPoolExecutor(workers) as pool:
        yield from pool.map(build_shard, jobs)


def staged_relation(con: duckdb.DuckDBPyConnection, work: Path, resource: Resource) -> str:
    """Create the view ``staged_<table>`` over a table's staged shards (an empty table with
    the model's columns when no shard had rows); return its name."""
    view = f"staged_{resource.name}"
    files = sorted(staged_folder(work, resource.name).glob("*.parquet"))
    if files:
        paths = ", ".join(quote_literal(p.as_posix()) for p in files)
        con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM read_parquet([{paths}])")
    else:
        empty = pa.schema([*resource.arrow_schema(), *LOCATOR_SCHEMA]).empty_table()
        con.register("incoming_empty", empty)
        con.execute(f"CREATE OR REPLACE TABLE empty_{resource.name} AS SELECT * FROM incoming_empty")
        con.unregister("incoming_empty")
        con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM empty_{resource.name}")
    return view


def fetch_arrow(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> pa.Table:
    """The result of ``sql`` as an Arrow table."""
    arrow = con.sql(sql, params=params).to_arrow_table() if params else con.sql(sql).to_arrow_table()
    assert arrow is not None, "a query returns a result"
    return arrow


def column(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def derive_aliases(con: duckdb.DuckDBPyConnection, corpus: Corpus) -> None:
    """Stage ``actor_aliases`` as ``derived.actor_aliases`` does: one row per actor and
    distinct excerpt of the mentions, counts, and the first mention (earliest-published
    document, unknown last, then document id, then offset) as evidence and locator."""
    if CORPUS_DERIVED not in corpus.model.package.table_names:
        return
    resource = corpus.model.tables[CORPUS_DERIVED]
    copy = ", ".join(f"first.{column(c)}" for c in EVIDENCE_COPY if resource.has_field(c))
    locators = ", ".join(f"first.{c}" for c in LOCATOR)
    sql = f"""
        WITH m AS (
            SELECT s.*, coalesce(CAST(d.date_published AS VARCHAR), '9999') AS __published
            FROM staged_actor_mentions s LEFT JOIN staged_documents d USING (document_id)
            WHERE s.excerpt IS NOT NULL AND s.excerpt <> ''
        ), grouped AS (
            SELECT CAST(actor_id AS VARCHAR) AS actor_id, excerpt AS alias, count(*) AS mention_count,
                   count(DISTINCT document_id) AS document_count,
                   arg_min(m, (__published, CAST(document_id AS VARCHAR), char_start, __order)) AS first
            FROM m GROUP BY ALL
        )
        SELECT actor_id, alias, mention_count, document_count, first.mention_id AS first_mention_id,
               {copy}, {locators}
        FROM grouped ORDER BY actor_id, alias
    """
    arrow = fetch_arrow(con, sql)
    folder = staged_folder(corpus.work, CORPUS_DERIVED)
    folder.mkdir(parents=True, exist_ok=True)
    target = pa.schema([*resource.arrow_schema(), *LOCATOR_SCHEMA])
    columns = {
        spec.name: arrow.column(spec.name).cast(spec.type)
        if spec.name in arrow.column_names
        else pa.nulls(arrow.num_rows, spec.type)
        for spec in target
    }
    # after the shards (their curated aliases, if any, come first)
    rows = pa.table(columns, schema=target)
    order = pa.array([(2**62) + i for i in range(rows.num_rows)], pa.int64())
    rows = rows.set_column(rows.schema.get_field_index("__order"), "__order", order)
    pq.write_table(rows, folder / "derived.parquet", compression="zstd")


def _first_row(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, Any] | None:
    cursor = con.execute(sql)
    rows = cursor.fetchall()
    if not rows:
        return None
    names = [d[0] for d in cursor.description or []]
    return dict(zip(names, rows[0], strict=True))


def key_findings(con: duckdb.DuckDBPyConnection, resource: Resource) -> None:
    """Refuse two staged rows with the same primary key (or value of a unique field) across
    shards, naming the later record and the earlier one, as ``tables.check_primary_key``."""
    view = f"staged_{resource.name}"
    keys = [list(resource.primary_key)] + [[f.name] for f in resource.fields if f.unique]
    for columns in keys:
        cols = ", ".join(column(c) for c in columns)
        not_null = " AND ".join(f"{column(c)} IS NOT NULL" for c in columns)
        # Cheap first: are there duplicate keys at all? Only then are their records looked up.
        duplicated = f"SELECT {cols} FROM {view} WHERE {not_null} GROUP BY ALL HAVING count(*) > 1"
        if con.execute(f"SELECT count(*) FROM ({duplicated})").fetchall() == [(0,)]:
            continue
        ranked = f"""SELECT {cols}, {", ".join(LOCATOR)},
                            row_number() OVER (PARTITION BY {cols} ORDER BY __order) AS __rank
                     FROM {view} WHERE ({cols}) IN ({duplicated})"""
        second = _first_row(con, f"SELECT * FROM ({ranked}) WHERE __rank = 2 ORDER BY __order LIMIT 1")
        assert second is not None, "a duplicated key has a second row"
        match = " AND ".join(f"{column(c)} = ?" for c in columns)
        first = con.execute(
            f"SELECT __label FROM {view} WHERE {match} ORDER BY __order LIMIT 1", [second[c] for c in columns]
        ).fetchall()
        raise NewstablesError(
            "duplicate-id",
            **record_of(second).where(columns[0]),
            value="/".join(str(second[c]) for c in columns),
            other=first[0][0] if first else "-",
        )


def foreign_key_findings(con: duckdb.DuckDBPyConnection, resource: Resource) -> None:
    """Refuse a staged row whose reference names no row of its target, across shards (the
    first in record order), as ``tables.check_foreign_keys``."""
    for fk in resource.foreign_keys:
        fields = ", ".join(f"s.{column(c)}" for c in fk.fields)
        not_null = " AND ".join(f"s.{column(c)} IS NOT NULL" for c in fk.fields)
        match = " AND ".join(
            f"t.{column(r)} = s.{column(c)}" for c, r in zip(fk.fields, fk.reference_fields, strict=True)
        )
        found = _first_row(
            con,
            f"""SELECT {fields}, {", ".join(f"s.{c}" for c in LOCATOR)}
                FROM staged_{resource.name} s
                WHERE {not_null} AND NOT EXISTS (SELECT 1 FROM staged_{fk.resource} t WHERE {match})
                ORDER BY s.__order LIMIT 1""",
        )
        if found is not None:
            raise NewstablesError(
                "dangling-reference",
                **record_of(found).where(fk.fields[0]),
                value="/".join(str(found[c]) for c in fk.fields),
                target=fk.resource,
            )


def external_findings(con: duckdb.DuckDBPyConnection, model: Model, kinds: dict[str, Any]) -> None:
    """Refuse an external row whose evidence source is not an external reference."""
    external = sorted(source for source, kind in kinds.items() if kind in EXTERNAL_KINDS)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE external_sources AS SELECT unnest(?::VARCHAR[]) AS id", [external]
    )
    for resource in model.resources:
        if not (resource.has_field("is_external") and resource.has_field("evidence_source_id")):
            continue
        found = _first_row(
            con,
            f"""SELECT evidence_source_id, {", ".join(LOCATOR)} FROM staged_{resource.name}
                WHERE is_external AND (evidence_source_id IS NULL
                      OR CAST(evidence_source_id AS VARCHAR) NOT IN (SELECT id FROM external_sources))
                ORDER BY __order LIMIT 1""",
        )
        if found is not None:
            raise NewstablesError(
                "external-without-source",
                **record_of(found).where("evidence_source_id"),
                value=found["evidence_source_id"],
            )


def redirect_findings(con: duckdb.DuckDBPyConnection, corpus: Corpus) -> None:
    """``derived.check_redirects`` with the live ids of the tables redirects name, read from
    the staged rows (the other tables are passed without rows: nothing looks them up)."""
    redirects = corpus.kept.get("redirects")
    if redirects is None or not redirects.rows:
        return
    named = {str(r["table_name"]) for r in redirects.rows}
    tables: dict[str, Table] = {}
    for resource in corpus.model.resources:
        table = Table(resource.name, resource)
        if resource.name in named and resource.name != "redirects":
            keys = ", ".join(column(k) for k in resource.primary_key)
            cursor = con.execute(f"SELECT {keys} FROM staged_{resource.name}")
            table.rows = [dict(zip(resource.primary_key, row, strict=True)) for row in cursor.fetchall()]
        tables[resource.name] = table
    tables["redirects"] = redirects
    check_redirects(tables)


def corpus_checks(con: duckdb.DuckDBPyConnection, corpus: Corpus) -> None:
    """The checks that span shards, in the small build's order: keys of every table, foreign
    keys, affiliation chains, external rows, Wikidata sources, redirects."""
    for resource in corpus.model.resources:
        staged_relation(con, corpus.work, resource)
    derive_aliases(con, corpus)
    for resource in corpus.model.resources:
        staged_relation(con, corpus.work, resource)  # again: the derived file is new
        key_findings(con, resource)
    for resource in corpus.model.resources:
        foreign_key_findings(con, resource)
    check_affiliation_chains(corpus.kept)
    sources = corpus.kept.get("sources")
    kinds = {str(r["source_id"]): r["kind"] for r in sources.rows} if sources is not None else {}
    external_findings(con, corpus.model, kinds)
    check_wikidata_sources(corpus.kept)
    redirect_findings(con, corpus)


def staged_connection(work: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that spills to ``work`` rather than grow past a bound."""
    con = bounded_connection(work / "spill")
    con.execute("SET preserve_insertion_order = true")
    return con


def row_counts(con: duckdb.DuckDBPyConnection, model: Model) -> dict[str, int]:
    """Each table's number of staged rows."""
    return {
        r.name: int(con.execute(f"SELECT count(*) FROM staged_{r.name}").fetchall()[0][0])
        for r in model.resources
    }


def events_without_statements(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Ids of events no statement is linked to, sorted (``coverage.events_without_statements``)."""
    rows = con.execute(
        "SELECT CAST(event_id AS VARCHAR) FROM staged_events WHERE event_id NOT IN "
        "(SELECT event_id FROM staged_statement_events WHERE event_id IS NOT NULL) ORDER BY 1"
    ).fetchall()
    return [row[0] for row in rows]
