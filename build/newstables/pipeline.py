"""The build: read -> resolve evidence -> build tables -> validate -> publish.

Each stage is one module with one entry function; this module only wires them together.
Nothing is written outside a staging folder until every check has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newstables.evidence import Region, resolve_regions
from newstables.project import Project, load_metadata, load_schemas, table_names
from newstables.publish import commit_outputs, staging_dir, write_release
from newstables.read import Annotations, read_annotations, read_article
from newstables.tables import Table, build_tables
from newstables.validate import check_excerpts, check_formats_agree, validate_frictionless


@dataclass
class Inputs:
    """Everything the build reads, loaded and checked."""

    project: Project
    metadata: dict[str, Any]
    schemas: dict[str, dict[str, Any]]
    raw: str
    annotations: Annotations
    regions: list[Region]


def load_inputs(project_root: Path) -> Inputs:
    """Read the metadata, schemas, article and annotations of a project folder."""
    project = Project(project_root.resolve())
    metadata = load_metadata(project)
    schemas = load_schemas(project, metadata)
    raw = read_article(project)
    annotations = read_annotations(project, table_names(metadata))
    regions = resolve_regions(raw, annotations.regions)
    return Inputs(project, metadata, schemas, raw, annotations, regions)


def formula_waivers(annotations: Annotations) -> set[str]:
    """Cell texts allowed to start with a formula trigger (waivers with check: formula)."""
    return {str(w.get("text")) for w in annotations.waivers if w.get("check") == "formula"}


def make_tables(inputs: Inputs) -> dict[str, Table]:
    """Build every table from the loaded inputs."""
    return build_tables(inputs.project, inputs.raw, inputs.regions, inputs.metadata,
                        inputs.schemas, inputs.annotations.tables, formula_waivers(inputs.annotations))


def build(project_root: Path, out_root: Path | None = None) -> dict[str, Table]:
    """Build, validate and publish the release of ``project_root`` into ``out_root``.

    Example: ``build(Path("."))`` rewrites ``data/*.csv``, ``data/parquet/``, the DuckDB
    file and ``datapackage.json`` in place, or raises and leaves them untouched.
    """
    inputs = load_inputs(project_root)
    tables = make_tables(inputs)
    out = (out_root or inputs.project.root).resolve()
    with staging_dir(out) as staging:
        outputs = write_release(inputs.project, tables, inputs.metadata, staging)
        validate_frictionless(staging)
        check_excerpts(inputs.raw, staging, inputs.schemas)
        check_formats_agree(staging, inputs.schemas)
        commit_outputs(staging, out, outputs)
    return tables
