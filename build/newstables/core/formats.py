"""CSV and Parquet, read and written the same way by publish, verify, diff and query.

CSV is written by DuckDB (RFC 4180 quoting only where needed, LF line ends, header row),
Parquet by pyarrow with zstd; both are byte-reproducible. CSV is read back by DuckDB with
the column types of the table's :class:`~newstables.core.model.Resource` (or all as text),
with a line-size limit taken from the file, so that a long text cell never fails the read.
"""

from __future__ import annotations

import array
import datetime as dt
import gzip
import io
import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from newstables.core.model import Resource, quote_literal

# DuckDB's read_csv refuses lines longer than max_line_size (2 MiB by default).
DEFAULT_MAX_LINE = 2_097_152
# The longest CSV line any reader here accepts (a record of the seed is a few hundred bytes; a
# longer line is refused by DuckDB, whose error the caller reports), and the largest buffer.
MAX_LINE_CAP = 16 * 2**20
MAX_CSV_BUFFER = 32 * 2**20
# A table whose CSV would be larger than this is published as ``data/<table>.csv.gz`` instead
# (deterministic gzip: no file name, mtime 0). 256 MiB is past what a spreadsheet opens anyway,
# and far past the seed's tables (kilobytes), so small releases keep plain CSV.
CSV_GZIP_MIN_BYTES = 256 * 2**20


def arrow_table(resource: Resource, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as an Arrow table typed from the resource's fields (empty strings become nulls).

    The rows go through newline-delimited JSON and Arrow's JSON reader rather than
    ``pa.array`` on Python lists: the same table (and the same Parquet bytes), but
    ``pa.array`` imports pandas on first use, which costs more than half a second of a seed
    build, and the JSON reader is C++ throughout. Dates travel as days since 1970-01-01.
    """
    schema = resource.arrow_schema()
    if not rows:
        return pa.Table.from_arrays([pa.nulls(0, f.type) for f in schema], schema=schema)
    names = resource.columns
    dates = {f.name for f in resource.fields if f.type == "date"}
    for row in rows:
        for name in dates:
            if row[name] not in (None, "") and not isinstance(row[name], dt.date):
                raise TypeError(f"{resource.name}.{name}: {row[name]!r} is not a date")
    text = "\n".join(
        json.dumps(
            {n: None if row[n] == "" else row[n] for n in names}, default=_epoch_days, ensure_ascii=False
        )
        for row in rows
    ).encode("utf-8")
    as_read = pa.schema(
        [pa.field(f.name, pa.int32() if f.name in dates else f.to_arrow()) for f in resource.fields]
    )
    read = pa_json.read_json(
        io.BytesIO(text),
        read_options=pa_json.ReadOptions(block_size=min(max(len(text) + 1, 2**20), 2**30)),
        parse_options=pa_json.ParseOptions(explicit_schema=as_read, unexpected_field_behavior="error"),
    )
    # A date travels as its days since 1970-01-01, which is what a date32 holds: the int32 array
    # is viewed as one (a cast would import pyarrow.compute, a tenth of a second of a seed build).
    columns = [
        read.column(f.name).combine_chunks().view(f.to_arrow())
        if f.name in dates
        else read.column(f.name).combine_chunks()
        for f in resource.fields
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def text_array(values: list[str | None], large: bool = False) -> pa.Array:
    """Python strings (or None) as an Arrow ``string`` (``large_string``) array, without
    ``pa.array`` and the pandas import it brings (see :func:`arrow_table`)."""
    kind = pa.large_string() if large else pa.string()
    if not values:
        return pa.nulls(0, kind)  # pa.array([]) and empty_table() would import pandas
    text = "\n".join(json.dumps({"v": v}, ensure_ascii=False) for v in values).encode("utf-8")
    read = pa_json.read_json(
        io.BytesIO(text),
        read_options=pa_json.ReadOptions(block_size=min(max(len(text) + 1, 2**20), 2**30)),
        parse_options=pa_json.ParseOptions(explicit_schema=pa.schema([("v", kind)])),
    )
    return read.column("v").combine_chunks()


def utf8_array(values: list[str], large: bool = False) -> pa.Array:
    """Python strings (never None) as an Arrow ``string`` (``large_string``) array, built from
    their UTF-8 bytes and offsets: no pandas import and no JSON round trip (:func:`text_array`),
    for lists as long as a corpus's documents and texts (hundreds of MB: 0.8 s less for the
    ids of 100,000 documents)."""
    encoded = [value.encode("utf-8") for value in values]
    offsets = array.array("q" if large else "i", itertools.accumulate((len(e) for e in encoded), initial=0))
    kind = pa.large_string() if large else pa.string()
    return pa.Array.from_buffers(
        kind, len(values), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    )


_EPOCH = dt.date(1970, 1, 1)


def _epoch_days(value: Any) -> int:
    if isinstance(value, dt.date):
        return (value - _EPOCH).days
    raise TypeError(f"{value!r} is not JSON")


def write_csv(arrow: pa.Table, path: Path, con: duckdb.DuckDBPyConnection | None = None) -> None:
    """Write a table as UTF-8 CSV with a header, LF line ends and minimal quoting (through
    ``con`` when given: a DuckDB connection costs tens of milliseconds to open)."""
    own = con is None
    writer = duckdb.connect() if con is None else con
    writer.register("rows", arrow)
    try:
        writer.execute(
            f"COPY rows TO {quote_literal(path.as_posix())} (FORMAT csv, HEADER true, DELIMITER ',')"
        )
    finally:
        writer.unregister("rows")
        if own:
            writer.close()


def gzip_file(source: Path, target: Path) -> None:
    """Compress ``source`` into ``target`` with the same bytes on every run: no file name and
    mtime 0 in the gzip header, a fixed compression level."""
    with (
        source.open("rb") as plain,
        target.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as packed,
    ):
        shutil.copyfileobj(plain, packed, 2**20)


def write_csv_maybe_gz(
    arrow: pa.Table,
    plain: Path,
    min_gzip_bytes: int = CSV_GZIP_MIN_BYTES,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Path:
    """Write a table's CSV at ``plain`` (``data/<table>.csv``); when it is larger than
    ``min_gzip_bytes``, replace it by ``<plain>.gz``. Returns the path written."""
    write_csv(arrow, plain, con)
    if plain.stat().st_size <= min_gzip_bytes:
        return plain
    packed = plain.with_name(plain.name + ".gz")
    gzip_file(plain, packed)
    plain.unlink()
    return packed


def write_parquet(arrow: pa.Table, path: Path) -> None:
    """Write a table as Parquet with settings that give the same bytes on every run."""
    pq.write_table(arrow, path, compression="zstd", write_statistics=True)


def max_line_size(path: Path) -> int:
    """A line-size limit for reading ``path``: its size (no line can be longer), at least
    DuckDB's default and at most :data:`MAX_LINE_CAP`."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    return min(max(DEFAULT_MAX_LINE, size + 1), MAX_LINE_CAP)


def csv_size_options(path: Path) -> str:
    """``read_csv``'s ``max_line_size`` and ``buffer_size`` for ``path``. DuckDB reads a CSV in
    buffers of 16 line sizes (capped by the file's size): a limit of the file's own size made a
    1.2 GiB buffer for a million-row table, past the bounded connection's memory (``core.bounded``).
    The buffer is now at most :data:`MAX_CSV_BUFFER`, and never smaller than a line."""
    line = max_line_size(path)
    return f"max_line_size={line}, buffer_size={max(line, min(16 * line, MAX_CSV_BUFFER))}"


def read_csv_sql(path: Path, resource: Resource) -> str:
    """A DuckDB expression reading a published CSV with the resource's column types."""
    columns = ", ".join(f"{quote_literal(f.name)}: '{f.to_sql()}'" for f in resource.fields)
    return (
        f"read_csv({quote_literal(path.as_posix())}, header=true, auto_detect=false, "
        f"columns={{{columns}}}, quote='\"', escape='\"', {csv_size_options(path)})"
    )


def read_csv_text_sql(path: Path) -> str:
    """A DuckDB expression reading any CSV with every column as text (no type guessing)."""
    return (
        f"read_csv({quote_literal(path.as_posix())}, header=true, all_varchar=true, "
        f"delim=',', quote='\"', escape='\"', {csv_size_options(path)})"
    )
