"""Benchmark: the seed stays fast (issue 9, item 6).

Prints figures and writes ``benchmarks/results/seed_speed.json``; asserts nothing. Each
figure is the median of ``RUNS`` runs, wall clock, each command in a fresh process:

- cold ``newstables build`` of a fresh copy of the seed's inputs, with an empty gate cache
  (nothing from an earlier run: every stage and every suite runs);
- one annotation edited (a different text each run, so every run is a real change) and
  ``newstables build`` again: rebuilt and validated, suites of unchanged frames reused;
- ``newstables build`` with nothing changed (the input fingerprint: "up to date");
- ``make release`` with nothing changed, in this repository (one unmeasured run first, which
  builds and releases if anything changed since the last one).

Targets (2 cores): cold build <= 4 s, edit-one-annotation rebuild <= 2 s, no-op make
release <= 0.5 s. The machine's load average is recorded with the figures, and each run's CPU
seconds (user + system, with its children): the developers' machine is shared, wall times grow
with its load, CPU seconds much less.

The package's bytecode is compiled first (``compileall``), as any earlier run leaves it unless
``PYTHONDONTWRITEBYTECODE`` is set: otherwise every measured process would compile the package's
sources again (a tenth of a second of CPU) when that variable is set, as on the shared machine.

Run with ``make bench-seed``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks/results/seed_speed.json"
NEWSTABLES = [sys.executable, "-m", "newstables"]
INPUT_DIRS = ("schemas", "validation", "data/raw", "data/annotations", "data/articles")
EDITED = "data/annotations/actors.yaml"
EDIT_ANCHOR = "correction_note: The copy also writes"
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
TARGETS = {"cold_build_s": 4.0, "edit_one_annotation_s": 2.0, "noop_make_release_s": 0.5}


def copy_inputs(target: Path) -> Path:
    """The seed's inputs (not its outputs) in ``target``."""
    for folder in INPUT_DIRS:
        ignore = shutil.ignore_patterns("report", "report-failed", "__pycache__", "draft")
        shutil.copytree(ROOT / folder, target / folder, ignore=ignore)
    return target


class Run(NamedTuple):
    """One timed command: wall seconds, and CPU seconds (user + system, the command and its
    children; the machine is shared, and CPU seconds say what a change saved when wall times
    are inflated by other work)."""

    wall: float
    cpu: float


def children_cpu() -> float:
    """User + system CPU seconds of this process's finished children."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> Run:
    """Wall and CPU seconds of one command (which must succeed)."""
    cpu = children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return Run(seconds, children_cpu() - cpu)


def environment(cache: Path, stages: Path | None = None) -> dict[str, str]:
    """The build's environment: its own cache folder and, when given, where it writes the wall
    seconds of each stage (``NEWSTABLES_STAGE_TIMES``)."""
    extra = {"NEWSTABLES_STAGE_TIMES": str(stages)} if stages is not None else {}
    return dict(os.environ, NEWSTABLES_CACHE_DIR=str(cache), **extra)


# The stage times of the last cold build and of the last edit rebuild (what the medians are made of).
STAGES: dict[str, dict[str, float]] = {}


def read_stages(path: Path) -> dict[str, float]:
    """The stage times a build wrote, rounded (empty when it wrote none)."""
    if not path.is_file():
        return {}
    return {k: round(v, 3) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


def cold_builds(scratch: Path) -> list[Run]:
    """Fresh copy, empty cache, one build: every stage and suite runs."""
    times = []
    for run in range(RUNS):
        project = copy_inputs(scratch / f"cold-{run}")
        env = environment(scratch / f"c{run}", scratch / "cold-stages.json")
        times.append(timed([*NEWSTABLES, "build", "-p", str(project)], project, env))
    STAGES["cold_build"] = read_stages(scratch / "cold-stages.json")
    return times


def edit_rebuilds(scratch: Path) -> tuple[list[Run], list[Run]]:
    """A built copy; each run edits one annotation (a new text) and rebuilds. Also the
    no-op build (nothing changed since the last build)."""
    project = copy_inputs(scratch / "edit")
    cache = scratch / "edit-cache"
    env = environment(cache)
    timed([*NEWSTABLES, "build", "-p", str(project)], project, env)
    edits, noops = [], []
    annotation = project / EDITED
    original = annotation.read_text(encoding="utf-8")
    assert EDIT_ANCHOR in original, f"{EDITED} no longer has the edited note"
    for run in range(RUNS):
        noops.append(timed([*NEWSTABLES, "build", "-p", str(project)], project, env))
        edited = original.replace(EDIT_ANCHOR, f"{EDIT_ANCHOR} (benchmark edit {run})")
        annotation.write_text(edited, encoding="utf-8")
        stages = scratch / "edit-stages.json"
        edits.append(timed([*NEWSTABLES, "build", "-p", str(project)], project, environment(cache, stages)))
    STAGES["edit_one_annotation"] = read_stages(scratch / "edit-stages.json")
    return edits, noops


def noop_make_release() -> list[Run]:
    """``make release`` in this repository with nothing changed (after one unmeasured run)."""
    env = dict(os.environ)
    timed(["make", "release"], ROOT, env)
    return [timed(["make", "release"], ROOT, env) for _ in range(RUNS + 2)]


def summary(runs: list[Run]) -> dict[str, Any]:
    return {
        "median_s": round(statistics.median(r.wall for r in runs), 3),
        "runs_s": [round(r.wall, 3) for r in runs],
        "cpu_median_s": round(statistics.median(r.cpu for r in runs), 3),
        "cpu_runs_s": [round(r.cpu, 3) for r in runs],
    }


def compile_package() -> str:
    """Compile the newstables package's bytecode (``__pycache__``, ignored by git and by the input
    fingerprint), as a first run without ``PYTHONDONTWRITEBYTECODE`` does; say how it was."""
    import compileall

    import newstables

    package = Path(newstables.__file__).parent
    compileall.compile_dir(package, quiet=1)
    return "compiled before the runs (compileall), as a first run leaves it"


def main() -> None:
    """Measure, print and write the figures."""
    bytecode = compile_package()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-seed-") as folder:
        scratch = Path(folder)
        cold = cold_builds(scratch)
        edits, noops = edit_rebuilds(scratch)
    release = noop_make_release()
    figures = {
        "cold_build_s": summary(cold),
        "edit_one_annotation_s": summary(edits),
        "noop_build_s": summary(noops),
        "noop_make_release_s": summary(release),
    }
    result = {
        "benchmark": "seed speed (issue 9 item 6): median wall (and CPU) seconds, fresh process per command",
        "cpus": os.cpu_count(),
        "bytecode": bytecode,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "targets_s": TARGETS,
        "figures": figures,
        "stage_times_s": STAGES,  # last run of each kind, from the build itself
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name, figure in figures.items():
        target = TARGETS.get(name)
        verdict = (
            ""
            if target is None
            else f"  (target <= {target} s: {'met' if figure['median_s'] <= target else 'NOT met'})"
        )
        print(
            f"{name:24} median {figure['median_s']:7.3f} s  runs {figure['runs_s']}{verdict}"
            f"  CPU median {figure['cpu_median_s']:.3f} s"
        )
    print(f"load average before {result['load_average_before']}, after {result['load_average_after']}")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
