"""Expected row counts: compare the tables the annotations build with
``validation/expected_counts.yaml``, and accept new counts deliberately.

The gate refuses a release whose row counts differ from that file, so that no row appears
or disappears by accident. When a change is deliberate (a row was added), ``accept`` writes
the new counts into the file, keeping its comments and layout, and reports each change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newstables.core.model import load_expected_counts
from newstables.project import VALIDATION, Project

EXPECTED_COUNTS = VALIDATION / "expected_counts.yaml"
HEADER = (
    "# Row counts of the release. A change in any table must be deliberate: accept it with\n"
    "# `newstables counts --accept` in the same commit as the annotations, and say why in CHANGELOG.md.\n"
)


@dataclass(frozen=True)
class CountChange:
    """A table whose built row count differs from the expected one (None: not listed / not built)."""

    table: str
    expected: int | None
    actual: int | None

    def text(self) -> str:
        """``table: old -> new`` for people."""
        old = "none" if self.expected is None else str(self.expected)
        new = "none" if self.actual is None else str(self.actual)
        return f"{self.table}: {old} -> {new}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"table": self.table, "expected": self.expected, "actual": self.actual}


@dataclass
class CountReport:
    """Every table's built count, the expected counts and how they differ."""

    actual: dict[str, int]
    expected: dict[str, int]
    changes: list[CountChange]
    written: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "file": EXPECTED_COUNTS.as_posix(),
            "counts": self.actual,
            "expected": self.expected,
            "changes": [c.to_dict() for c in self.changes],
            "accepted": self.written,
        }


def built_counts(project_root: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Rows of every table as the annotations build them (without running the gate), and the
    expected counts as the checked model reads them (tables may be missing from the file)."""
    from newstables.pipeline import load_inputs, make_tables

    inputs = load_inputs(project_root, complete_counts=False)
    tables = make_tables(inputs)
    return {name: len(table.rows) for name, table in tables.items()}, dict(inputs.model.expected_counts)


def read_expected(project: Project, tables: list[str]) -> dict[str, int]:
    """The counts in ``validation/expected_counts.yaml``, checked by the metadata model
    (a table without a count is simply absent)."""
    return load_expected_counts(project.root, tables, complete=False)


def compare_counts(expected: dict[str, int], actual: dict[str, int]) -> list[CountChange]:
    """Tables whose counts differ, in build order, then tables only listed as expected."""
    names = list(actual) + [t for t in expected if t not in actual]
    return [CountChange(t, expected.get(t), actual.get(t)) for t in names if expected.get(t) != actual.get(t)]


def with_counts(text: str, actual: dict[str, int]) -> str:
    """The file's text with each table's count line set to ``actual`` (comments, order and
    layout kept); lines of tables no longer built are dropped, new tables appended."""
    seen: set[str] = set()
    lines = []
    for line in text.splitlines(keepends=True):
        match = re.match(r"^([A-Za-z0-9_]+)(\s*:\s*)(\d+)(.*?)(\r?\n)?$", line)
        if not match:
            lines.append(line)
            continue
        table = match.group(1)
        if table not in actual:
            continue
        seen.add(table)
        ending = match.group(5) or ""
        lines.append(f"{table}{match.group(2)}{actual[table]}{match.group(4)}{ending}")
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines += [f"{t}: {n}\n" for t, n in actual.items() if t not in seen]
    return "".join(lines)


def counts(project_root: Path, accept: bool = False) -> CountReport:
    """Compare built and expected row counts; with ``accept``, write the built ones.

    Example: ``counts(Path("."), accept=True).changes`` -> ``[CountChange("statements", 24, 25)]``.
    """
    project = Project(project_root.resolve())
    actual, expected = built_counts(project.root)
    report = CountReport(actual, expected, compare_counts(expected, actual))
    if accept and report.changes:
        path = project.path(EXPECTED_COUNTS)
        text = path.read_text(encoding="utf-8") if path.is_file() else HEADER
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(with_counts(text, actual), encoding="utf-8")
        tmp.replace(path)
        report.written = True
    return report
