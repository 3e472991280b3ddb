"""Benchmark: the per-article cost of reading and building one shard, and the input fingerprint.

On a synthetic corpus (``newstables synth --articles 1000 --seed 1``, or ``--corpus DIR``):

- CPU milliseconds per article of one shard's read, evidence and build (``shards._build_shard``
  on the first shard of 500 documents, in this process, after a warm-up on another shard so
  that imports and per-process caches are paid once, as in a worker), best of ``--runs``, with
  the CPU seconds of each step (reading texts, annotation files, building rows, coverage,
  summaries, staging);
- YAML throughput (MB/s of UTF-8 text, CPU) of the line reader (``core.yamllines``) and of the
  libyaml record loader on the same annotation files, and the share of the corpus's YAML files
  (annotations, registries, ``meta.yaml``) the line reader answers for;
- the input fingerprint of the corpus (``core.fingerprint.input_fingerprint``): cold (no stat
  cache: every file hashed) and repeated (the stat cache answers), in seconds.

The machine's load average is recorded with the figures (its two cores are shared). Prints
figures and writes ``benchmarks/results/read_build.json``; asserts nothing. Run with
``python benchmarks/bench_read_build.py [--corpus DIR] [--corpus-10k DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks/results/read_build.json"
NEWSTABLES = Path(sys.executable).parent / "newstables"
SHARD = 500
# The steps of ``shards._build_shard`` whose CPU time is reported (module attribute names).
STEPS = (
    "read_article",
    "read_shard_records",
    "document_records",
    "resolve_document_regions",
    "build_shard_tables",
    "corpus_coverage",
    "paragraphs_by_document",
    "document_summaries",
    "stage_rows",
)


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def synthesize(articles: int, out: Path) -> Path:
    """A synthetic corpus of ``articles`` in ``out`` (made once)."""
    if not (out / "data/articles").is_dir():
        subprocess.run(
            [str(NEWSTABLES), "synth", "--articles", str(articles), "--seed", "1", "--out", str(out)],
            check=True,
            capture_output=True,
        )
    return out


def shard_job(root: Path, work: Path, number: int) -> Any:
    """The job of shard ``number`` (of ``SHARD`` documents), as ``shards.build_corpus`` plans it."""
    from newstables import shards
    from newstables.core.model import load_model
    from newstables.coverage import check_waivers
    from newstables.project import SEED_DOCUMENT, Project, document_ids

    project = Project(root.resolve())
    model = load_model(project.root)
    documents = document_ids(project)
    default = SEED_DOCUMENT if SEED_DOCUMENT in documents or len(documents) != 1 else documents[0]
    names = [*(n for n in model.package.table_names if n != "documents"), "regions", "waivers"]
    registry = shards.read_registry(project, names)
    waivers = check_waivers(shards.all_waivers(project, registry["waivers"], documents))
    ids, assigned = shards.plan_shards(registry, documents, SHARD, default)[number]
    return shards.ShardJob(
        project.root, number, ids, assigned, default, waivers["formula"], waivers, work, len(documents)
    )


def shard_cost(root: Path, runs: int) -> dict[str, Any]:
    """CPU per article of ``_build_shard`` on shard 0 (best of ``runs``), with its steps."""
    from newstables import shards

    steps: dict[str, float] = defaultdict(float)

    def timed(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                steps[name] += time.process_time() - started

        return wrapper

    originals = {name: getattr(shards, name) for name in STEPS}
    for name, function in originals.items():
        setattr(shards, name, timed(name, function))
    best: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-read-build-") as work:
            shards._build_shard(shard_job(root, Path(work) / "warm", 1))  # imports, caches
            for run in range(runs):
                job = shard_job(root, Path(work) / f"run{run}", 0)
                steps.clear()
                cpu, wall = time.process_time(), time.perf_counter()
                shards._build_shard(job)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                if not best or cpu < best["cpu_s"]:
                    documents = len(job.documents)
                    best = {
                        "documents": documents,
                        "cpu_s": round(cpu, 3),
                        "wall_s": round(wall, 3),
                        "cpu_ms_per_article": round(1000 * cpu / documents, 2),
                        "steps_cpu_ms_per_article": {
                            k: round(1000 * v / documents, 2) for k, v in steps.items()
                        },
                        "load_average": load_average(),
                    }
    finally:
        for name, function in originals.items():
            setattr(shards, name, function)
    return best


def yaml_files(root: Path) -> list[Path]:
    """Every YAML file of the corpus's data folder."""
    return sorted((root / "data").rglob("*.yaml"))


def yaml_speed(root: Path) -> dict[str, Any]:
    """MB/s (CPU) of the line reader and of the libyaml loader on shard 0's annotation files,
    and the share of all YAML files the line reader answers for."""
    from newstables.core.yamllines import block_mapping, flow_records
    from newstables.read import MAX_EXPANDED_NODES, RECORD_LOADER, load_yaml

    files = yaml_files(root)
    texts = {p: p.read_text(encoding="utf-8") for p in files}
    annotation = [t for p, t in texts.items() if p.parent.name == "annotations" and "articles" in p.parts]
    annotation = annotation[: 6 * SHARD]
    megabytes = sum(len(t.encode("utf-8")) for t in annotation) / 1e6
    timings: dict[str, float] = {}
    for name, read in (
        ("line_reader", lambda t: flow_records(t, RECORD_LOADER, MAX_EXPANDED_NODES)),
        ("libyaml_loader", lambda t: load_yaml(t, RECORD_LOADER)),
    ):
        best = float("inf")
        for _ in range(2):
            started = time.process_time()
            for text in annotation:
                read(text)
            best = min(best, time.process_time() - started)
        timings[name] = best
    fast = sum(
        1
        for p, t in texts.items()
        if (
            block_mapping(t, RECORD_LOADER, MAX_EXPANDED_NODES)
            if p.name == "meta.yaml"
            else flow_records(t, RECORD_LOADER, MAX_EXPANDED_NODES)
        )
        is not None
    )
    return {
        "files_timed": len(annotation),
        "megabytes": round(megabytes, 2),
        "line_reader_mb_per_s": round(megabytes / timings["line_reader"], 1),
        "libyaml_loader_mb_per_s": round(megabytes / timings["libyaml_loader"], 1),
        "yaml_files": len(files),
        "line_reader_share": round(fast / len(files), 4),
        "load_average": load_average(),
    }


def fingerprint_seconds(root: Path) -> dict[str, Any]:
    """Seconds of the input fingerprint in a fresh process: with no stat cache (every file
    hashed) and then twice with one (the first fills it, the second is a no-op's cost)."""
    code = (
        "import sys, time; from pathlib import Path; from newstables.core import fingerprint as f; "
        "t = time.perf_counter(); c = time.process_time(); f.input_fingerprint(Path(sys.argv[1])); "
        "print(time.perf_counter() - t, time.process_time() - c)"
    )
    found: dict[str, Any] = {"files": sum(1 for p in root.rglob("*") if p.is_file())}
    with tempfile.TemporaryDirectory(prefix="bench-fingerprint-") as cache:
        for label, cache_dir in (("no_cache", "off"), ("cache_fill", cache), ("cache_hit", cache)):
            env = {**os.environ, "NEWSTABLES_CACHE_DIR": cache_dir}
            done = subprocess.run(
                [sys.executable, "-c", code, str(root)], check=True, capture_output=True, text=True, env=env
            )
            wall, cpu = map(float, done.stdout.split())
            found[label] = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}
    found["load_average"] = load_average()
    return found


def main() -> None:
    """Measure, print, write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="a synthetic corpus of 1,000 articles (made if absent)")
    parser.add_argument("--corpus-10k", type=Path, help="a corpus of 10,000 articles, for the fingerprint")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    os.environ["NEWSTABLES_CACHE_DIR"] = "off"
    with tempfile.TemporaryDirectory(prefix="bench-read-build-corpus-") as scratch:
        root = synthesize(1000, args.corpus or Path(scratch) / "corpus")
        result: dict[str, Any] = {"corpus_articles": 1000}
        result["shard"] = shard_cost(root, args.runs)
        print(f"shard of {SHARD}: {result['shard']['cpu_ms_per_article']} ms CPU per article", flush=True)
        for step, ms in result["shard"]["steps_cpu_ms_per_article"].items():
            print(f"  {step:28} {ms:7.2f} ms/article")
        result["yaml"] = yaml_speed(root)
        print(
            f"YAML: line reader {result['yaml']['line_reader_mb_per_s']} MB/s, libyaml loader "
            f"{result['yaml']['libyaml_loader_mb_per_s']} MB/s; line reader answers for "
            f"{100 * result['yaml']['line_reader_share']:.1f}% of {result['yaml']['yaml_files']} files",
            flush=True,
        )
        result["fingerprint_1k"] = fingerprint_seconds(root)
        print(f"fingerprint 1k: {result['fingerprint_1k']}", flush=True)
        if args.corpus_10k:
            result["fingerprint_10k"] = fingerprint_seconds(synthesize(10_000, args.corpus_10k))
            print(f"fingerprint 10k: {result['fingerprint_10k']}", flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
