"""The gate's DuckDB-SQL engine: a table's suite compiled into DuckDB SQL over its
materialized frame ``frames."<table>"``, with the findings Great Expectations 1.24.1 reports.

Great Expectations stays the authority (it validates every release, see ``gate.run_suites``);
this engine exists because importing it takes seconds and each of its expectations costs tens
of milliseconds, which a cold build of the seed or an edit loop cannot afford. It follows Great
Expectations' SQL implementation (``SqlAlchemyExecutionEngine`` and the map metrics) case by
case: which rows a ``row_condition`` and ``ignore_row_if`` keep, that map expectations ignore
nulls (but ``expect_column_values_to_not_be_null``), how ``mostly`` divides, and what the
observed value is. The types and kwargs it runs are data (``gate_sql.yaml``); anything else
(another type, another kwarg, a value it does not model, SQL DuckDB refuses) makes
:func:`run_suite` return None, and the table's suite then runs through Great Expectations.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import yaml

ENGINE = "duckdb-sql"
# Great Expectations keeps at most this many rows of an unexpected_rows_query (its
# MAX_RESULT_RECORDS) and this many offending rows of a map expectation (partial_unexpected_count).
QUERY_ROWS = 200
MAP_ROWS = 20
EXPECTATION_KEYS = {"type", "kwargs", "meta"}
NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL")
COMPARISONS = {"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
PAIR_IGNORE = {
    "both_values_are_missing": "NOT ({a} IS NULL AND {b} IS NULL)",
    "either_value_is_missing": "NOT ({a} IS NULL OR {b} IS NULL)",
    "neither": "TRUE",
}
# A query that selects plain columns of the frame, filters and orders by the row ordinal.
FILTER_QUERY = re.compile(
    r'SELECT (?:"[^"]*"|\w+)(?:, (?:"[^"]*"|\w+))* FROM (.+) ORDER BY (?:"__gate_row"|__gate_row)', re.S
)
MULTI_IGNORE = {"all_values_are_missing": " AND ", "any_value_is_missing": " OR ", "never": ""}


class Unsupported(Exception):
    """An expectation this engine does not model: the suite goes to Great Expectations."""


@cache
def supported() -> dict[str, dict[str, Any]]:
    """The expectation types the engine runs, with their shape and kwargs (``gate_sql.yaml``)."""
    text = (Path(__file__).parent / "gate_sql.yaml").read_text(encoding="utf-8")
    data: dict[str, dict[str, Any]] = yaml.safe_load(text)
    return data


def quote(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Outcome:
    """What one expectation found, in the terms of Great Expectations' result."""

    passed: bool
    observed: Any
    unexpected_count: int
    rows: list[dict[str, Any]]  # offending rows (ordinal and key columns), as GX lists them


def is_scalar(value: Any) -> bool:
    """A literal the engine binds as it is (Great Expectations binds the same Python value)."""
    return isinstance(value, (str, int, float, bool))


def is_number(value: Any) -> bool:
    """An int or float, not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Params(dict[str, Any]):
    """Named query parameters (``$p1``, ...): every literal is bound, as Great Expectations binds
    it, and a query part may be used in several queries."""

    def add(self, value: Any) -> str:
        """Bind ``value``; return its placeholder."""
        name = f"p{len(self) + 1}"
        self[name] = value
        return f"${name}"

    def used_in(self, sql: str) -> dict[str, Any]:
        """The parameters ``sql`` refers to (DuckDB refuses unused ones)."""
        return {k: v for k, v in self.items() if re.search(rf"\${k}\b", sql)}


def condition_sql(condition: Any, params: Params) -> str:
    """A structured ``row_condition`` (comparison, nullity, and, or) as the SQL predicate Great
    Expectations' SQL engine builds from it, its literals bound in ``params``."""
    if not isinstance(condition, dict):
        raise Unsupported("row_condition is not a structured condition")
    kind = condition.get("type")
    if kind in ("and", "or"):
        inner = condition.get("conditions")
        if set(condition) != {"type", "conditions"} or not isinstance(inner, list) or not inner:
            raise Unsupported("and/or condition")
        joined = f" {kind.upper()} ".join(f"({condition_sql(c, params)})" for c in inner)
        return f"({joined})"
    column = condition.get("column")
    if not isinstance(column, dict) or set(column) != {"name"} or not isinstance(column["name"], str):
        raise Unsupported("condition column")
    name = quote(column["name"])
    if kind == "nullity":
        if set(condition) != {"type", "column", "is_null"} or not isinstance(condition["is_null"], bool):
            raise Unsupported("nullity condition")
        return f"{name} IS NULL" if condition["is_null"] else f"{name} IS NOT NULL"
    if kind != "comparison" or set(condition) != {"type", "column", "operator", "parameter"}:
        raise Unsupported("condition type")
    operator, parameter = condition["operator"], condition["parameter"]
    if operator in ("IN", "NOT_IN"):
        if not isinstance(parameter, list) or not parameter or not all(is_scalar(p) for p in parameter):
            raise Unsupported("IN parameter")
        listed = f"{name} IN ({', '.join(params.add(p) for p in parameter)})"
        return listed if operator == "IN" else f"NOT ({listed})"
    if operator not in COMPARISONS or not is_scalar(parameter):
        raise Unsupported("comparison")
    return f"{name} {COMPARISONS[operator]} {params.add(parameter)}"


def check_kwargs(expectation: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The expectation's shape and kwargs, when the engine models every key of it."""
    kind = expectation.get("type")
    spec = supported().get(kind) if isinstance(kind, str) else None
    kwargs = expectation.get("kwargs") or {}
    if spec is None or not set(expectation) <= EXPECTATION_KEYS or not isinstance(kwargs, dict):
        raise Unsupported(f"type {kind}")
    unknown = set(kwargs) - set(spec["kwargs"])
    if unknown:
        raise Unsupported(f"kwargs {sorted(unknown)}")
    mostly = kwargs.get("mostly", 1)
    if not is_number(mostly) or not 0 <= mostly <= 1:
        raise Unsupported("mostly")
    return str(spec["shape"]), kwargs


def mostly_success(considered: int, unexpected: int, mostly: float) -> bool:
    """Great Expectations' ``_mostly_success``, float for float."""
    return (float(considered) - float(unexpected)) / float(considered) >= mostly


@dataclass
class Plan:
    """One expectation compiled: a query giving its counts as one row, and how to read them."""

    shape: str
    # A list of counts: [total, considered, unexpected] (or [rows], or [query rows]), either as
    # aggregates over one scan of the frame (``scan``) or as a query of one row (else).
    counts: str
    scan: bool = False
    source: str = ""  # the rows offending rows are looked for in
    unexpected: str = ""  # the predicate of an offending row
    mostly: float = 1.0
    value: Any = None  # expect_table_row_count_to_equal's value
    query: str = ""  # unexpected_rows_expectation's query, {batch} substituted


class SuiteRunner:
    """Runs expectations on one materialized frame of a DuckDB connection: every expectation's
    counts in one query, then the offending rows of those that found any."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str, key: list[str]) -> None:
        self.con, self.table = con, table
        self.frame = f"frames.{quote(table)}"
        self.key = key
        self.types = {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE {self.frame}").fetchall()}
        self.params = Params()  # one namespace for the whole suite: the count queries run as one

    def column(self, value: Any) -> str:
        """A column kwarg, quoted (it must be a string naming a frame column)."""
        if not isinstance(value, str) or value not in self.types:
            raise Unsupported(f"{value!r} names no frame column")
        return quote(value)

    def condition(self, kwargs: dict[str, Any]) -> str:
        """The expectation's ``row_condition`` as a predicate (TRUE without one)."""
        condition = kwargs.get("row_condition")
        return "TRUE" if condition is None else f"({condition_sql(condition, self.params)})"

    def domain(self, where: str) -> str:
        """The rows the expectation sees: the frame, filtered by its ``row_condition``."""
        return f"SELECT * FROM {self.frame} WHERE {where}"

    def execute(self, sql: str) -> duckdb.DuckDBPyConnection:
        return self.con.execute(sql, self.params.used_in(sql))

    def offending(self, plan: Plan) -> list[dict[str, Any]]:
        """The first offending rows in frame order (ordinal and primary key), as many as
        Great Expectations keeps."""
        if plan.shape == "unexpected_rows":
            cursor = self.con.execute(plan.query)
            limit = QUERY_ROWS
        else:
            selected = ", ".join(quote(c) for c in ["__gate_row", *self.key])
            source = f"SELECT {selected} FROM ({plan.source}) WHERE {plan.unexpected}"
            cursor = self.execute(f"{source} ORDER BY __gate_row LIMIT {MAP_ROWS}")
            limit = MAP_ROWS
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchmany(limit)]

    def run(self, expectations: list[dict[str, Any]]) -> list[Outcome]:
        """Every expectation's outcome (``Unsupported`` when one is not modelled)."""
        plans = [self.plan(e) for e in expectations]
        counted: dict[int, list[int]] = {}
        for scan in (True, False):
            chosen = [(i, p) for i, p in enumerate(plans) if p.scan is scan]
            if not chosen:
                continue
            if scan:  # the aggregates of one scan of the frame
                selected = ", ".join(f"{p.counts} AS e{i}" for i, p in chosen)
                sql = f"SELECT {selected} FROM {self.frame}"
            else:  # the others as scalar subqueries of one query
                sql = "SELECT " + ", ".join(f"({p.counts}) AS e{i}" for i, p in chosen)
            row = self.execute(sql).fetchone()
            assert row is not None, "one row of counts"
            counted.update({i: [int(n) for n in counts] for (i, _), counts in zip(chosen, row, strict=True)})
        return [self.outcome(plan, counted[i]) for i, plan in enumerate(plans)]

    def outcome(self, plan: Plan, counts: list[int]) -> Outcome:
        """What the counts (and, when something offends, the offending rows) mean."""
        if plan.shape == "table_row_count":
            return Outcome(counts[0] == plan.value, counts[0], 0, [])
        if plan.shape == "unexpected_rows":
            rows = self.offending(plan) if counts[0] else []
            return Outcome(counts[0] == 0, counts[0], counts[0], rows)
        total, considered, bad = counts
        # Vacuously true on no rows (or no rows considered), as in Great Expectations.
        passed = total == 0 or considered == 0 or mostly_success(considered, bad, plan.mostly)
        # GX 1.24.1 lists no offending rows of a multicolumn expectation on SQL (its
        # unexpected_index_list is not computed there): neither does this engine.
        listed = bad and plan.shape != "multicolumn"
        return Outcome(passed, None, bad, self.offending(plan) if listed else [])

    def plan(self, expectation: dict[str, Any]) -> Plan:
        """An expectation compiled (``Unsupported`` when the engine does not model it)."""
        shape, kwargs = check_kwargs(expectation)
        mostly = float(kwargs.get("mostly", 1))
        if shape == "unexpected_rows":
            query = self.unexpected_rows(kwargs)
            filtered = self.filtered_rows(query)
            if filtered is not None:  # SELECT <columns> FROM {batch} WHERE <p>: counted in the scan
                return Plan(shape, f"[count(*) FILTER (WHERE {filtered})]", scan=True, query=query)
            return Plan(shape, f"SELECT [count(*)] FROM ({query}) AS substituted_batch_subquery", query=query)
        where = self.condition(kwargs)
        domain = self.domain(where)
        if shape == "table_row_count":
            value = kwargs.get("value")
            if not isinstance(value, int) or isinstance(value, bool):
                raise Unsupported("value")
            return Plan(shape, f"[count(*) FILTER (WHERE {where})]", scan=True, value=value)
        if shape in ("column_map", "column_nulls"):
            column = self.column(kwargs.get("column"))
            source, unexpected = self.column_map(expectation["type"], kwargs, column, domain)
            considered = "count(*)" if shape == "column_nulls" else f"count({column})"
            if source == domain:  # no window: every count is an aggregate of the frame's scan
                counts = (
                    f"[count(*) FILTER (WHERE {where}), {considered} FILTER (WHERE {where}), "
                    f"count(*) FILTER (WHERE {where} AND {unexpected})]"
                )
                return Plan(shape, counts, scan=True, source=source, unexpected=unexpected, mostly=mostly)
            counts = f"SELECT [count(*), {considered}, count(*) FILTER (WHERE {unexpected})] FROM ({source})"
            if expectation["type"] == "expect_column_values_to_be_unique":
                counts = self.unique_counts(domain, [column], "TRUE", f"{column} IS NOT NULL")
        elif shape == "multicolumn":
            source, unexpected = self.compound(kwargs, domain)
            columns = [self.column(c) for c in kwargs["column_list"]]
            kept = self.kept_rows(kwargs, columns)
            present = " AND ".join(f"{c} IS NOT NULL" for c in columns)
            counts = self.unique_counts(domain, columns, kept, present, f"(SELECT count(*) FROM ({domain}))")
        else:
            source, unexpected = self.pair(kwargs, domain)
            counts = (
                f"SELECT [(SELECT count(*) FROM ({domain})), count(*), "
                f"count(*) FILTER (WHERE {unexpected})] FROM ({source})"
            )
        return Plan(shape, counts, source=source, unexpected=unexpected, mostly=mostly)

    def column_map(self, kind: str, kwargs: dict[str, Any], column: str, source: str) -> tuple[str, str]:
        """The rows and the unexpected-row predicate of a column map expectation (nulls are
        unexpected only for not_be_null, and neither expected nor unexpected otherwise)."""
        if kind == "expect_column_values_to_not_be_null":
            return source, f"{column} IS NULL"
        if kind == "expect_column_values_to_be_unique":
            counted = f"SELECT *, count(*) OVER (PARTITION BY {column}) AS __gate_n FROM ({source})"
            return counted, f"{column} IS NOT NULL AND __gate_n >= 2"
        values = kwargs.get("value_set")
        if kind in ("expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set"):
            if not isinstance(values, list) or not values or not all(is_scalar(v) for v in values):
                raise Unsupported("value_set")  # GX has special cases for empty sets and None
            listed = f"{column} IN ({', '.join(self.params.add(v) for v in values)})"
            expected = listed if kind == "expect_column_values_to_be_in_set" else f"NOT ({listed})"
        else:
            expected = self.between(kwargs, column)
        # GX counts CASE WHEN NOT (expected) THEN 1: an unknown outcome is not unexpected.
        return source, f"{column} IS NOT NULL AND (NOT ({expected})) IS TRUE"

    def between(self, kwargs: dict[str, Any], column: str) -> str:
        """The expected predicate of ``expect_column_values_to_be_between`` (numbers only)."""
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        strict_min, strict_max = kwargs.get("strict_min"), kwargs.get("strict_max")
        if not all(v is None or is_number(v) for v in (low, high)) or (low is None and high is None):
            raise Unsupported("bounds")
        if low is not None and high is not None and low > high:
            raise Unsupported("min_value above max_value")  # Great Expectations raises
        if not all(v is None or isinstance(v, bool) for v in (strict_min, strict_max)):
            raise Unsupported("strict flags")
        if not self.types[kwargs["column"]].startswith(NUMERIC_TYPES):
            raise Unsupported("between on a column that is not numeric")  # GX refuses some types
        parts = []
        if low is not None:
            parts.append(f"{column} {'>' if strict_min else '>='} {self.params.add(low)}")
        if high is not None:
            parts.append(f"{column} {'<' if strict_max else '<='} {self.params.add(high)}")
        return " AND ".join(parts)

    def pair(self, kwargs: dict[str, Any], source: str) -> tuple[str, str]:
        """Rows and unexpected predicate of ``expect_column_pair_values_a_to_be_greater_than_b``."""
        a, b = self.column(kwargs.get("column_A")), self.column(kwargs.get("column_B"))
        ignore = kwargs.get("ignore_row_if", "both_values_are_missing")
        or_equal = kwargs.get("or_equal")
        if ignore not in PAIR_IGNORE or not (or_equal is None or isinstance(or_equal, bool)):
            raise Unsupported("ignore_row_if or or_equal")
        kept = f"SELECT * FROM ({source}) WHERE {PAIR_IGNORE[ignore].format(a=a, b=b)}"
        expected = f"({a} >= {b} OR ({a} IS NULL AND {b} IS NULL))" if or_equal else f"{a} > {b}"
        return kept, f"(NOT ({expected})) IS TRUE"

    @staticmethod
    def unique_counts(domain: str, columns: list[str], where: str, present: str, total: str = "") -> str:
        """The counts [total, considered, unexpected] of a uniqueness expectation, from
        groupings of the kept rows (hash aggregates), where the window of :meth:`column_map` and
        :meth:`compound` (kept for the offending rows) sorts every row: an unexpected row is one
        whose values are all present and shared with another row, so the unexpected count is the
        size of every such group of two or more. Rows are grouped by the hash of their values
        first (one fixed-width key); only rows whose hash repeats are grouped by their values,
        so that a hash shared by different values counts nothing (3.3M distinct four-column
        rows: 1.05 to 0.75 CPU s). ``total``: the domain's row count when the kept rows are
        fewer (``where``), else their count."""
        listed = ", ".join(columns)
        kept = f"SELECT {listed} FROM ({domain}) WHERE {where}"
        repeated = f"SELECT hash({listed}) FROM __gate_kept WHERE {present} GROUP BY 1 HAVING count(*) >= 2"
        groups = (
            f"SELECT count(*) AS __gate_n FROM __gate_kept "
            f"WHERE {present} AND hash({listed}) IN ({repeated}) GROUP BY {listed}"
        )
        unexpected = f"(SELECT coalesce(sum(__gate_n), 0) FROM ({groups}) WHERE __gate_n >= 2)"
        considered = "count(*)"
        if not total:  # a single column: every row is kept, the considered ones are non-null
            total, considered = considered, f"count(*) FILTER (WHERE {present})"
        counted = f"SELECT [{total}, {considered}, {unexpected}] FROM __gate_kept"
        return f"WITH __gate_kept AS NOT MATERIALIZED ({kept}) {counted}"

    @staticmethod
    def kept_rows(kwargs: dict[str, Any], columns: list[str]) -> str:
        """The rows a multicolumn expectation keeps, per its ``ignore_row_if``."""
        ignore = kwargs.get("ignore_row_if", "all_values_are_missing")
        if ignore not in MULTI_IGNORE:
            raise Unsupported("ignore_row_if")
        joiner = MULTI_IGNORE[ignore]
        return f"NOT ({joiner.join(f'{c} IS NULL' for c in columns)})" if joiner else "TRUE"

    def compound(self, kwargs: dict[str, Any], source: str) -> tuple[str, str]:
        """Rows and unexpected predicate of ``expect_compound_columns_to_be_unique``: GX joins
        each row to its group's count on equal values, so a row with a null in the list is
        never unexpected."""
        listed = kwargs.get("column_list")
        if not isinstance(listed, list) or not listed:
            raise Unsupported("column_list")
        columns = [self.column(c) for c in listed]
        where = self.kept_rows(kwargs, columns)
        counted = (
            f"SELECT *, count(*) OVER (PARTITION BY {', '.join(columns)}) AS __gate_n "
            f"FROM ({source}) WHERE {where}"
        )
        present = " AND ".join(f"{c} IS NOT NULL" for c in columns)
        return counted, f"{present} AND __gate_n >= 2"

    def filtered_rows(self, query: str) -> str | None:
        """The predicate of a query that only filters the frame's rows (``SELECT <columns> FROM
        <frame> WHERE <predicate> ORDER BY __gate_row``), which counts as many rows as the query
        returns; None for any other query."""
        found = FILTER_QUERY.fullmatch(query.strip())
        if found is None or not found.group(1).startswith(self.frame + " WHERE "):
            return None
        return f"({found.group(1)[len(self.frame) + 7 :]})"

    def unexpected_rows(self, kwargs: dict[str, Any]) -> str:
        """``unexpected_rows_expectation``'s query with ``{batch}`` as the frame (GX counts its
        rows and keeps the first ones)."""
        query = kwargs.get("unexpected_rows_query")
        if not isinstance(query, str):
            raise Unsupported("unexpected_rows_query")
        try:
            fields = {f[1] for f in string.Formatter().parse(query) if f[1] is not None}
            if fields != {"batch"}:
                raise Unsupported("query parameters other than {batch}")
            return query.format(batch=self.frame).rstrip("; \t\r\n\v\f")
        except (ValueError, IndexError, KeyError) as exc:
            raise Unsupported("query braces") from exc


def run_suite(
    con: duckdb.DuckDBPyConnection, table: str, expectations: list[dict[str, Any]], key: list[str]
) -> list[tuple[dict[str, Any], Outcome]] | None:
    """Every expectation's outcome on ``frames."<table>"``, in suite order; None when one of
    them is not modelled or DuckDB refuses its SQL (the suite then runs through GX)."""
    try:
        outcomes = SuiteRunner(con, table, key).run(expectations)
        return list(zip(expectations, outcomes, strict=True))
    except (Unsupported, duckdb.Error):
        return None
