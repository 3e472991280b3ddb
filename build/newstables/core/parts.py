"""Partitioned Parquet: the tables that grow with the corpus, as hive-style parts by year.

A table whose ``schemas/package.yaml`` entry says ``partition: publication_year`` is published
as ``data/parquet/<table>/year=<YYYY>/part-<n>.parquet`` instead of one
``data/parquet/<table>.parquet``:

- ``year`` is the publication year of the row's document (``documents.date_published`` joined
  on ``document_id``). Rows without a document (external rows) and rows whose document has no
  date go to ``year=__HIVE_DEFAULT_PARTITION__``, Hive's name for a NULL partition value, which
  DuckDB, Polars and Spark read back as NULL (``tests/test_engines.py`` checks all three).
- The ``year`` column is in the folder names only, not inside the files (hive style): readers
  get it with ``hive_partitioning`` (DuckDB, Polars) or by reading the table's folder (Spark).
- Inside a partition, rows are sorted by ``document_id`` and then by the primary key, so one
  document's rows sit together; a partition is cut into parts of at most
  :data:`PART_MAX_BYTES` of Arrow (uncompressed) data each, in balanced parts. With zstd that
  gives files of about 260 MB at scale (measured: benchmarks/bench_parts.py); the seed's
  partitions are one small part each.
- Parts are written by pyarrow with fixed settings (zstd, statistics, no timestamps), so the
  same rows give the same bytes.

``datapackage.json`` lists every part with its own ``bytes`` and ``hash`` (the ``parts``
extension property, see :func:`parts_listing`); ``newstables verify`` checks each part and that
the parts together hold the CSV's rows.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from newstables.core.formats import text_array

# The one partitioning scheme: by the publication year of the row's document.
PUBLICATION_YEAR = "publication_year"
PARTITION_FIELD = "year"
# Hive's (and Spark's) name for a NULL partition value; DuckDB and Polars read it as NULL too.
DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
# A partition is cut into balanced parts of at most this much Arrow (uncompressed) data: 1 GiB,
# which zstd-compressed Parquet of these text-heavy tables turns into files of about 260 MB
# (the 128 MB - 1 GB range engines read best).
PART_MAX_BYTES = 2**30
PARQUET_DIR = Path("data/parquet")
PART_NAME = re.compile(r"part-(0|[1-9][0-9]*)\.parquet")
PARTITION_NAME = re.compile(rf"{PARTITION_FIELD}=([0-9]{{4}}|{DEFAULT_PARTITION})")


def table_folder(table: str) -> Path:
    """Release-relative folder of a partitioned table: ``data/parquet/<table>``."""
    return PARQUET_DIR / table


def part_path(table: str, year: str, number: int) -> Path:
    """Release-relative path of one part: ``data/parquet/<table>/year=<year>/part-<n>.parquet``."""
    return table_folder(table) / f"{PARTITION_FIELD}={year}" / f"part-{number}.parquet"


def partition_value(published: dt.date | None) -> str:
    """The partition a row of a document published on ``published`` goes to."""
    return f"{published.year:04d}" if published is not None else DEFAULT_PARTITION


def part_sort_key(relative: str) -> tuple[str, int, str]:
    """Order of parts in listings: by partition folder, then part number (``part-10`` after
    ``part-9``); anything not named like a part sorts by its text."""
    folder, _, name = relative.rpartition("/")
    match = PART_NAME.fullmatch(name)
    return (folder, int(match.group(1)) if match else -1, name)


def sorted_parts(paths: Iterable[str]) -> list[str]:
    """Release-relative part paths in listing order."""
    return sorted(paths, key=part_sort_key)


def found_parts(root: Path, table: str) -> list[str]:
    """Every file under a partitioned table's folder, release-relative, in listing order
    (what is there, listed or not: verify compares it with the listing)."""
    folder = root / table_folder(table)
    if not folder.is_dir():
        return []
    return sorted_parts(p.relative_to(root).as_posix() for p in folder.rglob("*") if not p.is_dir())


def is_part_path(relative: str, table: str) -> bool:
    """True when ``relative`` is named like a part of ``table``:
    ``data/parquet/<table>/year=<YYYY or default>/part-<n>.parquet``."""
    parts = relative.split("/")
    prefix = table_folder(table).parts
    return (
        len(parts) == len(prefix) + 2
        and tuple(parts[: len(prefix)]) == prefix
        and PARTITION_NAME.fullmatch(parts[-2]) is not None
        and PART_NAME.fullmatch(parts[-1]) is not None
    )


def document_years(document_ids: pa.Array, published: dict[str, dt.date | None]) -> list[str]:
    """The partition of every row, from its ``document_id`` and the documents' dates (a row of
    no known document goes to the default partition)."""
    years = {document: partition_value(date) for document, date in published.items()}
    # A dictionary lookup per row: Arrow's take/fill_null would import pandas (pa.scalar).
    return [
        DEFAULT_PARTITION if d is None else years.get(str(d), DEFAULT_PARTITION)
        for d in document_ids.to_pylist()
    ]


def split_balanced(rows: pa.Table, max_bytes: int) -> list[pa.Table]:
    """A partition's rows cut into the fewest slices of at most ``max_bytes`` each (by Arrow
    size), balanced: their row counts differ by one at most. One slice for a small partition."""
    count = min(max(1, math.ceil(rows.nbytes / max_bytes)), max(1, rows.num_rows))
    base, extra = divmod(rows.num_rows, count)
    slices, start = [], 0
    for index in range(count):
        size = base + (1 if index < extra else 0)
        slices.append(rows.slice(start, size))
        start += size
    return slices


def write_part(rows: pa.Table, path: Path) -> None:
    """One part file, with the settings that give the same bytes on every run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(rows, path, compression="zstd", write_statistics=True)


def write_partitioned(
    arrow: pa.Table,
    table: str,
    root: Path,
    published: dict[str, dt.date | None],
    sort_keys: list[str],
    max_bytes: int = PART_MAX_BYTES,
) -> list[Path]:
    """Write a table as hive-style parts under ``root``; return their release-relative paths.

    ``published`` maps every document id to its publication date (None when unknown);
    ``sort_keys`` is the order inside a partition (``document_id`` then the primary key).
    Every partition that has rows gets at least one part; a table with no rows at all gets
    one empty part in the default partition, so that its columns stay readable.
    """
    years = document_years(arrow.column("document_id").combine_chunks(), published)
    ordered = arrow.append_column("__year", text_array(list(years)))
    ordered = ordered.sort_by([(key, "ascending") for key in ["__year", *sort_keys]])
    written: list[Path] = []
    year_column = ordered.column("__year").to_pylist()
    boundaries = [0] + [i for i in range(1, len(year_column)) if year_column[i] != year_column[i - 1]]
    for start, end in zip(boundaries, [*boundaries[1:], len(year_column)], strict=True):
        if start == end:
            continue
        partition = ordered.slice(start, end - start).drop_columns(["__year"])
        for number, rows in enumerate(split_balanced(partition, max_bytes)):
            relative = part_path(table, str(year_column[start]), number)
            write_part(rows, root / relative)
            written.append(relative)
    if not written:
        relative = part_path(table, DEFAULT_PARTITION, 0)
        write_part(arrow, root / relative)
        written.append(relative)
    return written
