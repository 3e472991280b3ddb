"""Unit tests of evidence resolution: occurrences, folding, locate and body spans."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from newstables.errors import NewstablesError
from newstables.evidence import Region, Span, body_spans, find_folded, fold, locate, occurrences
from newstables.read import Record

RAW = (
    "Envoys meet in Rome | World\n\n"
    "Jake Sullivan met Yang Jiechi in Rome. Russian officials were absent; Russia denied it.\n\n"
    "“We are watching closely,” Sullivan told CNN.\n\n"
    "See also\u00a0 Unrelated story\n\n"
    "Leave a Reply\n"
)


def record(**fields: Any) -> Record:
    """An annotation record as the reader makes it: fields plus file, index and lines."""
    rec = Record(fields)
    rec.file, rec.index, rec.line = "data/annotations/test.yaml", 1, 10
    rec.lines = {name: 10 + n for n, name in enumerate(fields)}
    return rec


def region(region_id: str, kind: str, text: str) -> Region:
    start = RAW.index(text)
    return Region(region_id, kind, Span(start, start + len(text)))


REGIONS = [
    region("headline", "headline", "Envoys meet in Rome"),
    region("section-label", "section_label", "| World"),
    region("see-also", "see_also", "See also\u00a0 Unrelated story"),
    region("comment-footer", "comment_footer", "Leave a Reply"),
]


def raises(error_type: str, rec: Record, regions: list[Region] | None = None) -> NewstablesError:
    with pytest.raises(NewstablesError) as caught:
        locate(RAW, rec, REGIONS if regions is None else regions)
    assert caught.value.type == error_type, caught.value.message
    return caught.value


# --- occurrences ---------------------------------------------------------------------------


def test_occurrences_unique() -> None:
    assert occurrences(RAW, "Yang Jiechi") == [RAW.index("Yang Jiechi")]


def test_occurrences_repeated_are_left_to_right() -> None:
    first = RAW.index("Sullivan")
    assert occurrences(RAW, "Sullivan") == [first, RAW.index("Sullivan", first + 1)]
    assert len(occurrences(RAW, "Rome")) == 2


def test_occurrences_respect_word_boundaries() -> None:
    # "Russia" never matches inside "Russian"; "Russian" only where it is written.
    assert occurrences(RAW, "Russia") == [RAW.index("Russia denied")]
    assert occurrences(RAW, "Russian") == [RAW.index("Russian")]
    assert occurrences("Russia's veto", "Russia") == [0]  # an apostrophe ends the word
    assert occurrences("the RussiaGate story", "Russia") == []


def test_occurrences_boundaries_only_on_word_characters() -> None:
    # An excerpt starting or ending with punctuation matches right next to a letter.
    assert occurrences(RAW, "| World") == [RAW.index("| World")]
    assert occurrences("x,” he", ",”") == [1]


def test_occurrences_missing_or_empty() -> None:
    assert occurrences(RAW, "Beijing") == []
    assert occurrences(RAW, "") == []


def test_occurrences_are_case_sensitive() -> None:
    assert occurrences(RAW, "rome") == []


# --- folding -------------------------------------------------------------------------------


def test_fold_quotes_dashes_and_spaces() -> None:
    assert fold("“a” ‘b’ c\u00a0\u00a0d – e — f\n\tg") == "\"a\" 'b' c d - e - f g"


def test_find_folded_curly_quotes() -> None:
    offset = find_folded(RAW, '"We are watching closely," Sullivan')
    assert offset == RAW.index("“We")


def test_find_folded_nbsp_and_double_space() -> None:
    assert find_folded(RAW, "See also Unrelated story") == RAW.index("See also")
    assert find_folded("a  b", "a b") == 0


def test_find_folded_dashes() -> None:
    assert find_folded("Kyiv – Kharkiv", "Kyiv - Kharkiv") == 0


def test_find_folded_unicode_normalization() -> None:
    decomposed = "Le cafe\u0301 est ouvert"  # é as e + combining acute (NFD)
    assert find_folded(decomposed, "café est") == 3
    assert find_folded("Le café est ouvert", "cafe\u0301 est") == 3


def test_find_folded_offset_counts_raw_code_points() -> None:
    # Collapsed spaces before the match must not shift the returned offset.
    raw = "a\u00a0\u00a0 \u00a0b “c”"
    assert find_folded(raw, '"c"') == raw.index("“")


def test_find_folded_missing() -> None:
    assert find_folded(RAW, "Beijing") is None


# --- locate --------------------------------------------------------------------------------


def test_locate_unique() -> None:
    span = locate(RAW, record(excerpt="Yang Jiechi"), REGIONS)
    assert RAW[span.start : span.end] == "Yang Jiechi"


def test_locate_repeated_needs_an_occurrence() -> None:
    error = raises("excerpt-ambiguous", record(excerpt="Sullivan"))
    assert error.coordinates["count"] == 2
    assert error.coordinates["field"] == "excerpt" and error.coordinates["line"] == 10


def test_locate_occurrence_picks_the_nth() -> None:
    span = locate(RAW, record(excerpt="Sullivan", occurrence=2), REGIONS)
    assert span.start == RAW.rindex("Sullivan")


@pytest.mark.parametrize("occurrence", [0, 3, -1])
def test_locate_occurrence_out_of_range(occurrence: object) -> None:
    error = raises("occurrence-out-of-range", record(excerpt="Sullivan", occurrence=occurrence))
    assert error.coordinates["field"] == "occurrence" and error.coordinates["line"] == 11


@pytest.mark.parametrize("occurrence", [True, "2"])
def test_locate_occurrence_that_is_not_an_integer_is_wrong_type(occurrence: object) -> None:
    error = raises("wrong-type", record(excerpt="Sullivan", occurrence=occurrence))
    assert error.coordinates["field"] == "occurrence" and error.coordinates["line"] == 11
    assert error.coordinates["value"] == occurrence


def test_locate_word_boundary() -> None:
    span = locate(RAW, record(excerpt="Russia"), REGIONS)
    assert RAW[span.start : span.end + 1] == "Russia "


def test_locate_missing() -> None:
    raises("excerpt-not-found", record(excerpt="Beijing"))


def test_locate_not_verbatim_straight_quotes() -> None:
    error = raises("excerpt-not-verbatim", record(excerpt='"We are watching closely,"'))
    assert error.coordinates["offset"] == RAW.index("“We")


def test_locate_not_verbatim_nbsp() -> None:
    # A plain space where the article has NBSP + space: found only after folding. (That
    # text is also boilerplate, but the excerpt must first match verbatim.)
    raises("excerpt-not-verbatim", record(excerpt="See also Unrelated story"))


def test_locate_inside_boilerplate() -> None:
    error = raises("excerpt-in-boilerplate", record(excerpt="Leave a Reply"))
    assert error.coordinates["region"] == "comment-footer"


def test_locate_overlapping_boilerplate_is_refused() -> None:
    error = raises("excerpt-in-boilerplate", record(excerpt="Rome | World"))
    assert error.coordinates["region"] == "section-label"


def test_locate_headline_is_evidence() -> None:
    span = locate(RAW, record(excerpt="Envoys meet in Rome"), REGIONS)
    assert span.start == 0


def test_locate_without_regions_accepts_boilerplate() -> None:
    span = locate(RAW, record(excerpt="Leave a Reply"), [])
    assert RAW[span.start : span.end] == "Leave a Reply"


@pytest.mark.parametrize("excerpt", ["", None, 42])
def test_locate_excerpt_must_be_a_non_empty_string(excerpt: object) -> None:
    raises("wrong-type", record(excerpt=excerpt))


def test_locate_offsets() -> None:
    start = RAW.index("Sullivan told")
    span = locate(RAW, record(excerpt="Sullivan", char_start=start, char_end=start + 8), REGIONS)
    assert span == Span(start, start + 8)


@pytest.mark.parametrize(("start", "end"), [(-1, 5), (5, 5), (10, 5), (0, len(RAW) + 1), ("0", 5)])
def test_locate_offsets_out_of_range(start: object, end: object) -> None:
    error = raises("offsets-out-of-range", record(excerpt="Envoys", char_start=start, char_end=end))
    assert error.coordinates["field"] == "char_start"


def test_locate_offsets_mismatch() -> None:
    error = raises("offsets-mismatch", record(excerpt="Envoys", char_start=1, char_end=7))
    assert error.coordinates["found"] == "nvoys "


# --- body spans ----------------------------------------------------------------------------


def test_body_spans_cut_out_boilerplate_only() -> None:
    spans = body_spans(RAW, REGIONS)
    text = "".join(RAW[s.start : s.end] for s in spans)
    assert "Envoys meet in Rome" in text  # the headline is not boilerplate
    assert "| World" not in text and "Leave a Reply" not in text and "Unrelated" not in text
    assert "Sullivan told CNN." in text
    assert spans[-1].end == len(RAW)  # the final newline after the footer
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


def test_body_spans_without_regions_is_the_whole_text() -> None:
    assert body_spans(RAW, []) == [Span(0, len(RAW))]


def test_body_spans_boilerplate_at_edges_and_overlapping() -> None:
    raw = "0123456789"
    cuts = [
        Region("b", "see_also", Span(6, 10)),
        Region("a", "section_label", Span(0, 3)),
        Region("c", "comment_footer", Span(2, 4)),
    ]
    assert body_spans(raw, cuts) == [Span(4, 6)]
