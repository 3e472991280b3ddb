"""Benchmark: what a cold sharded build spends outside the shard workers, part by part.

Copies a corpus (``--corpus``, e.g. one ``newstables synth --articles 10000`` wrote) to a
scratch folder, runs one cold build in this process (``NEWSTABLES_CACHE_DIR=off``, no
per-document cache) and records, for every stage of ``core.progress``, its wall time, this
process's CPU time (every thread: DuckDB's and pyarrow's too) and the CPU time of child
processes (the shard workers). What no stage holds is reported as ``unstaged`` (negative when
stages overlap: the SQLite file is written in a thread while the CSV and Parquet files are, and
this process's CPU time counts every thread in each of them). CPU seconds
are the figure to compare on a shared machine; wall times move with the load, which is
recorded. Writes ``benchmarks/results/outside_shards.json`` (or ``--out``); asserts nothing.

Example: ``python benchmarks/bench_outside_shards.py --corpus /tmp/nt-corpus-10k``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "outside_shards.json"


def children_cpu() -> float:
    """CPU seconds of the finished child processes (the shard workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(corpus: Path) -> dict[str, Any]:
    """One cold build of a copy of ``corpus``: stage by stage wall and CPU seconds."""
    os.environ["NEWSTABLES_CACHE_DIR"] = "off"
    import newstables.core.progress as progress
    import newstables.pipeline as pipeline
    import newstables.publish_shards as publish_shards

    parts: dict[str, list[float]] = {}

    @contextmanager
    def stage(label: str) -> Iterator[None]:
        wall, cpu, child = time.perf_counter(), time.process_time(), children_cpu()
        try:
            yield
        finally:
            part = parts.setdefault(label, [0.0, 0.0, 0.0])
            part[0] += time.perf_counter() - wall
            part[1] += time.process_time() - cpu
            part[2] += children_cpu() - child

    for module in (progress, pipeline, publish_shards):
        module.stage = stage  # every stage of the build, timed here too
    with tempfile.TemporaryDirectory(prefix="bench-outside-") as scratch:
        project = Path(scratch) / "corpus"
        shutil.copytree(corpus, project, symlinks=True)
        shutil.rmtree(project / ".newstables-cache", ignore_errors=True)
        wall, cpu, child = time.perf_counter(), time.process_time(), children_cpu()
        pipeline.build(project)
        wall, cpu, child = time.perf_counter() - wall, time.process_time() - cpu, children_cpu() - child
    stages = {
        k: {"wall_s": round(w, 2), "cpu_s": round(c, 2), "workers_cpu_s": round(x, 2)}
        for k, (w, c, x) in parts.items()
    }
    return {
        "corpus": str(corpus),
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "workers_cpu_s": round(child, 2),
        "stages": stages,
        "unstaged": {
            "wall_s": round(wall - sum(p[0] for p in parts.values()), 2),
            "cpu_s": round(cpu - sum(p[1] for p in parts.values()), 2),
        },
    }


def main() -> None:
    """Measure, print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    figures = measure(args.corpus)
    text = json.dumps(figures, indent=1) + "\n"
    print(text, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
