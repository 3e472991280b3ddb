"""The semantic gate: Great Expectations suites and coverage checks on the staged release.

Suites are data (``validation/<table>.json``, read and checked by the metadata model),
each run on the frame its SQL file (``validation/<table>.sql``) selects from the staged
DuckDB file. The frames are materialized in memory (spilling to a scratch folder past an
explicit memory limit), each query's rows written once. Two engines
validate them, neither pulling a table into Python (only the offending rows' keys come
back): the DuckDB-SQL engine (``gate_sql``, the default of a build: each expectation
compiled into SQL with Great Expectations' findings) and Great Expectations itself, inside
DuckDB through SQLAlchemy (duckdb-engine), which runs a suite the SQL engine does not model
and validates every release alongside it (engine ``both``: any disagreement is an error); the
frames it validates are copied into a scratch DuckDB file that it opens.
Generic checks are added from metadata rather than written per table: the row count from
``validation/expected_counts.yaml``, a formula-trigger check on every text column and an
excerpt on every article row. Before anything runs, every expectation type
must be one Great Expectations knows and every column it names must be in its frame;
otherwise the gate reports that, naming the suite file, rather than a silent pass.
Great Expectations is imported only here, and only when a suite runs through it.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from newstables.core.formats import utf8_array
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
# A cell starts with a trigger when its first character's code point (DuckDB's ord) is one
# of theirs: numbers keep tab, CR and LF readable in the SQL and contain no braces, which
# Great Expectations would take for query placeholders; 3x less CPU than the regular
# expression ^[...] on every text cell of every frame.
FORMULA_CODES = ", ".join(str(ord(c)) for c in FORMULA_TRIGGERS)
# The ordinal of each row in its frame (the frame SQL's ORDER BY, or the numbers the SQL gives
# in this column itself), in every materialized frame so that offending rows are reported in
# frame order.
ROW_COLUMN = "__gate_row"
# The table holding a frame's rows in the scratch database (the frame is a view on it).
ROWS_PREFIX = "__rows_"


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
    engine: str | None = None  # what ran a suite's check: gate_sql.ENGINE or gx_engine()


def generic_expectations(
    expected_rows: int | None,
    text_columns: list[str],
    primary_key: tuple[str, ...] = (),
    has_evidence: bool = True,
) -> list[dict[str, Any]]:
    """Row-count and formula-trigger expectations built from metadata (offending rows named
    by their ordinal and ``primary_key``)."""
    selected = ", ".join([ROW_COLUMN, *(quote_identifier(k) for k in primary_key)])
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
        # Regex and LIKE expectations are not implemented for the duckdb dialect: the
        # trigger check is an UnexpectedRowsExpectation whose SQL reads the first character.
        query = (
            f"SELECT {selected} FROM {{batch}} "
            f"WHERE ord({quote_identifier(column)}) IN ({FORMULA_CODES}) ORDER BY {ROW_COLUMN}"
        )
        built.append(
            {
                "type": "unexpected_rows_expectation",
                "kwargs": {"unexpected_rows_query": query},
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
                "row_condition": {
                    "type": "comparison",
                    "column": {"name": "is_external"},
                    "operator": "==",
                    "parameter": False,
                },
            },
            "meta": {
                "check": "article-row-has-excerpt",
                "why": "A row that is not external quotes its evidence from the article.",
            },
        }
    )
    return built


def open_frames(model: Model, staging: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection on the staged database, set up to run frame SQL, with empty tables
    for the texts (``raw_article``: the default document's text; ``raw_documents``: every
    document's, by ``document_id``, for frames that join a row to the text of its own
    document), which :func:`load_texts` fills.

    The texts live in an in-memory catalog shared by every cursor of the connection
    (``TEXTS``); each cursor sees them as temporary views of the usual names
    (:func:`frame_cursor`), so frames can be materialized by several threads at once."""
    con = duckdb.connect()
    con.execute(f"ATTACH {quote_literal((staging / DUCKDB_FILE).as_posix())} AS staged (READ_ONLY)")
    con.execute(f"ATTACH ':memory:' AS {TEXTS}")
    con.execute(f"CREATE TABLE {TEXTS}.raw_article (text VARCHAR)")
    con.execute(f"CREATE TABLE {TEXTS}.raw_documents (document_id VARCHAR, text VARCHAR)")
    return frame_cursor(con, model, con)


def load_texts(con: duckdb.DuckDBPyConnection, raw: str, texts: dict[str, str] | None = None) -> None:
    """Fill the texts' tables of :func:`open_frames` (on a cursor of its own: frames that do
    not read the texts are made meanwhile)."""
    cursor = con.cursor()
    try:
        cursor.execute(f"INSERT INTO {TEXTS}.raw_article VALUES (?)", [raw])
        documents = sorted((texts or {"article": raw}).items())
        # Arrow batches rather than one INSERT per document (3.8 s for 1,000 documents), of
        # TEXT_BATCH documents each: the texts' UTF-8 copies are made while frames take the
        # memory (one batch of 100,000 documents' texts added 0.4 GB to the build's peak).
        cursor.execute("BEGIN TRANSACTION")
        for start in range(0, len(documents), TEXT_BATCH):
            batch = documents[start : start + TEXT_BATCH]
            incoming = pa.Table.from_arrays(  # not pa.table: it would import pandas (formats.utf8_array)
                [utf8_array([d for d, _ in batch]), utf8_array([t for _, t in batch], large=True)],
                schema=pa.schema([("document_id", pa.string()), ("text", pa.large_string())]),
            )
            cursor.register("incoming_documents", incoming)
            cursor.execute(f"INSERT INTO {TEXTS}.raw_documents SELECT * FROM incoming_documents")
            cursor.unregister("incoming_documents")
        cursor.execute("COMMIT")
    finally:
        cursor.close()


# Documents per Arrow batch of load_texts (about 20 MB of text for synthetic articles).
TEXT_BATCH = 10_000


def reads_texts(model: Model, resource: Resource) -> bool:
    """Whether a table's frame SQL names the texts (``raw_article``, ``raw_documents``): such
    a frame is made only once they are loaded. Any mention counts, in any case, even in a
    comment: waiting is never wrong."""
    sql = model.frame_sql.get(resource.name)
    return sql is not None and TEXT_NAMES.search(sql) is not None


# How frame SQL names the texts (SQL identifiers are case-insensitive).
TEXT_NAMES = re.compile(r"raw_(article|documents)", re.IGNORECASE)


# The in-memory catalog holding the texts the frames may join (see open_frames).
TEXTS = "gate_texts"


def frame_cursor(
    con: duckdb.DuckDBPyConnection, model: Model, cursor: duckdb.DuckDBPyConnection | None = None
) -> duckdb.DuckDBPyConnection:
    """A cursor of ``con`` (or ``cursor`` itself) set up to run frame SQL: the staged database
    as its default, the texts as temporary views ``raw_article`` and ``raw_documents`` (they
    shadow any table of that name, as temporary tables did), the story's variables set (a
    cursor has its own default database, temporary objects and variables)."""
    cursor = cursor if cursor is not None else con.cursor()
    cursor.execute("USE staged")
    for name in ("raw_article", "raw_documents"):
        cursor.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM {TEXTS}.main.{name}")
    for name, value in model.story.items():
        cursor.execute(f"SET VARIABLE {name} = DATE {quote_literal(value.isoformat())}")
    return cursor


def quote_identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def materialize_frame(
    con: duckdb.DuckDBPyConnection, model: Model, resource: Resource, waived: list[str]
) -> list[str]:
    """Write the frame a table's suite validates (its SQL file, or the bare table) into the
    scratch database as ``frames.<table>``, waived formula-trigger texts blanked out and
    each row numbered in frame order; return the frame's columns.

    The query's rows are written once (``frames."__rows_<table>"``); ``frames.<table>`` is a
    view adding each row's ordinal (its rowid: a table keeps the query's order, DuckDB
    preserving insertion order) and blanking the waived texts. A query may number its rows
    itself, in a column ``__gate_row``: distinct integers giving the rows' order (the staged
    table's rowid, which is the published order). It then needs no ORDER BY, and its rows are
    not sorted (the sort was 2.3 of the mentions frame's 3.7 CPU s at a million statements); a
    number that is not an integer, or a row without one, is ``sql-invalid``. The columns
    returned are the query's others. A query DuckDB cannot run is reported as ``sql-invalid``
    naming the SQL file.
    """
    sql = model.frame_sql.get(resource.name)
    if sql is None:
        sql = f"SELECT * FROM {resource.name} ORDER BY " + ", ".join(resource.primary_key)
    rows = f"frames.{quote_identifier(ROWS_PREFIX + resource.name)}"
    try:
        # The query as a view first: its columns are known before a row is made, and the
        # table keeps only those an expectation reads (the view's order is kept).
        con.execute(f"CREATE OR REPLACE TEMP VIEW {FRAME_QUERY} AS {sql}")
        types = {str(row[0]): str(row[1]) for row in con.execute(f"DESCRIBE {FRAME_QUERY}").fetchall()}
        numbered = ROW_COLUMN in types
        if numbered and types[ROW_COLUMN] not in INTEGER_TYPES:
            raise NewstablesError(
                "sql-invalid",
                file=f"validation/{resource.name}.sql",
                detail=f"{ROW_COLUMN} numbers the frame's rows: expected an integer, got {types[ROW_COLUMN]}",
            )
        columns = [c for c in types if c != ROW_COLUMN]
        kept = columns_read(model, resource, columns)
        listed = ", ".join(quote_identifier(c) for c in [*([ROW_COLUMN] if numbered else []), *kept])
        con.execute(f"CREATE OR REPLACE TABLE {rows} AS SELECT {listed} FROM {FRAME_QUERY}")
        unnumbered = (
            con.execute(f"SELECT count(*) - count({ROW_COLUMN}) FROM {rows}").fetchone() if numbered else None
        )
        if unnumbered and unnumbered[0]:
            raise NewstablesError(
                "sql-invalid",
                file=f"validation/{resource.name}.sql",
                detail=f"{ROW_COLUMN} numbers the frame's rows: {unnumbered[0]} rows have none",
            )
    except duckdb.Error as exc:
        raise NewstablesError(
            "sql-invalid", file=f"validation/{resource.name}.sql", detail=" ".join(str(exc).split())
        ) from exc
    finally:
        con.execute(f"DROP VIEW IF EXISTS {FRAME_QUERY}")
    blanked = [c for c in resource.text_columns if c in kept]
    listed = ", ".join(quote_literal(text) for text in waived)
    replace = ", ".join(
        f"CASE WHEN {quote_identifier(c)} IN ({listed}) THEN NULL "
        f"ELSE {quote_identifier(c)} END AS {quote_identifier(c)}"
        for c in blanked
    )
    star = f"* EXCLUDE ({ROW_COLUMN})" if numbered else "*"
    star += f" REPLACE ({replace})" if replace and waived else ""
    ordinal = ROW_COLUMN if numbered else f"rowid AS {ROW_COLUMN}"
    con.execute(
        f"CREATE VIEW frames.{quote_identifier(resource.name)} AS SELECT {ordinal}, {star} FROM {rows}"
    )
    return columns


# The temporary view (one per cursor) holding a frame's query while its rows are made.
FRAME_QUERY = '"__gate_frame_query"'
# The types a frame's own row numbers (ROW_COLUMN) may have.
INTEGER_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
)


def columns_read(model: Model, resource: Resource, columns: list[str]) -> list[str]:
    """The frame columns (of ``columns``, in their order) that the table's expectations read:
    the columns their arguments and row conditions name, the texts the formula checks look at,
    the primary key naming offending rows. Every column when the suite holds SQL of its own
    (``unexpected_rows_expectation``: any column may be read). Leaving the others out of the
    frame halves the rows' width where a frame keeps the evidence's context (3.3M mentions:
    4.7 -> 3.3 CPU s)."""
    suite = model.suites.get(resource.name, Suite(resource.name, f"validation/{resource.name}.json"))
    if any(e["type"] == "unexpected_rows_expectation" for e in suite.expectations):
        return columns
    read = set(resource.primary_key)
    read |= {c for c in resource.text_columns if c not in CONTEXT_COLUMNS}
    for expectation in suite_expectations(model, resource.name, columns):
        read |= set(named_columns(expectation))
    return [c for c in columns if c in read]


def drop_frame(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Remove a materialized frame (its view and the table of its rows) from the scratch catalog."""
    con.execute(f"DROP VIEW IF EXISTS frames.{quote_identifier(table)}")
    con.execute(f"DROP TABLE IF EXISTS frames.{quote_identifier(ROWS_PREFIX + table)}")


COLUMN_KWARGS = ("column", "column_A", "column_B")
COLUMN_LIST_KWARGS = ("column_list",)


def named_columns(expectation: dict[str, Any]) -> list[str]:
    """The frame columns an expectation's kwargs name."""
    kwargs = expectation.get("kwargs", {})
    names = [kwargs[k] for k in COLUMN_KWARGS if isinstance(kwargs.get(k), str)]
    for key in COLUMN_LIST_KWARGS:
        if isinstance(kwargs.get(key), list):
            names += [c for c in kwargs[key] if isinstance(c, str)]
    return names + condition_columns(kwargs.get("row_condition"))


def condition_columns(condition: Any) -> list[str]:
    """The columns a structured row condition (comparison, nullity, and/or) names."""
    if not isinstance(condition, dict):
        return []
    column = condition.get("column")
    names = [column["name"]] if isinstance(column, dict) and isinstance(column.get("name"), str) else []
    for inner in condition.get("conditions") or []:
        names += condition_columns(inner)
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


def _buffer_rows_in_execute_query() -> None:
    """Shim for Great Expectations issues #10738 and #11579 (GX 1.24.1 on duckdb-engine).

    ``SqlAlchemyExecutionEngine.execute_query`` returns a cursor result after its
    ``with`` block has closed the connection; DuckDB's cursor then has no rows left to
    fetch. The rows are buffered (``freeze()``) before the block is left; nothing else
    in the engine is changed. Applied once, only here.
    """
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    cls = engine.SqlAlchemyExecutionEngine
    if getattr(cls.execute_query, "_newstables_buffered", False):
        return

    def execute_query(self: Any, query: Any) -> Any:
        with self.get_connection() as connection:
            frozen = self._execute_query_with_recovery(connection, query).freeze()
        return frozen()

    execute_query._newstables_buffered = True  # type: ignore[attr-defined]
    cls.execute_query = execute_query  # type: ignore[method-assign]


class _Validator:
    """One ephemeral Great Expectations context that validates the frames of a DuckDB file."""

    def __init__(self, database: Path) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        _buffer_rows_in_execute_query()
        self.gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.source = self.context.data_sources.add_sql(
            "frames", connection_string=f"duckdb:///{database.resolve().as_posix()}"
        )

    def known_types(self) -> set[str]:
        """Every expectation type this Great Expectations version implements."""
        return known_expectation_types()

    def validate(self, table: str, expectations: list[dict[str, Any]], primary_key: list[str]) -> Any:
        """Validate the frame ``table`` against the expectations; asserts none was silently dropped."""
        suite = self.gx.ExpectationSuite(name=table, expectations=expectations)
        assert len(suite.expectations) == len(expectations), f"suite {table}: an expectation was dropped"
        asset = self.source.add_table_asset(name=table, table_name=table)
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        return batch.validate(
            suite,
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": [ROW_COLUMN, *primary_key],
            },
        )

    def check(
        self, table: str, expectations: list[dict[str, Any]], primary_key: list[str]
    ) -> list[CheckResult]:
        """The report rows of one frame's suite, in suite order."""
        outcome = self.validate(table, expectations, primary_key)
        return [
            _to_result(table, r, offending_rows(r, primary_key)[:MAX_EXAMPLES])
            for r in in_suite_order(outcome.results, expectations)
        ]

    def close(self) -> None:
        """Close the database connections (the scratch file can then be removed)."""
        self.source.get_execution_engine().engine.dispose()
        del self.source, self.context
        # DuckDB objects still referenced at interpreter exit make its bindings print
        # "leaked instance" lines; collecting the context's cycles now avoids them.
        gc.collect()


def known_expectation_types() -> set[str]:
    """Every expectation type the installed Great Expectations implements (imports it)."""
    import great_expectations  # noqa: F401  (registers the expectations)
    from great_expectations.expectations.registry import list_registered_expectation_implementations

    _buffer_rows_in_execute_query()
    return set(list_registered_expectation_implementations())


def offending_rows(outcome: Any, primary_key: list[str]) -> list[str]:
    """The primary keys (``a/b``) of the frame rows an expectation found wrong, in frame order."""
    result = outcome.result or {}
    if outcome.expectation_config.type == "unexpected_rows_expectation":
        listed = (result.get("details") or {}).get("unexpected_rows") or []
    else:
        listed = result.get("unexpected_index_list") or []
    rows = {
        int(row[ROW_COLUMN]): "/".join(str(row.get(k)) for k in primary_key)
        for row in listed
        if isinstance(row, dict) and ROW_COLUMN in row
    }
    return [rows[n] for n in sorted(rows)]


def _to_result(table: str, outcome: Any, examples: list[str]) -> CheckResult:
    meta = outcome.expectation_config.meta or {}
    result = outcome.result or {}
    raised = bool(outcome.exception_info and outcome.exception_info.get("raised_exception"))
    observed = (
        result.get("observed_value")
        if not raised
        else COULD_NOT_RUN + " ".join(str(outcome.exception_info.get("exception_message")).split())[:300]
    )
    unexpected = int(result.get("unexpected_count") or 0)
    if outcome.expectation_config.type == "unexpected_rows_expectation" and not raised:
        # Its observed value is the number of offending rows, as unexpected_count elsewhere.
        unexpected, observed = int(observed or 0), None
    if meta.get("check") == ROW_COUNT_CHECK and not raised:
        observed = {"rows": observed, "expected": outcome.expectation_config.kwargs["value"]}
    return CheckResult(
        table=table,
        check=meta.get("check", outcome.expectation_config.type),
        why=meta.get("why", ""),
        kind=outcome.expectation_config.type,
        passed=bool(outcome.success) and not raised,
        observed=observed,
        unexpected_count=unexpected,
        examples=examples,
    )


@contextmanager
def scratch_database() -> Iterator[Path]:
    """A scratch DuckDB file for the materialized frames, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="newstables-gate-") as folder:
        yield Path(folder) / "frames.duckdb"


ENGINES = ("sql", "gx", "both")
ENGINE_VARIABLE = "NEWSTABLES_GATE_ENGINE"


def chosen_engine(engine: str | None = None) -> str:
    """The gate engine: ``engine`` if given, else ``$NEWSTABLES_GATE_ENGINE``, else ``sql``.

    ``sql`` runs the suites as DuckDB SQL (``gate_sql``; a suite it does not model runs through
    Great Expectations), ``gx`` runs them all through Great Expectations, ``both`` runs both,
    reports Great Expectations' findings and refuses any disagreement (what a release does).
    """
    chosen = engine or os.environ.get(ENGINE_VARIABLE) or "sql"
    if chosen not in ENGINES:
        raise NewstablesError(
            "gate-engine-invalid",
            field=f"--engine / ${ENGINE_VARIABLE}",
            value=chosen,
            expected=", ".join(ENGINES),
        )
    return chosen


def gx_engine() -> str:
    """The engine label of Great Expectations' results (its installed version, not imported)."""
    from importlib.metadata import version

    return f"great_expectations {version('great_expectations')}"


def sql_results(
    con: duckdb.DuckDBPyConnection, table: str, expectations: list[dict[str, Any]], primary_key: list[str]
) -> list[CheckResult] | None:
    """One frame's report rows computed by the DuckDB-SQL engine, in suite order; None when
    the engine does not model one of the expectations (the suite then runs through GX)."""
    from newstables import gate_sql

    ran = gate_sql.run_suite(con, table, expectations, primary_key)
    if ran is None:
        return None
    checked = []
    for expectation, outcome in ran:
        meta = expectation.get("meta") or {}
        observed, unexpected = outcome.observed, outcome.unexpected_count
        if expectation["type"] == "unexpected_rows_expectation":
            observed = None  # as _to_result: the count is the offending rows' number
        if meta.get("check") == ROW_COUNT_CHECK:
            observed = {"rows": observed, "expected": expectation["kwargs"]["value"]}
        rows = {
            int(r[ROW_COLUMN]): "/".join(str(r.get(k)) for k in primary_key)
            for r in outcome.rows
            if ROW_COLUMN in r
        }
        checked.append(
            CheckResult(
                table=table,
                check=meta.get("check", expectation["type"]),
                why=meta.get("why", ""),
                kind=expectation["type"],
                passed=outcome.passed,
                observed=observed,
                unexpected_count=unexpected,
                examples=[rows[n] for n in sorted(rows)][:MAX_EXAMPLES],
                engine=gate_sql.ENGINE,
            )
        )
    return checked


def _run_sql_engine(
    con: duckdb.DuckDBPyConnection, model: Model, table: str, columns: list[str]
) -> list[CheckResult] | list[NewstablesError] | None:
    """The results of a table's suite when the SQL engine models it, or the findings that stop
    it from running (a column the frame lacks); None when the suite is left to Great
    Expectations."""
    from newstables import gate_sql

    known = set(gate_sql.supported())
    suite = model.suites.get(table, Suite(table, f"validation/{table}.json"))
    if any(e["type"] not in known for e in suite.expectations):
        return None  # Great Expectations decides (and names a type it does not know)
    problems = suite_findings(suite, columns, known)
    if problems:
        return problems
    expectations = suite_expectations(model, table, columns)
    return sql_results(con, table, expectations, list(model.tables[table].primary_key))


# Threads that materialize frames and run their SQL suites at once, each on its own cursor
# (DuckDB lets go of the interpreter lock): the frames of different tables overlap on the cores.
FRAME_THREADS = 2
# A frame over a table this large is never made while another such frame is: two of them at
# once (statements and actor_mentions at a million statements) outgrew the memory limit and
# spilled, 25.8 s wall and 48 CPU s for the suites against 20.0 s and 34 CPU s one at a time;
# small frames still overlap them (two at a time is 1.5x faster at 10,000 statements).
LARGE_FRAME_ROWS = 500_000


def staged_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Each staged table's row count, by name (one catalog query: one per table took 0.4 s)."""
    found = con.execute(
        "SELECT table_name, estimated_size FROM duckdb_tables() WHERE database_name = 'staged'"
    ).fetchall()
    return {str(name): int(size or 0) for name, size in found}


def _frames_and_sql_suites(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    waived: list[str],
    engine: str,
    texts_loaded: Future[None] | None = None,
) -> tuple[
    dict[str, list[str]],
    list[NewstablesError],
    dict[str, list[CheckResult]],
    dict[str, list[NewstablesError]],
]:
    """Materialize every table's frame (``frames.<table>``) and, unless the engine is ``gx``,
    run its suite through the SQL engine, tables in parallel threads; collected in the model's
    order, whatever order the threads finish in. Returns the frames' columns (by table), the
    frames that could not be made (``sql-invalid``), the SQL engine's results (by table) and
    the findings that stopped a suite (by table). A frame that reads the texts waits for
    ``texts_loaded`` (:func:`load_texts` running in another thread), if given; the others are
    made first, the largest first."""

    large = threading.Lock()
    sizes = staged_rows(con)

    def work(resource: Resource) -> tuple[list[str] | NewstablesError, Any]:
        if texts_loaded is not None and reads_texts(model, resource):
            texts_loaded.result()
        cursor = frame_cursor(con, model)
        held = large if sizes.get(resource.name, 0) >= LARGE_FRAME_ROWS else contextlib.nullcontext()
        try:
            with held:
                return frame_and_suite(cursor, resource)
        finally:
            cursor.close()

    def frame_and_suite(cursor: duckdb.DuckDBPyConnection, resource: Resource) -> tuple[Any, Any]:
        try:
            columns = materialize_frame(cursor, model, resource, waived)
        except NewstablesError as error:
            return error, None
        ran = _run_sql_engine(cursor, model, resource.name, columns) if engine != "gx" else None
        if engine == "sql" and ran is not None:
            # Nothing reads this frame again (Great Expectations validates only the frames
            # left to it): its memory goes back before the next frame is made. Every frame
            # kept to the end outgrew the memory limit at a million statements (spilling).
            drop_frame(cursor, resource.name)
        return columns, ran

    workers = max(1, min(FRAME_THREADS, os.cpu_count() or 1))
    first = sorted(model.resources, key=lambda r: (reads_texts(model, r), -sizes.get(r.name, 0)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        submitted = {r.name: pool.submit(work, r) for r in first}
        outcomes = [(r.name, submitted[r.name].result()) for r in model.resources]
    framed: dict[str, list[str]] = {}
    found: list[NewstablesError] = []
    by_sql: dict[str, list[CheckResult]] = {}
    stopped: dict[str, list[NewstablesError]] = {}
    for name, (columns, ran) in outcomes:
        if isinstance(columns, NewstablesError):
            found.append(columns)
            continue
        framed[name] = columns
        if ran and isinstance(ran[0], NewstablesError):
            stopped[name] = ran
        elif ran is not None:
            by_sql[name] = ran
    return framed, found, by_sql, stopped


def disagreements(
    sql: dict[str, list[CheckResult]], gx: dict[str, list[CheckResult]]
) -> list[NewstablesError]:
    """Where the SQL engine's findings differ from Great Expectations' (compared as the report
    stores them: check, passed, observed, offending count and examples)."""

    def seen(result: CheckResult) -> str:
        fields = [result.check, result.passed, result.observed, result.unexpected_count, result.examples]
        return json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False)

    found = []
    for table, ours in sql.items():
        theirs = gx.get(table)
        if theirs is None:
            continue  # Great Expectations could not run this suite: reported on its own
        ours_by_check = {r.check: seen(r) for r in ours}
        theirs_by_check = {r.check: seen(r) for r in theirs}
        for check in sorted(set(ours_by_check) | set(theirs_by_check)):
            if ours_by_check.get(check) != theirs_by_check.get(check):
                found.append(
                    NewstablesError(
                        "gate-engines-disagree",
                        table=table,
                        check=check,
                        detail=f"duckdb-sql found {ours_by_check.get(check)}, "
                        f"Great Expectations found {theirs_by_check.get(check)}",
                    )
                )
    return found


def run_suites(
    model: Model,
    staging: Path,
    raw: str,
    formula_waivers: set[str],
    texts: dict[str, str] | None = None,
    worker: GateWorker | None = None,
    engine: str | None = None,
) -> tuple[list[CheckResult], list[NewstablesError]]:
    """Run every table's suite (plus the generic checks) on the staged release, with the
    engine :func:`chosen_engine` names (each result says which engine ran it).

    Returns the results and the findings that stopped a suite from running at all
    (an unknown expectation type, a column the frame lacks, SQL DuckDB cannot run), and with
    engine ``both`` every check where the two engines disagree.
    """
    engine = chosen_engine(engine)
    with scratch_database() as database:
        con = open_frames(model, staging)
        # The frames live in memory (spilling to the scratch folder past the memory limit):
        # writing them to a file cost more than the suites themselves. Only the frames Great
        # Expectations validates are copied into the scratch file (``frames_for_gx``).
        configure(con, database.parent)
        con.execute("ATTACH ':memory:' AS frames")
        waived = sorted(formula_waivers)
        # The texts are loaded (1 s for a million statements' 100,000 documents) while the
        # frames that do not read them are made.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gate-texts") as loader:
            loaded = loader.submit(load_texts, con, raw, texts)
            framed, found, by_sql, stopped = _frames_and_sql_suites(con, model, waived, engine, loaded)
            loaded.result()
        left = dict(framed)  # what Great Expectations runs: every suite (with sql: those SQL left)
        if engine == "sql":
            found += [error for errors in stopped.values() for error in errors]
            left = {t: c for t, c in framed.items() if t not in by_sql and t not in stopped}
        if not left:
            con.close()
            return [r for t in framed for r in by_sql.get(t, [])], found
        cache = ResultCache.for_this_code()
        keys = {
            t: cache.key(t, frame_digest(con, t), suite_expectations(model, t, columns))
            for t, columns in left.items()
        }
        cached = {t: hit for t in left if (hit := cache.get(keys[t])) is not None}
        todo = {t: c for t, c in left.items() if t not in cached}
        frames_for_gx(con, database, list(todo))
        con.close()
        fresh, problems = _validate_elsewhere(model, worker, database, todo) if todo else ({}, [])
    label = gx_engine()
    for table, checked in fresh.items():
        for result in checked:
            result.engine = label
        if checked and not any(_could_not_run(r) for r in checked):
            # The report shows exactly what a later cache hit will show (JSON values).
            fresh[table] = cache.put(keys[table], checked)
    by_gx = {t: cached[t] if t in cached else fresh.get(t, []) for t in left}
    for checked in by_gx.values():
        for result in checked:
            result.engine = label
    if engine == "both":
        # Compared as a cache hit would store them (JSON values), then GX's are reported.
        problems += disagreements({t: ResultCache(None, "").put("", r) for t, r in by_sql.items()}, by_gx)
        by_sql = {}
    ordered = [r for t in framed for r in (by_sql[t] if t in by_sql else by_gx.get(t, []))]
    return ordered, found + problems


# DuckDB settings of the gate's connection: the frames of a million statements fit in this
# much memory (beyond it DuckDB spills to the scratch folder), on every core the machine has.
MEMORY_LIMIT = os.environ.get("NEWSTABLES_GATE_MEMORY", "2GB")


def configure(con: duckdb.DuckDBPyConnection, scratch: Path) -> None:
    """Explicit memory limit, threads and spill folder (the scratch folder, never the
    working directory) for the gate's connection."""
    con.execute(f"SET memory_limit = {quote_literal(MEMORY_LIMIT)}")
    con.execute(f"SET threads = {max(1, os.cpu_count() or 1)}")
    con.execute(f"SET temp_directory = {quote_literal((scratch / 'spill').as_posix())}")


def frames_for_gx(con: duckdb.DuckDBPyConnection, database: Path, tables: list[str]) -> None:
    """Copy the in-memory frames of ``tables`` (rows in frame order) into the scratch DuckDB
    file that Great Expectations opens through SQLAlchemy."""
    if not tables:
        return
    con.execute(f"ATTACH {quote_literal(database.as_posix())} AS frames_file")
    for table in tables:
        name = quote_identifier(table)
        con.execute(f"CREATE TABLE frames_file.{name} AS FROM frames.{name} ORDER BY {ROW_COLUMN}")
    con.execute("DETACH frames_file")


def _validate_elsewhere(
    model: Model, worker: GateWorker | None, database: Path, todo: dict[str, list[str]]
) -> tuple[dict[str, list[CheckResult]], list[NewstablesError]]:
    """The suites of the frames in ``todo``: in the warmed-up worker process when there is
    one and it answers, otherwise in this process."""
    if worker is not None:
        answered = worker.validate_all(model, database, todo)
        if answered is not None:
            return answered
    validator = _Validator(database)
    try:
        return _validate_frames(model, validator, todo)
    finally:
        validator.close()


class GateWorker:
    """A child process that imports Great Expectations while this one reads, builds and
    publishes (the import alone takes seconds; on two cores it overlaps the build), then
    validates frames on request (``newstables.gate_worker``: one JSON line per request).

    Started only for the first build of a process, and only when Great Expectations is not
    yet imported here: a one-shot ``newstables build`` gains the overlap, while a long-lived
    process (a test session, a notebook) imports Great Expectations once and reuses it. When
    the worker fails in any way the gate runs in this process instead, so the worker can
    only save time.
    """

    started_in_this_process = False

    def __init__(self) -> None:
        import subprocess
        import sys

        self.process: Any = subprocess.Popen(
            [sys.executable, "-m", "newstables.gate_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
        )
        self.known: set[str] | None = None
        self.database = ""

    @classmethod
    def start_if_useful(cls) -> GateWorker | None:
        """A worker, unless Great Expectations is already imported in this process."""
        import sys

        if "great_expectations" in sys.modules or os.environ.get("NEWSTABLES_GATE_WORKER") == "0":
            return None
        if GateWorker.started_in_this_process:
            return None
        GateWorker.started_in_this_process = True
        try:
            return cls()
        except OSError:
            return None

    def _ask(self, request: dict[str, Any] | None) -> Any:
        if request is not None:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        answer = json.loads(line)
        if not isinstance(answer, dict) or "error" in answer:
            raise RuntimeError(str(answer)[:300])
        return answer

    def known_types(self) -> set[str]:
        """The expectation types of the worker's Great Expectations (its first line)."""
        if self.known is None:
            self.known = set(self._ask(None)["known"])
        return self.known

    def check(
        self, table: str, expectations: list[dict[str, Any]], primary_key: list[str]
    ) -> list[CheckResult]:
        """One frame's report rows, computed by the worker."""
        request = {"database": self.database, "table": table, "expectations": expectations}
        request["key"] = primary_key
        return [CheckResult(**row) for row in self._ask(request)["results"]]

    def validate_all(
        self, model: Model, database: Path, todo: dict[str, list[str]]
    ) -> tuple[dict[str, list[CheckResult]], list[NewstablesError]] | None:
        """:func:`_validate_frames` through the worker; None when it failed."""
        self.database = database.as_posix()
        try:
            return _validate_frames(model, self, todo)
        except (OSError, ValueError, TypeError, RuntimeError, AttributeError):
            return None
        finally:
            self.close()

    def close(self) -> None:
        """End the worker: it holds nothing worth keeping, so it is killed at once (by its own
        handle: it is this process's child)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError, ValueError):
                stream.close()


def _could_not_run(result: CheckResult) -> bool:
    return isinstance(result.observed, str) and result.observed.startswith(COULD_NOT_RUN)


def suite_expectations(model: Model, table: str, columns: list[str]) -> list[dict[str, Any]]:
    """Every expectation a table's frame is validated against: its suite and the generic checks."""
    resource = model.tables[table]
    suite = model.suites.get(table, Suite(table, f"validation/{table}.json"))
    text_columns = [c for c in resource.text_columns if c in columns and c not in CONTEXT_COLUMNS]
    return [dict(e) for e in suite.expectations] + generic_expectations(
        model.expected_counts.get(table), text_columns, resource.primary_key, resource.has_field("excerpt")
    )


def frame_digest(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """A hash of a materialized frame: its column names and types and every row, in order."""
    frame = f"frames.{quote_identifier(table)}"
    described = con.execute(f"DESCRIBE {frame}").fetchall()
    rows = con.execute(
        f"SELECT count(*), md5(coalesce(string_agg(md5(CAST(f AS VARCHAR)), '' "
        f"ORDER BY f.{ROW_COLUMN}), '')) FROM {frame} AS f"
    ).fetchone()
    return hashlib.sha256(repr((described, rows)).encode()).hexdigest()


class ResultCache:
    """Suite results of earlier runs, keyed by a hash of everything that decides them: the
    frame's rows, the expectations, the newstables code and the installed libraries (Great
    Expectations among them). A frame that did not change is not validated again, and when
    none changed Great Expectations is not even imported. Results an expectation could not
    compute are never cached. The cache lives outside the project
    (``$NEWSTABLES_CACHE_DIR``, else ``$XDG_CACHE_HOME/newstables`` or ``~/.cache/newstables``;
    ``NEWSTABLES_CACHE_DIR=off`` turns it off, as the gate benchmarks do); a cache that cannot
    be read or written is simply not used.
    """

    def __init__(self, folder: Path | None, code: str) -> None:
        self.folder, self.code = folder, code

    @classmethod
    def for_this_code(cls) -> ResultCache:
        """The cache for the running code and libraries (see the class docstring)."""
        from newstables.core.fingerprint import environment_lines, package_lines

        code = hashlib.sha256("\n".join(package_lines() + environment_lines()).encode()).hexdigest()
        if os.environ.get("NEWSTABLES_CACHE_DIR") == "off":
            return cls(None, code)
        base = os.environ.get("NEWSTABLES_CACHE_DIR") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "newstables"
        )
        return cls(Path(base) / "gate", code)

    def key(self, table: str, digest: str, expectations: list[dict[str, Any]]) -> str:
        """The cache key of one table's suite run."""
        text = json.dumps([self.code, table, digest, expectations], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, key: str) -> list[CheckResult] | None:
        """The cached results under ``key``, or None."""
        if self.folder is None:
            return None
        try:
            data = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            return [CheckResult(**row) for row in data]
        except (OSError, ValueError, TypeError):
            return None

    def put(self, key: str, results: list[CheckResult]) -> list[CheckResult]:
        """Store results under ``key`` (atomically; skipped when not writable); return them
        as a later :meth:`get` will (through JSON), or unchanged when they are not JSON."""
        try:
            text = json.dumps([r.__dict__ for r in results], ensure_ascii=False)
        except (TypeError, ValueError):
            return results
        if self.folder is not None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                draft = self.folder / f".{key}.{os.getpid()}.tmp"
                draft.write_text(text, encoding="utf-8")
                os.replace(draft, self.folder / f"{key}.json")
            except OSError:
                pass
        return [CheckResult(**row) for row in json.loads(text)]


def _check_name(expectation: dict[str, Any]) -> str:
    return str((expectation.get("meta") or {}).get("check", expectation.get("type")))


def in_suite_order(results: list[Any], expectations: list[dict[str, Any]]) -> list[Any]:
    """GX's results in the order the suite lists its expectations (GX groups them by
    metric), so the report reads like the suite file."""
    position = {_check_name(e): i for i, e in enumerate(expectations)}

    def place(result: Any) -> int:
        config = result.expectation_config
        return position.get(_check_name({"type": config.type, "meta": config.meta}), len(position))

    return sorted(results, key=place)


def _validate_frames(
    model: Model, validator: Any, framed: dict[str, list[str]]
) -> tuple[dict[str, list[CheckResult]], list[NewstablesError]]:
    """Each materialized frame's report rows (by table), and the suites that could not run.

    ``validator`` is a :class:`_Validator` or a :class:`GateWorker` (same two methods)."""
    known = validator.known_types()
    checked: dict[str, list[CheckResult]] = {}
    found: list[NewstablesError] = []
    for resource in model.resources:
        if resource.name not in framed:
            continue
        columns = framed[resource.name]
        suite = model.suites.get(resource.name, Suite(resource.name, f"validation/{resource.name}.json"))
        problems = suite_findings(suite, columns, known)
        if problems:
            found += problems
            continue
        expectations = suite_expectations(model, resource.name, columns)
        checked[resource.name] = validator.check(resource.name, expectations, list(resource.primary_key))
    return checked, found


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
