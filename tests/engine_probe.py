"""Run the portable example queries on a release's Parquet files with one engine; print JSON.

Used by ``tests/test_engines.py``, run as a script by each engine's own Python (the project's
venv for DuckDB 2.x and Polars, a throwaway venv for DuckDB 1.x, ``.venv-spark`` for Spark), so
it imports nothing but the standard library and the engine::

    python tests/engine_probe.py ENGINE RELEASE_FOLDER QUERIES_JSON

ENGINE is ``duckdb``, ``polars`` or ``spark``. Every table is registered from
``data/parquet/``: a partitioned table from its folder with hive partitioning (so it has the
``year`` column, NULL for ``year=__HIVE_DEFAULT_PARTITION__``), any other from its one file.
Prints ``{"engine": ..., "version": ..., "results": {query: {"rows": n, "sha256": h}}}``: the
hash is of the result's rows, normalised (dates as ISO text, integers as integers) and sorted,
so engines that order ties differently still agree.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import sys
from pathlib import Path
from typing import Any


def tables_of(root: Path) -> dict[str, tuple[Path, bool]]:
    """Every table under ``data/parquet``: its file or folder, and whether it is partitioned."""
    found: dict[str, tuple[Path, bool]] = {}
    for entry in sorted((root / "data/parquet").iterdir()):
        if entry.is_dir():
            found[entry.name] = (entry, True)
        elif entry.suffix == ".parquet":
            found[entry.stem] = (entry, False)
    return found


def normalise(value: Any) -> Any:
    """One JSON value for any engine's cell value."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def digest(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Row count and SHA-256 of the sorted, normalised rows."""
    lines = sorted(json.dumps([normalise(v) for v in row], ensure_ascii=False) for row in rows)
    return {"rows": len(lines), "sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest()}


def run_duckdb(root: Path, queries: dict[str, str]) -> tuple[str, dict[str, Any]]:
    import duckdb

    con = duckdb.connect()
    # DuckDB 2.x reads Hive's NULL partition as NULL and types ``year`` as a number; 1.x reads
    # it as the text '__HIVE_DEFAULT_PARTITION__' and types the column VARCHAR (checked with
    # 1.4.4), so its readers need this REPLACE (the release README says so).
    legacy = duckdb.__version__.startswith(("0.", "1."))
    fix = " REPLACE (CAST(NULLIF(year, '__HIVE_DEFAULT_PARTITION__') AS BIGINT) AS year)" if legacy else ""
    for name, (path, partitioned) in tables_of(root).items():
        source = (
            f"read_parquet('{path.as_posix()}/*/*.parquet', hive_partitioning = true)"
            if partitioned
            else f"read_parquet('{path.as_posix()}')"
        )
        con.execute(f'CREATE VIEW "{name}" AS SELECT *{fix if partitioned else ""} FROM {source}')
    return duckdb.__version__, {q: digest(con.execute(sql).fetchall()) for q, sql in queries.items()}


def run_polars(root: Path, queries: dict[str, str]) -> tuple[str, dict[str, Any]]:
    import polars as pl

    context = pl.SQLContext()
    for name, (path, partitioned) in tables_of(root).items():
        context.register(name, pl.scan_parquet(path, hive_partitioning=partitioned))
    results = {q: digest(context.execute(sql).collect().rows()) for q, sql in queries.items()}
    return pl.__version__, results


def run_spark(root: Path, queries: dict[str, str]) -> tuple[str, dict[str, Any]]:
    import pyspark
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("newstables-engines")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        for name, (path, _partitioned) in tables_of(root).items():
            spark.read.parquet(path.as_posix()).createOrReplaceTempView(name)
        results = {q: digest([tuple(row) for row in spark.sql(sql).collect()]) for q, sql in queries.items()}
    finally:
        spark.stop()
    return pyspark.__version__, results


ENGINES = {"duckdb": run_duckdb, "polars": run_polars, "spark": run_spark}


def main(argv: list[str]) -> None:
    """Entry point: ``engine_probe.py ENGINE RELEASE_FOLDER QUERIES_JSON``."""
    engine, root, queries_file = argv[1], Path(argv[2]), Path(argv[3])
    queries = json.loads(queries_file.read_text(encoding="utf-8"))
    version, results = ENGINES[engine](root, queries)
    print(json.dumps({"engine": engine, "version": version, "results": results}, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv)
