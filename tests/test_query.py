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
    assert result.exit_code == 2 and "query-failed" in result.output and "read-only" in result.output


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
