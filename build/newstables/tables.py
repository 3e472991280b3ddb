"""Stage 3, build tables: annotation records -> typed, checked, sorted rows.

Every rule here is read from the Table Schemas (types, required, enum, pattern, primary
and foreign keys) and from ``schemas/package.yaml`` (derived ids), so a schema change is
a data change. Errors name the annotation file, record, field and line.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import pycountry

from newstables.checksums import sha256_file
from newstables.errors import NewstablesError
from newstables.evidence import Region, locate
from newstables.project import Project
from newstables.read import Record

EVIDENCE_FIELDS = ("evidence_source_id", "char_start", "char_end", "excerpt", "is_external")
COMPUTED_FIELDS = frozenset({"sha256"})
EXTRA_KEYS = frozenset({"occurrence"})
EXTERNAL_KINDS = frozenset({"external_reference", "fact_dossier", "original_report"})
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_EXPECTED = {
    "string": "a string (quote values such as NO, yes or 2022)",
    "integer": "an integer",
    "boolean": "true or false",
    "date": "a date string YYYY-MM-DD",
}


@dataclass
class Table:
    """A built table: its schema, its rows (sorted by primary key) and their records."""

    name: str
    schema: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """Column names in schema order."""
        return [f["name"] for f in self.schema["fields"]]

    @property
    def primary_key(self) -> list[str]:
        """The primary-key columns."""
        return list(self.schema["primaryKey"])


def build_row(
    project: Project,
    raw: str,
    regions: list[Region],
    table: str,
    schema: dict[str, Any],
    record: Record,
    id_template: str | None,
) -> dict[str, Any]:
    """Turn one annotation record into a typed row of ``table``, with resolved evidence."""
    fields = {f["name"]: f for f in schema["fields"]}
    derived_key = schema["primaryKey"][0] if id_template else None
    _refuse_unknown_keys(record, table, fields, derived_key)
    row: dict[str, Any] = {name: None for name in fields}
    for name, value in record.items():
        if name in fields and value is not None:
            row[name] = coerce(record, name, value, fields[name]["type"])
    _attach_evidence(raw, regions, record, row)
    if id_template and derived_key:
        row[derived_key] = id_template.format(**row)
    if row.get("path") is not None and "sha256" in fields:
        row["sha256"] = _sha256_of(project, record, row["path"])
    for name, spec in fields.items():
        check_constraints(record, name, row[name], spec)
    return row


def _refuse_unknown_keys(record: Record, table: str, fields: dict[str, Any], derived_key: str | None) -> None:
    derived = set(COMPUTED_FIELDS) | ({derived_key} if derived_key else set())
    allowed = (set(fields) - derived) | EXTRA_KEYS
    for key in record:
        if key not in allowed:
            raise NewstablesError(
                "unknown-field", **record.where(str(key)), table=table, expected=", ".join(sorted(allowed))
            )


def coerce(record: Record, name: str, value: Any, type_: str) -> Any:
    """Check a YAML value against a Table Schema type and return it as a Python value."""
    if type_ == "date":
        return _coerce_date(record, name, value)
    ok = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
    }[type_]
    if not ok:
        hint = "; YAML reads unquoted NO/yes/on/off as booleans" if isinstance(value, bool) else ""
        raise NewstablesError(
            "wrong-type",
            **record.where(name),
            value=value,
            got=type(value).__name__,
            expected=_EXPECTED[type_],
            hint=hint,
        )
    return value


def _coerce_date(record: Record, name: str, value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        raise NewstablesError(
            "wrong-type",
            **record.where(name),
            value=value,
            got=type(value).__name__,
            expected=_EXPECTED["date"],
            hint="",
        )
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise NewstablesError("invalid-date", **record.where(name), value=value)
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise NewstablesError("invalid-date", **record.where(name), value=value) from exc


def _attach_evidence(raw: str, regions: list[Region], record: Record, row: dict[str, Any]) -> None:
    row["is_external"] = bool(row.get("is_external"))
    row["evidence_source_id"] = row.get("evidence_source_id") or "article"
    if row["is_external"] and not record.get("excerpt"):
        return
    if not record.get("excerpt"):
        raise NewstablesError("evidence-missing", **record.where("excerpt"))
    span = locate(raw, record, regions)
    row["char_start"], row["char_end"] = span.start, span.end
    row["excerpt"] = raw[span.start : span.end]


def _sha256_of(project: Project, record: Record, path: str) -> str:
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts or not project.path(path).is_file():
        raise NewstablesError("resource-missing", file=record.file, record=record.label, value=path)
    return sha256_file(project.path(path))


def check_constraints(record: Record, name: str, value: Any, spec: dict[str, Any]) -> None:
    """Apply a field's declared constraints (required, enum, pattern, minimum) to a value."""
    constraints = spec.get("constraints", {})
    if value is None:
        if constraints.get("required"):
            raise NewstablesError("missing-field", **record.where(name))
        return
    if "enum" in constraints and value not in constraints["enum"]:
        raise NewstablesError(
            "enum-violation", **record.where(name), value=value, expected=", ".join(constraints["enum"])
        )
    if "pattern" in constraints and not re.fullmatch(constraints["pattern"], str(value)):
        raise NewstablesError(
            "pattern-violation", **record.where(name), value=value, expected=constraints["pattern"]
        )
    if "minimum" in constraints and value < constraints["minimum"]:
        raise NewstablesError(
            "pattern-violation", **record.where(name), value=value, expected=f">= {constraints['minimum']}"
        )
    if name == "iso3" and pycountry.countries.get(alpha_3=value) is None:
        raise NewstablesError("unknown-country-code", **record.where(name), value=value)


def check_formula_triggers(table: Table, waived: set[str]) -> None:
    """Refuse text cells that a spreadsheet would run as a formula, unless waived."""
    text_columns = [f["name"] for f in table.schema["fields"] if f["type"] == "string"]
    for row, record in zip(table.rows, table.records, strict=True):
        for name in text_columns:
            value = row[name]
            if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and value not in waived:
                raise NewstablesError("formula-trigger", **record.where(name), char=value[0])


def check_date_order(table: Table) -> None:
    """Refuse rows whose ``*date_end`` is before their ``*date_start``."""
    for row, record in zip(table.rows, table.records, strict=True):
        for name in table.columns:
            if name.endswith("date_end"):
                start_name = name[: -len("end")] + "start"
                start, end = row.get(start_name), row[name]
                if start is not None and end is not None and end < start:
                    raise NewstablesError(
                        "date-order", **record.where(name), value=end, other_field=start_name, other=start
                    )


def check_primary_key(table: Table) -> None:
    """Refuse two rows with the same primary key, naming both records."""
    seen: dict[tuple[Any, ...], Record] = {}
    for row, record in zip(table.rows, table.records, strict=True):
        key = tuple(row[k] for k in table.primary_key)
        if key in seen:
            raise NewstablesError(
                "duplicate-id",
                **record.where(table.primary_key[0]),
                value="/".join(map(str, key)),
                other=seen[key].label,
            )
        seen[key] = record


def check_foreign_keys(tables: dict[str, Table]) -> None:
    """Refuse references to rows that do not exist, as the schemas' foreignKeys declare."""
    for table in tables.values():
        for fk in table.schema.get("foreignKeys", []):
            target = tables[fk["reference"]["resource"]]
            keys = {tuple(r[k] for k in fk["reference"]["fields"]) for r in target.rows}
            for row, record in zip(table.rows, table.records, strict=True):
                value = tuple(row[k] for k in fk["fields"])
                if None not in value and value not in keys:
                    raise NewstablesError(
                        "dangling-reference",
                        **record.where(fk["fields"][0]),
                        value="/".join(map(str, value)),
                        target=target.name,
                    )


def check_external_rows(tables: dict[str, Table]) -> None:
    """An external row must rest on a source that is itself an external reference."""
    kinds = {r["source_id"]: r["kind"] for r in tables["sources"].rows}
    for table in tables.values():
        for row, record in zip(table.rows, table.records, strict=True):
            if row["is_external"] and kinds.get(row["evidence_source_id"]) not in EXTERNAL_KINDS:
                raise NewstablesError(
                    "external-without-source",
                    **record.where("evidence_source_id"),
                    value=row["evidence_source_id"],
                )


def sort_rows(table: Table) -> None:
    """Sort rows (and their records) by primary key, the published order."""
    pairs = sorted(
        zip(table.rows, table.records, strict=True),
        key=lambda p: tuple(str(p[0][k]) for k in table.primary_key),
    )
    table.rows = [p[0] for p in pairs]
    table.records = [p[1] for p in pairs]


def build_tables(
    project: Project,
    raw: str,
    regions: list[Region],
    metadata: dict[str, Any],
    schemas: dict[str, dict[str, Any]],
    records: dict[str, list[Record]],
    formula_waivers: set[str],
) -> dict[str, Table]:
    """Build and check every table; the entry function of this stage."""
    templates = {r["name"]: r.get("id_template") for r in metadata["resources"]}
    tables: dict[str, Table] = {}
    for name, schema in schemas.items():
        table = Table(name, schema, records=list(records.get(name, [])))
        table.rows = [
            build_row(project, raw, regions, name, schema, rec, templates[name]) for rec in table.records
        ]
        check_primary_key(table)
        check_date_order(table)
        check_formula_triggers(table, formula_waivers)
        sort_rows(table)
        tables[name] = table
    check_foreign_keys(tables)
    check_affiliation_chains(tables)
    check_external_rows(tables)
    return tables


def check_affiliation_chains(tables: dict[str, Table], field_name: str = "affiliation_id") -> None:
    """Refuse an actor affiliated with itself, directly or through a chain (a -> b -> a)."""
    actors = tables.get("actors")
    if actors is None or field_name not in actors.columns:
        return
    parent = {row["actor_id"]: row[field_name] for row in actors.rows if row.get(field_name)}
    for row, record in zip(actors.rows, actors.records, strict=True):
        chain, current = [row["actor_id"]], parent.get(row["actor_id"])
        while current is not None and current not in chain:
            chain.append(current)
            current = parent.get(current)
        if current == row["actor_id"]:
            raise NewstablesError(
                "affiliation-cycle",
                **record.where(field_name),
                value=row[field_name],
                detail=" -> ".join([*chain, current]),
            )
