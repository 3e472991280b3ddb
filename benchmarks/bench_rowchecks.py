"""Benchmark: Frictionless's row checks as DuckDB SQL vs ``frictionless.validate`` (issue 9, item 3).

A package of the seed's published CSVs whose ``statements`` table is blown up to
``ROWS`` rows (the seed's statements repeated with new ids; references keep pointing at
the seed's rows) plus a handful of planted defects (a type error, an enum and a pattern
violation, a duplicate primary key, a dangling foreign key). Both checkers run on it:

- ``frictionless.validate`` of the descriptor (every CSV, row by row, in Python);
- ``core.rowchecks.row_findings`` (the same checks as set-based DuckDB SQL).

Their findings (table, error type, row, field) must be identical; the times and their
ratio (target >= 30x) are printed and written to ``benchmarks/results/rowchecks.json``.

Run with ``make bench-rowchecks`` (``BENCH_ROWS``: comma-separated sizes, smallest first;
default 10,000, 100,000 and 1,000,000 rows, the scaling curve). The SQL checks are timed
three times (median), Frictionless once; CPU seconds and ``uptime`` before and after each
size are recorded beside the wall times, as the machine is shared.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from newstables.core.model import load_model, quote_literal
from newstables.core.rowchecks import row_findings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks/results/rowchecks.json"
SIZES = [int(n) for n in os.environ.get("BENCH_ROWS", "10000,100000,1000000").split(",")]
ROWS = SIZES[-1]
BIG = "statements"
ROW_TYPES = {"type-error", "constraint-error", "unique-error", "primary-key", "foreign-key", "blank-row"}


def blow_up(source: Path, target: Path, rows: int) -> int:
    """Write ``source``'s rows repeated to about ``rows`` rows (new ids after the first copy)
    with five planted defects; return the number of data rows."""
    con = duckdb.connect()
    read = f"read_csv({quote_literal(source.as_posix())}, header=true, all_varchar=true)"
    seed_rows = con.execute(f"SELECT count(*) FROM {read}").fetchone()[0]  # type: ignore[index]
    copies = max(1, rows // seed_rows)
    columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {read}").fetchall()]
    key = "statement_id"
    planted = {  # copy number -> (column, value): one defect each, far into the file
        copies // 5: ("char_start", "many"),
        2 * copies // 5: ("fidelity", "invented"),
        3 * copies // 5: ("speaker_id", "Not A Slug"),
        4 * copies // 5: ("speaker_id", "nobody-at-all"),
    }
    cases = []
    for column in columns:
        expression = f'"{column}"'
        if column == key:
            expression = f'CASE WHEN i = 0 THEN "{key}" ELSE "{key}" || \'-r\' || i END'
        for copy, (target_column, value) in planted.items():
            if column == target_column:
                expression = (
                    f"CASE WHEN i = {copy} AND n = 1 THEN {quote_literal(value)} ELSE {expression} END"
                )
        cases.append(f'{expression} AS "{column}"')
    # One duplicate primary key: the last copy repeats the first row of the seed.
    con.execute(
        f"COPY (SELECT {', '.join(cases)} FROM (SELECT *, row_number() OVER () AS n FROM {read}) s, "
        f"range({copies}) r(i) UNION ALL (SELECT * FROM {read} LIMIT 1) ORDER BY ALL) "
        f"TO {quote_literal(target.as_posix())} (HEADER true)"
    )
    count = con.execute(
        f"SELECT count(*) FROM read_csv({quote_literal(target.as_posix())}, all_varchar=true)"
    ).fetchone()[0]  # type: ignore[index]
    con.close()
    return int(count)


def package(folder: Path, rows_wanted: int = ROWS) -> tuple[Path, dict[str, Path], int]:
    """The seed's CSV resources (schemas inline) in ``folder``, statements blown up (and
    its row count)."""
    model = load_model(ROOT)
    descriptor = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    resources, files, rows = [], {}, 0
    (folder / "data").mkdir(parents=True)
    for resource in descriptor["resources"]:
        if resource.get("format") != "csv":
            continue
        name = resource["name"]
        path = folder / resource["path"]
        if name == BIG:
            rows = blow_up(ROOT / resource["path"], path, rows_wanted)
        else:
            shutil.copyfile(ROOT / resource["path"], path)
        entry = {k: v for k, v in resource.items() if k not in ("bytes", "hash")}
        entry["schema"] = model.tables[name].descriptor()
        resources.append(entry)
        files[name] = path
    out = folder / "datapackage.json"
    out.write_text(json.dumps({**descriptor, "resources": resources}, indent=1), encoding="utf-8")
    return out, files, rows


CPU: dict[str, float] = {}  # CPU seconds of this process (all threads), beside the wall times
SQL_RUNS = 3  # the SQL checks are timed this many times (median); Frictionless once


def frictionless_run(descriptor: Path) -> tuple[float, set[tuple[str, str, int, str]]]:
    import frictionless

    started, cpu = time.perf_counter(), time.process_time()
    report = frictionless.validate(descriptor, limit_errors=100_000)
    seconds = time.perf_counter() - started
    CPU["frictionless"] = time.process_time() - cpu
    found = {
        (task.name, e.type, int(e.row_number), getattr(e, "field_name", "") or "")
        for task in report.tasks
        for e in task.errors
        if e.type in ROW_TYPES
    }
    return seconds, found


def sql_run(files: dict[str, Path]) -> tuple[float, set[tuple[str, str, int, str]]]:
    """The SQL checks, ``SQL_RUNS`` times: median wall seconds (CPU seconds in ``CPU``)."""
    model = load_model(ROOT)
    walls, cpus, found = [], [], set()
    for _ in range(SQL_RUNS):
        started, cpu = time.perf_counter(), time.process_time()
        found = {f.key() for f in row_findings(files, model.tables)}
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    CPU["sql"] = statistics.median(cpus)
    return statistics.median(walls), found


def uptime() -> str:
    """``uptime``'s line (the load average on this shared machine), or the load averages."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(rows_wanted: int) -> dict[str, Any]:
    """One size: build the package, run both checkers, compare."""
    with tempfile.TemporaryDirectory(prefix="bench-rowchecks-") as folder:
        descriptor, files, rows = package(Path(folder), rows_wanted)
        before = uptime()
        sql_seconds, sql = sql_run(files)
        frictionless_seconds, by_frictionless = frictionless_run(descriptor)
        after = uptime()
    point: dict[str, Any] = {
        "statements_rows": rows,
        "csv_tables": len(files),
        "frictionless_validate_s": round(frictionless_seconds, 2),
        "sql_row_checks_s": round(sql_seconds, 2),
        "ratio": round(frictionless_seconds / sql_seconds, 1),
        "frictionless_cpu_s": round(CPU["frictionless"], 2),
        "sql_cpu_s": round(CPU["sql"], 2),
        "cpu_ratio": round(CPU["frictionless"] / CPU["sql"], 1),
        "findings": len(sql),
        "identical_findings": sql == by_frictionless,
        "only_sql": sorted(map(list, sql - by_frictionless))[:10],
        "only_frictionless": sorted(map(list, by_frictionless - sql))[:10],
        "uptime_before": before,
        "uptime_after": after,
    }
    print(f"{rows:,} statements rows (+ {len(files) - 1} seed tables)  [{before}]")
    print(f"  frictionless.validate  {frictionless_seconds:8.2f} s wall  {CPU['frictionless']:8.2f} s CPU")
    print(
        f"  SQL row checks         {sql_seconds:8.2f} s wall  {CPU['sql']:8.2f} s CPU (median of {SQL_RUNS})"
    )
    print(f"  ratio {point['ratio']}x wall, {point['cpu_ratio']}x CPU (target >= 30x)")
    print(f"  findings: {len(sql)} by SQL, identical to Frictionless's: {point['identical_findings']}")
    print(f"  [{after}]")
    return point


def main() -> None:
    """Measure every size in ``BENCH_ROWS`` (comma-separated), print and write the figures:
    the largest size's at the top level, every size under ``points``."""
    points = [measure(n) for n in SIZES]
    largest = points[-1]
    result: dict[str, Any] = {
        "benchmark": "Frictionless row checks: frictionless.validate vs DuckDB SQL (core/rowchecks.py)",
        **{k: v for k, v in largest.items()},
        "target_ratio": 30,
        "sql_runs": SQL_RUNS,
        "cpus": os.cpu_count(),
        "duckdb_threads": duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0],  # type: ignore[index]
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "points": points,
    }
    if len(points) > 1:
        small, big = points[-2], points[-1]
        growth = big["statements_rows"] / small["statements_rows"]
        result["scaling"] = {
            "rows_factor": round(growth, 1),
            "sql_wall_factor": round(big["sql_row_checks_s"] / small["sql_row_checks_s"], 1),
            "sql_cpu_factor": round(big["sql_cpu_s"] / small["sql_cpu_s"], 1),
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
