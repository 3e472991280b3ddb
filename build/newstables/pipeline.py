"""The build: load the model -> read -> resolve evidence -> build tables -> validate -> publish.

Each stage is one module with one entry function; this module only wires them together.
The metadata model (``core.model``) is loaded and checked first, once, and handed to
every stage. Checks return findings; the build collects them, writes the report (every
row says what really happened, passed or failed) and raises them as one ``ErrorList``
for the command line to print. Nothing is written outside a staging folder until every
check has passed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from newstables.core.bounded import SPILL
from newstables.core.cache import DocumentCache, fingerprint, save_misses
from newstables.core.fingerprint import (
    BUILD_STAMP,
    FingerprintDuringBuild,
    NotFingerprintable,
    described_hashes,
    input_fingerprint,
    output_hashes,
    stamp_text,
)
from newstables.core.model import Model, Resource, load_model
from newstables.core.paths import refuse_input_symlinks, refuse_published_target
from newstables.core.progress import TIMINGS, stage, write_timings
from newstables.core.staging import commit, staging_area
from newstables.coverage import (
    CoverageResult,
    check_waivers,
    corpus_coverage,
    corpus_totals,
    coverage_errors,
    events_without_statements,
    paragraphs_by_document,
)
from newstables.errors import ErrorList, NewstablesError
from newstables.evidence import Region, resolve_document_regions
from newstables.gate import CheckResult, GateWorker, chosen_engine, failures, run_suites
from newstables.project import ANNOTATIONS, FAILED_REPORT_DIR, REPORT_DIR, SCHEMAS, Project
from newstables.publish import (
    obsolete_outputs,
    remove_empty_folders,
    to_arrow,
    write_database,
    write_descriptor,
    write_files,
    write_reader_formats,
)
from newstables.publish_shards import FILES_SHARE, NOT_PUBLISHED
from newstables.publish_shards import write_release as write_sharded_release
from newstables.read import (
    Annotations,
    default_document,
    document_records,
    read_annotations,
    read_documents,
)
from newstables.report import (
    coverage_checks,
    coverage_detail,
    document_summaries,
    summary_text,
    write_report,
)
from newstables.shards import (
    Corpus,
    build_corpus,
    corpus_checks,
    row_counts,
    staged_connection,
    staged_folder,
    wants_shards,
)
from newstables.shards import events_without_statements as unlinked_events
from newstables.tables import Table, build_tables
from newstables.validate import (
    EarlyRows,
    cached_excerpt_findings,
    cached_format_findings,
    excerpt_findings,
    format_findings,
    frictionless_findings,
)

T = TypeVar("T")


class GateBlocked(ErrorList):
    """The gate's failures, with the plain-language summary and the kept report's path."""

    def __init__(self, errors: list[NewstablesError], summary: str, report: Path) -> None:
        super().__init__(errors)
        self.summary = summary
        self.report = report


@dataclass
class Inputs:
    """Everything the build reads, loaded and checked."""

    project: Project
    model: Model
    raw: str  # the default document's text (the seed, or the project's only document)
    annotations: Annotations
    regions: list[Region]  # the default document's regions
    waivers: dict[str, set[str]]
    texts: dict[str, str]  # every document's text, by document id
    document_regions: dict[str, list[Region]]
    default_document: str
    cache: DocumentCache | None = None


# The code a document's rows are built by: a change to any of these invalidates the cache.
ROW_CODE = ("read.py", "evidence.py", "tables.py", "core/model.py", "core/cache.py", "core/yamllines.py")


def document_cache(project: Project, model: Model) -> DocumentCache:
    """The project's per-document cache, keyed on what every document's rows depend on: the
    table schemas and derived-id templates, the regions registry and the code that builds rows."""
    schemas = sorted(project.path(SCHEMAS).glob("*.schema.json"))
    shared = [*schemas, project.path(ANNOTATIONS / "regions.yaml")]
    package = Path(__file__).parent
    code = [hashlib.sha256((package / name).read_bytes()).hexdigest() for name in ROW_CODE]
    templates = [f"{r.name}={r.id_template}" for r in model.resources]
    return DocumentCache(project.root, fingerprint(project.root, shared, "\n".join([*code, *templates])))


def save_document_cache(inputs: Inputs, tables: dict[str, Table]) -> None:
    """Store, for every document read (not taken from the cache) this build, the spans its
    records' excerpts were found at (``core.cache.save_misses``: the rows are built again on a hit)."""
    if inputs.cache is None:
        return
    pairs: list[tuple[str, list[Any], list[dict[str, Any]]]] = [
        (name, t.records, t.rows) for name, t in tables.items() if name != "documents"
    ]
    for name, records in (("regions", inputs.annotations.regions), ("waivers", inputs.annotations.waivers)):
        pairs.append((name, records, [{}] * len(records)))
    save_misses(inputs.cache, pairs)


def load_inputs(project_root: Path, complete_counts: bool = True, use_cache: bool = False) -> Inputs:
    """Read the metadata, schemas, article, annotations and waivers of a project folder
    (``complete_counts=False``: expected counts may lack tables, for ``newstables counts``;
    ``use_cache``: unchanged documents come from the per-document cache, for the build)."""
    project = Project(project_root.resolve())
    refuse_input_symlinks(project.root)
    model = load_model(project.root, complete_counts)
    texts = read_documents(project)
    default = default_document(texts)
    cache = document_cache(project, model) if use_cache else None
    annotations = read_annotations(project, model.package.table_names, cache)
    if "documents" in model.package.table_names:  # built from the texts and meta.yaml, never typed
        annotations.tables["documents"] = document_records(project, texts)
    regions = resolve_document_regions(texts, annotations.regions, default)
    waivers = check_waivers(annotations.waivers)
    # A corpus without the seed and with several documents has no default document: its
    # records name theirs (``unknown-document`` otherwise), and the default text is empty.
    return Inputs(
        project,
        model,
        texts.get(default, ""),
        annotations,
        regions.get(default, []),
        waivers,
        texts,
        regions,
        default,
        cache,
    )


def make_tables(inputs: Inputs) -> dict[str, Table]:
    """Build every table from the loaded inputs."""
    return build_tables(
        inputs.project,
        inputs.texts,
        inputs.document_regions,
        inputs.model,
        inputs.annotations.tables,
        inputs.waivers["formula"],
        inputs.default_document,
    )


STRUCTURAL_CHECKS = {
    "frictionless": "Frictionless accepts datapackage.json and every Table Schema; every CSV row passes "
    "Frictionless's row checks (types, constraints, unique, primary and foreign keys), run as DuckDB SQL.",
    "excerpts-match-offsets": "Every excerpt equals raw[char_start:char_end].",
    "csv-parquet-duckdb-agree": "CSV, Parquet and the DuckDB file hold the same rows.",
}


def structural_result(check: str, findings: list[NewstablesError]) -> CheckResult:
    """A report row for one structural check: passed only when it found nothing."""
    return CheckResult(
        "package",
        check,
        STRUCTURAL_CHECKS[check],
        "build",
        passed=not findings,
        observed=[e.message for e in findings[:5]] or None,
        unexpected_count=len(findings),
    )


def structural_checks(
    staging: Path, inputs: Inputs, early: EarlyRows | None = None
) -> tuple[list[CheckResult], list[NewstablesError]]:
    """Frictionless, excerpt and format-agreement checks: their report rows and findings
    (``early``: the row checks already started on the staged CSV files)."""
    findings: dict[str, list[NewstablesError]] = {}
    spill = staging / SPILL  # DuckDB's memory is bounded (core.bounded); past it, it spills here
    with stage("check: frictionless"):
        findings["frictionless"] = frictionless_findings(staging, inputs.model.tables, early, spill=spill)
    with stage("check: excerpts"):
        findings["excerpts-match-offsets"] = excerpt_findings(
            inputs.texts, staging, inputs.model.tables, spill, from_database=True
        )
    with stage("check: formats agree"):
        findings["csv-parquet-duckdb-agree"] = format_findings(staging, inputs.model.tables, spill)
    shutil.rmtree(spill, ignore_errors=True)
    rows = [structural_result(check, found) for check, found in findings.items()]
    return rows, [error for found in findings.values() for error in found]


def gate(
    staging: Path,
    inputs: Inputs,
    covered: list[CoverageResult],
    worker: GateWorker | None = None,
    engine: str | None = None,
    early: EarlyRows | None = None,
) -> tuple[list[CheckResult], list[NewstablesError]]:
    """Run every blocking check on the staged release; return all results and failures
    (``covered``: the coverage results of every document; ``engine``: see ``gate.chosen_engine``;
    ``early``: the row checks already started on the staged CSV files)."""
    checks, errors = structural_checks(staging, inputs, early)
    with stage("gate"):
        suites = run_suites(
            inputs.model, staging, inputs.raw, inputs.waivers["formula"], inputs.texts, worker, engine
        )
    return gate_outcome(checks, errors, covered, suites)


def gate_outcome(
    checks: list[CheckResult],
    errors: list[NewstablesError],
    covered: list[CoverageResult],
    suites: tuple[list[CheckResult], list[NewstablesError]],
) -> tuple[list[CheckResult], list[NewstablesError]]:
    """The report rows and failures of the structural checks, coverage and suites, in the
    report's order."""
    results, suite_errors = suites
    errors = errors + suite_errors + coverage_errors(covered) + failures(results)
    return checks + coverage_checks(covered) + results, errors


# The small build's concurrent work after the data files are staged: the reader formats, the row
# checks, the excerpt and format checks and the gate (DuckDB lets go of the interpreter lock).
CHECK_THREADS = 6


def timed(label: str, work: Callable[..., T], *args: Any) -> T:
    """``work(*args)``, its wall time kept as stage ``label`` (for a thread of the pool)."""
    with stage(label):
        return work(*args)


def publish_and_gate(
    staging: Path,
    inputs: Inputs,
    tables: dict[str, Table],
    covered: list[CoverageResult],
    worker: GateWorker | None = None,
    engine: str | None = None,
    out: Path | None = None,
) -> tuple[list[Path], list[CheckResult], list[NewstablesError]]:
    """Publish into ``staging`` and check it (the small build), in threads: the DuckDB file, the
    CSV and Parquet files and the reader formats are written at the same time; the gate starts
    once the DuckDB file is written, the row, excerpt and format checks once the files are;
    ``datapackage.json`` is written when the reader formats are, and Frictionless checks it
    last. Results, findings and a raised error are those of one step after the other (``gate``):
    they are collected, and raised, in that order. ``out``: the release being replaced, whose
    files of unchanged tables are copied rather than written again (``publish.write_tables``)."""
    project, model = inputs.project, inputs.model
    with stage("publish: arrow tables"):
        arrows = {name: to_arrow(table) for name, table in tables.items()}
    waived = inputs.waivers["formula"]
    with ThreadPoolExecutor(max_workers=CHECK_THREADS) as pool:
        database = pool.submit(timed, "publish: duckdb", write_database, tables, staging, arrows)
        files = pool.submit(
            timed, "publish: csv and parquet", write_files, project, tables, staging, arrows, out
        )
        readers = pool.submit(
            timed, "publish: reader formats", write_reader_formats, project, tables, model, staging
        )
        if database.exception() is not None:
            files.result()  # the files' error first, as when they were written before the database
        written = database.result()
        suites = pool.submit(
            timed, "gate", run_suites, model, staging, inputs.raw, waived, inputs.texts, worker, engine
        )
        written = files.result() + written
        rows = EarlyRows.start(pool, staging, model.tables)
        excerpts = pool.submit(
            timed, "check: excerpts", cached_excerpt_findings, inputs.texts, staging, model.tables
        )
        agree = pool.submit(timed, "check: formats agree", cached_format_findings, staging, model.tables)
        extras = readers.result()
        with stage("publish: datapackage.json"):
            outputs = [*written, *write_descriptor(model, staging, extras)]
        findings: dict[str, list[NewstablesError]] = {}
        with stage("check: frictionless"):
            findings["frictionless"] = frictionless_findings(staging, model.tables, rows)
        findings["excerpts-match-offsets"] = excerpts.result()
        findings["csv-parquet-duckdb-agree"] = agree.result()
        suite_outcome = suites.result()
    checks = [structural_result(check, found) for check, found in findings.items()]
    errors = [error for found in findings.values() for error in found]
    return outputs, *gate_outcome(checks, errors, covered, suite_outcome)


def keep_failed_report(staging: Path, out: Path) -> None:
    """Move the report of a blocked build to ``validation/report-failed/`` (not a release
    output, ignored by git) so the failures can be read; the release is left untouched."""
    target = out / FAILED_REPORT_DIR
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging / REPORT_DIR, target)


@dataclass
class Report:
    """What the report of a build says: its package metadata, row counts, checks, detail and
    the errors that block it."""

    package: Any
    counts: dict[str, int]
    checks: list[CheckResult]
    detail: dict[str, Any]
    errors: list[NewstablesError]


def report_and_commit(
    staging: Path,
    out: Path,
    report: Report,
    outputs: list[Path],
    tables: dict[str, Table],
    fingerprint: str | None,
) -> None:
    """Write the report; then either keep it aside and raise the gate's errors (the release is
    left untouched), or stamp the inputs' fingerprint and commit every staged output."""
    outputs += write_report(staging, report.package, report.counts, report.checks, report.detail)
    if report.errors:
        keep_failed_report(staging, out)
        raise GateBlocked(report.errors, summary_text(report.checks), out / FAILED_REPORT_DIR / "index.html")
    if fingerprint is not None:
        outputs.append(write_stamp(staging, fingerprint, outputs, report.counts))
    commit(out, staging, outputs, obsolete_outputs(out, tables, outputs))
    remove_empty_folders(out, tables)
    shutil.rmtree(out / FAILED_REPORT_DIR, ignore_errors=True)


def build(
    project_root: Path,
    out_root: Path | None = None,
    engine: str | None = None,
    fingerprint: str | None = None,
) -> dict[str, Table]:
    """Build, validate and publish the release of ``project_root`` into ``out_root``.

    Example: ``build(Path("."))`` rewrites ``data/*.csv``, ``data/parquet/``, the DuckDB
    file, ``datapackage.json`` and the validation report in place, or raises and leaves
    them untouched. ``engine`` runs the suites as DuckDB SQL (``sql``, the default), through
    Great Expectations (``gx``) or both, refusing any disagreement (``both``, as a release does).
    ``fingerprint``: the inputs' fingerprint, when the caller has just taken it (the command
    line, asking whether anything changed); else it is taken here, before anything is read.
    """
    # Great Expectations (when the engine uses it) is imported by a worker process while this
    # one reads, builds and publishes; it is ended whatever happens.
    worker = GateWorker.start_if_useful() if chosen_engine(engine) != "sql" else None
    try:
        return _build(project_root, out_root, worker, engine, fingerprint)
    finally:
        if worker is not None:
            worker.close()


def _build(
    project_root: Path,
    out_root: Path | None,
    worker: GateWorker | None,
    engine: str | None = None,
    taken: str | None = None,
) -> dict[str, Table]:
    TIMINGS.clear()
    # Timed like the stages: at scale the fingerprint reads every input file and the document
    # listing every article folder, and time outside every stage is time nobody can place.
    with stage("list documents"):  # folder names only: no input is read yet
        sharded = wants_shards(project_root)
    if sharded:
        # A large corpus: the fingerprint is taken while the shards read the same files
        # (core.fingerprint.FingerprintDuringBuild), unless the command line hands one over.
        with stage("input fingerprint"):
            during = FingerprintDuringBuild(project_root.resolve()) if taken is None else None
        try:
            return _build_sharded(project_root, out_root, worker, during or taken)
        finally:
            if during is not None:
                during.cancel()  # after a failure: stop hashing; after success, already done
    with stage("input fingerprint"):
        # Before reading: an edit made meanwhile is seen next time. The command line hands over
        # the fingerprint it took to ask whether anything changed.
        fingerprint = taken if taken is not None else _fingerprint(project_root)
    with stage("read"):
        inputs = load_inputs(project_root, use_cache=True)
    with stage("resolve evidence and build tables"):
        tables = make_tables(inputs)
        save_document_cache(inputs, tables)
    with stage("coverage"):
        by_document = corpus_coverage(inputs.texts, inputs.document_regions, tables, inputs.waivers)
        covered = [result for results in by_document.values() for result in results]
    out = (out_root or inputs.project.root).resolve()
    if out_root is not None:
        refuse_published_target(out)
    with staging_area(out) as staging:
        outputs, checks, errors = publish_and_gate(staging, inputs, tables, covered, worker, engine, out)
        with stage("report and commit"):
            counts = {name: len(table.rows) for name, table in tables.items()}
            paragraphs = paragraphs_by_document(inputs.texts, inputs.document_regions, tables)
            detail = coverage_detail(
                paragraphs.get(inputs.default_document, []),
                events_without_statements(tables),
                document_summaries(tables, by_document, paragraphs),
            )
            report = Report(inputs.model.package, counts, checks, detail, errors)
            report_and_commit(staging, out, report, outputs, tables, fingerprint)
    write_timings()
    return tables


def _build_sharded(
    project_root: Path,
    out_root: Path | None,
    worker: GateWorker | None,
    fingerprint: str | FingerprintDuringBuild | None,
) -> dict[str, Table]:
    """The build of a corpus larger than one shard (``shards``): read, resolve and build shard by
    shard into staged Parquet, check across shards and publish through DuckDB, then the same
    gate, report and commit as the small build (``fingerprint``: taken, or being taken)."""
    project = Project(project_root.resolve())
    refuse_input_symlinks(project.root)
    out = (out_root or project.root).resolve()
    if out_root is not None:
        refuse_published_target(out)
    with staging_area(out) as staging:
        work = staging / ".shards"
        with stage("read, resolve evidence and build tables (shards)"):
            cache = document_cache(project, load_model(project.root))
            corpus = build_corpus(project.root, work, cache.fingerprint)
        con = staged_connection(work)
        try:
            with stage("checks across shards"):
                corpus_checks(con, corpus)
                counts = row_counts(con, corpus.model)
                unlinked = unlinked_events(con)
        finally:
            con.close()
        resources = corpus.model.resources
        staged = {r.name: sorted(staged_folder(work, r.name).glob("*.parquet")) for r in resources}
        # Frictionless's row checks read only the CSV files: they start once those are written,
        # on the core the DuckDB file (one thread, minutes at scale) leaves free, in that
        # connection's share of the memory limit (publish_shards.write_release).
        early: list[EarlyRows] = []
        with ThreadPoolExecutor(1, thread_name_prefix="row-checks") as rows:
            start_rows = partial(_start_rows, early, rows, staging, corpus.model.tables)
            # (timed by part: "publish: duckdb", "publish: csv", ...)
            outputs, tables = write_sharded_release(
                project, corpus.model, staging, staged, counts, after_files=start_rows
            )
            with stage("publish: remove staged shards"):
                shutil.rmtree(work)
            inputs = _sharded_inputs(corpus)
            covered = [result for results in corpus.coverage.values() for result in results]
            checks, errors = gate(staging, inputs, covered, worker, early=early[0] if early else None)
        with stage("report and commit"):
            detail = coverage_detail(
                corpus.paragraphs.get(corpus.default, []), unlinked, _corpus_summaries(corpus)
            )
            detail["not_published"] = NOT_PUBLISHED
            report = Report(corpus.model.package, counts, checks, detail, errors)
        if isinstance(fingerprint, FingerprintDuringBuild):
            with stage("input fingerprint (wait)"):  # long done at scale, unless the disk is slow
                fingerprint = fingerprint.result()
        with stage("report and commit"):
            report_and_commit(staging, out, report, outputs, tables, fingerprint)
    with stage("release memory"):  # every document's text and coverage, freed here rather than unseen
        del corpus, inputs, covered
    write_timings()
    for name, table in tables.items():
        table.count = counts[name]
    return tables


# Where the row checks started during the DuckDB file's writing spill (a folder of their own).
ROWS_SPILL = ".spill-rows"


def _start_rows(
    early: list[EarlyRows], pool: ThreadPoolExecutor, staging: Path, tables: dict[str, Resource]
) -> None:
    early.append(EarlyRows.start_bounded(pool, staging, tables, staging / ROWS_SPILL, FILES_SHARE))


def _sharded_inputs(corpus: Corpus) -> Inputs:
    """What the gate reads of the inputs, for a sharded build (texts, waivers, the model)."""
    return Inputs(
        corpus.project,
        corpus.model,
        corpus.texts.get(corpus.default, ""),
        Annotations(),
        [],
        corpus.waivers,
        corpus.texts,
        {},
        corpus.default,
    )


def _corpus_summaries(corpus: Corpus) -> dict[str, Any]:
    """``report.document_summaries`` of a sharded build: the shards' documents and their totals."""
    totals: dict[str, int] = {}
    for summary in corpus.summaries:
        for name, count in summary["rows"].items():
            totals[name] = totals.get(name, 0) + count
    corpus_figures = {
        "documents": len(corpus.summaries),
        "rows": dict(sorted(totals.items())),
        "coverage": corpus_totals(corpus.coverage),
    }
    return {"documents": corpus.summaries, "corpus": corpus_figures}


def _fingerprint(project_root: Path) -> str | None:
    try:
        return input_fingerprint(project_root.resolve())
    except NotFingerprintable:
        return None  # load_inputs names the link or unreadable file; no stamp is written


def write_stamp(staging: Path, fingerprint: str, outputs: list[Path], counts: dict[str, int]) -> Path:
    """Record the inputs' fingerprint, every staged output's hash and the row counts in
    ``staging`` (committed last, with the outputs): the next ``newstables build`` of
    unchanged inputs is a no-op."""
    # the data files' hashes as datapackage.json, written moments ago, records them
    described = described_hashes(staging / "datapackage.json")
    stamp = stamp_text(fingerprint, output_hashes(staging, outputs, described), counts)
    (staging / BUILD_STAMP).write_text(stamp, encoding="utf-8")
    return BUILD_STAMP
