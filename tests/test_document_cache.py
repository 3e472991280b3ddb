"""The per-document cache's store (``core.cache.DocumentCache``): entries (the spans a build
found by searching, by file and record) round-trip exactly, and a damaged database is a miss,
replaced by the next save; a cached span is checked against the text, never trusted blindly."""

from __future__ import annotations

from pathlib import Path

from newstables.core.cache import CACHE_DIR, DocumentCache, Spans, save_misses
from newstables.evidence import locate
from newstables.read import Record

SPANS: Spans = {
    "data/articles/a/annotations/statements.yaml": {1: (4, 9), 3: (120, 131)},
    "data/articles/a/annotations/regions.yaml": {2: (0, 17)},
}


def test_entries_round_trip(tmp_path: Path) -> None:
    cache = DocumentCache(tmp_path, "fingerprint")
    cache.save_all([("k1", SPANS), ("k2", {})])
    cache.close()
    again = DocumentCache(tmp_path, "fingerprint")
    assert again.load("k1") == SPANS
    assert again.load("k2") == {}  # a document whose records all give their offsets
    assert again.load("k3") is None
    again.close()
    assert sorted(p.name for p in (tmp_path / CACHE_DIR).iterdir()) == ["documents.sqlite"]


def test_a_damaged_database_is_a_miss_and_is_replaced(tmp_path: Path) -> None:
    (tmp_path / CACHE_DIR).mkdir()
    (tmp_path / CACHE_DIR / "documents.sqlite").write_bytes(b"not a database" * 100)
    cache = DocumentCache(tmp_path, "fingerprint")
    assert cache.load("k1") is None
    cache.save("k1", SPANS)
    cache.close()
    assert DocumentCache(tmp_path, "fingerprint").load("k1") == SPANS


def test_no_database_is_a_miss_without_creating_one(tmp_path: Path) -> None:
    assert DocumentCache(tmp_path, "fingerprint").load("k1") is None
    assert not (tmp_path / CACHE_DIR).exists()


STATEMENTS = "data/articles/a/annotations/statements.yaml"


def _record(index: int, document: str | None, **fields: object) -> Record:
    record = Record(fields)
    record.file, record.index, record.line, record.lines = STATEMENTS, index, 1, {}
    record.folder_document = document
    return record


RAW = "Yes. We will. Yes."


def test_a_searched_span_is_saved_and_a_cached_one_checked(tmp_path: Path) -> None:
    searched = _record(1, "a", excerpt="Yes.", occurrence=2)
    given = _record(2, "a", excerpt="We will.", char_start=5, char_end=13)
    registry = _record(3, None, excerpt="We")  # the registry's records are not the document's
    for record in (searched, given, registry):
        locate(RAW, record, [])
    assert (searched.found_span, given.found_span) == ((14, 18), None)
    cache = DocumentCache(tmp_path, "fingerprint")
    cache.misses["a"] = "k1"
    save_misses(cache, [("statements", [searched, given, registry], [])])
    spans = DocumentCache(tmp_path, "fingerprint").load("k1")
    assert spans == {"data/articles/a/annotations/statements.yaml": {1: (14, 18)}}
    # a hit: the span is taken once the text confirms it (no search), else searched again
    hit = _record(1, "a", excerpt="Yes.", occurrence=2)
    hit.cached_span = (14, 18)
    assert (locate(RAW, hit, []).start, hit.found_span) == (14, None)
    wrong = _record(1, "a", excerpt="Yes.", occurrence=2)
    wrong.cached_span = (5, 9)  # the text there is not the excerpt: searched
    assert (locate(RAW, wrong, []).start, wrong.found_span) == (14, (14, 18))
