"""The SQLite file (data/newstables.sqlite) holds what the DuckDB file holds, with keys, views
and full-text search; datasette/metadata.json describes it; Datasette serves it."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import duckdb
import pytest

from newstables.core.model import load_model
from newstables.examples import load_queries, queries_for
from newstables.project import Project, load_metadata
from newstables.sql import derived_tables
from tests.conftest import REPO

SQLITE = REPO / "data/newstables.sqlite"
DUCKDB = REPO / "data/newstables.duckdb"
METADATA = REPO / "datasette/metadata.json"
PROJECT = Project(REPO)
TABLES = {r.name: r.descriptor() for r in load_model(REPO).resources}
QUERIES = load_queries(PROJECT)


def normal(value: Any) -> Any:
    """A DuckDB or SQLite cell in one comparable form (booleans 0/1, dates ISO text)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def rows_of(con: Any, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return [tuple(normal(v) for v in row) for row in con.execute(sql, params).fetchall()]


@pytest.fixture(scope="module")
def lite() -> Iterator[sqlite3.Connection]:
    con = sqlite3.connect(f"file:{SQLITE}?mode=ro", uri=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(DUCKDB), read_only=True)
    yield con
    con.close()


@pytest.mark.parametrize("table", list(TABLES))
def test_each_table_holds_the_same_rows_as_the_duckdb_file(
    table: str, lite: sqlite3.Connection, duck: duckdb.DuckDBPyConnection
) -> None:
    columns = ", ".join(f'"{f["name"]}"' for f in TABLES[table]["fields"])
    key = ", ".join(f'"{k}"' for k in TABLES[table]["primaryKey"])
    sql = f"SELECT {columns} FROM {table} ORDER BY {key}"
    assert rows_of(lite, sql) == rows_of(duck, sql)
    assert rows_of(lite, sql), "the table has rows"


def test_keys_and_not_null_are_declared_and_hold(lite: sqlite3.Connection) -> None:
    assert lite.execute("PRAGMA foreign_key_check").fetchall() == []
    for table, schema in TABLES.items():
        info = {row[1]: row for row in lite.execute(f"PRAGMA table_info({table})")}
        assert [name for name, row in sorted(info.items(), key=lambda kv: kv[1][5]) if row[5]] == schema[
            "primaryKey"
        ], table
        for spec in schema["fields"]:
            assert bool(info[spec["name"]][3]) == bool(spec.get("constraints", {}).get("required")), spec
        declared = {(row[3], row[2]) for row in lite.execute(f"PRAGMA foreign_key_list({table})")}
        expected = {(fk["fields"][0], fk["reference"]["resource"]) for fk in schema.get("foreignKeys", [])}
        assert declared == expected, table


def test_constraints_refuse_bad_rows(tmp_path: Path) -> None:
    copy = tmp_path / "copy.sqlite"
    shutil.copyfile(SQLITE, copy)
    with closing(sqlite3.connect(copy)) as con:
        con.execute("PRAGMA foreign_keys = ON")
        bad = [
            "UPDATE statements SET speaker_id = NULL WHERE rowid = 1",  # NOT NULL
            "UPDATE statements SET speaker_id = 'nobody' WHERE rowid = 1",  # foreign key
            "UPDATE statements SET fidelity = 'verbatim' WHERE rowid = 1",  # enum
            "UPDATE statements SET is_external = 2 WHERE rowid = 1",  # boolean
            "UPDATE events SET date_start = '2022-13-45' WHERE rowid = 1",  # date
        ]
        for statement in bad:
            with pytest.raises(sqlite3.IntegrityError):
                con.execute(statement)


def test_every_duckdb_view_has_a_sqlite_twin_with_the_same_rows(
    lite: sqlite3.Connection, duck: duckdb.DuckDBPyConnection
) -> None:
    views = [
        row[0] for row in duck.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    ]
    assert views, "the DuckDB file has views"
    # The views the DuckDB file stores as derived tables: SQLite keeps them as views.
    views += list(derived_tables())
    for view in views:
        columns = [d[0] for d in duck.execute(f"SELECT * FROM {view} LIMIT 0").description]
        order = ", ".join(f'"{c}"' for c in columns)
        sql = f"SELECT {order} FROM {view} ORDER BY {order}"
        assert rows_of(lite, sql) == rows_of(duck, sql), f"view {view}: port it in views_sqlite.sql"


@pytest.mark.parametrize("query", queries_for(QUERIES, "sqlite"), ids=lambda q: q["name"])
def test_each_example_query_runs_on_sqlite_and_agrees_with_duckdb(
    query: dict[str, Any], lite: sqlite3.Connection, duck: duckdb.DuckDBPyConnection
) -> None:
    if "duckdb" not in query["engines"]:
        assert rows_of(lite, query["sql"], ("weapons",)), "the search finds statements"
        return
    found = rows_of(lite, query["sql"])
    assert found, "the example returns rows"
    assert found == rows_of(duck, query["sql"])


def test_full_text_search_finds_statements_and_mentions(lite: sqlite3.Connection) -> None:
    hits = lite.execute(
        "SELECT s.statement_id FROM statements s JOIN statements_fts f ON f.rowid = s.rowid "
        "WHERE statements_fts MATCH 'consequences'"
    ).fetchall()
    expected = lite.execute(
        "SELECT statement_id FROM statements WHERE excerpt LIKE '%consequences%'"
    ).fetchall()
    assert hits and sorted(hits) == sorted(expected)
    mentions = lite.execute(
        "SELECT m.mention_id FROM actor_mentions m JOIN actor_mentions_fts f ON f.rowid = m.rowid "
        "WHERE actor_mentions_fts MATCH 'Bingyu'"
    ).fetchall()
    assert mentions and all(m[0].startswith("liu-pengyu") for m in mentions)


def test_datasette_metadata_describes_every_table_column_and_query() -> None:
    meta = json.loads(METADATA.read_text(encoding="utf-8"))
    package = load_metadata(PROJECT)
    assert meta["title"] == package["title"] and meta["license"] == package["licenses"][0]["name"]
    assert meta["source"] and meta["source_url"] and meta["description"]
    database = meta["databases"]["newstables"]
    for table, schema in TABLES.items():
        described = database["tables"][table]
        assert described["description"]
        assert set(described["columns"]) == {f["name"] for f in schema["fields"]}
        assert all(described["columns"].values()), f"every column of {table} is described"
    assert set(database["queries"]) == {q["name"] for q in queries_for(QUERIES, "sqlite")}


# --- a real Datasette -------------------------------------------------------------------------


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def datasette_command() -> Path:
    """The pinned datasette next to this interpreter; a failure in CI, a skip elsewhere."""
    command = Path(sys.executable).parent / "datasette"
    if not command.is_file():
        reason = f"datasette is not installed next to {sys.executable} (make test installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return command


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read().decode("utf-8"))


def wait_until_up(base: str, server: subprocess.Popen[bytes], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"datasette exited with {server.returncode}")
        try:
            get_json(f"{base}/-/versions.json")
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    pytest.fail(f"datasette did not answer on {base} within {seconds} s")


def test_datasette_serves_a_table_and_a_canned_query(tmp_path: Path, lite: sqlite3.Connection) -> None:
    command = datasette_command()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "datasette.log").open("wb")
    server = subprocess.Popen(
        [
            command,
            "serve",
            "-i",
            str(SQLITE),
            "--metadata",
            str(METADATA),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(base, server)
        statements = get_json(f"{base}/newstables/statements.json?_shape=array&_size=max")
        expected = [r[0] for r in lite.execute("SELECT statement_id FROM statements ORDER BY statement_id")]
        assert sorted(row["statement_id"] for row in statements) == expected
        corrections = get_json(f"{base}/newstables/corrections.json?_shape=array")
        direct = lite.execute(next(q["sql"] for q in QUERIES if q["name"] == "corrections")).fetchall()
        assert [row["canonical_name"] for row in corrections] == [r[0] for r in direct]
        assert corrections, "the canned query returns rows"
        found = get_json(
            f"{base}/newstables/statements.json?_shape=array&_search=" + urllib.parse.quote("weapons")
        )
        assert found and all("weapon" in row["excerpt"].lower() or row["fidelity_note"] for row in found)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
