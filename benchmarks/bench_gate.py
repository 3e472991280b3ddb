"""Benchmark: the gate on the seed package, and the seed's cold build.

Prints figures and writes ``benchmarks/results/gate.json``; asserts nothing. Measured:

- the gate's DuckDB-SQL engine (the default of `newstables build`), measured first so that
  Great Expectations is not imported yet, and a warm second run;
- the Great Expectations gate (`--engine gx`: suites run inside DuckDB through SQLAlchemy),
  first run in this interpreter (imports Great Expectations) and a warm second run; the
  two engines' findings are compared (``engines_agree``);
- the previous gate (pandas frames, ``build/newstables/gate.py`` of commit ``PANDAS_GATE``),
  the same two runs, when that version can be loaded;
- ``frictionless validate datapackage.json`` on the same package, in a fresh process;
- a cold ``newstables build`` of a copy of the seed, in a fresh process.

Run with ``make bench-scale``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The gate is measured as it runs when its inputs changed: no cached suite results.
os.environ["NEWSTABLES_CACHE_DIR"] = "off"
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks/results/gate.json"
# The last commit whose gate validated pandas frames.
PANDAS_GATE = "d8b6ad7"


def wall(run: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds ``run`` takes, and what it returns."""
    started = time.perf_counter()
    value = run()
    return time.perf_counter() - started, value


def findings(results: list[Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(table, check, offending rows) of every failing check: what must not change."""
    return sorted((r.table, r.check, tuple(r.examples)) for r in results if not r.passed)


def gate_runs(module: Any, project: Path, **engine: str) -> dict[str, Any]:
    """Two runs of ``module.run_suites`` on a built project (its outputs act as the staging),
    with ``engine=...`` when the module has engines."""
    from newstables.core.model import load_model
    from newstables.project import Project
    from newstables.read import read_article

    model = load_model(project)
    raw = read_article(Project(project))
    figures: dict[str, Any] = {}
    for run in ("first_s", "warm_s"):
        seconds, (results, errors) = wall(lambda: module.run_suites(model, project, raw, set(), **engine))
        figures[run] = round(seconds, 3)
    figures["checks"] = len(results)
    figures["failing"] = findings(results)
    figures["suite_errors"] = [e.message for e in errors]
    return figures


def pandas_gate() -> Any | None:
    """The previous (pandas) gate module, loaded from git, or None when git cannot give it."""
    shown = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{PANDAS_GATE}:build/newstables/gate.py"],
        capture_output=True,
        text=True,
    )
    if shown.returncode != 0:
        return None
    folder = Path(tempfile.mkdtemp(prefix="bench-gate-"))
    (folder / "gate_pandas.py").write_text(shown.stdout, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("gate_pandas", folder / "gate_pandas.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gate_pandas"] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def fresh_process(*args: str, cwd: Path) -> float:
    """Wall seconds of a command in a new process (exit status ignored: findings are data)."""
    seconds, _ = wall(lambda: subprocess.run(list(args), cwd=cwd, capture_output=True))
    return round(seconds, 3)


def main() -> None:
    """Build a copy of the seed, then time the gates and ``frictionless validate`` on it."""
    sys.path.insert(0, str(ROOT))
    from newstables import gate
    from tests.conftest import assemble

    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        project = assemble(Path(tmp) / "seed", "repo")
        figures: dict[str, Any] = {
            "machine_note": "2 cores shared with other work; wall seconds, one run each",
            "cold_build_s": fresh_process(str(bin_dir / "newstables"), "build", "-p", ".", cwd=project),
        }
        figures["gate_sql"] = gate_runs(gate, project, engine="sql")
        figures["gate_duckdb"] = gate_runs(gate, project, engine="gx")
        figures["engines_agree"] = figures["gate_sql"]["failing"] == figures["gate_duckdb"]["failing"]
        old = pandas_gate()
        if old is not None:
            try:
                figures["gate_pandas"] = gate_runs(old, project)
            except Exception as exc:  # the old gate may not run on today's suites
                figures["gate_pandas"] = {"could_not_run": " ".join(str(exc).split())[:300]}
        figures["frictionless_validate_s"] = fresh_process(
            str(bin_dir / "frictionless"), "validate", "datapackage.json", cwd=project
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
