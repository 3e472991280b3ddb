"""The per-document cache's store (``core.cache.DocumentCache``): entries round-trip exactly,
and a damaged database is a miss, replaced by the next save."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from newstables.core.cache import CACHE_DIR, CachedRecord, DocumentCache

RECORDS = [
    CachedRecord(
        "statements",
        {"statement_id": "s1", "date_start": dt.date(2022, 3, 13), "occurrence": 2},
        "data/articles/a/annotations/statements.yaml",
        1,
        4,
        {"statement_id": 4, "date_start": 4, "occurrence": 4},  # a one-line record
        {"statement_id": "s1", "date_start": dt.date(2022, 3, 13), "is_external": False, "note": None},
    ),
    CachedRecord(
        "statements",
        {"statement_id": "s2", "excerpt": "“Curly” ünïcode"},
        "data/articles/a/annotations/statements.yaml",
        2,
        6,
        {"excerpt": 8, "statement_id": 7},  # a block record: its own lines, in their order
        {"statement_id": "s2", "date_start": None, "is_external": True, "note": "n"},
    ),
    CachedRecord("regions", {"region_id": "r1"}, "data/articles/a/annotations/regions.yaml", 1, 1, {}, {}),
]


def test_entries_round_trip(tmp_path: Path) -> None:
    cache = DocumentCache(tmp_path, "fingerprint")
    cache.save_all([("k1", RECORDS), ("k2", RECORDS[:1])])
    cache.close()
    again = DocumentCache(tmp_path, "fingerprint")
    loaded = again.load("k1")
    assert loaded == RECORDS
    assert loaded is not None and [list(r.lines) for r in loaded] == [list(r.lines) for r in RECORDS]
    assert again.load("k2") == RECORDS[:1]
    assert again.load("k3") is None
    again.close()
    assert sorted(p.name for p in (tmp_path / CACHE_DIR).iterdir()) == ["documents.sqlite"]


def test_a_damaged_database_is_a_miss_and_is_replaced(tmp_path: Path) -> None:
    (tmp_path / CACHE_DIR).mkdir()
    (tmp_path / CACHE_DIR / "documents.sqlite").write_bytes(b"not a database" * 100)
    cache = DocumentCache(tmp_path, "fingerprint")
    assert cache.load("k1") is None
    cache.save("k1", RECORDS)
    cache.close()
    assert DocumentCache(tmp_path, "fingerprint").load("k1") == RECORDS


def test_no_database_is_a_miss_without_creating_one(tmp_path: Path) -> None:
    assert DocumentCache(tmp_path, "fingerprint").load("k1") is None
    assert not (tmp_path / CACHE_DIR).exists()
