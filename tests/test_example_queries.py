"""The example queries and views written for speed at scale (issue 9) mean what their plain
forms mean: the same rows as the obvious SQL, on the seed release and on tricky cases."""

from __future__ import annotations

import json
import re
from typing import Any

import duckdb
import pytest

from newstables.examples import load_queries
from newstables.project import Project
from newstables.sql import derived_tables, materialize, views_sql
from tests.conftest import REPO

QUERIES = {q["name"]: q["sql"] for q in load_queries(Project(REPO))}
# The plain forms the example queries replace (they read 3M mentions, or one correlated
# subquery per document, at 1M statements).
PLAIN = {
    "mentions_per_actor": """
        SELECT a.canonical_name, a.actor_type, count(*) AS mentions, count(DISTINCT m.excerpt) AS forms
        FROM actor_mentions m JOIN actors a ON a.actor_id = m.actor_id
        GROUP BY a.actor_id, a.canonical_name, a.actor_type""",
    "rows_per_document": """
        SELECT d.document_id, d.outlet, d.date_published,
               (SELECT count(*) FROM statements s WHERE s.document_id = d.document_id),
               (SELECT count(*) FROM actor_mentions m WHERE m.document_id = d.document_id),
               (SELECT count(DISTINCT m.actor_id) FROM actor_mentions m WHERE m.document_id = d.document_id),
               (SELECT count(*) FROM events e WHERE e.document_id = d.document_id)
        FROM documents d""",
    "who_said_what": """
        SELECT speaker, statement_type, channel, fidelity, text FROM statements_by_speaker""",
}


@pytest.fixture(scope="module")
def seed() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(REPO / "data/newstables.duckdb"), read_only=True)


def _sorted(rows: list[tuple[Any, ...]]) -> list[str]:
    return sorted(json.dumps(row, default=str) for row in rows)


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_the_example_query_gives_the_rows_of_its_plain_form(
    name: str, seed: duckdb.DuckDBPyConnection
) -> None:
    found = seed.execute(QUERIES[name]).fetchall()
    assert found and _sorted(found) == _sorted(seed.execute(PLAIN[name]).fetchall())


def test_mentions_without_an_excerpt_still_count(seed: duckdb.DuckDBPyConnection) -> None:
    """An external mention writes no alias: the query adds it from actor_mentions."""
    con = duckdb.connect()
    con.execute("CREATE TABLE actors (actor_id VARCHAR, canonical_name VARCHAR, actor_type VARCHAR)")
    con.execute("CREATE TABLE actor_mentions (mention_id VARCHAR, actor_id VARCHAR, excerpt VARCHAR)")
    con.execute("CREATE TABLE actor_aliases (actor_id VARCHAR, alias VARCHAR, mention_count INTEGER)")
    con.execute("INSERT INTO actors VALUES ('a', 'A', 'person'), ('b', 'B', 'person')")
    con.execute("INSERT INTO actor_mentions VALUES ('m1', 'a', 'A'), ('m2', 'a', 'Mr A'), ('m3', 'a', 'A')")
    con.execute("INSERT INTO actor_mentions VALUES ('m4', 'a', NULL), ('m5', 'b', NULL)")
    con.execute("INSERT INTO actor_aliases VALUES ('a', 'A', 2), ('a', 'Mr A', 1)")
    found = con.execute(QUERIES["mentions_per_actor"]).fetchall()
    assert found == [("A", "person", 4, 2), ("B", "person", 1, 0)]
    assert _sorted(found) == _sorted(con.execute(PLAIN["mentions_per_actor"]).fetchall())


def _timeline_view() -> str:
    found = re.search(r"CREATE VIEW timeline AS.*?;\n", views_sql(), flags=re.S)
    assert found, "views.sql defines the timeline view"
    return found.group(0)


def test_timeline_lists_participants_by_name_then_role_like_an_ordered_string_agg() -> None:
    """The view sorts 'name<NUL>role)' items with list_sort: the same order as ORDER BY
    canonical_name, role, also for a name that is the start of another one followed by a
    character that sorts before '(' (a space and an apostrophe)."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE events (event_id VARCHAR, date_start DATE, date_end DATE, date_precision VARCHAR, "
        "date_basis VARCHAR, event_type VARCHAR, status VARCHAR, title VARCHAR, location VARCHAR)"
    )
    con.execute("CREATE TABLE actors (actor_id VARCHAR, canonical_name VARCHAR)")
    con.execute("CREATE TABLE event_participants (event_id VARCHAR, actor_id VARCHAR, role VARCHAR)")
    con.execute("INSERT INTO events (event_id) VALUES ('e1'), ('e2')")
    names = {"o": "O", "on": "O 'Neill", "ob": "O'Brien", "os": "O Smith", "oa": "Oa"}
    names |= {"z": "Zoë", "a": "Ängel"}
    con.executemany("INSERT INTO actors VALUES (?, ?)", list(names.items()))
    roles = [("o", "target"), ("o", "host"), ("on", "host"), ("ob", "participant"), ("os", "host")]
    roles += [("oa", "author")]
    roles += [("z", "speaker"), ("a", "speaker")]
    con.executemany("INSERT INTO event_participants VALUES ('e1', ?, ?)", roles)
    con.execute(_timeline_view())
    found = con.execute("SELECT event_id, participants FROM timeline ORDER BY 1").fetchall()
    expected = con.execute(
        "SELECT string_agg(a.canonical_name || ' (' || p.role || ')', '; ' "
        "ORDER BY a.canonical_name, p.role) "
        "FROM event_participants p JOIN actors a USING (actor_id)"
    ).fetchone()
    assert expected is not None
    assert found == [("e1", expected[0]), ("e2", None)]
    # a plain list_sort of 'name (role)' would put "O 'Neill" first: "'" sorts before "("
    first = "O (host); O (target); O 'Neill (host); O Smith (host); O'Brien (participant)"
    assert expected[0].startswith(first)


def test_no_participant_role_is_the_start_of_another() -> None:
    """What the timeline view's list_sort needs to order roles as ORDER BY role does."""
    schema = json.loads((REPO / "schemas/event_participants.schema.json").read_text(encoding="utf-8"))
    roles = next(f["constraints"]["enum"] for f in schema["fields"] if f["name"] == "role")
    assert [(a, b) for a in roles for b in roles if a != b and b.startswith(a)] == []


def _view_definitions() -> dict[str, str]:
    """Each view of views.sql: its CREATE VIEW statement."""
    found = re.findall(r"^CREATE VIEW (\w+) AS\n.*?;\n", views_sql(), flags=re.S | re.M)
    statements = re.findall(r"^CREATE VIEW \w+ AS\n.*?;\n", views_sql(), flags=re.S | re.M)
    return dict(zip(found, statements, strict=True))


@pytest.mark.parametrize("name", sorted(derived_tables()))
def test_a_derived_table_holds_its_views_rows_in_its_order(
    name: str, seed: duckdb.DuckDBPyConnection
) -> None:
    """The DuckDB file stores these views as tables (derived_tables.yaml): the same columns and
    rows as the view of views.sql computed afresh on the published tables, stored in the
    declared order, with a comment saying it is derived."""
    kind = seed.execute("SELECT table_name FROM duckdb_tables() WHERE table_name = ?", [name]).fetchall()
    assert kind, f"{name} is not a table in the DuckDB file"
    fresh_view = f"CREATE TEMP VIEW fresh_{name} AS"
    definition = _view_definitions()[name].replace(f"CREATE VIEW {name} AS", fresh_view)
    con = seed.cursor()
    con.execute(definition)
    stored = con.execute(f"SELECT * FROM {name}").fetchall()
    fresh = con.execute(f"SELECT * FROM fresh_{name}").fetchall()
    assert stored and _sorted(stored) == _sorted(fresh)
    assert [d[0] for d in con.execute(f"SELECT * FROM {name} LIMIT 0").description] == [
        d[0] for d in con.execute(f"SELECT * FROM fresh_{name} LIMIT 0").description
    ]
    assert stored == con.execute(f"SELECT * FROM {name} ORDER BY {derived_tables()[name]}").fetchall()
    comment = seed.execute("SELECT comment FROM duckdb_tables() WHERE table_name = ?", [name]).fetchone()
    assert comment is not None and "Derived table" in comment[0]


def test_a_derived_table_must_name_a_view() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE statements (statement_id VARCHAR)")
    with pytest.raises(ValueError, match="does not define"):
        materialize(con)
