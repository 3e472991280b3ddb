"""Benchmark: the gate at scale vs ``frictionless validate`` on the same built package (issue 9,
items 3 and 7).

For each built project given (e.g. synthetic corpora of 1,000 and 10,000 articles: 10k and 100k
statements, built by ``newstables synth`` + ``newstables build``), in fresh child processes:

- the gate, as the build runs it, on the published release (its outputs act as the staging):
  ``rowchecks_s`` is what ``frictionless validate`` does (Frictionless on the descriptor and
  schemas, bytes and hashes, and every row's types, constraints, unique, primary and foreign
  keys as DuckDB SQL: ``validate.frictionless_findings``), ``suites_s`` the expectation suites
  (``gate.run_suites``, DuckDB-SQL engine, no cached results); ``gate_s`` is their sum;
  ``all_checks_s`` adds the checks Frictionless does not do (excerpts against the texts,
  CSV/Parquet/DuckDB agree). Reading the texts (an input the build already holds) is not
  counted, and shown apart; nor is hashing the files listed in ``datapackage.json`` first, as
  publish does to write their ``bytes`` and ``hash`` (``publish_hashes_s``: the build's
  integrity check then reuses those hashes, ``checksums.sha256_file``);
- ``frictionless validate`` of the CSV resources (the ones it checks row by row), wall and CPU;
- ``gate_vs_frictionless_x`` = Frictionless's wall seconds over ``gate_s`` (also in CPU seconds;
  its CPU seconds when it was measured apart under load, ``frictionless_basis``), and
  ``rowchecks_vs_frictionless_x`` the same for the part with the same findings (``rowchecks_s``),
  and whether both found the same number of errors (the finding-by-finding comparison on every
  bad-input fixture is ``tests/test_rowchecks.py`` and ``tests/test_gate_sql.py``).

The load average is recorded before and after (the two cores are shared). Prints the figures and
writes ``benchmarks/results/gate_scale.json`` (projects not run this time are kept); asserts
nothing. Run with ``python benchmarks/bench_gate_scale.py /tmp/corpus-1k /tmp/corpus-10k``
(``--no-frictionless`` to time the gate alone; ``--repeat N`` to run the gate N times and keep
the run with the least CPU, the machine being shared).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks/results/gate_scale.json"


def child(project: Path) -> dict[str, Any]:
    """The gate's parts on a built project, each timed in wall and CPU seconds (this process)."""
    os.environ["NEWSTABLES_CACHE_DIR"] = "off"  # cold: no remembered verdicts or suite results
    from newstables.core.model import load_model
    from newstables.gate import run_suites
    from newstables.project import Project
    from newstables.read import default_document, read_documents
    from newstables.validate import excerpt_findings, format_findings, frictionless_findings

    figures: dict[str, Any] = {}

    def timed(name: str, action: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        value = action()
        figures[f"{name}_s"] = round(time.perf_counter() - wall, 2)
        figures[f"{name}_cpu_s"] = round(time.process_time() - cpu, 2)
        return value

    model = timed("load_model", lambda: load_model(project))
    texts = timed("read_texts", lambda: read_documents(Project(project)))
    timed("publish_hashes", lambda: publish_hashes(project))
    raw = texts.get(default_document(texts), "")
    rows = timed("rowchecks", lambda: frictionless_findings(project, model.tables))
    results, errors = timed("suites", lambda: run_suites(model, project, raw, set(), texts, engine="sql"))
    excerpts = timed("excerpts", lambda: excerpt_findings(texts, project, model.tables))
    formats = timed("formats_agree", lambda: format_findings(project, model.tables))
    for unit in ("", "_cpu"):
        gate = figures[f"rowchecks{unit}_s"] + figures[f"suites{unit}_s"]
        figures[f"gate{unit}_s"] = round(gate, 2)
        extra = figures[f"excerpts{unit}_s"] + figures[f"formats_agree{unit}_s"]
        figures[f"all_checks{unit}_s"] = round(gate + extra, 2)
    figures["rowcheck_findings"] = [e.message for e in rows]
    figures["suite_checks"] = len(results)
    figures["suite_failures"] = sorted(f"{r.table}:{r.check}" for r in results if not r.passed)
    figures["suite_errors"] = [e.message for e in errors]
    figures["other_findings"] = len(excerpts) + len(formats)
    return figures


def publish_hashes(project: Path) -> None:
    """Hash every file ``datapackage.json`` lists with a single path, as publish does for the
    descriptor (``metadata.file_stats``)."""
    from newstables.metadata import file_stats

    descriptor = json.loads((project / "datapackage.json").read_text(encoding="utf-8"))
    for resource in descriptor.get("resources", []):
        if isinstance(resource.get("path"), str) and (project / resource["path"]).is_file():
            file_stats(project / resource["path"])


def child_command(project: Path) -> list[str]:
    """This script, run on ``project`` as the measured child."""
    return [sys.executable, __file__, "--child", str(project)]


def run_child(project: Path, timeout: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """The gate of ``project`` in a fresh process under ``/usr/bin/time``: its figures (its last
    stdout line) and the process's exit, wall and CPU seconds and peak RSS."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%e %M %U %S", "-o", report.name, *child_command(project)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        wall, rss, user, system = Path(report.name).read_text(encoding="utf-8").split()[-4:]
    process: dict[str, Any] = {
        "exit": done.returncode,
        "wall_s": float(wall),
        "cpu_s": round(float(user) + float(system), 2),
        "peak_rss_mb": round(int(rss) / 1024, 1),
    }
    if done.returncode:
        process["stderr"] = done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    return (json.loads(lines[-1]) if done.returncode == 0 and lines else {}), process


def measure(
    project: Path, timeout: float, frictionless: bool | dict[str, Any], repeat: int = 1
) -> dict[str, Any]:
    """Every figure of one built project (the gate's child run ``repeat`` times: the run with
    the fewest gate CPU seconds is kept, the others' gate CPU seconds listed; on a shared
    machine the least disturbed run is the closest to the gate's own cost)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_scale import frictionless_validate, load

    descriptor = json.loads((project / "datapackage.json").read_text(encoding="utf-8"))
    csvs = [r for r in descriptor["resources"] if r.get("format") == "csv"]
    entry: dict[str, Any] = {"project": project.name, "load_before": load()}
    entry["csv_rows_note"] = "rows per table: validation/expected_counts.yaml of the project"
    entry["csv_bytes"] = sum(r.get("bytes", 0) for r in csvs)
    runs = [run_child(project, timeout) for _ in range(max(1, repeat))]
    figures, entry["gate_process"] = min(runs, key=lambda run: run[0].get("gate_cpu_s", float("inf")))
    entry["gate_runs"] = len(runs)
    entry["gate_cpu_s_of_each_run"] = [run[0].get("gate_cpu_s") for run in runs]
    entry["gate_s_of_each_run"] = [run[0].get("gate_s") for run in runs]
    entry.update(figures)
    entry["load_middle"] = load()
    if frictionless:
        # A dict: the figures of a run of ``frictionless validate`` on this project measured
        # apart (``--frictionless-from``), on the same machine under the load it records.
        measured = frictionless if isinstance(frictionless, dict) else None
        entry["frictionless_validate"] = measured or frictionless_validate(project, timeout)
        # Measured apart under load, its "basis" names the figure that stands for its quiet
        # wall time (cpu_s: Frictionless runs on one core).
        basis = entry["frictionless_validate"].get("basis", "wall_s")
        seconds = entry["frictionless_validate"].get(basis)
        cpu = entry["frictionless_validate"].get("cpu_s")
        entry["frictionless_basis"] = basis
        for part in ("gate", "rowchecks"):
            # rowchecks: the part of the gate that does what Frictionless does, with the same
            # findings (descriptor, schemas, bytes, hashes, every row's types, constraints and
            # keys); the gate adds the expectation suites, which Frictionless has no counterpart of.
            if seconds and entry.get(f"{part}_s"):
                entry[f"{part}_vs_frictionless_x"] = round(seconds / entry[f"{part}_s"], 1)
            if cpu and entry.get(f"{part}_cpu_s"):
                entry[f"{part}_vs_frictionless_cpu_x"] = round(cpu / entry[f"{part}_cpu_s"], 1)
        errors = entry["frictionless_validate"].get("errors")
        if errors is not None and "rowcheck_findings" in entry:
            # Both clean, or both finding something (the comparison finding by finding is
            # tests/test_rowchecks.py, on every bad-input fixture).
            entry["both_valid_or_both_not"] = (errors == 0) == (not entry["rowcheck_findings"])
    entry["load_after"] = load()
    return entry


def main() -> None:
    """Measure the projects asked for; print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="*", type=Path)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=3600.0, help="Seconds allowed per child process.")
    parser.add_argument("--no-frictionless", action="store_true", help="Time the gate alone.")
    parser.add_argument("--results", type=Path, default=RESULTS, help="Where to write the figures.")
    parser.add_argument(
        "--frictionless-from",
        type=Path,
        help="A JSON file of frictionless_validate's figures on the (one) project, measured apart.",
    )
    parser.add_argument("--repeat", type=int, default=1, help="Gate runs per project (least CPU kept).")
    options = parser.parse_args()
    if options.child is not None:
        print(json.dumps(child(options.child)))
        return
    results: Path = options.results
    previous = json.loads(results.read_text("utf-8")) if results.is_file() else {}
    by_project = {e["project"]: e for e in previous.get("projects", [])}
    for project in options.projects:
        frictionless: bool | dict[str, Any] = not options.no_frictionless
        if options.frictionless_from is not None:
            frictionless = json.loads(options.frictionless_from.read_text(encoding="utf-8"))
        entry = measure(project.resolve(), options.timeout, frictionless, options.repeat)
        by_project[entry["project"]] = entry
        print(json.dumps(entry, indent=2, ensure_ascii=False), flush=True)
        document = {"cpus": os.cpu_count(), "projects": [by_project[k] for k in sorted(by_project)]}
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
