"""The validation report: ``results.json`` for machines and a self-contained ``index.html``
for people (inline CSS, no scripts, no web fonts: it renders offline)."""

from __future__ import annotations

import html
import json
from dataclasses import asdict, fields, is_dataclass, replace
from itertools import groupby
from pathlib import Path
from typing import Any

from newstables.core.model import Package
from newstables.coverage import (
    LARGE_CORPUS,
    CoverageResult,
    ParagraphCount,
    corpus_totals,
    rows_per_document,
)
from newstables.gate import CheckResult
from newstables.project import REPORT_DIR
from newstables.tables import Table

CSS = """
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:72rem;
color:#1b1b1b;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f3f3f3}
.pass{color:#0a6b2d;font-weight:600}.fail{color:#b00020;font-weight:700}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}.muted{color:#666}
"""

# The provenance page (viewer/index.html), relative to validation/report/index.html.
PROVENANCE_LINK = (
    "<p>See where every row comes from in the article: "
    '<a href="../../viewer/index.html">the provenance page</a>.</p>'
)


def coverage_checks(results: list[CoverageResult]) -> list[CheckResult]:
    """Coverage results in the report's check form, one per check and document (table: the
    document id, ``article`` for the seed)."""
    return [
        CheckResult(
            table=r.document_id,
            check=f"coverage:{r.check}",
            why=f"Every {r.check} hit in the body of document {r.document_id} is covered by one of its "
            "rows or waived with a reason.",
            kind="coverage",
            passed=not r.gaps,
            observed={
                "hits": r.hit_count,
                "covered": r.hit_count - r.waived - len(r.gaps),
                "waived": r.waived,
            },
            unexpected_count=len(r.gaps),
            examples=[f"{g.text!r} at {g.span.start}" for g in r.gaps[:5]],
        )
        for r in results
    ]


def check_label(check: CheckResult) -> str:
    """A check named for people: ``<check> (<table>)``."""
    return f"{check.check} ({check.table})"


def failing_first(checks: list[CheckResult]) -> list[CheckResult]:
    """The checks with the failing ones first, each group in its original order."""
    return [c for c in checks if not c.passed] + [c for c in checks if c.passed]


def summary_text(checks: list[CheckResult]) -> str:
    """A plain-language verdict naming every failing check, e.g.
    ``2 of 129 checks failed: row-count-as-expected (actors), coverage:name (article).``"""
    failed = [check_label(c) for c in checks if not c.passed]
    total = len(checks)
    if not failed:
        return f"All {total} checks passed." if total != 1 else "The 1 check passed."
    verb = "check failed" if total == 1 else "checks failed"
    return f"{len(failed)} of {total} {verb}: {', '.join(failed)}."


def results_document(
    package: Package,
    row_counts: dict[str, int],
    checks: list[CheckResult],
    coverage_detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The machine-readable results: package, row counts, every check (failing first), and
    (when given) the coverage detail: rows per paragraph and events without statements."""
    document = {
        "package": package.name,
        "version": package.version,
        "passed": all(c.passed for c in checks),
        "summary": {
            "checks": len(checks),
            "failed": sum(not c.passed for c in checks),
            "failed_checks": [check_label(c) for c in checks if not c.passed],
            "text": summary_text(checks),
        },
        "row_counts": row_counts,
        "checks": [check_dict(c) for c in failing_first(checks)],
    }
    if coverage_detail is not None:
        document["coverage"] = coverage_detail
    return document


SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any) -> bool:
    """True when ``value`` holds no dataclass: a scalar, or a flat list or dict of scalars."""
    if isinstance(value, dict):
        return all(isinstance(v, SCALARS) for v in value.values())
    if isinstance(value, list):
        return all(isinstance(v, SCALARS) for v in value)
    return isinstance(value, SCALARS)


def check_dict(check: CheckResult) -> dict[str, Any]:
    """A check as a dict, as ``dataclasses.asdict`` gives it, without its deep copy when the
    observed value is plain (hundreds of thousands of coverage checks at scale)."""
    if not _plain(check.observed) or is_dataclass(check.observed):
        return asdict(check)
    found = {f.name: getattr(check, f.name) for f in fields(check)}
    found["examples"] = list(check.examples)
    return found


def json_text(value: Any, indent: str = "") -> str:
    """``value`` as JSON: objects indented by two spaces a level, each item of a list on one
    line of its own (a check, a document). Reads as ``json.dumps(indent=2)`` does at the top,
    and every line is written by the C encoder: millions of nested items cost seconds, not
    minutes (``json.dumps`` with ``indent`` runs in pure Python)."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [
            f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {json_text(v, inner)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and value:
        items = [inner + json.dumps(v, ensure_ascii=False, default=str) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False, default=str)


SHA256_PREFIX = 12  # enough to tell documents apart at a glance; the full hash is in `documents`


def document_summaries(
    tables: dict[str, Table],
    coverage_by_document: dict[str, list[CoverageResult]],
    paragraphs: dict[str, list[ParagraphCount]],
) -> dict[str, Any]:
    """Per document: id, outlet, publication date, sha256 prefix, rows per table, the
    coverage figures and rows per paragraph; plus the corpus totals.

    Example: ``document_summaries(...)["corpus"]["documents"]`` -> ``2``.
    """
    meta = {str(r["document_id"]): r for r in tables["documents"].rows} if "documents" in tables else {}
    rows = rows_per_document(tables)
    documents = []
    for document_id, results in coverage_by_document.items():
        row = meta.get(document_id, {})
        counted = paragraphs.get(document_id, [])
        documents.append(
            {
                "document_id": document_id,
                "outlet": row.get("outlet"),
                "date_published": str(row["date_published"]) if row.get("date_published") else None,
                "sha256": str(row.get("sha256") or "")[:SHA256_PREFIX] or None,
                "rows": rows.get(document_id, {}),
                "coverage": {r.check: r.figures() for r in results},
                "paragraphs": [asdict(p) for p in counted],
                "paragraphs_without_statements": [p.paragraph for p in counted if not p.statements],
            }
        )
    totals: dict[str, int] = {}
    for per_table in rows.values():
        for name, count in per_table.items():
            totals[name] = totals.get(name, 0) + count
    corpus = {
        "documents": len(documents),
        "rows": dict(sorted(totals.items())),
        "coverage": corpus_totals(coverage_by_document),
    }
    return {"documents": documents, "corpus": corpus}


def coverage_detail(
    paragraphs: list[ParagraphCount], unlinked_events: list[str], documents: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The coverage detail of the report: not a pass/fail check but the counts an editor
    reads to find omissions (a paragraph of reported speech without statements, an event
    that no statement is linked to). ``paragraphs`` are the seed's (or the only document's);
    ``documents`` (from :func:`document_summaries`) adds every document and the corpus."""
    detail: dict[str, Any] = {
        "paragraphs": [asdict(p) for p in paragraphs],
        "paragraphs_without_statements": [p.paragraph for p in paragraphs if not p.statements],
        "events_without_statements": unlinked_events,
    }
    if documents is not None:
        detail.update(documents)
    return detail


def _figures(coverage: dict[str, dict[str, int]]) -> str:
    return "; ".join(
        f"{check} {f['covered'] + f['waived']}/{f['hits']}"
        + (f" (<span class=fail>{f['gaps']} gaps</span>)" if f["gaps"] else "")
        for check, f in coverage.items()
    )


def _counts(rows: dict[str, int]) -> str:
    return ", ".join(f"{html.escape(t)} {n}" for t, n in sorted(rows.items())) or "—"


def render_documents(detail: dict[str, Any]) -> str:
    """The HTML table of documents (id, outlet, date, sha256 prefix, rows per table,
    coverage: covered or waived / hits per check) with the corpus total."""
    listed = detail["documents"]
    note = ""
    if len(listed) > LARGE_CORPUS:  # a page of 100,000 rows is not read: the ones with gaps are
        listed = [d for d in listed if any(f["gaps"] for f in d["coverage"].values())]
        note = (
            f"<p class=muted>{len(detail['documents'])} documents: listed here are the "
            f"{len(listed)} with coverage gaps; every document's figures are in results.json.</p>"
        )
    rows = "".join(
        f"<tr><td><code>{html.escape(d['document_id'])}</code></td>"
        f"<td>{html.escape(d['outlet'] or '—')}</td><td>{html.escape(d['date_published'] or '—')}</td>"
        f"<td><code>{html.escape(d['sha256'] or '—')}</code></td>"
        f"<td>{_counts(d['rows'])}</td><td>{_figures(d['coverage'])}</td></tr>"
        for d in listed
    )
    corpus = detail["corpus"]
    total = (
        f"<tr><th>corpus ({corpus['documents']})</th><td></td><td></td><td></td>"
        f"<td>{_counts(corpus['rows'])}</td><td>{_figures(corpus['coverage'])}</td></tr>"
    )
    return (
        "<h2>Documents</h2><p class=muted>Rows per table whose evidence lies in each document, and "
        "its coverage: hits covered by a row or waived, out of all hits, per check.</p><table><tr>"
        "<th>document</th><th>outlet</th><th>published</th><th>sha256</th><th>rows</th>"
        f"<th>coverage</th></tr>{rows}{total}</table>{note}"
    )


def _paragraph_table(paragraphs: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{p['paragraph']}</td><td>[{p['start']}, {p['end']})</td>"
        f"<td>{html.escape(p['preview'])}</td>"
        f"<td>{p['statements'] or '<span class=fail>0</span>'}</td><td>{p['mentions']}</td>"
        f"<td>{p['events']}</td></tr>"
        for p in paragraphs
    )
    return (
        "<table><tr><th>paragraph</th><th>characters</th><th>text</th><th>statements</th>"
        f"<th>mentions</th><th>events</th></tr>{rows}</table>"
    )


def render_coverage(detail: dict[str, Any]) -> str:
    """The HTML sections for the coverage detail (documents, rows per paragraph of each
    document, unlinked events)."""
    if "documents" in detail:
        tables = "".join(
            f"<h3>Document <code>{html.escape(d['document_id'])}</code></h3>"
            + _paragraph_table(d["paragraphs"])
            for d in detail["documents"]
            if d["paragraphs"] or len(detail["documents"]) <= LARGE_CORPUS
        )
    else:
        tables = _paragraph_table(detail["paragraphs"])
    events = ", ".join(f"<code>{html.escape(e)}</code>" for e in detail["events_without_statements"])
    return (
        f"{render_documents(detail) if 'documents' in detail else ''}"
        "<h2>Coverage by paragraph</h2><p class=muted>Rows whose evidence starts in each body paragraph; "
        "a paragraph without statements is worth a second look.</p>"
        f"{tables}<h2>Events without statements</h2><p>"
        f"{events or '<span class=muted>none</span>'} "
        f"({len(detail['events_without_statements'])})</p>"
    )


def merge_column_checks(checks: list[CheckResult]) -> list[CheckResult]:
    """Fold the per-column formula checks of a table into one row for the human report."""
    merged: list[CheckResult] = []
    for check in checks:
        prefix, _, column = check.check.partition(":")
        previous = merged[-1] if merged else None
        if column and previous and previous.table == check.table and previous.check.startswith(prefix):
            previous.check = f"{prefix}:{previous.check.split(':', 1)[1]}, {column}"
            previous.passed = previous.passed and check.passed
            previous.unexpected_count += check.unexpected_count
            previous.examples += check.examples
        else:
            merged.append(replace(check, examples=list(check.examples)))
    return merged


def _row(check: CheckResult, with_table: bool = False) -> str:
    status = '<span class="pass">pass</span>' if check.passed else '<span class="fail">FAIL</span>'
    examples = html.escape(", ".join(check.examples)) or '<span class="muted">—</span>'
    observed = (
        "—"
        if check.observed is None
        else html.escape(json.dumps(check.observed, ensure_ascii=False, default=str))
    )
    return (
        f"<tr><td>{status}</td><td>{html.escape(check.table) + ': ' if with_table else ''}"
        f"<code>{html.escape(check.check)}</code><br>"
        f"<span class=muted>{html.escape(check.why)}</span>"
        f"{'<br><span class=muted>run by ' + html.escape(check.engine) + '</span>' if check.engine else ''}"
        f"</td><td>{observed}</td>"
        f"<td>{check.unexpected_count}</td><td>{examples}</td></tr>"
    )


HEADER_ROW = "<tr><th>status</th><th>check</th><th>observed</th><th>offending</th><th>examples</th></tr>"


def _failed_section(checks: list[CheckResult]) -> str:
    """The failing checks, listed before anything else (empty when every check passed)."""
    failed = [c for c in merge_column_checks(checks) if not c.passed]
    if not failed:
        return ""
    rows = "".join(_row(c, with_table=True) for c in failed)
    return f"<h2>Failed checks</h2><table>{HEADER_ROW}{rows}</table>"


def fold_coverage(checks: list[CheckResult]) -> list[CheckResult]:
    """The checks the HTML report lists one by one. Past ``LARGE_CORPUS`` documents, the
    coverage checks that passed are folded into one row per check (``corpus``: how many
    documents, their hits); failing ones stay listed. ``results.json`` keeps every check."""
    passing = [c for c in checks if c.kind == "coverage" and c.passed]
    if len({c.table for c in checks if c.kind == "coverage"}) <= LARGE_CORPUS:
        return checks
    folded: dict[str, CheckResult] = {}
    for check in passing:
        row = folded.setdefault(
            check.check,
            CheckResult(
                "corpus",
                check.check,
                f"{check.check}: every hit in the body of each of these documents is covered by "
                "one of its rows or waived with a reason (each document's figures: results.json).",
                "coverage",
                True,
                {"documents": 0},
            ),
        )
        observed = row.observed
        observed["documents"] += 1
        if isinstance(check.observed, dict):
            for name, value in check.observed.items():
                if isinstance(value, int) and not isinstance(value, bool):
                    observed[name] = observed.get(name, 0) + value
    return [c for c in checks if not (c.kind == "coverage" and c.passed)] + list(folded.values())


def render_html(document: dict[str, Any], checks: list[CheckResult]) -> str:
    """The human report: a plain-language summary, the failing checks, row counts and one
    table of checks per data table (failing checks first)."""
    title = f"Validation report — {document['package']} {document['version']}"
    verdict = (
        f"<strong>All checks passed</strong> ({len(checks)} checks)."
        if document["passed"]
        else f"<strong>Build blocked.</strong> {html.escape(summary_text(checks))}"
    )
    counts = "".join(
        f"<tr><td>{html.escape(t)}</td><td>{n}</td></tr>" for t, n in document["row_counts"].items()
    )
    sections = []
    ordered = sorted(fold_coverage(checks), key=lambda c: (c.table, c.check.split(":")[0]))
    for table, group in groupby(merge_column_checks(ordered), key=lambda c: c.table):
        rows = "".join(_row(c) for c in failing_first(list(group)))
        sections.append(f"<h2>{html.escape(table)}</h2><table>{HEADER_ROW}{rows}</table>")
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style><h1>{html.escape(title)}</h1><p>{verdict}</p>{PROVENANCE_LINK}"
        f"{_failed_section(ordered)}<h2>Row counts</h2><table>"
        f"<tr><th>table</th><th>rows</th></tr>{counts}</table>{''.join(sections)}"
        f"{render_coverage(document['coverage']) if 'coverage' in document else ''}</html>\n"
    )


def write_report(
    staging: Path,
    package: Package,
    row_counts: dict[str, int],
    checks: list[CheckResult],
    detail: dict[str, Any] | None = None,
) -> list[Path]:
    """Write results.json and index.html under ``validation/report``; return their paths."""
    folder = staging / REPORT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    document = results_document(package, row_counts, checks, detail)
    (folder / "results.json").write_text(json_text(document) + "\n", encoding="utf-8")
    (folder / "index.html").write_text(render_html(document, checks), encoding="utf-8")
    return [REPORT_DIR / "results.json", REPORT_DIR / "index.html"]
