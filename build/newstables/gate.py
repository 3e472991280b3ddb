"""The semantic gate: Great Expectations suites and coverage checks on the staged release.

Suites are data (``validation/<table>.json``, read and checked by the metadata model),
each run on the frame its SQL file (``validation/<table>.sql``) selects from the staged
DuckDB file. Generic checks are added from metadata rather than written per table: the
row count from ``validation/expected_counts.yaml``, a formula-trigger check on every text
column and an excerpt on every article row. Before anything runs, every expectation type
must be one Great Expectations knows and every column it names must be in its frame;
otherwise the gate reports that, naming the suite file, rather than a silent pass.
Great Expectations is imported only here, and only when the gate runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from newstables.core.model import Model, Resource, Suite, quote_literal
from newstables.errors import NewstablesError
from newstables.project import DUCKDB_FILE, VALIDATION
from newstables.tables import CONTEXT_COLUMNS, FORMULA_TRIGGERS

MAX_EXAMPLES = 5
# Prefix of the observed value of an expectation Great Expectations could not evaluate.
COULD_NOT_RUN = "could not run: "
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


def generic_expectations(
    expected_rows: int | None, text_columns: list[str], has_evidence: bool = True
) -> list[dict[str, Any]]:
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
    if not has_evidence:  # the documents table is the evidence itself
        return built
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


def open_frames(
    model: Model, staging: Path, raw: str, texts: dict[str, str] | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection on the staged database, with the texts and story variables:
    ``raw_article`` (the default document's text) and ``raw_documents`` (every document's,
    by ``document_id``, for frames that join a row to the text of its own document)."""
    con = duckdb.connect()
    con.execute(f"ATTACH {quote_literal((staging / DUCKDB_FILE).as_posix())} AS staged (READ_ONLY)")
    con.execute("USE staged")
    con.execute("CREATE TEMP TABLE raw_article AS SELECT ? AS text", [raw])
    con.execute("CREATE TEMP TABLE raw_documents (document_id VARCHAR, text VARCHAR)")
    for document_id, text in sorted((texts or {"article": raw}).items()):
        con.execute("INSERT INTO raw_documents VALUES (?, ?)", [document_id, text])
    for name, value in model.story.items():
        con.execute(f"SET VARIABLE {name} = DATE {quote_literal(value.isoformat())}")
    return con


def frame(con: duckdb.DuckDBPyConnection, model: Model, resource: Resource) -> pd.DataFrame:
    """The pandas frame a table's suite validates (its SQL file, or the bare table).

    A query DuckDB cannot run is reported as ``sql-invalid`` naming the SQL file.
    """
    sql = model.frame_sql.get(resource.name)
    if sql is None:
        sql = f"SELECT * FROM {resource.name} ORDER BY " + ", ".join(resource.primary_key)
    try:
        return con.execute(sql).df()
    except duckdb.Error as exc:
        raise NewstablesError(
            "sql-invalid", file=f"validation/{resource.name}.sql", detail=" ".join(str(exc).split())
        ) from exc


COLUMN_KWARGS = ("column", "column_A", "column_B")
COLUMN_LIST_KWARGS = ("column_list",)


def named_columns(expectation: dict[str, Any]) -> list[str]:
    """The frame columns an expectation's kwargs name."""
    kwargs = expectation.get("kwargs", {})
    names = [kwargs[k] for k in COLUMN_KWARGS if isinstance(kwargs.get(k), str)]
    for key in COLUMN_LIST_KWARGS:
        if isinstance(kwargs.get(key), list):
            names += [c for c in kwargs[key] if isinstance(c, str)]
    return names


def suite_findings(suite: Suite, columns: list[str], known_types: set[str]) -> list[NewstablesError]:
    """Expectations of an unknown type or on a column the frame lacks, naming the suite file."""
    found = []
    frame_name = f"validation/{suite.table}.sql"
    for index, expectation in enumerate(suite.expectations, start=1):
        check = str((expectation.get("meta") or {}).get("check", expectation["type"]))
        if expectation["type"] not in known_types:
            found.append(
                NewstablesError(
                    "suite-unknown-expectation",
                    file=suite.file,
                    record=index,
                    field="type",
                    value=expectation["type"],
                    expected="expect_column_values_to_be_in_set",
                )
            )
            continue
        for column in named_columns(expectation):
            if column not in columns:
                found.append(
                    NewstablesError(
                        "expectation-unknown-column",
                        file=suite.file,
                        record=index,
                        check=check,
                        field=column,
                        frame=frame_name,
                        expected=", ".join(columns),
                    )
                )
    return found


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

    def known_types(self) -> set[str]:
        """Every expectation type this Great Expectations version implements."""
        from great_expectations.expectations.registry import list_registered_expectation_implementations

        return set(list_registered_expectation_implementations())

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
    observed = (
        result.get("observed_value")
        if not raised
        else COULD_NOT_RUN + " ".join(str(outcome.exception_info.get("exception_message")).split())[:300]
    )
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
    model: Model, staging: Path, raw: str, formula_waivers: set[str], texts: dict[str, str] | None = None
) -> tuple[list[CheckResult], list[NewstablesError]]:
    """Run every table's suite (plus the generic checks) on the staged release.

    Returns the results and the findings that stopped a suite from running at all
    (an unknown expectation type, a column the frame lacks, SQL DuckDB cannot run).
    """
    con = open_frames(model, staging, raw, texts)
    validator = _Validator()
    known = validator.known_types()
    results: list[CheckResult] = []
    found: list[NewstablesError] = []
    for resource in model.resources:
        try:
            df = frame(con, model, resource)
        except NewstablesError as error:
            found.append(error)
            continue
        suite = model.suites.get(resource.name, Suite(resource.name, f"validation/{resource.name}.json"))
        problems = suite_findings(suite, [str(c) for c in df.columns], known)
        if problems:
            found += problems
            continue
        text_columns = [c for c in resource.text_columns if c in df.columns and c not in CONTEXT_COLUMNS]
        df = blank_waived(df, text_columns, formula_waivers)
        expectations = [dict(e) for e in suite.expectations]
        expectations += generic_expectations(
            model.expected_counts.get(resource.name), text_columns, resource.has_field("excerpt")
        )
        outcome = validator.validate(resource.name, df, expectations)
        key = list(resource.primary_key)
        results += [_to_result(resource.name, r, df, key) for r in outcome.results]
    con.close()
    return results, found


def _failure_detail(result: CheckResult) -> str:
    """What went wrong: the offending rows, or why the check could not run at all."""
    if isinstance(result.observed, str) and result.observed.startswith(COULD_NOT_RUN):
        return f"{result.why} The check {result.observed}"
    return f"{result.why} Observed {result.observed!r}; {result.unexpected_count} offending rows" + (
        f": {', '.join(result.examples)}" if result.examples else ""
    )


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
            detail=_failure_detail(r),
            rows=", ".join(r.examples),
        )
        for r in results
        if not r.passed
    ]
