"""Benchmark: CPU per article of the sharded stage "read, resolve evidence and build tables
(shards)" as a build runs it (``shards.build_corpus``: a pool of shard workers).

On a copy of a synthetic corpus (``--corpus DIR``, default: ``newstables synth --articles 1000
--seed 1``; the 10k corpus of the scale benchmark is the usual one), three ways:

- ``off``: no per-document cache (``cache_fingerprint=None``);
- ``cold``: the cache on and empty (every document read, resolved and saved), what a first build
  of a large corpus does;
- ``warm``: the cache on and full (every document a hit: its records read again, no excerpt searched).

CPU is that of the parent plus its worker processes (``getrusage``: ``RUSAGE_SELF`` and
``RUSAGE_CHILDREN``), so it does not depend on the machine's load as wall time does (the load
average is recorded with the figures). Prints figures and writes
``benchmarks/results/shard_stage.json``; asserts nothing. Run with
``python benchmarks/bench_shard_stage.py [--corpus DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks/results/shard_stage.json"
NEWSTABLES = Path(sys.executable).parent / "newstables"


def cpu(who: int) -> float:
    """User plus system CPU seconds of ``who`` (a ``resource.RUSAGE_*``)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def stage_cost(project: Path, mode: str) -> dict[str, Any]:
    """Run ``build_corpus`` once on ``project`` with the cache ``mode``; its CPU per article."""
    from newstables.core.cache import CACHE_DIR
    from newstables.core.model import load_model
    from newstables.pipeline import document_cache
    from newstables.project import Project
    from newstables.shards import build_corpus

    fingerprint = None
    if mode != "off":
        fingerprint = document_cache(Project(project), load_model(project)).fingerprint
        if mode == "cold":
            shutil.rmtree(project / CACHE_DIR, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="bench-shard-stage-") as work:
        self_before, children_before, started = (
            cpu(resource.RUSAGE_SELF),
            cpu(resource.RUSAGE_CHILDREN),
            time.time(),
        )
        corpus = build_corpus(project, Path(work) / "shards", fingerprint)
        wall = time.time() - started
        parent = cpu(resource.RUSAGE_SELF) - self_before
        workers = cpu(resource.RUSAGE_CHILDREN) - children_before
    articles = len(corpus.texts)
    return {
        "mode": mode,
        "articles": articles,
        "wall_s": round(wall, 1),
        "parent_cpu_s": round(parent, 2),
        "workers_cpu_s": round(workers, 2),
        "cpu_ms_per_article": round(1000 * (parent + workers) / articles, 2),
        "cache_hits": len(corpus.cache_hits),
        "cache_misses": len(corpus.cache_misses),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    """Measure the three ways on a copy of the corpus; print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, help="a synthetic corpus (not modified: copied)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-shard-stage-corpus-") as scratch:
        project = Path(scratch) / "corpus"
        if args.corpus is not None:
            shutil.copytree(args.corpus, project, ignore=shutil.ignore_patterns(".newstables-cache"))
        else:
            subprocess.run(
                [str(NEWSTABLES), "synth", "--articles", "1000", "--seed", "1", "--out", str(project)],
                check=True,
                capture_output=True,
            )
        figures = [stage_cost(project, mode) for mode in ("off", "cold", "warm")]
    for one in figures:
        print(
            f"{one['mode']:>4}: {one['articles']} articles, {one['cpu_ms_per_article']} ms CPU/article "
            f"(workers {one['workers_cpu_s']} s, parent {one['parent_cpu_s']} s, wall {one['wall_s']} s, "
            f"load {one['load_average'][0]})"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"stage": figures}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
