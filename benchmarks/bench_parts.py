"""Benchmark: partitioned Parquet at scale (issue 9, item 4) — part sizes, write time, same bytes.

Makes a synthetic statements-like Arrow table (ids, a document, offsets, a verbatim excerpt of
about 200 characters with non-ASCII and curly quotes, a speaker, a few enums) over documents
spread across ten years (one in fifty undated), writes it with ``core.parts.write_partitioned``
(the build's writer) twice, and reports per-partition parts and their bytes, the write time, the
bytes per row, whether both writes gave the same bytes, and how a smaller part limit splits a
partition. Prints figures and writes benchmarks/results/parts.json; asserts nothing.

Run with ``python benchmarks/bench_parts.py [ROWS]`` (default 1,000,000 rows, ~1 GB of RAM).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from newstables.core.parts import PART_MAX_BYTES, write_partitioned

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks/results/parts.json"
ROWS_PER_DOCUMENT = 10
SYLLABLES = ["ka", "lo", "mi", "zü", "rich", "łó", "dź", "ne", "ta", "vo", "sé", "ber", "an", "qu", "ør"]
# ~3,400 distinct words, then 30-word excerpts drawn with a seeded generator: text that zstd
# cannot squeeze like a repeated phrase (real excerpts compress about 3x).
VOCABULARY = [a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES] + ["“said”", "—"]


def synthetic(rows: int) -> tuple[pa.Table, dict[str, dt.date | None]]:
    """A statements-like table of ``rows`` rows and its documents' publication dates."""
    documents = max(1, rows // ROWS_PER_DOCUMENT)
    published: dict[str, dt.date | None] = {
        f"doc-{d:07d}": None if d % 50 == 49 else dt.date(2016 + d % 10, 1 + d % 12, 1 + d % 28)
        for d in range(documents)
    }
    ids = [f"doc-{(i * 7919) % documents:07d}" for i in range(rows)]  # documents interleaved
    draw = random.Random(9).choices
    excerpt = [" ".join(draw(VOCABULARY, k=30)) for _ in range(rows)]
    table = pa.table(
        {
            "statement_id": [f"statement-{i:08d}" for i in range(rows)],
            "speaker_id": [f"actor-{(i * 31) % 50_000:05d}" for i in range(rows)],
            "statement_type": [("direct_quote", "paraphrase", "claim")[i % 3] for i in range(rows)],
            "document_id": ids,
            "char_start": pa.array([i % 5000 for i in range(rows)], pa.int64()),
            "char_end": pa.array([i % 5000 + 200 for i in range(rows)], pa.int64()),
            "excerpt": excerpt,
            "is_external": pa.array([False] * rows, pa.bool_()),
        }
    )
    return table, published


def digest(root: Path, paths: list[Path]) -> str:
    """One SHA-256 over every part's path and bytes."""
    total = hashlib.sha256()
    for path in paths:
        total.update(path.as_posix().encode())
        total.update((root / path).read_bytes())
    return total.hexdigest()


def run(rows: int) -> dict[str, Any]:
    table, published = synthetic(rows)
    order = ["document_id", "statement_id"]
    with tempfile.TemporaryDirectory(prefix="bench-parts-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        written = write_partitioned(table, "statements", folder / "a", published, order)
        seconds = time.perf_counter() - started
        again = write_partitioned(table, "statements", folder / "b", published, order)
        same = written == again and digest(folder / "a", written) == digest(folder / "b", again)
        sizes = {p.as_posix(): (folder / "a" / p).stat().st_size for p in written}
        small_limit = table.nbytes // 40
        split = write_partitioned(table, "statements", folder / "c", published, order, max_bytes=small_limit)
        split_sizes = [(folder / "c" / p).stat().st_size for p in split]
    total = sum(sizes.values())
    return {
        "rows": rows,
        "arrow_bytes": table.nbytes,
        "part_max_bytes": PART_MAX_BYTES,
        "write_seconds": round(seconds, 2),
        "parts": len(sizes),
        "parquet_bytes": total,
        "bytes_per_row": round(total / rows, 1),
        "largest_part_bytes": max(sizes.values()),
        "part_bytes": sizes,
        "same_bytes_twice": same,
        "with_limit_arrow_bytes": small_limit,
        "with_limit_parts": len(split),
        "with_limit_part_bytes_min_max": [min(split_sizes), max(split_sizes)],
    }


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    result = run(rows)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(
        f"{result['rows']:,} rows ({result['arrow_bytes'] / 2**20:.0f} MiB Arrow): {result['parts']} parts, "
        f"{result['parquet_bytes'] / 2**20:.1f} MiB Parquet ({result['bytes_per_row']} B/row), largest part "
        f"{result['largest_part_bytes'] / 2**20:.1f} MiB, written in {result['write_seconds']} s; "
        f"same bytes twice: {result['same_bytes_twice']}; "
        f"with a {result['with_limit_arrow_bytes'] / 2**20:.0f} MiB limit: {result['with_limit_parts']} parts"
    )
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
