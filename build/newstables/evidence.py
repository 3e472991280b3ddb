"""Stage 2, resolve evidence: turn each quoted excerpt into ``[char_start, char_end)``.

An excerpt must occur verbatim in the raw article. Occurrences are counted left to right
over the whole file, and a match counts only where it is not part of a longer word (so
"Russia" never matches inside "Russian"). Matching may normalize quotes, spaces and
Unicode only to explain a failure; what is stored is always ``raw[start:end]``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from newstables.errors import NewstablesError
from newstables.read import Record

# The evidence columns every table with evidence ends with, in this order.
EVIDENCE_FIELDS = (
    "evidence_source_id",
    "document_id",
    "char_start",
    "char_end",
    "prefix",
    "excerpt",
    "suffix",
    "is_external",
)

BOILERPLATE_KINDS = frozenset({"section_label", "see_also", "comment_footer"})
REGION_KINDS = BOILERPLATE_KINDS | {"headline"}

_FOLD = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "\u00a0": " ", "–": "-", "—": "-"})


@dataclass(frozen=True)
class Span:
    """A half-open span of code points in the raw article."""

    start: int
    end: int

    def inside(self, other: Span) -> bool:
        """True when this span lies within ``other`` (overlap counts)."""
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Region:
    """A labelled part of the page: the headline, or boilerplate that is never evidence."""

    region_id: str
    kind: str
    span: Span

    @property
    def is_boilerplate(self) -> bool:
        """True for page furniture (section label, See-also links, comment footer)."""
        return self.kind in BOILERPLATE_KINDS


def occurrences(raw: str, excerpt: str) -> list[int]:
    """Start offsets of every whole-word occurrence of ``excerpt`` in ``raw``."""
    if not excerpt:
        return []
    head = r"(?<!\w)" if excerpt[0].isalnum() else ""
    tail = r"(?!\w)" if excerpt[-1].isalnum() else ""
    pattern = re.compile(head + re.escape(excerpt) + tail)
    return [m.start() for m in pattern.finditer(raw)]


def fold(text: str) -> str:
    """Normalize for matching only: NFC, straight quotes, plain dashes, single spaces."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text).translate(_FOLD))


def find_folded(raw: str, excerpt: str) -> int | None:
    """Offset in ``raw`` where ``excerpt`` matches after folding both, or None."""
    # Compared decomposed (NFD works code point by code point), one folded character per
    # entry, so that ``origin`` maps every position back to its code point in ``raw``.
    target = unicodedata.normalize("NFD", fold(excerpt))
    folded_chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(raw):
        for piece in unicodedata.normalize("NFD", fold(char)):
            if piece == " " and folded_chars and folded_chars[-1] == " ":
                continue
            folded_chars.append(piece)
            origin.append(index)
    position = "".join(folded_chars).find(target)
    return None if position < 0 else origin[position]


def locate(raw: str, record: Record, regions: list[Region], field: str = "excerpt") -> Span:
    """Resolve a record's excerpt (and optional occurrence or offsets) to a span."""
    excerpt = record[field]
    if not isinstance(excerpt, str) or not excerpt:
        raise NewstablesError(
            "wrong-type",
            **record.where(field),
            value=excerpt,
            got=type(excerpt).__name__,
            expected="a non-empty string",
            hint="",
        )
    if excerpt != excerpt.strip():
        raise NewstablesError("excerpt-untrimmed", **record.where(field), value=excerpt)
    if "char_start" in record or "char_end" in record:
        span = _check_offsets(raw, record, excerpt)
    elif field != "excerpt":
        span = _find(raw, record, excerpt, field)
    else:
        cached = record.cached_span
        if cached is not None and raw[cached[0] : cached[1]] == excerpt:
            # found by an earlier build in the same inputs (core.cache): checked, not searched
            span = Span(*cached)
        else:
            span = _find(raw, record, excerpt, field)
            record.found_span = (span.start, span.end)
    _refuse_boilerplate(record, span, regions, field)
    return span


def _find(raw: str, record: Record, excerpt: str, field: str) -> Span:
    starts = occurrences(raw, excerpt)
    if not starts:
        offset = find_folded(raw, excerpt)
        if offset is not None:
            found = raw[offset : offset + len(excerpt)]
            raise NewstablesError(
                "excerpt-not-verbatim", **record.where(field), value=excerpt, found=found, offset=offset
            )
        raise NewstablesError("excerpt-not-found", **record.where(field), value=excerpt)
    occurrence = record.get("occurrence")
    if occurrence is None:
        if len(starts) > 1:
            raise NewstablesError(
                "excerpt-ambiguous",
                **record.where(field),
                value=excerpt,
                count=len(starts),
                offsets=", ".join(map(str, starts)),
            )
        occurrence = 1
    if not isinstance(occurrence, int) or isinstance(occurrence, bool):
        raise NewstablesError(
            "wrong-type",
            **record.where("occurrence"),
            value=occurrence,
            got=type(occurrence).__name__,
            expected=f"an integer from 1 to {len(starts)} (unquoted)",
            hint="",
        )
    if not 1 <= occurrence <= len(starts):
        raise NewstablesError(
            "occurrence-out-of-range", **record.where("occurrence"), value=occurrence, count=len(starts)
        )
    start = starts[occurrence - 1]
    return Span(start, start + len(excerpt))


def _check_offsets(raw: str, record: Record, excerpt: str) -> Span:
    start, end = record.get("char_start"), record.get("char_end")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(raw)):
        raise NewstablesError(
            "offsets-out-of-range", **record.where("char_start"), start=start, end=end, length=len(raw)
        )
    if raw[start:end] != excerpt:
        raise NewstablesError(
            "offsets-mismatch",
            **record.where("char_start"),
            start=start,
            end=end,
            found=raw[start:end],
            value=excerpt,
        )
    return Span(start, end)


def _refuse_boilerplate(record: Record, span: Span, regions: list[Region], field: str) -> None:
    for region in regions:
        if region.is_boilerplate and span.inside(region.span):
            raise NewstablesError(
                "excerpt-in-boilerplate",
                **record.where(field),
                start=span.start,
                end=span.end,
                region=region.region_id,
            )


def resolve_regions(raw: str, records: list[Record]) -> list[Region]:
    """Resolve the regions file (headline and boilerplate) to spans."""
    regions: list[Region] = []
    seen: dict[str, Record] = {}
    for record in records:
        region_id = str(record.get("region_id"))
        if region_id in seen:
            raise NewstablesError(
                "duplicate-id", **record.where("region_id"), value=region_id, other=seen[region_id].label
            )
        seen[region_id] = record
        kind = record.get("kind")
        if kind not in REGION_KINDS:
            raise NewstablesError(
                "enum-violation", **record.where("kind"), value=kind, expected=", ".join(sorted(REGION_KINDS))
            )
        span = locate(raw, record, [])
        regions.append(Region(str(record.get("region_id")), str(kind), span))
    return regions


def resolve_document_regions(
    texts: dict[str, str], records: list[Record], default: str
) -> dict[str, list[Region]]:
    """Resolve the regions of every document (each region lies in its record's document);
    region ids are unique across the corpus."""
    by_document: dict[str, list[Record]] = {document_id: [] for document_id in texts}
    for record in records:
        document_id = document_of(record, texts, default)
        by_document[document_id].append(record)
    resolved = {
        document_id: resolve_regions(texts[document_id], recs) for document_id, recs in by_document.items()
    }
    seen: dict[str, str] = {}
    for document_id, regions in resolved.items():
        for region in regions:
            if region.region_id in seen:
                record = next(
                    r for r in by_document[document_id] if str(r.get("region_id")) == region.region_id
                )
                raise NewstablesError(
                    "duplicate-id",
                    **record.where("region_id"),
                    value=region.region_id,
                    other=seen[region.region_id],
                )
            seen[region.region_id] = document_id
    return resolved


def document_of(record: Record, texts: dict[str, str], default: str) -> str:
    """The document a record's evidence lies in, refusing one the project does not hold."""
    document_id = record.document(default)
    if document_id not in texts:
        raise NewstablesError(
            "unknown-document",
            **record.where("document_id"),
            value=document_id,
            expected=", ".join(sorted(texts)),
        )
    return document_id


def body_spans(raw: str, regions: list[Region]) -> list[Span]:
    """The parts of the article that are not boilerplate, in order."""
    cuts = sorted((r.span for r in regions if r.is_boilerplate), key=lambda s: s.start)
    spans, position = [], 0
    for cut in cuts:
        if cut.start > position:
            spans.append(Span(position, cut.start))
        position = max(position, cut.end)
    if position < len(raw):
        spans.append(Span(position, len(raw)))
    return spans
