"""Coverage checks: prove nothing in the article body was skipped.

Three detectors scan the non-boilerplate text: quotation-mark pairs, capitalized words
(candidate names) and date expressions. Each hit must be covered by a row (a statement,
an actor mention, a resolved date) or waived in ``data/annotations/waivers.yaml`` with a
written reason. A waiver names the exact text and applies to every occurrence of it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from newstables.errors import NewstablesError
from newstables.evidence import Region, Span, body_spans
from newstables.project import SEED_DOCUMENT
from newstables.read import Record
from newstables.tables import Table

# Past this many documents, per-document results keep hit counts, not the hits themselves.
LARGE_CORPUS = 1000
WAIVER_CHECKS = ("quotation", "name", "date", "formula")
COVERAGE_CHECKS = ("quotation", "name", "date")
WAIVERS_FILE = "data/annotations/waivers.yaml"
NAME = re.compile(r"(?<![\w’'])[A-Z][\w’'-]*")
QUOTE_PAIR = re.compile(r"“([^“”]*)”|\"([^\"]*)\"")
DATE_EXPRESSION = re.compile(
    r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May"
    r"|June|July|August|September|October|November|December|yesterday|today|tomorrow"
    r"|(?:last|next|this) (?:week|month|year)|(?:days|weeks|months|years)(?: before| ago| later)?"
    r"|(?:19|20)\d\d)\b"
)


@dataclass(frozen=True)
class Hit:
    """A stretch of body text a detector found."""

    check: str
    text: str
    span: Span
    document: str = SEED_DOCUMENT


@dataclass
class CoverageResult:
    """What one detector found: every hit, and those neither covered nor waived."""

    check: str
    hits: list[Hit] = field(default_factory=list)
    gaps: list[Hit] = field(default_factory=list)
    waived: int = 0
    document_id: str = SEED_DOCUMENT
    # Hits counted but not kept (a large corpus keeps only its gaps: millions of hits would not fit).
    uncounted_hits: int = 0

    @property
    def hit_count(self) -> int:
        """How many hits the detector found in all."""
        return len(self.hits) + self.uncounted_hits

    def figures(self) -> dict[str, int]:
        """Hits, covered, waived and gaps: the figures the report shows per document."""
        return {
            "hits": self.hit_count,
            "covered": self.hit_count - self.waived - len(self.gaps),
            "waived": self.waived,
            "gaps": len(self.gaps),
        }


def check_waivers(waivers: list[Record]) -> dict[str, set[str]]:
    """Validate the waivers file and index it: check -> waived texts."""
    index: dict[str, set[str]] = {check: set() for check in WAIVER_CHECKS}
    for waiver in waivers:
        check = waiver.get("check")
        if check not in WAIVER_CHECKS:
            raise NewstablesError(
                "enum-violation", **waiver.where("check"), value=check, expected=", ".join(WAIVER_CHECKS)
            )
        for key in ("text", "reason"):
            if not isinstance(waiver.get(key), str) or not waiver[key].strip():
                raise NewstablesError("missing-field", **waiver.where(key))
        index[str(check)].add(waiver["text"])
    return index


def _scan(
    raw: str, regions: list[Region], pattern: re.Pattern[str], check: str, document: str = SEED_DOCUMENT
) -> Iterator[Hit]:
    groups = range(1, (pattern.groups or 0) + 1)  # a pattern without groups reports group 0
    for body in body_spans(raw, regions):
        for match in pattern.finditer(raw, body.start, body.end):
            group = next((i for i in groups if match.group(i) is not None), 0) if groups else 0
            yield Hit(check, match.group(group), Span(match.start(group), match.end(group)), document)


def in_document(row: dict[str, Any], document_id: str | None) -> bool:
    """Whether a row's evidence lies in ``document_id`` (``None``: any document)."""
    return document_id is None or row.get("document_id") == document_id


def _spans(table: Table, document_id: str | None = None) -> list[Span]:
    return [
        Span(r["char_start"], r["char_end"])
        for r in table.rows
        if r["char_start"] is not None and in_document(r, document_id)
    ]


def _date_texts(tables: dict[str, Table], document_id: str | None = None) -> list[str]:
    return [
        r["date_text"]
        for name in ("events", "statements")
        for r in tables[name].rows
        if r.get("date_text") and r.get("date_start") is not None and in_document(r, document_id)
    ]


class SpanIndex:
    """Answers "does this span overlap any of these spans?" in O(log n): spans sorted by start,
    with the running maximum of their ends."""

    def __init__(self, spans: list[Span]) -> None:
        ordered = sorted(spans, key=lambda s: s.start)
        self.starts = [s.start for s in ordered]
        self.max_ends: list[int] = []
        for span in ordered:
            self.max_ends.append(max(span.end, self.max_ends[-1] if self.max_ends else span.end))

    def overlaps(self, span: Span) -> bool:
        """True when ``span`` overlaps (lies inside, in ``Span.inside``'s sense) any indexed span."""
        return self.overlaps_range(span.start, span.end)

    def overlaps_range(self, start: int, end: int) -> bool:
        """:meth:`overlaps` for the span ``[start, end)``."""
        before = bisect.bisect_left(self.starts, end)  # spans starting before end
        return before > 0 and self.max_ends[before - 1] > start


def _classify(
    check: str, hits: list[Hit], covered: Callable[[Hit], bool], waived: set[str]
) -> CoverageResult:
    result = CoverageResult(check, hits)
    for hit in hits:
        if covered(hit):
            continue
        if hit.text in waived:
            result.waived += 1
        else:
            result.gaps.append(hit)
    return result


def coverage(
    raw: str,
    regions: list[Region],
    tables: dict[str, Table],
    waivers: dict[str, set[str]],
    document_id: str | None = None,
) -> list[CoverageResult]:
    """Run the three detectors on one document's text; return their results (gaps
    included, nothing raised). With ``document_id`` only that document's rows cover its
    hits; without it (a one-document project) every row does."""
    statements = SpanIndex(_spans(tables["statements"], document_id))
    mentions = SpanIndex(_spans(tables["actor_mentions"], document_id))
    document = document_id or SEED_DOCUMENT
    date_texts = _date_texts(tables, document_id)
    return _document_coverage(document, raw, regions, statements, mentions, date_texts, waivers)


def _document_coverage(
    document: str,
    raw: str,
    regions: list[Region],
    statements: SpanIndex,
    mentions: SpanIndex,
    date_texts: list[str],
    waivers: dict[str, set[str]],
    keep_hits: bool = True,
) -> list[CoverageResult]:
    if not keep_hits:
        return [
            _counted(
                "quotation",
                raw,
                regions,
                QUOTE_PAIR,
                document,
                lambda s, e, _: statements.overlaps_range(s, e),
                waivers,
            ),
            _counted(
                "name", raw, regions, NAME, document, lambda s, e, _: mentions.overlaps_range(s, e), waivers
            ),
            _counted(
                "date",
                raw,
                regions,
                DATE_EXPRESSION,
                document,
                lambda _start, _end, text: any(text in t for t in date_texts),
                waivers,
            ),
        ]
    quotes = list(_scan(raw, regions, QUOTE_PAIR, "quotation", document))
    names = list(_scan(raw, regions, NAME, "name", document))
    dates = list(_scan(raw, regions, DATE_EXPRESSION, "date", document))
    results = [
        _classify("quotation", quotes, lambda h: statements.overlaps(h.span), waivers["quotation"]),
        _classify("name", names, lambda h: mentions.overlaps(h.span), waivers["name"]),
        _classify("date", dates, lambda h: any(h.text in t for t in date_texts), waivers["date"]),
    ]
    for result in results:
        result.document_id = document
    return results


def _counted(
    check: str,
    raw: str,
    regions: list[Region],
    pattern: re.Pattern[str],
    document: str,
    covered: Callable[[int, int, str], bool],
    waivers: dict[str, set[str]],
) -> CoverageResult:
    """``_classify`` of ``_scan``'s hits, counting them rather than keeping them: a ``Hit``
    is made for a gap only (a large corpus keeps no other; most hits are covered). ``covered``
    answers for a hit's start, end and text."""
    result = CoverageResult(check, document_id=document)
    waived = waivers[check]
    groups = range(1, (pattern.groups or 0) + 1)
    count = 0
    for body in body_spans(raw, regions):
        for match in pattern.finditer(raw, body.start, body.end):
            count += 1
            group = next((i for i in groups if match.group(i) is not None), 0) if groups else 0
            start, end = match.span(group)
            text = match.group(group)
            if covered(start, end, text):
                continue
            if text in waived:
                result.waived += 1
            else:
                result.gaps.append(Hit(check, text, Span(start, end), document))
    result.uncounted_hits = count
    return result


def corpus_coverage(
    texts: dict[str, str],
    regions: dict[str, list[Region]],
    tables: dict[str, Table],
    waivers: dict[str, set[str]],
    keep_hits: bool | None = None,
) -> dict[str, list[CoverageResult]]:
    """The coverage of every document (in id order), each by its own rows; with ``keep_hits``
    False (default: up to ``LARGE_CORPUS`` documents kept) hits are counted, gaps kept.

    Rows are grouped by document once (linear in the corpus), and each document's hits are
    looked up in an index of its own spans.

    Example: ``corpus_coverage(texts, regions, tables, waivers)["article"][0].check`` ->
    ``"quotation"``.
    """
    spans: dict[str, dict[str, list[Span]]] = {"statements": {}, "actor_mentions": {}}
    for name, by_document in spans.items():
        for row in tables[name].rows:
            if row["char_start"] is not None and row.get("document_id"):
                by_document.setdefault(row["document_id"], []).append(
                    Span(row["char_start"], row["char_end"])
                )
    date_texts: dict[str, list[str]] = {}
    for name in ("events", "statements"):
        for row in tables[name].rows:
            if row.get("date_text") and row.get("date_start") is not None and row.get("document_id"):
                date_texts.setdefault(row["document_id"], []).append(row["date_text"])
    found: dict[str, list[CoverageResult]] = {}
    for document in sorted(texts):
        results = _document_coverage(
            document,
            texts[document],
            regions.get(document, []),
            SpanIndex(spans["statements"].get(document, [])),
            SpanIndex(spans["actor_mentions"].get(document, [])),
            date_texts.get(document, []),
            waivers,
            # keep counts and gaps only past LARGE_CORPUS: millions of hits would not fit
            keep_hits=len(texts) <= LARGE_CORPUS if keep_hits is None else keep_hits,
        )
        found[document] = results
    return found


def corpus_totals(by_document: dict[str, list[CoverageResult]]) -> dict[str, dict[str, int]]:
    """Each check's figures (hits, covered, waived, gaps) summed over the corpus."""
    totals = {check: dict.fromkeys(("hits", "covered", "waived", "gaps"), 0) for check in COVERAGE_CHECKS}
    for results in by_document.values():
        for result in results:
            for key, value in result.figures().items():
                totals[result.check][key] += value
    return totals


def rows_per_document(tables: dict[str, Table]) -> dict[str, dict[str, int]]:
    """Rows whose evidence lies in each document, per table (tables without a
    ``document_id`` column, and the ``documents`` table itself, left out).

    Example: ``rows_per_document(tables)["article"]["statements"]`` -> ``25``.
    """
    counts: dict[str, dict[str, int]] = {}
    for name, table in tables.items():
        if name == "documents":
            continue
        for row in table.rows:
            if row.get("document_id"):
                per_table = counts.setdefault(str(row["document_id"]), {})
                per_table[name] = per_table.get(name, 0) + 1
    return counts


def coverage_errors(results: list[CoverageResult]) -> list[NewstablesError]:
    """One ``coverage-gap`` error per uncovered, unwaived hit."""
    return [
        NewstablesError(
            "coverage-gap",
            file=WAIVERS_FILE,
            table=r.document_id,
            document=r.document_id,
            check=r.check,
            value=gap.text,
            start=gap.span.start,
            end=gap.span.end,
        )
        for r in results
        for gap in r.gaps
    ]


# --- Coverage by paragraph: where the rows are, so an omission shows in the report ----------

PARAGRAPH_BREAK = "\n\n"
PREVIEW_CHARS = 60


@dataclass(frozen=True)
class ParagraphCount:
    """How many statements, mentions and events start in one body paragraph."""

    paragraph: int
    start: int
    end: int
    preview: str
    statements: int
    mentions: int
    events: int


def paragraph_number(raw: str, position: int) -> int:
    """The paragraph a position lies in: the number of blank-line breaks before it (the
    same rule as the validation SQL, so report and checks agree)."""
    return raw.count(PARAGRAPH_BREAK, 0, position)


def body_paragraphs(raw: str, regions: list[Region]) -> list[tuple[int, Span]]:
    """Every paragraph with body text (boilerplate cut out), numbered as paragraph_number."""
    found: list[tuple[int, Span]] = []
    for body in body_spans(raw, regions):
        position = body.start
        for piece in raw[body.start : body.end].split(PARAGRAPH_BREAK):
            span = Span(position, position + len(piece))
            position = span.end + len(PARAGRAPH_BREAK)
            if piece.strip():
                found.append((paragraph_number(raw, span.start), span))
    return found


def _starts(table: Table, document_id: str | None = None) -> list[int]:
    return [
        r["char_start"] for r in table.rows if r["char_start"] is not None and in_document(r, document_id)
    ]


def paragraph_counts(
    raw: str, regions: list[Region], tables: dict[str, Table], document_id: str | None = None
) -> list[ParagraphCount]:
    """Statements, mentions and events per body paragraph of one document, in text order
    (with ``document_id``, only that document's rows count).

    Example: a paragraph of reported speech with ``statements == 0`` is an omission to look at.
    """
    starts = {name: _starts(tables[name], document_id) for name in ("statements", "actor_mentions", "events")}
    counts = []
    for number, span in body_paragraphs(raw, regions):
        inside = {name: sum(span.start <= s < span.end for s in values) for name, values in starts.items()}
        text = " ".join(raw[span.start : span.end].split())
        counts.append(
            ParagraphCount(
                paragraph=number,
                start=span.start,
                end=span.end,
                preview=text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…",
                statements=inside["statements"],
                mentions=inside["actor_mentions"],
                events=inside["events"],
            )
        )
    return counts


def paragraphs_by_document(
    texts: dict[str, str], regions: dict[str, list[Region]], tables: dict[str, Table]
) -> dict[str, list[ParagraphCount]]:
    """``paragraph_counts`` of every document, rows grouped by document once (linear in the
    corpus); empty past ``LARGE_CORPUS`` documents, where a per-paragraph listing is no longer read.

    Example: ``paragraphs_by_document(texts, regions, tables)["article"][0].paragraph`` -> ``0``.
    """
    if len(texts) > LARGE_CORPUS:
        return {}
    names = ("statements", "actor_mentions", "events")
    grouped: dict[str, dict[str, list[Any]]] = {d: {n: [] for n in names} for d in texts}
    for name in names:
        for row in tables[name].rows:
            document = row.get("document_id")
            if document in grouped:
                grouped[document][name].append(row)
    return {
        document: paragraph_counts(
            texts[document],
            regions.get(document, []),
            {name: Table(name, tables[name].resource, rows) for name, rows in grouped[document].items()},
            document,
        )
        for document in sorted(texts)
    }


def events_without_statements(tables: dict[str, Table]) -> list[str]:
    """Ids of events that no statement is linked to (by any relation), sorted."""
    linked = {r["event_id"] for r in tables["statement_events"].rows}
    return sorted(r["event_id"] for r in tables["events"].rows if r["event_id"] not in linked)
