"""Ids across articles and releases: actor aliases, event reports and redirects.

An id once published always resolves: through ``redirects`` (view ``resolved_redirects``,
DuckDB macro ``resolve_id``) when a later version merged or renamed it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from newstables.core.model import load_model
from newstables.counts import counts
from newstables.diff import diff_paths, read_redirects
from newstables.release import release
from tests.conftest import REPO, assemble
from tests.test_release import NAME, pin_version

PUBLISHED = REPO / "tests/fixtures/published_ids"  # (table, id) of 0.1.0 and 0.2.0, from git history


def live_ids(con: duckdb.DuckDBPyConnection, tables: dict[str, list[str]]) -> set[tuple[str, str]]:
    """(table, id) of every row, composite keys joined with '/' as redirects name them."""
    found = set()
    for table, key in tables.items():
        expression = " || '/' || ".join(f'"{k}"' for k in key)
        found |= {(table, str(r[0])) for r in con.execute(f"SELECT {expression} FROM {table}").fetchall()}
    return found


def keys_of(project: Path) -> dict[str, list[str]]:
    return {r.name: list(r.primary_key) for r in load_model(project).resources}


def unresolved(database: Path, ids: list[tuple[str, str]], keys: dict[str, list[str]]) -> list[Any]:
    """The ids that neither name a row, nor resolve (``resolve_id``) to one, nor are an explicit
    retraction (a redirect without new_id, whose note says why)."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        live = live_ids(con, keys)
        retracted = set(
            con.execute("SELECT table_name, old_id FROM redirects WHERE new_id IS NULL").fetchall()
        )
        missing = []
        for table, old in ids:
            (final,) = con.execute("SELECT resolve_id(?, ?)", [table, old]).fetchone() or (None,)
            if (table, final) not in live and not (final is None and (table, old) in retracted):
                missing.append((table, old, final))
        return missing
    finally:
        con.close()


@pytest.mark.parametrize("version", ["0.1.0", "0.2.0"])
def test_every_id_published_in_an_earlier_release_still_resolves(version: str) -> None:
    lines = (PUBLISHED / f"{version}.tsv").read_text(encoding="utf-8").splitlines()
    ids = [(t, i) for t, i in (line.split("\t") for line in lines)]
    assert len(ids) > 250
    assert unresolved(REPO / "data/newstables.duckdb", ids, keys_of(REPO)) == []


def test_the_redirects_table_replaces_id_map_yaml() -> None:
    assert not (REPO / "id-map.yaml").exists(), "one mechanism: data/annotations/redirects.yaml"
    resolved = read_redirects(REPO / "data/redirects.csv")
    assert resolved["statement_events"]["sullivan-historic-mistake/rome-meeting/made_in"] == (
        "sullivan-historic-mistake/rome-meeting/planned_for"
    )


# --- two articles, two releases: an actor spelled two ways and one event, merged ---------------

WIRE_A = "Marta Wałęsa signed the ferry deal.\n"
WIRE_B = "The ferry deal was signed by Marta Walesa.\n"


def write_yaml(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")


def add_wire(project: Path, document_id: str, text: str, published: str) -> Path:
    folder = project / "data/articles" / document_id
    folder.mkdir(parents=True)
    (folder / "article.txt").write_text(text, encoding="utf-8")
    meta = {"document_id": document_id, "outlet": f"{document_id}.example", "published": published}
    (folder / "meta.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    source = {
        "source_id": document_id,
        "kind": "article_copy",
        "title": f"Ferry deal ({document_id}, fictional test article)",
        "path": f"data/articles/{document_id}/article.txt",
        "excerpt": text.strip(),
    }
    write_yaml(folder / "annotations/sources.yaml", [source])
    return folder / "annotations"


def two_spellings_project(root: Path) -> Path:
    """Release 1: the mini project plus two wires; wire B's 'Marta Walesa' and its event are
    separate rows (nobody has matched them yet)."""
    project = assemble(root, "mini")
    pin_version(project, "0.1.0")
    a = add_wire(project, "wire-a", WIRE_A, "2026-04-16")
    b = add_wire(project, "wire-b", WIRE_B, "2026-04-17")
    # Every capitalized word of a document is covered or waived, per document (coverage.py).
    with (project / "data/annotations/waivers.yaml").open("a", encoding="utf-8") as waivers:
        waivers.write("- {check: name, text: The, reason: Sentence-initial article of wire B.}\n")
    person = {"actor_type": "person"}
    write_yaml(
        a / "actors.yaml",
        [{"actor_id": "marta-walesa", "canonical_name": "Marta Wałęsa", **person, "excerpt": "Marta Wałęsa"}],
    )
    write_yaml(
        a / "actor_mentions.yaml",
        [{"actor_id": "marta-walesa", "mention_type": "full_name", "excerpt": "Marta Wałęsa"}],
    )
    event = {"event_type": "agreement", "status": "occurred"}
    write_yaml(
        a / "events.yaml",
        [
            {
                "event_id": "ferry-deal",
                "title": "Ferry deal signed",
                **event,
                "excerpt": "signed the ferry deal",
            }
        ],
    )
    write_yaml(
        a / "event_participants.yaml",
        [
            {
                "event_id": "ferry-deal",
                "actor_id": "marta-walesa",
                "role": "participant",
                "excerpt": "Marta Wałęsa signed",
            }
        ],
    )
    write_yaml(
        b / "actors.yaml",
        [
            {
                "actor_id": "marta-walesa-b",
                "canonical_name": "Marta Walesa",
                **person,
                "excerpt": "Marta Walesa",
            }
        ],
    )
    write_yaml(
        b / "actor_mentions.yaml",
        [{"actor_id": "marta-walesa-b", "mention_type": "full_name", "excerpt": "Marta Walesa"}],
    )
    write_yaml(
        b / "events.yaml",
        [
            {
                "event_id": "ferry-deal-b",
                "title": "Ferry deal signed (wire B)",
                **event,
                "excerpt": "The ferry deal was signed",
            }
        ],
    )
    write_yaml(
        b / "event_participants.yaml",
        [
            {
                "event_id": "ferry-deal-b",
                "actor_id": "marta-walesa-b",
                "role": "participant",
                "excerpt": "signed by Marta Walesa",
            }
        ],
    )
    counts(project, accept=True)
    return project


def merge_in_a_copy(project: Path, target: Path) -> Path:
    """Release 2: wire B's person and event are merged into wire A's; wire B's words become a
    mention of marta-walesa and a curated report of ferry-deal; every changed id is redirected."""
    shutil.copytree(project, target)
    b = target / "data/articles/wire-b/annotations"
    (b / "actors.yaml").unlink()
    (b / "events.yaml").unlink()
    write_yaml(
        b / "actor_mentions.yaml",
        [{"actor_id": "marta-walesa", "mention_type": "name", "excerpt": "Marta Walesa"}],
    )
    write_yaml(b / "event_participants.yaml", [])
    write_yaml(
        b / "event_reports.yaml",
        [{"event_id": "ferry-deal", "status": "occurred", "excerpt": "The ferry deal was signed"}],
    )
    at = WIRE_B.index("Marta Walesa")
    note = {
        "since_version": "0.2.0",
        "note": "Wire B's Marta Walesa is wire A's Marta Wałęsa; its event is the same deal.",
    }
    write_yaml(
        target / "data/annotations/redirects.yaml",
        [
            {"table_name": "actors", "old_id": "marta-walesa-b", "new_id": "marta-walesa", **note},
            {
                "table_name": "actor_mentions",
                "old_id": f"marta-walesa-b@wire-b@{at:05d}",
                "new_id": f"marta-walesa@wire-b@{at:05d}",
                **note,
            },
            {
                "table_name": "actor_aliases",
                "old_id": "marta-walesa-b/Marta Walesa",
                "new_id": "marta-walesa/Marta Walesa",
                **note,
            },
            {"table_name": "events", "old_id": "ferry-deal-b", "new_id": "ferry-deal", **note},
            {
                "table_name": "event_reports",
                "old_id": "ferry-deal-b@wire-b@00000",
                "new_id": "ferry-deal@wire-b@00000",
                **note,
            },
            {
                "table_name": "event_participants",
                "old_id": "ferry-deal-b/marta-walesa-b/participant",
                "new_id": "ferry-deal/marta-walesa/participant",
                **note,
            },
        ],
    )
    pin_version(target, "0.2.0", "2026-12-02T00:00:00Z")
    counts(target, accept=True)
    return target


def released_ids(folder: Path) -> list[tuple[str, str]]:
    con = duckdb.connect(str(folder / "data/newstables.duckdb"), read_only=True)
    try:
        keys = {r.name: list(r.primary_key) for r in load_model(REPO).resources}
        return sorted(live_ids(con, keys))
    finally:
        con.close()


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("merge")
    dist = root / "dist"
    first = two_spellings_project(root / "project-1")
    release(first, dist)
    second = merge_in_a_copy(first, root / "project-2")
    release(second, dist, previous=dist / f"{NAME}-0.1.0")
    return dist / f"{NAME}-0.1.0", dist / f"{NAME}-0.2.0"


def test_every_id_of_the_previous_release_resolves_in_the_next(two_releases: tuple[Path, Path]) -> None:
    old, new = two_releases
    ids = released_ids(old)
    assert ("actors", "marta-walesa-b") in ids and ("events", "ferry-deal-b") in ids
    assert unresolved(new / "data/newstables.duckdb", ids, keys_of(REPO)) == []


def test_a_merge_is_not_a_removal_in_the_diff(two_releases: tuple[Path, Path]) -> None:
    result = diff_paths(*two_releases)
    assert all(not t.removed for t in result.tables), [
        (t.name, t.removed) for t in result.tables if t.removed
    ]
    assert result.bump == "minor"


def test_one_actor_with_both_spellings_as_aliases(two_releases: tuple[Path, Path]) -> None:
    con = duckdb.connect(str(two_releases[1] / "data/newstables.duckdb"), read_only=True)
    aliases = con.execute(
        "SELECT alias, mention_count, document_count, first_mention_id, document_id FROM actor_aliases "
        "WHERE actor_id = 'marta-walesa' ORDER BY alias"
    ).fetchall()
    at = WIRE_B.index("Marta Walesa")
    assert aliases == [
        ("Marta Walesa", 1, 1, f"marta-walesa@wire-b@{at:05d}", "wire-b"),
        ("Marta Wałęsa", 1, 1, "marta-walesa@wire-a@00000", "wire-a"),
    ]


def test_one_event_reported_by_two_articles(two_releases: tuple[Path, Path]) -> None:
    con = duckdb.connect(str(two_releases[1] / "data/newstables.duckdb"), read_only=True)
    reports = con.execute(
        "SELECT document_id, outlet, origin, excerpt FROM event_articles WHERE event_id = 'ferry-deal' "
        "ORDER BY document_id"
    ).fetchall()
    assert reports == [
        ("wire-a", "wire-a.example", "event_evidence", "signed the ferry deal"),
        ("wire-b", "wire-b.example", "curated", "The ferry deal was signed"),
    ]
    assert con.execute("SELECT count(*) FROM events WHERE event_id LIKE 'ferry-deal%'").fetchone() == (1,)


def test_redirect_chains_resolve_to_the_final_id(tmp_path: Path) -> None:
    from newstables.pipeline import build

    project = assemble(tmp_path / "p", "mini")
    note = {"since_version": "0.2.0", "note": "renamed twice"}
    write_yaml(
        project / "data/annotations/redirects.yaml",
        [
            {"table_name": "actors", "old_id": "sullivan", "new_id": "jake-sullivan-2", **note},
            {"table_name": "actors", "old_id": "jake-sullivan-2", "new_id": "jake-sullivan", **note},
        ],
    )
    counts(project, accept=True)
    build(project)
    con = duckdb.connect(str(project / "data/newstables.duckdb"), read_only=True)
    assert con.execute(
        "SELECT resolve_id('actors', 'sullivan'), resolve_id('actors', 'china')"
    ).fetchone() == (
        "jake-sullivan",
        "china",
    )
    assert read_redirects(project / "data/redirects.csv")["actors"] == {
        "sullivan": "jake-sullivan",
        "jake-sullivan-2": "jake-sullivan",
    }
