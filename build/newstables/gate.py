"""The semantic gate: Great Expectations suites and coverage checks on the staged release.

Suites are data (``validation/<table>.json``), each run on the frame its SQL file
(``validation/<table>.sql``) selects from the staged DuckDB file. Two generic checks are
added from metadata rather than written per table: the row count from
``validation/expected_counts.yaml`` and a formula-trigger check on every text column.
Great Expectations is imported only here, and only when the gate runs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

from newstables.errors import NewstablesError
from newstables.project import DUCKDB_FILE, VALIDATION, Project
from newstables.sql import quote_literal
from newstables.tables import FORMULA_TRIGGERS

MAX_EXAMPLES = 5
ROW_COUNT_CHECK = "row-count-as-expected"
EXPECTED_COUNTS = "expected_counts.yaml"
# The same triggers the build refuses in annotations (tables.FORMULA_TRIGGERS), checked
# again on the published frames: the build names the annotation, the gate the release row.
FORMULA_REGEX = "^[" + "".join(re.escape(c) for c in FORMULA_TRIGGERS) + "]"


@dataclass
class CheckResult:
    """One check's outcome, as the report shows it."""

    table: str
    check: str
    why: str
    kind: str
    passed: bool
    observed: Any = None
    unexpected_count: int = 0
    examples: list[str] = field(default_factory=list)


def load_suite(project: Project, table: str) -> dict[str, Any]:
    """Read ``validation/<table>.json``; refuse random ids (suites must be stable bytes)."""
    path = project.path(VALIDATION / f"{table}.json")
    if not path.is_file():
        return {"name": table, "expectations": []}
    suite: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if "id" in suite or any("id" in e for e in suite.get("expectations", [])):
        raise NewstablesError(
            "suite-invalid", file=project.rel(path), detail="suites are saved without GX's random 'id' fields"
        )
    return suite


def generic_expectations(expected_rows: int | None, text_columns: list[str]) -> list[dict[str, Any]]:
    """Row-count and formula-trigger expectations built from metadata."""
    built = []
    if expected_rows is not None:
        built.append(
            {
                "type": "expect_table_row_count_to_equal",
                "kwargs": {"value": expected_rows},
                "meta": {
                    "check": ROW_COUNT_CHECK,
                    "why": "Row counts match validation/expected_counts.yaml: a change is deliberate.",
                },
            }
        )
    for column in text_columns:
        built.append(
            {
                "type": "expect_column_values_to_not_match_regex",
                "kwargs": {"column": column, "regex": FORMULA_REGEX},
                "meta": {
                    "check": f"no-formula-trigger:{column}",
                    "why": "No text cell starts with = + - @ tab CR LF, which spreadsheets run as formulas.",
                },
            }
        )
    built.append(
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {
                "column": "excerpt",
                "row_condition": "is_external == False",
                "condition_parser": "pandas",
            },
            "meta": {
                "check": "article-row-has-excerpt",
                "why": "A row that is not external quotes its evidence from the article.",
            },
        }
    )
    return built


def open_frames(project: Project, staging: Path, raw: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection on the staged database, with the raw text and story variables."""
    con = duckdb.connect()
    con.execute(f"ATTACH {quote_literal((staging / DUCKDB_FILE).as_posix())} AS staged (READ_ONLY)")
    con.execute("USE staged")
    con.execute("CREATE TEMP TABLE raw_article AS SELECT ? AS text", [raw])
    story = yaml.safe_load(project.path(VALIDATION / "story.yaml").read_text(encoding="utf-8"))
    for name, value in story.items():
        con.execute(f"SET VARIABLE {name} = DATE {quote_literal(str(value))}")
    return con


def frame(
    con: duckdb.DuckDBPyConnection, project: Project, table: str, primary_key: list[str]
) -> pd.DataFrame:
    """The pandas frame a table's suite validates (its SQL file, or the bare table)."""
    path = project.path(VALIDATION / f"{table}.sql")
    if path.is_file():
        sql = path.read_text(encoding="utf-8")
    else:
        sql = f"SELECT * FROM {table} ORDER BY " + ", ".join(primary_key)
    return con.execute(sql).df()


def blank_waived(df: pd.DataFrame, columns: list[str], waived: set[str]) -> pd.DataFrame:
    """A copy of the frame with waived formula-trigger texts blanked out."""
    copy = df.copy()
    for column in columns:
        copy[column] = copy[column].where(~copy[column].isin(waived), None)
    return copy


class _Validator:
    """One ephemeral Great Expectations context that validates pandas frames."""

    def __init__(self) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.source = self.context.data_sources.add_pandas("frames")

    def validate(self, table: str, df: pd.DataFrame, expectations: list[dict[str, Any]]) -> Any:
        """Validate ``df`` against the expectations; asserts none was silently dropped."""
        suite = self.gx.ExpectationSuite(name=table, expectations=expectations)
        assert len(suite.expectations) == len(expectations), f"suite {table}: an expectation was dropped"
        asset = self.source.add_dataframe_asset(name=table)
        batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
            batch_parameters={"dataframe": df}
        )
        return batch.validate(suite, result_format={"result_format": "COMPLETE"})


def _examples(df: pd.DataFrame, indexes: list[Any] | None, primary_key: list[str]) -> list[str]:
    rows = [df.iloc[i] for i in (indexes or [])[:MAX_EXAMPLES]]
    return ["/".join(str(row[k]) for k in primary_key) for row in rows]


def _to_result(table: str, outcome: Any, df: pd.DataFrame, primary_key: list[str]) -> CheckResult:
    meta = outcome.expectation_config.meta or {}
    result = outcome.result or {}
    raised = bool(outcome.exception_info and outcome.exception_info.get("raised_exception"))
    observed = result.get("observed_value") if not raised else outcome.exception_info.get("exception_message")
    if meta.get("check") == ROW_COUNT_CHECK and not raised:
        observed = {"rows": observed, "expected": outcome.expectation_config.kwargs["value"]}
    return CheckResult(
        table=table,
        check=meta.get("check", outcome.expectation_config.type),
        why=meta.get("why", ""),
        kind=outcome.expectation_config.type,
        passed=bool(outcome.success) and not raised,
        observed=observed,
        unexpected_count=int(result.get("unexpected_count") or 0),
        examples=_examples(df, result.get("unexpected_index_list"), primary_key),
    )


def run_suites(
    project: Project, staging: Path, raw: str, schemas: dict[str, dict[str, Any]], formula_waivers: set[str]
) -> list[CheckResult]:
    """Run every table's suite (plus the generic checks) on the staged release."""
    counts = yaml.safe_load(project.path(VALIDATION / "expected_counts.yaml").read_text(encoding="utf-8"))
    con = open_frames(project, staging, raw)
    validator = _Validator()
    results: list[CheckResult] = []
    for table, schema in schemas.items():
        text_columns = [f["name"] for f in schema["fields"] if f["type"] == "string"]
        df = blank_waived(frame(con, project, table, schema["primaryKey"]), text_columns, formula_waivers)
        expectations = load_suite(project, table)["expectations"]
        expectations = expectations + generic_expectations(counts.get(table), text_columns)
        outcome = validator.validate(table, df, expectations)
        results += [_to_result(table, r, df, schema["primaryKey"]) for r in outcome.results]
    con.close()
    return results


def row_count_error(result: CheckResult) -> NewstablesError:
    """A changed row count, with the command that accepts it when the change is deliberate."""
    return NewstablesError(
        "row-count-changed",
        file=(VALIDATION / EXPECTED_COUNTS).as_posix(),
        table=result.table,
        check=result.check,
        found=result.observed["rows"],
        expected=result.observed["expected"],
        rows="",
    )


def failures(results: list[CheckResult]) -> list[NewstablesError]:
    """One error per failing check, naming table, check and rows; a changed row count
    names ``newstables counts --accept`` as the fix."""
    return [
        row_count_error(r)
        if r.check == ROW_COUNT_CHECK and isinstance(r.observed, dict)
        else NewstablesError(
            "expectation-failed",
            table=r.table,
            check=r.check,
            detail=f"{r.why} Observed {r.observed!r}; {r.unexpected_count} offending rows"
            + (f": {', '.join(r.examples)}" if r.examples else ""),
            rows=", ".join(r.examples),
        )
        for r in results
        if not r.passed
    ]
