"""Where things are: the project's input files and the release's output files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from newstables.errors import NewstablesError

RAW_DIR = Path("data/raw")
ARTICLE = RAW_DIR / "article.txt"
ANNOTATIONS = Path("data/annotations")
SCHEMAS = Path("schemas")
PACKAGE_METADATA = SCHEMAS / "package.yaml"
VALIDATION = Path("validation")
DATAPACKAGE = Path("datapackage.json")
DUCKDB_FILE = Path("data/newstables.duckdb")
REPORT_DIR = Path("validation/report")
FAILED_REPORT_DIR = Path("validation/report-failed")


@dataclass(frozen=True)
class Project:
    """A project folder: curated inputs (article, annotations, schemas, suites)."""

    root: Path

    def path(self, relative: Path | str) -> Path:
        """Absolute path of a file of the project."""
        return self.root / relative

    def rel(self, path: Path) -> str:
        """The project-relative form of a path, as error messages show it."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def csv_path(table: str) -> Path:
    """Release-relative path of a table's CSV file."""
    return Path("data") / f"{table}.csv"


def parquet_path(table: str) -> Path:
    """Release-relative path of a table's Parquet file."""
    return Path("data/parquet") / f"{table}.parquet"


def schema_path(table: str) -> Path:
    """Project-relative path of a table's Table Schema."""
    return SCHEMAS / f"{table}.schema.json"


def load_metadata(project: Project) -> dict[str, Any]:
    """Load ``schemas/package.yaml``, the one metadata source of the release."""
    path = project.path(PACKAGE_METADATA)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for field in ("name", "title", "version", "created", "resources"):
        if not data.get(field):
            raise NewstablesError(
                "metadata-invalid", file=project.rel(path), field=field, detail="is required"
            )
    return dict(data)


def table_names(metadata: dict[str, Any]) -> list[str]:
    """The tables of the release, in publication order."""
    return [r["name"] for r in metadata["resources"]]


def load_schema(project: Project, table: str) -> dict[str, Any]:
    """Load a table's Table Schema, failing clearly when it is missing or not JSON."""
    path = project.path(schema_path(table))
    if not path.is_file():
        raise NewstablesError("schema-missing", file=project.rel(path), table=table)
    try:
        schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise NewstablesError("schema-invalid", file=project.rel(path), detail=str(exc)) from exc
    return schema


def load_schemas(project: Project, metadata: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Load every table's schema, keyed by table name, in publication order."""
    return {table: load_schema(project, table) for table in table_names(metadata)}
