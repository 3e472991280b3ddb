"""Where things are: the project's input files and the release's output files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

RAW_DIR = Path("data/raw")
ARTICLE = RAW_DIR / "article.txt"  # the legacy single-article layout: document ``article``
ARTICLES = Path("data/articles")  # the corpus layout: data/articles/<document_id>/article.txt + meta.yaml
SEED_DOCUMENT = "article"
# W3C Web Annotation TextQuoteSelector context published with every span (``prefix`` and
# ``suffix``): this many code points each side.
CONTEXT_CHARS = 32
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


def document_folder(project: Project, document_id: str) -> Path:
    """The corpus folder of a document: ``data/articles/<document_id>/``."""
    return project.path(ARTICLES) / document_id


def document_text_path(project: Project, document_id: str) -> Path:
    """Where a document's text is: the one lookup shared by the build, ``add``, ``draft`` and verify.

    ``data/articles/<id>/article.txt`` when that folder exists; the seed document (``article``)
    may instead live in the legacy single-article layout, ``data/raw/article.txt``.
    """
    folder = document_folder(project, document_id)
    if document_id == SEED_DOCUMENT and not _holds_a_document(folder):
        return project.path(ARTICLE)
    return folder / "article.txt"


def _holds_a_document(folder: Path) -> bool:
    """A corpus folder is a document once it has its text or its metadata (a folder holding
    only a ``draft/``, as drafting a legacy seed leaves, is not)."""
    return (folder / "article.txt").exists() or (folder / "meta.yaml").exists()


def document_ids(project: Project) -> list[str]:
    """Every document of the project, sorted: the folders of ``data/articles/`` holding an
    ``article.txt`` or ``meta.yaml``, plus the seed when it is in the legacy layout."""
    found: set[str] = set()
    folder = project.path(ARTICLES)
    if folder.is_dir():
        for child in folder.iterdir():
            if (
                not child.name.startswith(".")
                and child.is_dir()
                and ((child / "article.txt").exists() or (child / "meta.yaml").exists())
            ):
                found.add(child.name)
    if SEED_DOCUMENT not in found and project.path(ARTICLE).exists():
        found.add(SEED_DOCUMENT)
    return sorted(found)


def csv_path(table: str) -> Path:
    """Release-relative path of a table's CSV file."""
    return Path("data") / f"{table}.csv"


def csv_gz_path(table: str) -> Path:
    """Release-relative path of a table's gzip-compressed CSV file (tables past
    ``core.formats.CSV_GZIP_MIN_BYTES``)."""
    return Path("data") / f"{table}.csv.gz"


def published_csv(root: Path, table: str) -> Path:
    """Release-relative path of the CSV file a release (or staging folder) ``root`` holds for
    ``table``: ``data/<table>.csv.gz`` when the table was published compressed, else
    ``data/<table>.csv``."""
    return csv_gz_path(table) if (root / csv_gz_path(table)).is_file() else csv_path(table)


def parquet_path(table: str) -> Path:
    """Release-relative path of a table's Parquet file (a table that is not partitioned;
    partitioned tables are folders of parts, see ``core.parts``)."""
    return Path("data/parquet") / f"{table}.parquet"


def parquet_files(root: Path, table: str) -> list[Path]:
    """Release-relative paths of the Parquet file(s) ``root`` holds for ``table``: the parts of a
    partitioned table (``data/parquet/<table>/year=*/part-*.parquet``, in listing order), else
    its one file."""
    from newstables.core.parts import found_parts, table_folder

    if (root / table_folder(table)).is_dir():
        return [Path(p) for p in found_parts(root, table)]
    return [parquet_path(table)]


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
