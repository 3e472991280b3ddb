"""Stage 4, validate: the structural checks on the staged release.

Each check returns its findings (catalogued errors, empty when it passes) rather than
raising, so that the report shows what really happened: Frictionless validates the
package as a journalist's tool would; DuckDB checks that every excerpt is the text at its
offsets and that CSV, Parquet and the DuckDB file hold the same rows. The semantic gate
(Great Expectations suites, coverage) lives in ``gate``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from newstables.core.formats import read_csv_sql, read_csv_text_sql
from newstables.core.model import Resource, quote_literal
from newstables.errors import NewstablesError
from newstables.project import CONTEXT_CHARS, DUCKDB_FILE, SEED_DOCUMENT, parquet_files, published_csv

__all__ = [
    "excerpt_findings",
    "format_findings",
    "frictionless_findings",
    "read_csv_sql",
    "read_csv_text_sql",
]

MAX_REPORTED = 10


def frictionless_findings(staging: Path) -> list[NewstablesError]:
    """Validate ``datapackage.json`` with Frictionless; its first errors as one finding."""
    import frictionless

    report = frictionless.validate(staging / "datapackage.json")
    if report.valid:
        return []
    rows = report.flatten(["type", "rowNumber", "fieldName", "message"])
    detail = "; ".join(f"{t} row {r} field {f}: {m}" for t, r, f, m in rows[:MAX_REPORTED])
    return [NewstablesError("frictionless-invalid", file="datapackage.json", detail=detail)]


def validate_frictionless(staging: Path) -> None:
    """Raise the Frictionless finding, if any (for callers that stop at the first problem)."""
    for error in frictionless_findings(staging):
        raise error


def excerpt_findings(
    texts: dict[str, str] | str, staging: Path, tables: dict[str, Resource]
) -> list[NewstablesError]:
    """Every published excerpt equals ``raw[char_start:char_end]`` of its document, and its
    ``prefix``/``suffix`` (when the table has them) are the text right before and after it
    (read back from CSV). ``texts`` maps document ids to texts; a single text is the seed's."""
    documents = {SEED_DOCUMENT: texts} if isinstance(texts, str) else texts
    found = []
    con = duckdb.connect()
    # DuckDB compares every row with its document's text (substr and length count code points,
    # as Python does) and returns only the rows that may be wrong; Python checks those again and
    # words the findings, so a release of millions of rows never comes back into Python.
    ids = sorted(documents)
    con.register(
        "documents_text",
        pa.table(
            {"document_id": ids, "text": [documents[d] for d in ids]},
            schema=pa.schema([("document_id", pa.string()), ("text", pa.large_string())]),
        ),
    )
    for table, resource in tables.items():
        if not {"char_start", "char_end", "excerpt"} <= set(resource.columns):
            continue
        path = staging / published_csv(staging, table)
        extra = [c if c in resource.columns else "NULL" for c in ("document_id", "prefix", "suffix")]
        context = (
            f" OR coalesce(c.prefix, '') <> substr(d.text, greatest(c.char_start - {CONTEXT_CHARS}, 0) + 1, "
            f"c.char_start - greatest(c.char_start - {CONTEXT_CHARS}, 0)) "
            f"OR coalesce(c.suffix, '') <> substr(d.text, c.char_end + 1, {CONTEXT_CHARS})"
            if "prefix" in resource.columns
            else ""
        )
        inner = ", ".join(
            f"{e} AS {n}" for e, n in zip(extra, ("document_id", "prefix", "suffix"), strict=True)
        )
        rows = con.execute(
            "SELECT c.char_start, c.char_end, c.excerpt, c.document_id, c.prefix, c.suffix "
            f"FROM (SELECT char_start, char_end, excerpt, {inner} "
            f"      FROM {read_csv_sql(path, resource)} WHERE char_start IS NOT NULL) c "
            f"LEFT JOIN documents_text d ON d.document_id = coalesce(c.document_id, '{SEED_DOCUMENT}') "
            "WHERE d.text IS NULL OR c.char_start < 0 OR c.char_end > length(d.text) "
            "OR substr(d.text, c.char_start + 1, c.char_end - c.char_start) IS DISTINCT FROM c.excerpt"
            f"{context}"
        ).fetchall()
        file = published_csv(staging, table).as_posix()
        for start, end, excerpt, document_id, prefix, suffix in rows:
            raw = documents.get(document_id or SEED_DOCUMENT)
            coordinates = {"file": file, "record": f"[{start}, {end})", "line": "-"}
            if raw is None:
                found.append(
                    NewstablesError(
                        "unknown-document",
                        **coordinates,
                        field="document_id",
                        value=document_id,
                        expected=", ".join(sorted(documents)),
                    )
                )
                continue
            if raw[start:end] != excerpt:
                found.append(
                    NewstablesError(
                        "offsets-mismatch",
                        **coordinates,
                        start=start,
                        end=end,
                        found=raw[start:end],
                        value=excerpt,
                    )
                )
            if "prefix" in resource.columns and (
                (prefix or "") != raw[max(0, start - CONTEXT_CHARS) : start]
                or (suffix or "") != raw[end : end + CONTEXT_CHARS]
            ):
                found.append(NewstablesError("context-mismatch", **coordinates, start=start, end=end))
    con.close()
    return found


def check_excerpts(raw: dict[str, str] | str, staging: Path, tables: dict[str, Resource]) -> None:
    """Raise the first excerpt finding, if any (``raw``: every document's text by id, or the seed's)."""
    for error in excerpt_findings(raw, staging, tables):
        raise error


def format_findings(staging: Path, tables: dict[str, Resource]) -> list[NewstablesError]:
    """CSV, Parquet and the DuckDB file hold exactly the same rows for every table."""
    found = []
    con = duckdb.connect()
    con.execute(f"ATTACH {quote_literal((staging / DUCKDB_FILE).as_posix())} AS db (READ_ONLY)")
    for table, resource in tables.items():
        csv_file = published_csv(staging, table)
        csv = read_csv_sql(staging / csv_file, resource)
        others = {
            "parquet": read_parquet_sql(staging, parquet_files(staging, table), resource.columns),
            "duckdb": f"db.main.{table}",
        }
        for name, relation in others.items():
            found += _compare(con, table, csv, relation, name, csv_file.as_posix())
    con.close()
    return found


def read_parquet_sql(root: Path, files: list[Path], columns: list[str]) -> str:
    """A DuckDB relation over a table's Parquet file or parts (the table's columns, in schema
    order, without the hive ``year`` column that the folder names carry)."""
    paths = ", ".join(quote_literal((root / f).as_posix()) for f in files)
    selected = ", ".join(f'"{c}"' for c in columns)
    return f"(SELECT {selected} FROM read_parquet([{paths}], hive_partitioning = false))"


def check_formats_agree(staging: Path, tables: dict[str, Resource]) -> None:
    """Raise the first format-agreement finding, if any."""
    for error in format_findings(staging, tables):
        raise error


def _compare(
    con: duckdb.DuckDBPyConnection, table: str, csv: str, other: str, name: str, csv_file: str
) -> list[NewstablesError]:
    counts = con.execute(f"SELECT (SELECT count(*) FROM {csv}), (SELECT count(*) FROM {other})").fetchall()[0]
    differing = con.execute(
        f"SELECT count(*) FROM ((FROM {csv} EXCEPT ALL FROM {other}) UNION ALL "
        f"(FROM {other} EXCEPT ALL FROM {csv}))"
    ).fetchall()[0][0]
    if counts[0] != counts[1] or differing:
        return [
            NewstablesError(
                "outputs-disagree",
                file=csv_file,
                table=table,
                detail=f"CSV has {counts[0]} rows, {name} {counts[1]}; {differing} rows differ",
            )
        ]
    return []
