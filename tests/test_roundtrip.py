"""Property: any Unicode text survives annotation -> CSV -> Parquet -> DuckDB unchanged."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newstables.core.model import parse_schema
from newstables.project import DUCKDB_FILE, Project, csv_path, parquet_path
from newstables.publish import write_tables
from newstables.read import load_yaml_records
from newstables.sql import create_database
from newstables.tables import Table, coerce
from newstables.validate import read_csv_sql

SCHEMA = {
    "fields": [
        {"name": "row_id", "type": "string", "title": "id", "description": "id"},
        {"name": "text", "type": "string", "title": "text", "description": "text"},
    ],
    "primaryKey": ["row_id"],
}
RESOURCE = parse_schema(
    SCHEMA, "schemas/texts.schema.json", {"name": "texts", "description": "Round-trip texts."}
)
# Any code point that UTF-8 can carry (no lone surrogates); empty text is published as null.
# NUL is refused in annotations (a catalogued error, tests/bad_inputs/nul-in-field), so it is
# not a text that can round-trip; every other code point outside the surrogates is.
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1).filter(
    lambda t: t != ""
)
SPECIAL = st.sampled_from(
    [
        "=1+1",
        "“quoted” ‘text’",
        "a\u00a0b",
        "line\nbreak",
        "cr\r\nlf",
        "🙂 emoji",
        "\t@tab",
        "NO",
        "e\u0301",
        "\u2028sep",
        "\x85nel",
        '"',
        ",",
        "",
    ]
)


def _through_yaml(text: str, folder: Path) -> str:
    # An annotator writes control characters and line separators as YAML escapes; raw
    # U+0085 or U+2028 in a YAML file are line breaks by the YAML spec.
    path = folder / "texts.yaml"
    path.write_text(yaml.safe_dump([{"text": text}]), encoding="utf-8")
    record = load_yaml_records(Project(folder), path)[0]
    return str(coerce(record, RESOURCE, "text", record["text"]))


def _published(folder: Path, table: Table) -> dict[str, list[tuple[str, str]]]:
    write_tables({"texts": table}, folder)
    from newstables.publish import to_arrow

    (folder / "data").mkdir(exist_ok=True)
    create_database(folder / DUCKDB_FILE, {"texts": table}, {"texts": to_arrow(table)}, with_views=False)
    con = duckdb.connect()
    con.execute(f"ATTACH '{folder / DUCKDB_FILE}' AS db (READ_ONLY)")
    reads = {
        "csv": f"FROM {read_csv_sql(folder / csv_path('texts'), RESOURCE)}",
        "parquet": f"FROM read_parquet('{folder / parquet_path('texts')}')",
        "duckdb": "FROM db.main.texts",
    }
    return {
        name: con.execute(f"SELECT row_id, text {sql} ORDER BY row_id").fetchall()
        for name, sql in reads.items()
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.one_of(TEXT, SPECIAL), min_size=1, max_size=4))
def test_text_survives_every_format_unchanged(texts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        loaded = [_through_yaml(t, folder) for t in texts]
        assert loaded == texts, "YAML annotation keeps the text"
        rows = [{"row_id": f"r{i:03d}", "text": t} for i, t in enumerate(texts)]
        table = Table("texts", RESOURCE, rows=rows)
        expected = [(r["row_id"], r["text"] if r["text"] != "" else None) for r in rows]
        for name, got in _published(folder, table).items():
            assert got == expected, f"{name} changed the text"
