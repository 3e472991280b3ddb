"""The documents generated into a release folder for its readers: the reader README, the
CHANGELOG, CITATION.cff, JSON-LD and the data dictionary, all from the metadata model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from newstables.core.model import Model, Package
from newstables.examples import load_queries
from newstables.metadata import citation_cff, data_dictionary, jsonld
from newstables.project import DATAPACKAGE, Project, parquet_files
from newstables.reader_readme import reader_readme

CHANGELOG = Path("CHANGELOG.md")


def row_counts(descriptor: dict[str, Any], folder: Path) -> dict[str, int]:
    """Rows of each CSV table (read from its Parquet copy's metadata: its file, or its parts)."""
    import pyarrow.parquet as pq

    counts = {}
    for resource in descriptor["resources"]:
        if resource.get("format") == "csv":
            files = parquet_files(folder, str(resource["name"]))
            counts[resource["name"]] = sum(pq.ParquetFile(folder / f).metadata.num_rows for f in files)
    return counts


def changelog(project: Project, package: Package) -> str:
    """The project's CHANGELOG.md, or a stub entry for this version when it has none."""
    path = project.path(CHANGELOG)
    if path.is_file():
        return path.read_text(encoding="utf-8")
    return (
        f"# Changelog\n\n## {package.version} ({package.release_date})\n\n"
        f"- Release {package.version} of {package.name}.\n"
    )


def write_documents(project: Project, model: Model, folder: Path) -> None:
    """README, CHANGELOG, CITATION.cff, JSON-LD and the data dictionary, from the metadata."""
    descriptor = json.loads((folder / DATAPACKAGE).read_text(encoding="utf-8"))
    texts = {
        "README.md": reader_readme(
            model.package.as_dict(),
            {resource.name: resource.descriptor() for resource in model.resources},
            descriptor,
            row_counts(descriptor, folder),
            load_queries(project),
        ),
        CHANGELOG.as_posix(): changelog(project, model.package),
        "CITATION.cff": citation_cff(model.package),
        "datapackage.jsonld": jsonld(model.package, descriptor),
        "docs/data-dictionary.md": data_dictionary(model),
    }
    for relative, text in texts.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text, encoding="utf-8")
