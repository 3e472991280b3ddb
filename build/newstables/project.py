"""Where things are: the project's input files and the release's output files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    """``schemas/package.yaml`` as plain data, checked by the metadata model."""
    from newstables.core.model import load_package

    return load_package(project.root).as_dict()


def table_names(metadata: dict[str, Any]) -> list[str]:
    """The tables of the release, in publication order."""
    return [r["name"] for r in metadata["resources"]]
