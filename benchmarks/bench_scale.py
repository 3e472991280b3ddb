"""Benchmark: the build at scale, on synthetic corpora of N articles (about 10 N statements).

For each N (default 1,000, 10,000 and 100,000 articles: 10k, 100k and 1M statements), in fresh
child processes measured by ``/usr/bin/time`` (wall seconds, peak RSS of that process alone):

- ``newstables synth --articles N --seed 1``;
- a cold ``newstables build --quiet``, with its stage times (``NEWSTABLES_STAGE_TIMES``);
- ``gate_s``: the row-level checks `frictionless validate` does (the build's "check: rows" and
  "check: frictionless" stages: types, constraints, keys; descriptor, schemas, bytes, hashes) plus the
  expectation suites ("gate"); ``all_checks_s`` adds the checks Frictionless does not do
  (excerpts against the texts, formats agree); ``gate_vs_frictionless_x`` is
  `frictionless validate`'s wall seconds on the same CSVs over ``gate_s`` (or its CPU seconds,
  when it ran apart under load: ``--frictionless-from``, ``gate_vs_frictionless_basis``);
- the bytes of each published format;
- each example query of ``schemas/queries.yaml`` on the DuckDB file and on the Parquet files,
  best of three: ``aggregate_ms``, its whole result computed and reduced inside DuckDB (row
  count and an order-insensitive hash: ``SELECT count(*), sum(hash(<row>)) FROM (<query
  without its final ORDER BY>)``, no row sent to Python), and ``first_page_ms``, the query
  with ``LIMIT 20`` (see ``timed_queries``).

The machine's load average is recorded before and after each size (the two cores are shared).
Prints figures and writes ``benchmarks/results/scale.json`` (sizes not run this time are kept
from the previous file); asserts nothing. A size whose build runs past ``--timeout`` seconds is
recorded as timed out. Run with ``make bench-scale`` or
``python benchmarks/bench_scale.py 1000 10000 --timeout 3600``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import yaml

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks/results/scale.json"
NEWSTABLES = Path(sys.executable).parent / "newstables"
DEFAULT_SIZES = (1_000, 10_000, 100_000)
PAGE = 20
RUNS = 3
FORMATS = {
    "csv": "data/*.csv",
    "parquet": "data/parquet/**/*.parquet",
    "duckdb": "data/newstables.duckdb",
    "sqlite": "data/newstables.sqlite",
    "xlsx": "data/newstables.xlsx",
    "viewer": "viewer/index.html",
}


def timed_child(command: list[str], timeout: float, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``command`` under ``/usr/bin/time``: its exit code, wall and CPU seconds, peak RSS (MB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        started = time.perf_counter()
        try:
            done = subprocess.run(
                ["/usr/bin/time", "-f", "%e %M %U %S", "-o", report.name, *command],
                capture_output=True,
                text=True,
                timeout=timeout,
                env={**os.environ, **(env or {})},
            )
        except subprocess.TimeoutExpired:
            return {"timed_out": True, "wall_s": round(time.perf_counter() - started, 1)}
        fields = Path(report.name).read_text(encoding="utf-8").split()[-4:]
    result: dict[str, Any] = {
        "exit": done.returncode,
        "wall_s": float(fields[0]),
        # user + system seconds: what the figures mean on a loaded machine (the wall grows with load)
        "cpu_s": round(float(fields[2]) + float(fields[3]), 1),
        "peak_rss_mb": round(int(fields[1]) / 1024, 1),
    }
    answer = last_json_line(done.stdout)
    if isinstance(answer, dict) and set(answer) <= {"valid", "errors"}:
        result.update(answer)  # frictionless_validate's verdict
    if done.returncode:
        result["stderr"] = done.stderr[-2000:]
    return result


def last_json_line(text: str) -> Any:
    """The last line of a child's output read as JSON, or None."""
    lines = text.strip().splitlines()
    try:
        return json.loads(lines[-1]) if lines else None
    except ValueError:
        return None


def format_bytes(project: Path) -> dict[str, int]:
    """Bytes of each published format (summed over its files)."""
    return {
        name: sum(p.stat().st_size for p in project.glob(pattern) if p.is_file())
        for name, pattern in FORMATS.items()
    }


def published_hashes(project: Path) -> dict[str, str]:
    """The sha256 of each file ``datapackage.json`` lists (by path), as the build recorded them:
    two runs of one size over the same corpus must give the same (the release is reproducible;
    the DuckDB file is the one most at risk)."""
    descriptor = json.loads((project / "datapackage.json").read_text(encoding="utf-8"))
    return {
        str(r["path"]): str(r.get("hash", "")).removeprefix("sha256:")
        for r in descriptor.get("resources", [])
        if isinstance(r.get("path"), str)
    }


def changed_files(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The paths whose sha256 differs between two runs (or that only one of them published)."""
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


def best_of(con: duckdb.DuckDBPyConnection, sql: str, runs: int = RUNS) -> tuple[float, float, list[Any]]:
    """Best wall and best CPU milliseconds (this process, DuckDB's threads included: the figure
    a loaded machine inflates least) of ``runs`` executions of ``sql``, every row fetched; its rows."""
    wall, cpu, rows = float("inf"), float("inf"), []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        rows = con.execute(sql).fetchall()
        wall = min(wall, (time.perf_counter() - started) * 1000)
        cpu = min(cpu, (time.process_time() - started_cpu) * 1000)
    return round(wall, 2), round(cpu, 2), rows


def unordered(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """``sql`` without its outermost ORDER BY (rewritten through DuckDB's own parser,
    ``json_serialize_sql``): what an order-insensitive reduction of the result needs."""
    tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        return sql
    node = tree["statements"][0]["node"]
    node["modifiers"] = [m for m in node.get("modifiers", []) if m.get("type") != "ORDER_MODIFIER"]
    text: str = con.execute("SELECT json_deserialize_sql(?::JSON)", [json.dumps(tree)]).fetchone()[0]
    return text


def aggregate_sql(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """The query's whole result reduced inside the engine: its row count and the sum of its
    rows' hashes (order-insensitive; duplicates count), no row sent to Python."""
    return f"SELECT count(*), sum(hash(*COLUMNS(*))) FROM ({unordered(con, sql)}) AS result"


def timed_queries(con: duckdb.DuckDBPyConnection, project: Path) -> list[dict[str, Any]]:
    """Each DuckDB example query of the project on ``con``, best of three runs each:

    - ``aggregate_ms``: the whole result computed and reduced inside DuckDB,
      ``SELECT count(*), sum(hash(<row>)) FROM (<query without its final ORDER BY>)``
      (``aggregate_sql``). The sort is left out because the reduction does not depend on the
      order; the first page measures the ordering. Moving a million rows into Python takes
      seconds in any engine, so the whole result is not fetched;
    - ``first_page_ms``: ``<query> LIMIT 20``, the rows fetched (what a reader sees first);
    - ``aggregate_cpu_ms``, ``first_page_cpu_ms``: the same runs' CPU time (user + system of
      this process, DuckDB's threads included), less inflated than wall time on a busy machine;
    - ``rows``: the whole result's row count, ``hash``: its order-insensitive hash (compare
      runs and engines with it).
    """
    queries = yaml.safe_load((project / "schemas/queries.yaml").read_text(encoding="utf-8"))
    timings = []
    for query in queries:
        if "duckdb" not in query.get("engines", ["duckdb", "sqlite"]):
            continue
        sql = query["sql"].strip().rstrip(";")
        aggregate_ms, aggregate_cpu_ms, reduced = best_of(con, aggregate_sql(con, sql))
        page_ms, page_cpu_ms, _ = best_of(con, f"{sql}\nLIMIT {PAGE}")
        rows, digest = reduced[0]
        timings.append(
            {
                "name": query["name"],
                "rows": rows,
                "hash": str(digest),
                "aggregate_ms": aggregate_ms,
                "first_page_ms": page_ms,
                "aggregate_cpu_ms": aggregate_cpu_ms,
                "first_page_cpu_ms": page_cpu_ms,
            }
        )
    return timings


def query_times(project: Path, database: Path | None = None) -> list[dict[str, Any]]:
    """The example queries of ``project`` on its DuckDB file (or on ``database``)."""
    con = duckdb.connect(str(database or project / "data/newstables.duckdb"), read_only=True)
    try:
        return timed_queries(con, project)
    finally:
        con.close()


def parquet_views(con: duckdb.DuckDBPyConnection, project: Path) -> None:
    """Views named like the tables over the published Parquet (single files or hive parts,
    the ``year`` folder column left out), then the shipped convenience views on top."""
    from newstables.sql import views_sql

    parquet = project / "data/parquet"
    for single in sorted(parquet.glob("*.parquet")):
        con.execute(f"CREATE VIEW {single.stem} AS FROM read_parquet('{single.as_posix()}')")
    for folder in sorted(p for p in parquet.iterdir() if p.is_dir()):
        pattern = (folder / "**" / "*.parquet").as_posix()
        con.execute(f"CREATE VIEW {folder.name} AS FROM read_parquet('{pattern}', hive_partitioning = false)")
    con.execute(views_sql())


def query_times_parquet(project: Path) -> list[dict[str, Any]]:
    """The same example queries on the partitioned Parquet files (through DuckDB views)."""
    con = duckdb.connect()
    try:
        parquet_views(con, project)
        return timed_queries(con, project)
    except duckdb.Error as error:  # a view or query the Parquet cannot carry is reported, not hidden
        return [{"error": " ".join(str(error).split())[:300]}]
    finally:
        con.close()


FRICTIONLESS_SCRIPT = """
import json, sys, frictionless
report = frictionless.validate(sys.argv[1])
errors = [e for task in report.tasks for e in task.errors]
print(json.dumps({"valid": report.valid, "errors": len(errors)}))
"""


def frictionless_validate(project: Path, timeout: float) -> dict[str, Any]:
    """``frictionless.validate`` of the release's CSV tables (a descriptor that lists only the
    CSV resources, the ones Frictionless checks row by row), in a child process."""
    descriptor = json.loads((project / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"] = [r for r in descriptor["resources"] if r.get("format") == "csv"]
    only_csv = project / "datapackage.csv-only.json"
    only_csv.write_text(json.dumps(descriptor), encoding="utf-8")
    try:
        measured = timed_child([sys.executable, "-c", FRICTIONLESS_SCRIPT, str(only_csv)], timeout)
    finally:
        only_csv.unlink()
    return measured


# What `frictionless validate` does (descriptor and schemas, bytes and hashes, every row's
# types, constraints, unique, primary and foreign keys: the build's "check: frictionless"
# stage) plus the expectation suites ("gate"): the gate compared with Frictionless.
# The sharded build runs the row checks as a stage of their own ("check: rows"), beside the DuckDB
# file's writing: they count in the gate all the same.
GATE_STAGES = ("check: rows", "check: frictionless", "gate")


def gate_seconds(stages: dict[str, float]) -> float:
    """The gate: the row-level checks Frictionless does and the expectation suites (``GATE_STAGES``)."""
    return round(sum(v for k, v in stages.items() if k in GATE_STAGES), 2)


def all_checks_seconds(stages: dict[str, float]) -> float:
    """Every check stage of the build: the gate plus the checks Frictionless does not do
    (excerpts against the texts, the formats agree)."""
    return round(sum(v for k, v in stages.items() if k.startswith("check:") or k == "gate"), 2)


def load() -> list[float]:
    """The 1, 5 and 15-minute load averages (2 shared cores: read figures against them)."""
    return [round(x, 2) for x in os.getloadavg()]


def measure(
    articles: int,
    work: Path,
    timeout: float,
    reuse: bool = False,
    frictionless_timeout: float = 0,
    frictionless_from: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Synthesize and build a corpus of ``articles`` articles; every figure of one size
    (``reuse``: build the corpus a previous run synthesized, when it is there)."""
    project = work / f"corpus-{articles}"
    entry: dict[str, Any] = {"articles": articles, "load_before": load()}
    if reuse and (project / "validation/expected_counts.yaml").is_file():
        entry["synth"] = {"exit": 0, "reused": True}
        refresh_metadata(project)
    else:
        shutil.rmtree(project, ignore_errors=True)
        entry["synth"] = synthesize(articles, project, timeout)
    if entry["synth"].get("exit") != 0:
        return entry
    return build_figures(entry, project, work, timeout, frictionless_timeout, frictionless_from)


def refresh_metadata(project: Path) -> None:
    """A reused corpus gets this checkout's schemas, frame SQL and suites, as ``newstables synth``
    writes them (``synth.copy_metadata``, but for ``package.yaml``, which depends on the corpus):
    otherwise its build would measure the frames of the checkout that synthesized it."""
    from newstables.synth import suite_without_seed_facts

    for path in sorted((ROOT / "schemas").iterdir()):
        if path.is_file() and path.name != "package.yaml":
            shutil.copyfile(path, project / "schemas" / path.name)
    for path in sorted((ROOT / "validation").iterdir()):
        if path.suffix == ".sql":
            shutil.copyfile(path, project / "validation" / path.name)
        elif path.suffix == ".json":
            text = suite_without_seed_facts(path.read_text(encoding="utf-8"))
            (project / "validation" / path.name).write_bytes(text.encode("utf-8"))


def synthesize(articles: int, project: Path, timeout: float) -> dict[str, Any]:
    """``newstables synth`` of ``articles`` articles into ``project``, timed."""
    return timed_child(
        [
            str(NEWSTABLES),
            "synth",
            "--articles",
            str(articles),
            "--seed",
            "1",
            "--out",
            str(project),
            "--json",
        ],
        timeout,
    )


def gate_ratio(frictionless: dict[str, Any], gate_s: float | None) -> dict[str, Any]:
    """How many times faster the gate is than `frictionless validate`: its wall seconds over the
    gate's, or, when it was measured apart under load (``basis`` given), its CPU seconds
    (Frictionless runs on one core: on a quiet machine its wall time is its CPU time, 45.5 vs
    45.2 s at 10,000 articles)."""
    basis = frictionless.get("basis", "wall_s")
    seconds = frictionless.get(basis)
    if not seconds or not gate_s:
        return {}
    return {"gate_vs_frictionless_x": round(seconds / gate_s, 1), "gate_vs_frictionless_basis": basis}


def build_figures(
    entry: dict[str, Any],
    project: Path,
    work: Path,
    timeout: float,
    frictionless_timeout: float = 0,
    frictionless_from: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A cold build of ``project`` (``--force``: a reused corpus was built before) and the
    figures of what it published."""
    articles = entry["articles"]
    counts = yaml.safe_load((project / "validation/expected_counts.yaml").read_text(encoding="utf-8"))
    entry["rows"] = counts
    entry["statements"] = counts["statements"]
    entry["total_rows"] = sum(counts.values())
    stages = work / f"stages-{articles}.json"
    # cold: no per-document cache left by an earlier build of a reused corpus
    shutil.rmtree(project / ".newstables-cache", ignore_errors=True)
    # a build that fails before writing its stage times must not show an earlier run's
    stages.unlink(missing_ok=True)
    entry["build"] = timed_child(
        [str(NEWSTABLES), "build", "--project", str(project), "--quiet", "--force"],
        timeout,
        # cold: no gate results kept from an earlier build of the same rows
        {"NEWSTABLES_STAGE_TIMES": str(stages), "NEWSTABLES_CACHE_DIR": "off"},
    )
    if stages.is_file():
        entry["build"]["stages_s"] = {
            k: round(v, 2) for k, v in json.loads(stages.read_text("utf-8")).items()
        }
    if "stages_s" in entry["build"]:
        entry["gate_s"] = gate_seconds(entry["build"]["stages_s"])
        entry["all_checks_s"] = all_checks_seconds(entry["build"]["stages_s"])
    if entry["build"].get("exit") == 0:
        entry["bytes"] = format_bytes(project)
        entry["published_sha256"] = published_hashes(project)
        entry["queries"] = query_times(project)
        entry["queries_parquet"] = query_times_parquet(project)
        if frictionless_from is not None:
            entry["frictionless_validate"] = frictionless_from
        elif frictionless_timeout > 0:
            entry["frictionless_validate"] = frictionless_validate(project, frictionless_timeout)
        if "frictionless_validate" in entry:
            entry.update(gate_ratio(entry["frictionless_validate"], entry.get("gate_s")))
    entry["load_after"] = load()
    # The corpus is kept for inspection (removing 100,000 folders takes minutes); the next run
    # of the same size replaces it.
    return entry


def scaling(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Between consecutive sizes: how many times more statements, build time and peak RSS."""
    done = [s for s in sizes if s.get("build", {}).get("exit") == 0]
    done.sort(key=lambda s: s["articles"])
    ratios = []
    for small, large in itertools.pairwise(done):
        ratios.append(
            {
                "from_articles": small["articles"],
                "to_articles": large["articles"],
                "rows_x": round(large["total_rows"] / small["total_rows"], 2),
                "build_time_x": round(large["build"]["wall_s"] / small["build"]["wall_s"], 2),
                "peak_rss_x": round(large["build"]["peak_rss_mb"] / small["build"]["peak_rss_mb"], 2),
            }
        )
        if large["build"].get("cpu_s") and small["build"].get("cpu_s"):
            ratios[-1]["build_cpu_x"] = round(large["build"]["cpu_s"] / small["build"]["cpu_s"], 2)
        growth = query_growth(small.get("queries", []), large.get("queries", []))
        if growth:
            ratios[-1]["query_aggregate_cpu_x"] = growth
    return ratios


def query_growth(small: list[dict[str, Any]], large: list[dict[str, Any]]) -> dict[str, float]:
    """Per example query, how many times more CPU its aggregate took on the larger corpus
    (queries timed before ``aggregate_cpu_ms`` existed, or too fast to compare, are left out)."""
    before = {q["name"]: q.get("aggregate_cpu_ms") for q in small if "name" in q}
    growth = {}
    for query in large:
        old, new = before.get(query.get("name", "")), query.get("aggregate_cpu_ms")
        if old and new and old >= 1:
            growth[query["name"]] = round(new / old, 1)
    return growth


def main() -> None:
    """Measure the sizes asked for; print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", nargs="*", type=int, default=list(DEFAULT_SIZES))
    parser.add_argument("--timeout", type=float, default=1800.0, help="Seconds allowed per child process.")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "newstables-bench-scale")
    parser.add_argument("--results", type=Path, default=RESULTS, help="Where to write the figures.")
    parser.add_argument(
        "--reuse", action="store_true", help="Build the corpora a previous run left in --work (no synth)."
    )
    parser.add_argument(
        "--frictionless-timeout",
        type=float,
        default=1800.0,
        help="Seconds allowed to `frictionless validate` of each corpus (0: not run).",
    )
    parser.add_argument(
        "--frictionless-from",
        type=Path,
        metavar="JSON_FILE",
        help="`frictionless validate`'s figures on the (one) corpus, measured apart (not run again);"
        ' its "basis" names the figure the ratio uses (cpu_s when measured under load).',
    )
    parser.add_argument(
        "--time-queries",
        type=Path,
        metavar="DUCKDB_FILE",
        help="Only time this checkout's example queries on DUCKDB_FILE (printed; nothing built or written).",
    )
    options = parser.parse_args()
    if options.time_queries:
        before = load()
        timings = query_times(ROOT, options.time_queries)
        print(json.dumps({"load_before": before, "queries": timings, "load_after": load()}, indent=2))
        return
    options.work.mkdir(parents=True, exist_ok=True)
    results: Path = options.results
    previous = json.loads(results.read_text(encoding="utf-8")) if results.is_file() else {}
    by_size = {entry["articles"]: entry for entry in previous.get("sizes", [])}
    measured_apart = None
    if options.frictionless_from is not None:
        measured_apart = json.loads(options.frictionless_from.read_text(encoding="utf-8"))
    for articles in options.articles:
        entry = measure(
            articles,
            options.work,
            options.timeout,
            options.reuse,
            options.frictionless_timeout,
            measured_apart,
        )
        before = by_size.get(articles, {}).get("published_sha256")
        if before is not None and "published_sha256" in entry:
            # Same corpus and code: an empty list (the release is reproducible); other code: the
            # files it changed.
            entry["changed_since_previous_run"] = changed_files(before, entry["published_sha256"])
        by_size[articles] = entry
        print(json.dumps(entry, indent=2, ensure_ascii=False), flush=True)
        results.parent.mkdir(parents=True, exist_ok=True)
        sizes = [by_size[n] for n in sorted(by_size)]
        document = {"cpus": os.cpu_count(), "sizes": sizes, "scaling": scaling(sizes)}
        results.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(scaling([by_size[n] for n in sorted(by_size)]), indent=2))


if __name__ == "__main__":
    main()
