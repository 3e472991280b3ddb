"""Benchmark: the README example queries on a DuckDB file of about a million statements, made
from a 10,000-article build without building 100,000 articles (issue 9: each query <= 50 ms).

The file is ``benchmarks/replicate_duckdb.py``'s copy of a built release's DuckDB file with every
table repeated ``--factor`` times (ids suffixed), with this checkout's views and derived tables.
Each query of ``schemas/queries.yaml`` (or of ``--queries``) is timed by ``bench_scale``'s
``timed_queries``: best of three, ``aggregate_ms`` (whole result reduced to a row count and an
order-insensitive hash inside DuckDB) and ``first_page_ms`` (``LIMIT 20``), wall and CPU
(user + system of this process, DuckDB's two threads included: read CPU on a loaded machine).
Each query also gets ``first_page_sha256``, a digest of its first page's rows, so runs before and
after a change can be compared for identical first pages as well as identical hashes.

Prints the figures and merges them into ``benchmarks/results/queries_scaled.json`` under
``--label`` (other labels are kept); asserts nothing. Example::

    newstables synth --articles 10000 --seed 1 --out /tmp/c10k && newstables build -p /tmp/c10k
    python benchmarks/bench_queries_scaled.py /tmp/c10k/data/newstables.duckdb --label after
    git show HEAD~3:schemas/queries.yaml > /tmp/old.yaml  # the queries before a change
    python benchmarks/bench_queries_scaled.py OLD_1M.duckdb --replicated --queries /tmp/old.yaml \
        --label before
    # two large files (e.g. written with two block sizes), measured in turn, three rounds
    python benchmarks/bench_queries_scaled.py --compare A.duckdb B.duckdb --labels a b
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import PAGE, ROOT, load, timed_queries
from replicate_duckdb import replicate

RESULTS = ROOT / "benchmarks/results/queries_scaled.json"


def first_pages(con: duckdb.DuckDBPyConnection, project: Path) -> dict[str, str]:
    """SHA-256 of each DuckDB example query's first page (its rows as JSON text, in order)."""
    queries = yaml.safe_load((project / "schemas/queries.yaml").read_text(encoding="utf-8"))
    digests = {}
    for query in queries:
        if "duckdb" not in query.get("engines", ["duckdb", "sqlite"]):
            continue
        rows = con.execute(f"{query['sql'].strip().rstrip(';')}\nLIMIT {PAGE}").fetchall()
        text = json.dumps(rows, default=str, ensure_ascii=False)
        digests[query["name"]] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return digests


def measure(database: Path, project: Path) -> dict[str, Any]:
    """The timed queries of ``project`` on ``database``, with their first pages' digests."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        before = load()
        timings = timed_queries(con, project)
        pages = first_pages(con, project)
        after = load()
        rows = {
            name: int(con.execute(f"SELECT count(*) FROM {name}").fetchone()[0])  # type: ignore[index]
            for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE table_name IN ('statements', 'actor_mentions')"
            ).fetchall()
        }
    finally:
        con.close()
    for timing in timings:
        timing["first_page_sha256"] = pages[timing["name"]]
    return {
        "load_before": before,
        "load_after": after,
        "rows": rows,
        "database_bytes": database.stat().st_size,
        "queries": timings,
    }


TIMES = ("aggregate_ms", "first_page_ms", "aggregate_cpu_ms", "first_page_cpu_ms")


def best(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """One entry of several ``measure`` runs of one file: each query's smallest times (its rows,
    hash and first page must be the same in every run), the load seen first and last."""
    merged = json.loads(json.dumps(entries[0]))
    merged["load_after"] = entries[-1]["load_after"]
    for entry in entries[1:]:
        for kept, query in zip(merged["queries"], entry["queries"], strict=True):
            same = ("name", "rows", "hash", "first_page_sha256")
            assert all(kept[k] == query[k] for k in same), f"{kept['name']}: another answer"
            for key in TIMES:
                kept[key] = min(kept[key], query[key])
    return merged


def compare(options: argparse.Namespace, project: Path) -> None:
    """``--compare``: the large files given, measured in turn ``--rounds`` times (interleaved, so a
    change of load touches each alike), each query's best times recorded under its label."""
    if len(options.compare) != len(options.labels):
        raise SystemExit("--compare needs as many --labels as files")
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in options.labels}
    for _ in range(options.rounds):
        for database, label in zip(options.compare, options.labels, strict=True):
            runs[label].append(measure(database, project))
    previous = json.loads(options.results.read_text(encoding="utf-8")) if options.results.is_file() else {}
    for database, label in zip(options.compare, options.labels, strict=True):
        entry = best(runs[label])
        entry["how"] = (
            f"given file {database}; queries: {options.queries or 'schemas/queries.yaml'}; "
            f"{os.cpu_count()} cpus; best of three per round, {options.rounds} rounds interleaved with "
            f"{', '.join(str(d) for d in options.compare if d != database)}"
        )
        print(label, json.dumps(entry, indent=2, ensure_ascii=False))
        previous[label] = entry
    options.results.write_text(json.dumps(previous, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    """Replicate (unless told it is done), time, print and record under the label."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path, nargs="?", help="A built release's data/newstables.duckdb.")
    parser.add_argument("--label", help="Key of this run in the results file.")
    parser.add_argument("--compare", type=Path, nargs="+", default=[], help="Large files to time in turn.")
    parser.add_argument("--labels", nargs="+", default=[], help="Key of each --compare file.")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds of --compare (default 3).")
    parser.add_argument("--factor", type=int, default=10, help="Copies of each row (default 10).")
    parser.add_argument("--replicated", action="store_true", help="DATABASE is already the large file.")
    parser.add_argument("--queries", type=Path, help="Other queries.yaml (default: this checkout's).")
    parser.add_argument("--keep", type=Path, help="Write the replicated file here and keep it.")
    parser.add_argument("--results", type=Path, default=RESULTS)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="queries-scaled-") as work:
        project = Path(work) / "project"
        (project / "schemas").mkdir(parents=True)
        shutil.copyfile(options.queries or ROOT / "schemas/queries.yaml", project / "schemas/queries.yaml")
        if options.compare:
            compare(options, project)
            return
        if options.database is None or options.label is None:
            parser.error("DATABASE and --label are needed (or --compare and --labels)")
        large = options.database
        if not options.replicated:
            large = options.keep or Path(work) / "large.duckdb"
            replicate(options.database, large, options.factor)
        entry = measure(large, project)
    entry["how"] = (
        f"{'given file' if options.replicated else f'{options.database} replicated {options.factor}x'}"
        f" by benchmarks/replicate_duckdb.py; queries: {options.queries or 'schemas/queries.yaml'}; "
        f"{os.cpu_count()} cpus; best of three"
    )
    print(json.dumps(entry, indent=2, ensure_ascii=False))
    previous = json.loads(options.results.read_text(encoding="utf-8")) if options.results.is_file() else {}
    previous[options.label] = entry
    options.results.write_text(json.dumps(previous, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
