"""The gate's DuckDB-SQL engine finds what Great Expectations 1.24.1 finds.

Three proofs, each comparing every report field of both engines (check, passed, observed,
offending count, examples): (a) the seed's release; (b) every gate test that makes an
expectation fail (tests/test_gate.py, tests/test_editorial_checks.py), replayed with the
``both`` engine, which refuses any disagreement; (c) tiny one-defect frames for each supported
expectation type and kwarg (nulls, mostly, row conditions, strict bounds, pairs with nulls).
Great Expectations is imported once per test process (one context for the tiny frames).
"""

from __future__ import annotations

import inspect
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pytest
import yaml

import tests.test_editorial_checks
import tests.test_gate
from newstables import gate, gate_sql
from newstables.errors import ErrorList, NewstablesError
from newstables.gate import CheckResult, run_suites, sql_results
from newstables.pipeline import build, load_inputs

GX_ENGINE = gate.gx_engine()


def seen(results: list[CheckResult]) -> list[tuple[Any, ...]]:
    """What the report shows of each result, as JSON (what a cache hit would show)."""
    observed = [json.dumps(r.observed, default=str) for r in results]
    return [
        (r.table, r.check, r.why, r.kind, r.passed, seen_value, r.unexpected_count, r.examples)
        for r, seen_value in zip(results, observed, strict=True)
    ]


# --- (a) the seed's release ------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import assemble

    root = assemble(tmp_path_factory.mktemp("seed") / "repo", "repo")
    build(root)
    return root


def test_both_engines_find_the_same_on_the_seed(seed: Path) -> None:
    inputs = load_inputs(seed)
    args = (inputs.model, seed, inputs.raw, inputs.waivers["formula"], inputs.texts)
    by_sql, sql_problems = run_suites(*args, engine="sql")
    by_gx, gx_problems = run_suites(*args, engine="gx")
    assert sql_problems == gx_problems == []
    assert len(by_sql) == len(by_gx) > 150
    assert {r.engine for r in by_sql} == {gate_sql.ENGINE}, "every seed suite runs as SQL"
    assert {r.engine for r in by_gx} == {GX_ENGINE}
    assert seen(by_sql) == seen(by_gx)


def test_the_seed_report_names_the_engine_of_every_suite_check(seed: Path) -> None:
    report = json.loads((seed / "validation/report/results.json").read_text(encoding="utf-8"))
    suites = [c for c in report["checks"] if c["kind"].startswith(("expect_", "unexpected_rows"))]
    assert suites and {c["engine"] for c in suites} == {gate_sql.ENGINE}
    html = (seed / "validation/report/index.html").read_text(encoding="utf-8")
    assert f"run by {gate_sql.ENGINE}" in html


# --- (b) every gate test, with both engines ------------------------------------------------------

GATE_MODULES = (tests.test_gate, tests.test_editorial_checks)
PROJECT_FIXTURES = {"mini_project", "repo_project"}


def gate_tests() -> Iterator[Any]:
    """The tests of GATE_MODULES that build a project fixture (and only take such fixtures)."""
    for module in GATE_MODULES:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            parameters = set(inspect.signature(function).parameters)
            if name.startswith("test_") and parameters and parameters <= PROJECT_FIXTURES:
                yield pytest.param(module, name, id=f"{module.__name__.split('.')[-1]}::{name}")


class BothEngines:
    """``pipeline.build`` with engine ``both``: refuses any disagreement, records what ran."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.builds = 0
        self.declined: list[str] = []
        original = gate.sql_results

        def recording(con: Any, table: str, *args: Any) -> list[CheckResult] | None:
            results = original(con, table, *args)
            if results is None:
                self.declined.append(table)
            return results

        monkeypatch.setattr(gate, "sql_results", recording)

    def __call__(self, project: Path, out: Path | None = None) -> Any:
        self.builds += 1
        try:
            return build(project, out, engine="both")
        except ErrorList as blocked:
            disagreeing = [e.message for e in blocked.errors if e.type == "gate-engines-disagree"]
            assert not disagreeing, disagreeing
            raise


@pytest.mark.parametrize(("module", "name"), list(gate_tests()))
def test_both_engines_agree_on_every_gate_test(
    module: ModuleType, name: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    function: Callable[..., None] = getattr(module, name)
    fixtures = {p: request.getfixturevalue(p) for p in inspect.signature(function).parameters}
    both = BothEngines(monkeypatch)
    monkeypatch.setattr(module, "build", both)
    function(**fixtures)
    assert both.builds, f"{name} never built: it proves nothing here"
    assert both.declined == [], "every suite of the project runs as SQL too"


def test_the_gate_tests_include_failing_expectations() -> None:
    names = [p.values[1] for p in gate_tests()]
    assert (
        len(names) >= 20 and "test_a_vote_dated_off_its_event_is_blocked_naming_table_check_and_row" in names
    )


BAD_INPUTS = Path(__file__).parent / "bad_inputs"
GATE_ERRORS = {
    "expectation-failed",
    "row-count-changed",
    "expectation-unknown-column",
    "suite-unknown-expectation",
}


def gate_fixtures() -> list[str]:
    """The bad-input fixtures whose build the gate's suites stop."""
    return [
        case.name
        for case in sorted(BAD_INPUTS.iterdir())
        if (case / "expected.yaml").is_file()
        and yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8")).get("error") in GATE_ERRORS
    ]


def gate_errors(project: Path, engine: str) -> list[dict[str, Any]]:
    with pytest.raises(ErrorList) as caught:
        build(project, engine=engine)
    return [e.to_dict() for e in caught.value.errors]


@pytest.mark.parametrize("case", gate_fixtures())
def test_both_engines_report_the_same_on_the_gate_fixtures(case: str, tmp_path: Path) -> None:
    from tests.conftest import assemble

    found = {}
    for engine in ("sql", "gx"):
        project = assemble(tmp_path / engine, "mini")
        shutil.copytree(
            BAD_INPUTS / case, project, dirs_exist_ok=True, ignore=shutil.ignore_patterns("expected.yaml")
        )
        found[engine] = gate_errors(project, engine)
    expected = yaml.safe_load((BAD_INPUTS / case / "expected.yaml").read_text(encoding="utf-8"))["error"]
    assert expected in {e["type"] for e in found["sql"]}
    assert found["sql"] == found["gx"]


def test_there_are_gate_fixtures() -> None:
    assert {"expectation-missing-column", "suite-unknown-expectation"} <= set(gate_fixtures())


# --- disagreement and engine choice ----------------------------------------------------------


def test_a_disagreement_blocks_the_release(
    mini_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newstables.release import release

    original = gate.sql_results

    def wrong(con: Any, table: str, *args: Any) -> list[CheckResult] | None:
        results = original(con, table, *args)
        if results and table == "votes":
            results[0].passed = not results[0].passed
        return results

    monkeypatch.setattr(gate, "sql_results", wrong)
    with pytest.raises(ErrorList) as caught:
        release(mini_project, tmp_path / "dist")
    errors = [e for e in caught.value.errors if e.type == "gate-engines-disagree"]
    assert [(e.coordinates["table"], e.coordinates["check"]) for e in errors] == [
        ("votes", gate.suite_expectations(load_inputs(mini_project).model, "votes", [])[0]["meta"]["check"])
    ]
    assert not (tmp_path / "dist").exists() or not any((tmp_path / "dist").glob("*.zip"))


def test_a_release_reports_great_expectations_findings(mini_project: Path, tmp_path: Path) -> None:
    from newstables.release import release

    placed = release(mini_project, tmp_path / "dist")
    report = json.loads((placed[-1] / "validation/report/results.json").read_text(encoding="utf-8"))
    engines = {c["engine"] for c in report["checks"] if c["kind"].startswith(("expect_", "unexpected"))}
    assert engines == {GX_ENGINE}


def test_an_unknown_engine_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NewstablesError) as caught:
        gate.chosen_engine("fast")
    assert caught.value.type == "gate-engine-invalid"
    monkeypatch.setenv(gate.ENGINE_VARIABLE, "pandas")
    with pytest.raises(NewstablesError) as from_environment:
        gate.chosen_engine()
    assert from_environment.value.type == "gate-engine-invalid" and "pandas" in from_environment.value.message
    monkeypatch.setenv(gate.ENGINE_VARIABLE, "gx")
    assert gate.chosen_engine() == "gx" and gate.chosen_engine("sql") == "sql"


def test_a_suite_the_engine_does_not_model_runs_through_great_expectations(
    mini_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = mini_project / "validation/votes.json"
    data = json.loads(suite.read_text(encoding="utf-8"))
    data["expectations"].append(
        {
            "type": "expect_column_value_lengths_to_be_between",
            "kwargs": {"column": "vote_id", "min_value": 1},
            "meta": {"check": "vote-id-is-text", "why": "Ids are not empty."},
        }
    )
    suite.write_text(json.dumps(data), encoding="utf-8")
    build(mini_project)
    report = json.loads((mini_project / "validation/report/results.json").read_text(encoding="utf-8"))
    engines = {(c["table"], c["engine"]) for c in report["checks"] if c["engine"]}
    assert {e for t, e in engines if t == "votes"} == {GX_ENGINE}
    assert {e for t, e in engines if t != "votes"} == {gate_sql.ENGINE}
    assert any(c["check"] == "vote-id-is-text" and c["passed"] for c in report["checks"])


def test_a_default_build_does_not_import_great_expectations(mini_project: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from newstables.pipeline import build; "
        f"build(Path({str(mini_project)!r})); "
        "print('great_expectations' in sys.modules, 'newstables.gate_worker' in sys.modules)"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stdout.split() == ["False", "False"]


# --- (c) tiny one-defect frames ------------------------------------------------------------------

# name -> (the frame's columns and rows as SQL, the expectation's type and kwargs)
VALUES = "SELECT * FROM (VALUES {rows}) AS t(id, v)"
TEXTS = VALUES.format(rows="('a', 'x'), ('b', NULL), ('c', 'y'), ('d', 'z'), ('e', 'x')")
NUMBERS = VALUES.format(rows="('a', 1), ('b', NULL), ('c', 5), ('d', 10), ('e', 0)")
FLAGS = VALUES.format(rows="('a', TRUE), ('b', NULL), ('c', FALSE), ('d', TRUE)")
PAIRS = (
    "SELECT * FROM (VALUES ('a', 2, 1), ('b', 1, 1), ('c', 0, 1), ('d', NULL, 1), ('e', 1, NULL), "
    "('f', NULL, NULL)) AS t(id, a, b)"
)
DATES = (
    "SELECT * FROM (VALUES ('a', DATE '2022-03-13', DATE '2022-03-12'), ('b', DATE '2022-03-01', "
    "DATE '2022-03-02'), ('c', NULL, DATE '2022-03-02')) AS t(id, a, b)"
)
COMPOUND = (
    "SELECT * FROM (VALUES ('a', 1, 'x'), ('b', 1, 'x'), ('c', 1, 'y'), ('d', 2, NULL), ('e', 2, NULL), "
    "('f', NULL, NULL), ('g', NULL, NULL)) AS t(id, a, b)"
)
CONDITIONED = (
    "SELECT * FROM (VALUES ('a', 'vote', 0, 'x'), ('b', 'vote', 2, NULL), ('c', 'talk', 0, NULL), "
    "('d', 'talk', NULL, 'y'), ('e', NULL, 0, NULL)) AS t(id, kind, n, note)"
)
MANY = "SELECT 'r' || lpad(i::VARCHAR, 2, '0') AS id, i AS v FROM range(30) AS r(i)"
EMPTY = "SELECT * FROM (VALUES ('a', 1)) AS t(id, v) WHERE FALSE"


def kind_is(operator: str, parameter: Any, column: str = "kind") -> dict[str, Any]:
    return {"type": "comparison", "column": {"name": column}, "operator": operator, "parameter": parameter}


IN_SET = "expect_column_values_to_be_in_set"
NOT_IN_SET = "expect_column_values_to_not_be_in_set"
BETWEEN = "expect_column_values_to_be_between"
NOT_NULL = "expect_column_values_to_not_be_null"
UNIQUE = "expect_column_values_to_be_unique"
PAIR = "expect_column_pair_values_a_to_be_greater_than_b"
COMPOUND_UNIQUE = "expect_compound_columns_to_be_unique"
ROW_COUNT = "expect_table_row_count_to_equal"
ROWS_QUERY = "unexpected_rows_expectation"
NOT_NULL_NOTE = {"column": "note"}

CASES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "in_set_ignores_nulls": (TEXTS, IN_SET, {"column": "v", "value_set": ["x", "y"]}),
    "in_set_all_in": (TEXTS, IN_SET, {"column": "v", "value_set": ["x", "y", "z"]}),
    "in_set_mostly_passes": (TEXTS, IN_SET, {"column": "v", "value_set": ["x", "y"], "mostly": 0.75}),
    "in_set_mostly_fails": (TEXTS, IN_SET, {"column": "v", "value_set": ["x", "y"], "mostly": 0.8}),
    "in_set_booleans": (FLAGS, IN_SET, {"column": "v", "value_set": [True]}),
    "in_set_numbers": (NUMBERS, IN_SET, {"column": "v", "value_set": [0, 1, 5]}),
    "in_set_comparison": (
        CONDITIONED,
        IN_SET,
        {"column": "n", "value_set": [2], "row_condition": kind_is("==", "vote")},
    ),
    "in_set_not_equal": (
        CONDITIONED,
        IN_SET,
        {"column": "n", "value_set": [2], "row_condition": kind_is("!=", "talk")},
    ),
    "in_set_condition_in": (
        CONDITIONED,
        IN_SET,
        {"column": "n", "value_set": [2], "row_condition": kind_is("IN", ["vote", "talk"])},
    ),
    "in_set_condition_not_in": (
        CONDITIONED,
        IN_SET,
        {"column": "n", "value_set": [0], "row_condition": kind_is("NOT_IN", ["vote"])},
    ),
    "in_set_condition_nullity": (
        CONDITIONED,
        IN_SET,
        {
            "column": "n",
            "value_set": [2],
            "row_condition": {"type": "nullity", "column": {"name": "note"}, "is_null": True},
        },
    ),
    "in_set_condition_and_or": (
        CONDITIONED,
        IN_SET,
        {
            "column": "n",
            "value_set": [2],
            "row_condition": {
                "type": "or",
                "conditions": [
                    {"type": "and", "conditions": [kind_is("==", "vote"), kind_is("<", 1, "n")]},
                    {"type": "nullity", "column": {"name": "kind"}, "is_null": True},
                ],
            },
        },
    ),
    "in_set_condition_order": (
        CONDITIONED,
        IN_SET,
        {"column": "n", "value_set": [2], "row_condition": kind_is(">=", 0, "n")},
    ),
    "not_in_set": (TEXTS, NOT_IN_SET, {"column": "v", "value_set": ["z"]}),
    "not_in_set_condition": (
        CONDITIONED,
        NOT_IN_SET,
        {"column": "n", "value_set": [0], "row_condition": kind_is("==", "talk")},
    ),
    "not_in_set_mostly": (TEXTS, NOT_IN_SET, {"column": "v", "value_set": ["x"], "mostly": 0.5}),
    "between_min": (NUMBERS, BETWEEN, {"column": "v", "min_value": 1}),
    "between_max": (NUMBERS, BETWEEN, {"column": "v", "max_value": 5}),
    "between_both": (NUMBERS, BETWEEN, {"column": "v", "min_value": 1, "max_value": 5}),
    "between_strict_min": (NUMBERS, BETWEEN, {"column": "v", "min_value": 1, "strict_min": True}),
    "between_strict_max": (NUMBERS, BETWEEN, {"column": "v", "max_value": 10, "strict_max": True}),
    "between_strict_both": (
        NUMBERS,
        BETWEEN,
        {"column": "v", "min_value": 0, "max_value": 10, "strict_min": True, "strict_max": True},
    ),
    "between_float_bound": (NUMBERS, BETWEEN, {"column": "v", "min_value": 0.5, "max_value": 9.5}),
    "between_condition": (
        CONDITIONED,
        BETWEEN,
        {"column": "n", "min_value": 1, "row_condition": kind_is("==", "vote")},
    ),
    "between_mostly": (NUMBERS, BETWEEN, {"column": "v", "min_value": 1, "mostly": 0.7}),
    "not_null": (TEXTS, NOT_NULL, {"column": "v"}),
    "not_null_mostly": (TEXTS, NOT_NULL, {"column": "v", "mostly": 0.8}),
    "not_null_condition": (CONDITIONED, NOT_NULL, {"column": "note", "row_condition": kind_is("==", "vote")}),
    "not_null_condition_no_rows": (
        CONDITIONED,
        NOT_NULL,
        {"column": "note", "row_condition": kind_is("==", "none")},
    ),
    "not_null_condition_boolean": (
        FLAGS,
        NOT_NULL,
        {"column": "id", "row_condition": kind_is("==", False, "v")},
    ),
    "not_null_condition_mostly": (
        CONDITIONED,
        NOT_NULL,
        {"column": "note", "mostly": 0.5, "row_condition": kind_is("==", "vote")},
    ),
    "unique": (TEXTS, UNIQUE, {"column": "v"}),
    "unique_nulls_repeat": (CONDITIONED, UNIQUE, {"column": "note"}),
    "unique_condition": (CONDITIONED, UNIQUE, {"column": "n", "row_condition": kind_is("==", "talk")}),
    "unique_mostly": (TEXTS, UNIQUE, {"column": "v", "mostly": 0.5}),
    "pair_strict": (PAIRS, PAIR, {"column_A": "a", "column_B": "b"}),
    "pair_or_equal": (PAIRS, PAIR, {"column_A": "a", "column_B": "b", "or_equal": True}),
    "pair_either_missing": (
        PAIRS,
        PAIR,
        {"column_A": "a", "column_B": "b", "or_equal": True, "ignore_row_if": "either_value_is_missing"},
    ),
    "pair_neither": (PAIRS, PAIR, {"column_A": "a", "column_B": "b", "ignore_row_if": "neither"}),
    "pair_or_equal_neither": (
        PAIRS,
        PAIR,
        {"column_A": "a", "column_B": "b", "or_equal": True, "ignore_row_if": "neither"},
    ),
    "pair_mostly": (PAIRS, PAIR, {"column_A": "a", "column_B": "b", "mostly": 0.5}),
    "pair_dates": (DATES, PAIR, {"column_A": "a", "column_B": "b", "or_equal": True}),
    "pair_condition": (
        PAIRS,
        PAIR,
        {"column_A": "a", "column_B": "b", "row_condition": kind_is("!=", "c", "id")},
    ),
    "compound": (COMPOUND, COMPOUND_UNIQUE, {"column_list": ["a", "b"]}),
    "compound_any_missing": (
        COMPOUND,
        COMPOUND_UNIQUE,
        {"column_list": ["a", "b"], "ignore_row_if": "any_value_is_missing"},
    ),
    "compound_never": (COMPOUND, COMPOUND_UNIQUE, {"column_list": ["a", "b"], "ignore_row_if": "never"}),
    "compound_mostly": (COMPOUND, COMPOUND_UNIQUE, {"column_list": ["a", "b"], "mostly": 0.6}),
    "compound_condition": (
        COMPOUND,
        COMPOUND_UNIQUE,
        {"column_list": ["a", "b"], "row_condition": kind_is("!=", "a", "id")},
    ),
    "row_count_equal": (TEXTS, ROW_COUNT, {"value": 5}),
    "row_count_differs": (TEXTS, ROW_COUNT, {"value": 4}),
    "row_count_condition": (CONDITIONED, ROW_COUNT, {"value": 2, "row_condition": kind_is("==", "vote")}),
    "rows_query_filter": (
        TEXTS,
        ROWS_QUERY,
        {"unexpected_rows_query": "SELECT __gate_row, id FROM {batch} WHERE v = 'x' ORDER BY __gate_row"},
    ),
    "rows_query_grouped": (
        TEXTS,
        ROWS_QUERY,
        {"unexpected_rows_query": "SELECT v, count(*) AS n FROM {batch} GROUP BY v HAVING count(*) > 1"},
    ),
    "rows_query_none": (
        TEXTS,
        ROWS_QUERY,
        {"unexpected_rows_query": "SELECT __gate_row, id FROM {batch} WHERE v = 'w' ORDER BY __gate_row;"},
    ),
    "many_offending_rows": (MANY, IN_SET, {"column": "v", "value_set": [0, 1, 2]}),
    "many_rows_query": (
        MANY,
        ROWS_QUERY,
        {"unexpected_rows_query": "SELECT __gate_row, id FROM {batch} WHERE v > 2 ORDER BY __gate_row"},
    ),
    "empty_in_set": (EMPTY, IN_SET, {"column": "v", "value_set": [1]}),
    "empty_not_null": (EMPTY, NOT_NULL, {"column": "v"}),
    "empty_pair": (EMPTY, PAIR, {"column_A": "v", "column_B": "v"}),
    "empty_row_count": (EMPTY, ROW_COUNT, {"value": 0}),
}
FORMULA_TEXTS = VALUES.format(rows="('a', '=1+1'), ('b', NULL), ('c', 'plain'), ('d', '@cmd'), ('e', ' -x')")

# Expectations the SQL engine must decline (its table then runs through Great Expectations).
DECLINED: dict[str, dict[str, Any]] = {
    "another type": {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "v", "regex": "x"}},
    "another kwarg": {
        "type": IN_SET,
        "kwargs": {"column": "v", "value_set": ["x"], "catch_exceptions": True},
    },
    "an empty set": {"type": IN_SET, "kwargs": {"column": "v", "value_set": []}},
    "a null in the set": {"type": IN_SET, "kwargs": {"column": "v", "value_set": ["x", None]}},
    "between on text": {"type": BETWEEN, "kwargs": {"column": "v", "min_value": 1}},
    "a string condition": {
        "type": IN_SET,
        "kwargs": {"column": "v", "value_set": ["x"], "row_condition": 'v=="x"'},
    },
    "a condition parser": {
        "type": IN_SET,
        "kwargs": {"column": "v", "value_set": ["x"], "condition_parser": "pandas"},
    },
    "a query parameter": {
        "type": ROWS_QUERY,
        "kwargs": {"unexpected_rows_query": "SELECT * FROM {batch} WHERE {x}"},
    },
    "an unknown column": {"type": NOT_NULL, "kwargs": {"column": "nope"}},
    "a description": {"type": NOT_NULL, "kwargs": {"column": "v"}, "description": "d"},
}


def expectation(name: str, kind: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs, "meta": {"check": name, "why": f"case {name}"}}


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    """Every tiny frame in one DuckDB file (numbered as the gate numbers them), and one Great
    Expectations context on it for the whole module."""
    database = tmp_path_factory.mktemp("tiny-frames") / "frames.duckdb"
    con = duckdb.connect(str(database))
    tables = {name: sql for name, (sql, _, _) in CASES.items()} | {"formula": FORMULA_TEXTS}
    for name, sql in tables.items():
        con.execute(f"CREATE TABLE t_{name} AS SELECT row_number() OVER () - 1 AS __gate_row, * FROM ({sql})")
    con.close()
    # The SQL engine reads a copy: DuckDB attaches a file once per process, and GX holds it.
    shutil.copyfile(database, database.with_name("frames-sql.duckdb"))
    validator = gate._Validator(database)
    yield database, validator
    validator.close()


def by_sql(database: Path, table: str, expectations: list[dict[str, Any]]) -> list[CheckResult] | None:
    con = duckdb.connect()
    con.execute(f"ATTACH '{database.with_name('frames-sql.duckdb').as_posix()}' AS frames (READ_ONLY)")
    try:
        return sql_results(con, table, expectations, ["id"])
    finally:
        con.close()


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_tiny_frame_gets_the_same_findings(name: str, frames: tuple[Path, Any]) -> None:
    database, validator = frames
    _, kind, kwargs = CASES[name]
    expectations = [expectation(name, kind, kwargs)]
    ours = by_sql(database, f"t_{name}", expectations)
    assert ours is not None, "the SQL engine models this case"
    theirs = validator.check(f"t_{name}", expectations, ["id"])
    assert not gate._could_not_run(theirs[0]), theirs[0].observed
    assert seen(ours) == seen(theirs)


def test_the_tiny_frames_cover_every_supported_type_and_kwarg() -> None:
    used: dict[str, set[str]] = {}
    for _, kind, kwargs in CASES.values():
        used.setdefault(kind, set()).update(kwargs)
    assert {k: set(v["kwargs"]) for k, v in gate_sql.supported().items()} == used


def test_the_tiny_frames_include_failures_and_passes(frames: tuple[Path, Any]) -> None:
    database, _ = frames
    outcomes = {}
    for name, (_, kind, kwargs) in CASES.items():
        results = by_sql(database, f"t_{name}", [expectation(name, kind, kwargs)])
        assert results is not None
        outcomes[name] = results[0]
    assert outcomes["in_set_ignores_nulls"].passed is False
    assert outcomes["in_set_ignores_nulls"].examples == ["d"], "the null row is not offending"
    assert outcomes["in_set_mostly_passes"].passed and not outcomes["in_set_mostly_fails"].passed
    assert outcomes["many_offending_rows"].unexpected_count == 27
    assert outcomes["many_offending_rows"].examples == ["r03", "r04", "r05", "r06", "r07"]
    assert outcomes["compound"].unexpected_count == 2, "rows with a null in the list are never offending"
    assert outcomes["compound"].examples == [], "GX 1.24.1 lists no rows of a multicolumn expectation on SQL"
    assert outcomes["row_count_differs"].observed == 5 and not outcomes["row_count_differs"].passed
    assert outcomes["not_null_condition_no_rows"].passed
    assert sum(not r.passed for r in outcomes.values()) >= 25


def test_the_generic_checks_get_the_same_findings(frames: tuple[Path, Any]) -> None:
    database, validator = frames
    expectations = gate.generic_expectations(5, ["v"], ("id",), has_evidence=False)
    ours = by_sql(database, "t_formula", expectations)
    theirs = validator.check("t_formula", expectations, ["id"])
    assert ours is not None and seen(ours) == seen(theirs)
    assert [r.passed for r in ours] == [True, False]
    assert ours[1].examples == ["a", "d"] and ours[1].unexpected_count == 2


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_what_the_engine_does_not_model_is_left_to_great_expectations(
    name: str, frames: tuple[Path, Any]
) -> None:
    database, _ = frames
    declined = {"meta": {"check": name}} | DECLINED[name]
    fine = expectation("fine", NOT_NULL, {"column": "v"})
    assert by_sql(database, "t_not_in_set", [fine]) is not None  # a frame of texts in v
    assert by_sql(database, "t_not_in_set", [fine, declined]) is None
