"""`newstables query`: read-only SQL on the release's DuckDB file, as a table, CSV or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newstables.errors import NewstablesError
from newstables.query import query
from tests.test_release import shared_releases


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The DuckDB file of the session's 0.1.0 release."""
    return shared_releases(tmp_path_factory).folder("0.1.0") / "data/newstables.duckdb"


SQL = (
    "SELECT actor_id, role_title, char_start FROM actors "
    "WHERE actor_id IN ('cnn', 'jake-sullivan') ORDER BY 1"
)


def test_default_output_is_an_aligned_table(db: Path, cli: object) -> None:
    result = cli("query", SQL, "--db", db)  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "actor_id       role_title                    char_start",
        "-------------  ----------------------------  ----------",
        "cnn                                                 161",
        "jake-sullivan  US national security adviser          29",
        "(2 rows)",
    ]


def test_csv_output(db: Path, cli: object) -> None:
    result = cli("query", SQL, "--db", db, "--csv")  # type: ignore[operator]
    assert result.output == (
        "actor_id,role_title,char_start\ncnn,,161\njake-sullivan,US national security adviser,29\n"
    )


def test_json_output_keeps_types_and_nulls(db: Path, cli: object) -> None:
    result = cli("query", SQL, "--db", db, "--json")  # type: ignore[operator]
    assert json.loads(result.output) == [
        {"actor_id": "cnn", "role_title": None, "char_start": 161},
        {"actor_id": "jake-sullivan", "role_title": "US national security adviser", "char_start": 29},
    ]


def test_the_shipped_views_answer(db: Path) -> None:
    rows = json.loads(query(db, "SELECT event_id, date_start FROM timeline ORDER BY 1", "json"))
    assert rows[1] == {"event_id": "rome-meeting", "date_start": "2022-03-14"}
    assert "We are watching closely," in query(db, "SELECT text FROM statements_by_speaker")


def test_the_database_is_opened_read_only(db: Path, cli: object) -> None:
    result = cli("query", "DELETE FROM votes", "--db", db)  # type: ignore[operator]
    assert result.exit_code == 2 and "query-not-allowed" in result.output and "read-only" in result.output


def test_errors_name_the_database(tmp_path: Path, db: Path) -> None:
    with pytest.raises(NewstablesError) as caught:
        query(tmp_path / "none.duckdb", "SELECT 1")
    assert (caught.value.type, caught.value.coordinates["file"]) == (
        "database-missing",
        str(tmp_path / "none.duckdb"),
    )
    with pytest.raises(NewstablesError) as caught:
        query(db, "SELECT nope FROM actors")
    assert caught.value.type == "query-failed" and str(db) in caught.value.message


def test_external_facts_lists_what_rests_on_references(db: Path) -> None:
    rows = json.loads(query(db, "SELECT table_name, row_id, columns, source_id FROM external_facts", "json"))
    assert rows == [
        {
            "table_name": "events",
            "row_id": "rome-meeting",
            "columns": "date_start, date_end",
            "source_id": "ext-reference",
        },
        {
            "table_name": "events",
            "row_id": "unsc-vote",
            "columns": "date_start, date_end",
            "source_id": "ext-reference",
        },
        {"table_name": "sources", "row_id": "ext-reference", "columns": "*", "source_id": "ext-reference"},
    ]


# --- the sandbox: one read-only SELECT, nothing outside the database ---------------------------


def refusal(db: Path, sql: str) -> NewstablesError:
    """The catalogued error ``sql`` is refused with (the test fails if it runs)."""
    with pytest.raises(NewstablesError) as caught:
        query(db, sql)
    assert caught.value.coordinates["file"] == str(db)
    return caught.value


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM read_json_auto('/etc/passwd')",
        "SELECT * FROM read_parquet('https://example.org/x.parquet')",
    ],
)
def test_no_file_or_url_can_be_read(db: Path, sql: str) -> None:
    error = refusal(db, sql)
    assert error.type == "query-refused", error.message
    assert "file system operations are disabled" in error.message


@pytest.mark.parametrize(
    ("sql", "statement"),
    [
        ("COPY votes TO '{target}/votes.csv'", "COPY"),
        ("COPY (SELECT 1) TO '{target}/one.csv'", "COPY"),
        ("EXPORT DATABASE '{target}/export'", "EXPORT"),
        ("ATTACH '{target}/other.duckdb' AS other", "ATTACH"),
        ("INSTALL httpfs", "LOAD"),
        ("LOAD httpfs", "LOAD"),
        ("SET enable_external_access = true", "SET"),
        ("RESET lock_configuration", "SET"),
        ("PRAGMA enable_profiling", "PRAGMA"),
        ("CALL pragma_version()", "CALL"),
        ("CREATE TABLE x AS SELECT 1", "CREATE"),
        ("INSERT INTO votes SELECT * FROM votes", "INSERT"),
        ("UPDATE votes SET vote_id = 'x'", "UPDATE"),
        ("DELETE FROM votes", "DELETE"),
        ("DROP VIEW timeline", "DROP"),
        ("DETACH newstables", "DETACH"),
    ],
)
def test_statements_other_than_select_are_refused(db: Path, tmp_path: Path, sql: str, statement: str) -> None:
    before = db.read_bytes()
    error = refusal(db, sql.format(target=tmp_path))
    assert (error.type, error.coordinates["statement"]) == ("query-not-allowed", statement)
    assert list(tmp_path.iterdir()) == [], "nothing may be written"
    assert db.read_bytes() == before


@pytest.mark.parametrize("sql", ["", "   \n\t", "-- only a comment", ";"])
def test_empty_sql_is_refused_clearly(db: Path, sql: str) -> None:
    assert refusal(db, sql).type == "query-empty"


def test_exactly_one_statement(db: Path) -> None:
    error = refusal(db, "SELECT 1; COPY votes TO '/tmp/newstables-never.csv'")
    assert (error.type, error.coordinates["count"]) == ("query-several-statements", 2)
    assert not Path("/tmp/newstables-never.csv").exists()
    assert query(db, "SELECT 1 AS one;", "json") == '[\n  {\n    "one": 1\n  }\n]\n'


def test_configuration_is_locked_and_extensions_off(db: Path) -> None:
    rows = json.loads(
        query(
            db,
            "SELECT name, value FROM duckdb_settings() WHERE name IN ('enable_external_access', "
            "'lock_configuration', 'autoinstall_known_extensions', 'autoload_known_extensions') "
            "ORDER BY name",
            "json",
        )
    )
    assert {r["name"]: r["value"] for r in rows} == {
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
        "enable_external_access": "false",
        "lock_configuration": "true",
    }


def test_read_only_forms_of_select_are_allowed(db: Path) -> None:
    for sql in [
        "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
        "FROM votes LIMIT 1",
        "DESCRIBE votes",
        "SHOW TABLES",
        "SUMMARIZE votes",
        "EXPLAIN SELECT * FROM votes",
        "VALUES (1)",
    ]:
        assert query(db, sql), sql


def test_a_refusal_exits_non_zero_without_traceback(db: Path, cli: object) -> None:
    result = cli("query", "SELECT * FROM read_csv('/etc/passwd')", "--db", db)  # type: ignore[operator]
    assert result.exit_code == 2 and "query-refused" in result.output and "root:" not in result.output
    result = cli("query", "  ", "--db", db)  # type: ignore[operator]
    assert result.exit_code == 2 and "query-empty" in result.output
