"""Benchmark: wall time and peak memory of a cold full build, and the time of each stage.

Prints figures; asserts nothing. Run with `make bench` (or `python benchmarks/bench_build.py`).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The gate is measured as it runs when its inputs changed: no cached suite results.
os.environ["NEWSTABLES_CACHE_DIR"] = "off"
ROOT = Path(__file__).resolve().parents[1]
RUNS = 3


def cold_build(out: Path) -> tuple[float, float]:
    """Run `newstables build` in a fresh interpreter; return (seconds, peak MiB of the child)."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "newstables", "build", "-p", str(ROOT), "-o", str(out)],
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak_kib / 1024


def stage_times(out: Path) -> dict[str, float]:
    """Seconds per stage of one in-process build (Great Expectations already imported)."""
    from newstables import pipeline
    from newstables.core.staging import staging_area
    from newstables.coverage import coverage
    from newstables.gate import run_suites
    from newstables.publish import write_release

    times: dict[str, float] = {}

    def timed(name: str, action, *args):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        result = action(*args)
        times[name] = time.perf_counter() - started
        return result

    inputs = timed("read + resolve evidence", pipeline.load_inputs, ROOT)
    tables = timed("build tables", pipeline.make_tables, inputs)
    covered = timed("coverage checks", coverage, inputs.raw, inputs.regions, tables, inputs.waivers)
    with staging_area(out) as staging:
        timed("write CSV + Parquet + DuckDB", write_release, inputs.project, tables, inputs.model, staging)
        timed("frictionless + excerpts + agreement", pipeline.structural_checks, staging, inputs)
        timed(
            "Great Expectations suites",
            run_suites,
            inputs.model,
            staging,
            inputs.raw,
            inputs.waivers["formula"],
        )
    del covered
    return times


def main() -> None:
    """Print the benchmark figures."""
    with tempfile.TemporaryDirectory() as tmp:
        walls = []
        for run in range(RUNS):
            out = Path(tmp) / f"run{run}"
            seconds, peak = cold_build(out)
            walls.append(seconds)
            shutil.rmtree(out)
        print(
            f"cold full build (new interpreter, {RUNS} runs): "
            f"min {min(walls):.2f} s, max {max(walls):.2f} s; peak RSS {peak:.0f} MiB"
        )
        for name, seconds in stage_times(Path(tmp) / "stages").items():
            print(f"  {name:<40} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
