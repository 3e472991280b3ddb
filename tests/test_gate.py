"""The semantic gate blocks a bad release and names the table, the check and the rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from newstables.errors import ErrorList
from newstables.pipeline import build


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not found in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _gate_errors(project: Path) -> list[dict[str, Any]]:
    with pytest.raises(ErrorList) as caught:
        build(project)
    return [e.to_dict() for e in caught.value.errors]


def test_the_mini_project_passes_every_check(mini_project: Path) -> None:
    build(mini_project)
    results = json.loads((mini_project / "validation/report/results.json").read_text(encoding="utf-8"))
    assert results["passed"] and results["summary"]["failed"] == 0
    html = (mini_project / "validation/report/index.html").read_text(encoding="utf-8")
    assert "All checks passed" in html
    assert "http" not in html.lower(), "the report loads nothing from the web"


def test_a_vote_dated_off_its_event_is_blocked_naming_table_check_and_row(mini_project: Path) -> None:
    _edit(
        mini_project / "data/annotations/votes.yaml",
        "  vote_value: abstain\n",
        '  vote_value: abstain\n  vote_date: "2022-01-01"\n',
    )
    (error,) = _gate_errors(mini_project)
    assert (error["type"], error["table"], error["check"]) == (
        "expectation-failed",
        "votes",
        "vote-date-matches-event",
    )
    assert error["rows"] == "china-unsc-vote"


def test_an_event_without_participants_is_blocked(mini_project: Path) -> None:
    path = mini_project / "data/annotations/event_participants.yaml"
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if "cnn-interview" not in ln]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (mini_project / "validation/expected_counts.yaml").write_text(
        (mini_project / "validation/expected_counts.yaml")
        .read_text()
        .replace("event_participants: 6", "event_participants: 4")
    )
    checks = {(e["table"], e["check"], e["rows"]) for e in _gate_errors(mini_project)}
    assert ("events", "event-has-participant", "cnn-interview") in checks


def test_an_undeclared_change_in_row_count_is_blocked(mini_project: Path) -> None:
    _edit(mini_project / "validation/expected_counts.yaml", "actors: 6", "actors: 7")
    (error,) = _gate_errors(mini_project)
    assert (error["table"], error["check"]) == ("actors", "row-count-as-expected")


def test_a_speaker_that_cannot_speak_is_blocked(mini_project: Path) -> None:
    _edit(mini_project / "data/annotations/statements.yaml", "speaker_id: jake-sullivan", "speaker_id: china")
    checks = {(e["table"], e["check"]) for e in _gate_errors(mini_project)}
    assert ("statements", "speaker-can-speak") in checks


def test_a_direct_quote_outside_quotation_marks_is_blocked(mini_project: Path) -> None:
    _edit(
        mini_project / "data/annotations/statements.yaml",
        "excerpt: We are watching closely,",
        "excerpt: Sullivan told CNN",
    )
    checks = {(e["table"], e["check"]) for e in _gate_errors(mini_project)}
    assert ("statements", "direct-quote-inside-quotation-marks") in checks
    assert ("article", "quotation") in checks, "the quotation is no longer covered either"


def test_a_failed_gate_leaves_the_previous_release_untouched(mini_project: Path) -> None:
    build(mini_project)
    before = {p: p.read_bytes() for p in sorted((mini_project / "data").glob("*.csv"))}
    _edit(mini_project / "validation/expected_counts.yaml", "votes: 1", "votes: 2")
    _gate_errors(mini_project)
    assert {p: p.read_bytes() for p in sorted((mini_project / "data").glob("*.csv"))} == before
    assert not list(mini_project.glob(".staging-*"))
    failed = (mini_project / "validation/report-failed/index.html").read_text(encoding="utf-8")
    assert "FAIL" in failed and "row-count-as-expected" in failed, "the blocked build's report is kept"
    assert "All checks passed" in (mini_project / "validation/report/index.html").read_text(encoding="utf-8")


def _plant_formula_text(built: Path, text: str) -> str:
    """Overwrite the first statement's excerpt in the published DuckDB file (what the gate
    reads); return the statement's id."""
    import duckdb

    con = duckdb.connect(str(built / "data/newstables.duckdb"))
    first = con.execute("SELECT min(statement_id) FROM statements").fetchone()
    assert first is not None and first[0] is not None
    con.execute("UPDATE statements SET excerpt = ? WHERE statement_id = ?", [text, first[0]])
    con.close()
    return str(first[0])


def test_a_waived_formula_text_is_blanked_and_an_unwaived_one_blocks(mini_project: Path) -> None:
    """The frames are in memory and the waived texts are SQL literals: a waived text with a quote
    mark is blanked out (its check passes); unwaived, it fails, naming the row."""
    from newstables.gate import run_suites
    from newstables.pipeline import load_inputs

    build(mini_project)
    planted = "=1+1 it's a 'formula'"
    statement = _plant_formula_text(mini_project, planted)
    inputs = load_inputs(mini_project)
    args = (inputs.model, mini_project, inputs.raw)

    def trigger_check(waived: set[str]) -> Any:
        results, errors = run_suites(*args, waived, inputs.texts, engine="sql")
        assert not errors
        (found,) = [r for r in results if r.table == "statements" and r.check == "no-formula-trigger:excerpt"]
        return found

    unwaived = trigger_check(set())
    assert not unwaived.passed and unwaived.unexpected_count == 1 and unwaived.examples == [statement]
    assert trigger_check({planted}).passed
    assert not trigger_check({planted[:-1], "it's"}).passed, "only the exact text is waived"
    assert not list(Path.cwd().glob(".tmp")), "the gate spills into its scratch folder only"


def test_utf8_array_is_text_array() -> None:
    from newstables.core.formats import text_array, utf8_array

    values = ["", "“quoted” é\n\n", "plain", "x" * 70_000]
    assert utf8_array(values, large=True).equals(text_array(values, large=True))
    assert utf8_array(values).equals(text_array(values))


def test_frames_made_in_parallel_threads_give_the_sequential_results(
    mini_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frames and SQL suites run per table in threads (one cursor each, the texts and story
    variables set on every cursor): the same results, in the model's order, as one thread."""
    from newstables import gate
    from newstables.core.model import load_model
    from newstables.project import Project
    from newstables.read import default_document, read_documents

    build(mini_project)
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", "off")
    model = load_model(mini_project)
    texts = read_documents(Project(mini_project))
    raw = texts.get(default_document(texts), "")
    outcomes = []
    for threads in (1, 2):
        monkeypatch.setattr(gate, "FRAME_THREADS", threads)
        results, errors = gate.run_suites(model, mini_project, raw, set(), texts, engine="sql")
        outcomes.append(([r.__dict__ for r in results], [e.to_dict() for e in errors]))
    assert outcomes[0] == outcomes[1]
    results, errors = outcomes[1]
    assert not errors and results and all(r["passed"] for r in results)
    order = [r.name for r in model.resources]
    tables = [r["table"] for r in results]
    assert tables == sorted(tables, key=order.index), "results follow the model's order"


def test_large_frames_are_made_one_at_a_time(mini_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames over tables of LARGE_FRAME_ROWS rows or more never overlap (two at once outgrew
    the memory limit at a million statements); smaller frames still run beside them."""
    import threading
    import time

    from newstables import gate
    from newstables.core.model import load_model
    from newstables.project import Project
    from newstables.read import default_document, read_documents

    build(mini_project)
    model = load_model(mini_project)
    texts = read_documents(Project(mini_project))
    raw = texts.get(default_document(texts), "")
    large = {"sources", "actors", "actor_aliases", "actor_mentions"}  # next to each other in the model
    monkeypatch.setattr(
        gate, "staged_rows", lambda _con: {t.name: 10**6 if t.name in large else 1 for t in model.resources}
    )
    making: set[str] = set()
    overlaps: list[set[str]] = []
    lock = threading.Lock()
    real = gate.materialize_frame

    def watched(con: Any, model: Any, resource: Any, waived: list[str]) -> list[str]:
        with lock:
            making.add(resource.name)
            overlaps.append(set(making))
        time.sleep(0.05)  # long enough for the other thread to start its next frame
        try:
            return real(con, model, resource, waived)
        finally:
            with lock:
                making.discard(resource.name)

    monkeypatch.setattr(gate, "materialize_frame", watched)
    monkeypatch.setattr(gate, "FRAME_THREADS", 2)
    results, errors = gate.run_suites(model, mini_project, raw, set(), texts, engine="sql")
    assert not errors and all(r.passed for r in results)
    assert all(len(seen & large) <= 1 for seen in overlaps), overlaps
    assert any(len(seen) == 2 for seen in overlaps), "small frames still overlap"


def test_a_frame_the_sql_engine_validated_is_dropped_at_once(mini_project: Path) -> None:
    """With the SQL engine, a frame's memory goes back as soon as its suite ran (nothing reads
    it again); with ``both`` the frames stay for Great Expectations."""
    from newstables import gate
    from newstables.core.model import load_model
    from newstables.project import Project
    from newstables.read import default_document, read_documents

    build(mini_project)
    model = load_model(mini_project)
    texts = read_documents(Project(mini_project))
    raw = texts.get(default_document(texts), "")
    left = {}
    for engine in ("sql", "both"):
        con = gate.open_frames(model, mini_project)
        gate.load_texts(con, raw, texts)
        con.execute("ATTACH ':memory:' AS frames")
        framed, found, by_sql, _ = gate._frames_and_sql_suites(con, model, [], engine)
        assert framed and not found and set(by_sql) == set(framed)
        left[engine] = {row[0] for row in con.execute("SHOW TABLES FROM frames").fetchall()}
        con.close()
    assert left["sql"] == set()
    assert {t for t in left["both"] if not t.startswith(gate.ROWS_PREFIX)} == set(by_sql)


def test_frames_that_read_the_texts_wait_for_them_and_the_others_do_not(
    mini_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The texts load in a thread of their own while the frames that do not read them are
    made; a frame naming raw_documents or raw_article is made only once they are loaded."""
    import threading
    import time

    from newstables import gate
    from newstables.core.model import load_model
    from newstables.project import Project
    from newstables.read import default_document, read_documents

    build(mini_project)
    model = load_model(mini_project)
    texts = read_documents(Project(mini_project))
    raw = texts.get(default_document(texts), "")
    loaded = threading.Event()
    real_load, real_frame = gate.load_texts, gate.materialize_frame
    seen: dict[str, bool] = {}

    def slow_load(con: Any, raw: str, texts: Any = None) -> None:
        time.sleep(0.5)
        real_load(con, raw, texts)
        loaded.set()

    def watched(con: Any, model: Any, resource: Any, waived: list[str]) -> list[str]:
        seen[resource.name] = loaded.is_set()
        return real_frame(con, model, resource, waived)

    monkeypatch.setattr(gate, "load_texts", slow_load)
    monkeypatch.setattr(gate, "materialize_frame", watched)
    results, errors = gate.run_suites(model, mini_project, raw, set(), texts, engine="sql")
    assert not errors and all(r.passed for r in results)
    readers = {r.name for r in model.resources if gate.reads_texts(model, r)}
    assert {"statements", "actors"} <= readers and "actor_mentions" not in readers
    assert all(seen[name] for name in readers), seen
    assert not all(seen.values()), "frames without texts were made while they loaded"


def test_a_frame_numbering_its_own_rows_reports_offending_rows_in_that_order(
    mini_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A frame query may number its rows (``__gate_row``) instead of sorting them: the offending
    rows are reported in that order (here the staged order reversed), by both engines alike, and
    the number is no frame column an expectation could name."""
    import dataclasses

    from newstables import gate
    from newstables.core.model import load_model
    from newstables.project import Project
    from newstables.read import default_document, read_documents

    build(mini_project)
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", "off")
    model = load_model(mini_project)
    sql = model.frame_sql["actor_mentions"]
    assert sql is not None and "m.rowid AS __gate_row" in sql and "ORDER BY m.mention_id" not in sql
    reversed_sql = sql.replace("m.rowid AS __gate_row", "-m.rowid AS __gate_row")
    every_row_fails = {"type": "expect_column_values_to_be_null", "kwargs": {"column": "mention_id"}}
    suite = model.suites["actor_mentions"]
    model = dataclasses.replace(
        model,
        frame_sql={**model.frame_sql, "actor_mentions": reversed_sql},
        suites={
            **model.suites,
            "actor_mentions": dataclasses.replace(suite, expectations=(every_row_fails,)),
        },
    )
    texts = read_documents(Project(mini_project))
    raw = texts.get(default_document(texts), "")
    results, errors = gate.run_suites(model, mini_project, raw, set(), texts, engine="both")
    assert not errors, errors
    (failed,) = [r for r in results if r.table == "actor_mentions" and not r.passed]
    staged = mini_project / "data" / "newstables.duckdb"
    with duckdb.connect(str(staged), read_only=True) as con:
        ids = [
            row[0]
            for row in con.execute("SELECT mention_id FROM actor_mentions ORDER BY rowid DESC").fetchall()
        ]
    assert ids == sorted(ids, reverse=True), "the staged rowid is the published order (by mention_id)"
    assert failed.unexpected_count == len(ids) and failed.examples == ids[: gate.MAX_EXAMPLES]
    assert ids[: gate.MAX_EXAMPLES] != sorted(ids)[: gate.MAX_EXAMPLES], "the reversed order shows"


@pytest.mark.parametrize(
    ("numbers", "said"),
    [("'first'", "expected an integer, got VARCHAR"), ("CAST(NULL AS BIGINT)", "rows have none")],
)
def test_a_frame_whose_row_numbers_are_not_integers_is_refused(
    mini_project: Path, monkeypatch: pytest.MonkeyPatch, numbers: str, said: str
) -> None:
    """Numbers that are text, or missing, would name offending rows in no order: the frame's
    SQL file is refused (sql-invalid), the build does not crash."""
    import dataclasses

    from newstables import gate
    from newstables.core.model import load_model
    from newstables.project import Project
    from newstables.read import default_document, read_documents

    build(mini_project)
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", "off")
    model = load_model(mini_project)
    sql = model.frame_sql["actor_mentions"]
    assert sql is not None
    model = dataclasses.replace(
        model,
        frame_sql={
            **model.frame_sql,
            "actor_mentions": sql.replace("m.rowid AS __gate_row", f"{numbers} AS __gate_row"),
        },
    )
    texts = read_documents(Project(mini_project))
    _, errors = gate.run_suites(
        model, mini_project, texts.get(default_document(texts), ""), set(), texts, engine="sql"
    )
    (error,) = [e.to_dict() for e in errors]
    assert (error["type"], error["file"]) == ("sql-invalid", "validation/actor_mentions.sql")
    assert said in error["detail"]
