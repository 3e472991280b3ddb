"""The build: read -> resolve evidence -> build tables -> validate -> publish.

Each stage is one module with one entry function; this module only wires them together.
Nothing is written outside a staging folder until every check has passed.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newstables.coverage import (
    CoverageResult,
    check_waivers,
    coverage,
    coverage_errors,
    events_without_statements,
    paragraph_counts,
)
from newstables.errors import ErrorList, NewstablesError
from newstables.evidence import Region, resolve_regions
from newstables.gate import CheckResult, failures, run_suites
from newstables.project import (
    FAILED_REPORT_DIR,
    REPORT_DIR,
    Project,
    load_metadata,
    load_schemas,
    table_names,
)
from newstables.publish import commit_outputs, staging_dir, write_release
from newstables.read import Annotations, read_annotations, read_article
from newstables.report import coverage_checks, coverage_detail, write_report
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
    waivers: dict[str, set[str]]


def load_inputs(project_root: Path) -> Inputs:
    """Read the metadata, schemas, article, annotations and waivers of a project folder."""
    project = Project(project_root.resolve())
    metadata = load_metadata(project)
    schemas = load_schemas(project, metadata)
    raw = read_article(project)
    annotations = read_annotations(project, table_names(metadata))
    regions = resolve_regions(raw, annotations.regions)
    waivers = check_waivers(annotations.waivers)
    return Inputs(project, metadata, schemas, raw, annotations, regions, waivers)


def make_tables(inputs: Inputs) -> dict[str, Table]:
    """Build every table from the loaded inputs."""
    return build_tables(
        inputs.project,
        inputs.raw,
        inputs.regions,
        inputs.metadata,
        inputs.schemas,
        inputs.annotations.tables,
        inputs.waivers["formula"],
    )


def structural_checks(staging: Path, inputs: Inputs) -> list[CheckResult]:
    """Frictionless, excerpt and format-agreement checks; each raises on failure."""
    validate_frictionless(staging)
    check_excerpts(inputs.raw, staging, inputs.schemas)
    check_formats_agree(staging, inputs.schemas)
    why = {
        "frictionless": "Frictionless accepts datapackage.json and every resource.",
        "excerpts-match-offsets": "Every excerpt equals raw[char_start:char_end].",
        "csv-parquet-duckdb-agree": "CSV, Parquet and the DuckDB file hold the same rows.",
    }
    return [CheckResult("package", check, text, "build", True) for check, text in why.items()]


def gate(
    staging: Path, inputs: Inputs, covered: list[CoverageResult]
) -> tuple[list[CheckResult], list[NewstablesError]]:
    """Run every blocking check on the staged release; return all results and failures."""
    checks = structural_checks(staging, inputs)
    suites = run_suites(inputs.project, staging, inputs.raw, inputs.schemas, inputs.waivers["formula"])
    errors = coverage_errors(covered) + failures(suites)
    return checks + coverage_checks(covered) + suites, errors


def keep_failed_report(staging: Path, out: Path) -> None:
    """Move the report of a blocked build to ``validation/report-failed/`` (not a release
    output, ignored by git) so the failures can be read; the release is left untouched."""
    target = out / FAILED_REPORT_DIR
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging / REPORT_DIR, target)


def build(project_root: Path, out_root: Path | None = None) -> dict[str, Table]:
    """Build, validate and publish the release of ``project_root`` into ``out_root``.

    Example: ``build(Path("."))`` rewrites ``data/*.csv``, ``data/parquet/``, the DuckDB
    file, ``datapackage.json`` and the validation report in place, or raises and leaves
    them untouched.
    """
    inputs = load_inputs(project_root)
    tables = make_tables(inputs)
    covered = coverage(inputs.raw, inputs.regions, tables, inputs.waivers)
    out = (out_root or inputs.project.root).resolve()
    with staging_dir(out) as staging:
        outputs = write_release(inputs.project, tables, inputs.metadata, staging)
        checks, errors = gate(staging, inputs, covered)
        counts = {name: len(table.rows) for name, table in tables.items()}
        detail = coverage_detail(
            paragraph_counts(inputs.raw, inputs.regions, tables), events_without_statements(tables)
        )
        outputs += write_report(staging, inputs.metadata, counts, checks, detail)
        if errors:
            keep_failed_report(staging, out)
            raise ErrorList(errors)
        commit_outputs(staging, out, outputs)
        shutil.rmtree(out / FAILED_REPORT_DIR, ignore_errors=True)
    return tables
