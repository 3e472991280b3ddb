"""The example queries of the release (``schemas/queries.yaml``): data, not code. The release
README shows them, Datasette offers them as canned queries, and the tests run each one on
the DuckDB and the SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from newstables.errors import NewstablesError
from newstables.project import Project

QUERIES = Path("schemas/queries.yaml")
REQUIRED = ("name", "title", "description", "sql")
ENGINES = ("duckdb", "sqlite")


def _invalid(field: str, detail: str) -> NewstablesError:
    return NewstablesError("metadata-invalid", file=QUERIES.as_posix(), field=field, detail=detail)


def check_query(entry: Any, number: int) -> dict[str, Any]:
    """One query entry: a mapping with text name, title, description and sql, and engines
    among duckdb and sqlite (both by default)."""
    if not isinstance(entry, dict):
        raise _invalid(f"entry {number}", "is not a mapping")
    for key in REQUIRED:
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise _invalid(f"entry {number}: {key}", "is required")
    engines = entry.get("engines", list(ENGINES))
    if not isinstance(engines, list) or not engines or set(map(str, engines)) - set(ENGINES):
        raise _invalid(f"entry {number}: engines", f"expected a list of {', '.join(ENGINES)}")
    return {**entry, "engines": [str(e) for e in engines]}


def load_queries(project: Project) -> list[dict[str, Any]]:
    """The project's example queries; none when it has no ``schemas/queries.yaml``.

    Example: ``[q["name"] for q in load_queries(Project(Path(".")))]``.
    """
    path = project.path(QUERIES)
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise _invalid("-", str(exc)) from exc
    if not isinstance(data, list):
        raise _invalid("-", "expected a list of queries")
    queries = [check_query(entry, number) for number, entry in enumerate(data, start=1)]
    names = [q["name"] for q in queries]
    if len(set(names)) != len(names):
        raise _invalid("name", "each query needs its own name")
    return queries


def queries_for(queries: list[dict[str, Any]], engine: str) -> list[dict[str, Any]]:
    """The queries that run on ``engine``."""
    return [q for q in queries if engine in q["engines"]]
