"""Benchmark: the sharded build's publish and check stages, with the DuckDB file written on one
core while the CSV and Parquet files and Frictionless's row checks use the other
(``publish_shards.write_release``), and the input fingerprint taken while the shards read
(``core.fingerprint.FingerprintDuringBuild``).

Builds a copy of a corpus (``--corpus DIR``, usually the 10k corpus of the scale benchmark) in
this process with ``--force`` semantics (no per-document cache, ``NEWSTABLES_CACHE_DIR=off``)
and the SQLite file left out as at 1M statements (``publish_shards.SQLITE_MAX_ROWS = 0``: at
10k articles it is written, and would hide the stages that matter at scale). Records, under
``--label``: the stage times, the wall and CPU (``getrusage``: this process and its shard
workers) of the whole build and of "publish and checks" (everything after "checks across
shards"), and the peak RSS of this process. ``--cold`` drops the page cache first (root only).
Run the same script on another checkout's code (``PYTHONPATH=that/build``) for a baseline.
Prints figures and writes ``benchmarks/results/publish_overlap.json``; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks/results/publish_overlap.json"


def cpu(who: int) -> float:
    """User plus system CPU seconds of ``who`` (a ``resource.RUSAGE_*``)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    """Build once and record the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--cold", action="store_true")
    args = parser.parse_args()
    os.environ["NEWSTABLES_CACHE_DIR"] = "off"
    if args.cold:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n", encoding="utf-8")
    from newstables import pipeline, publish_shards
    from newstables.core.progress import TIMINGS

    publish_shards.SQLITE_MAX_ROWS = 0  # as at 1M statements: no SQLite file
    marks: dict[str, float] = {}
    real = pipeline.write_sharded_release

    def marked(*args: Any, **kwargs: Any) -> Any:
        marks["wall"], marks["cpu"] = time.perf_counter(), cpu(resource.RUSAGE_SELF)
        return real(*args, **kwargs)

    pipeline.write_sharded_release = marked  # type: ignore[assignment]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    pipeline.build(args.corpus)
    wall = time.perf_counter() - start
    figures = {
        "corpus": str(args.corpus),
        "cold_page_cache": args.cold,
        "load_average_1min": round(load, 1),
        "build_wall_s": round(wall, 1),
        "build_cpu_s": round(cpu(resource.RUSAGE_SELF) + cpu(resource.RUSAGE_CHILDREN), 1),
        "publish_and_checks_wall_s": round(time.perf_counter() - marks["wall"], 1),
        "publish_and_checks_cpu_s": round(cpu(resource.RUSAGE_SELF) - marks["cpu"], 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "stages_s": {k: round(v, 2) for k, v in TIMINGS.items()},
    }
    print(json.dumps({args.label: figures}, indent=1))
    results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    results[args.label] = figures
    RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
