"""Benchmark: what the reader formats (issue 10) add to a build of the seed, and their sizes.

Times each writer (SQLite + Datasette metadata, Excel workbook, provenance page) and the
DuckDB file on the built tables, reports each file's size, and the DuckDB file's size with
and without compression. Prints figures and writes benchmarks/results/reader_formats.json;
asserts nothing. Run with `make bench` (or `python benchmarks/bench_reader_formats.py`).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks/results/reader_formats.json"
RUNS = 3


def best_of(action: Callable[[], Any]) -> float:
    """The fastest of a few runs, in seconds (the machine is shared)."""
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def duckdb_size(tables: Any, folder: Path, compressed: bool) -> int:
    """Bytes of the DuckDB file written as the build writes it, or with compression left on."""
    from newstables import sql
    from newstables.publish import to_arrow

    path = folder / f"db-{compressed}.duckdb"
    arrows = {name: to_arrow(table) for name, table in tables.items()}
    original = sql.reproducible_connection
    if compressed:

        def with_compression() -> Any:
            import duckdb

            return duckdb.connect(config={"threads": 1})

        sql.reproducible_connection = with_compression
    try:
        sql.create_database(path, tables, arrows)
    finally:
        sql.reproducible_connection = original
    return path.stat().st_size


def main() -> None:
    """Print and save the figures."""
    from newstables import pipeline
    from newstables.examples import load_queries
    from newstables.publish_sqlite import write_sqlite
    from newstables.publish_xlsx import write_xlsx
    from newstables.viewer import write_viewer

    inputs = pipeline.load_inputs(ROOT)
    tables = pipeline.make_tables(inputs)
    package = inputs.model.package
    queries = load_queries(inputs.project)
    figures: dict[str, Any] = {"seconds": {}, "bytes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        writers: dict[str, Callable[[], list[dict[str, Any]]]] = {
            "sqlite + datasette metadata": lambda: write_sqlite(tables, package.as_dict(), queries, out),
            "excel workbook": lambda: write_xlsx(tables, package, out),
            "provenance page": lambda: write_viewer(inputs.project, tables, package, out),
        }
        for name, writer in writers.items():
            figures["seconds"][name] = round(best_of(writer), 3)
            for resource in writer():
                figures["bytes"][resource["path"]] = resource["bytes"]
        for compressed in (False, True):
            label = "duckdb file, " + ("compressed" if compressed else "uncompressed (as built)")
            figures["bytes"][label] = duckdb_size(tables, out, compressed)
    for name, seconds in figures["seconds"].items():
        print(f"{name:<40} {seconds:6.3f} s")
    for name, size in figures["bytes"].items():
        print(f"{name:<40} {size:>10,} bytes")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
