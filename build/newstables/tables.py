"""Stage 3, build tables: annotation records -> typed, checked, sorted rows.

Every rule here comes from the metadata model (``core.model``: field types and
constraints, primary and foreign keys, derived ids from ``schemas/package.yaml``), so a
schema change is a data change. The first defect found raises a catalogued error that
names the annotation file, record, field and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from pathlib import PurePosixPath
from typing import Any

import pycountry

from newstables.checksums import sha256_file
from newstables.core.model import Mismatch, Model, Resource
from newstables.derived import actor_aliases, check_redirects, check_wikidata_sources, event_reports
from newstables.errors import NewstablesError
from newstables.evidence import Region, document_of, locate
from newstables.project import CONTEXT_CHARS, SEED_DOCUMENT, Project
from newstables.read import Record

COMPUTED_FIELDS = frozenset({"sha256", "prefix", "suffix", "origin"})
# Verbatim context around a span starts wherever the text does (a line break, a dash): it is
# not checked for formula triggers (the workbook writes every text cell as text).
CONTEXT_COLUMNS = frozenset({"prefix", "suffix"})
EXTRA_KEYS = frozenset({"occurrence", "document_id"})
EXTERNAL_KINDS = frozenset({"external_reference", "fact_dossier", "original_report"})
REPORT_ID = "{event_id}@{document_prefix}{char_start:05d}"  # when package.yaml gives none
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_TRIGGERS = frozenset(FORMULA_TRIGGERS)  # one character each


@dataclass
class Table:
    """A built table: its model resource, its rows (sorted by primary key) and their records."""

    name: str
    resource: Resource
    rows: list[dict[str, Any]] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    # The number of rows when they are not held here (a corpus built in shards).
    count: int | None = None

    @property
    def size(self) -> int:
        """The table's number of rows."""
        return len(self.rows) if self.count is None else self.count

    @cached_property
    def schema(self) -> dict[str, Any]:
        """The table's Frictionless Table Schema, as a plain descriptor (computed once)."""
        return self.resource.descriptor()

    @property
    def columns(self) -> list[str]:
        """Column names in schema order."""
        return self.resource.columns

    @property
    def primary_key(self) -> list[str]:
        """The primary-key columns."""
        return list(self.resource.primary_key)


@dataclass(frozen=True)
class _Plan:
    """What ``build_row`` needs of a resource, worked out once per resource rather than once
    per record: the keys a record may have, each column's type test, and the value checks of
    the constrained columns. Every fast test here only says "fine"; anything else goes to the
    general function (``coerce``, ``check_constraints``), which raises the same error as
    before, so the first defect found and its coordinates do not change."""

    allowed: frozenset[str]
    template: dict[str, None]
    # column -> the one Python type a value may have to be taken as is (None: always coerce)
    exact: dict[str, type | None]
    # (column, required, enum values, pattern, minimum, maximum, is iso3) in schema order
    checks: tuple[tuple[str, bool, frozenset[Any] | None, re.Pattern[str] | None, Any, Any, bool], ...]
    # the columns whose only constraint is ``required`` (a None among them: a defect somewhere),
    # and the checks of the other constrained columns
    required_only: Callable[[dict[str, Any]], tuple[Any, ...]] | None
    other_checks: tuple[tuple[str, bool, frozenset[Any] | None, re.Pattern[str] | None, Any, Any, bool], ...]
    # the primary-key column filled from the resource's id template (None: no template)
    derived_key: str | None


_EXACT_TYPES: dict[str, type] = {"string": str, "integer": int, "boolean": bool}
_PLANS: dict[int, tuple[Resource, _Plan]] = {}


def _plan(resource: Resource) -> _Plan:
    found = _PLANS.get(id(resource))
    if found is not None and found[0] is resource:
        return found[1]
    derived_key = resource.primary_key[0] if resource.id_template else None
    derived = set(COMPUTED_FIELDS) | ({derived_key} if derived_key else set())
    checks = []
    for name in resource.constrained_columns:
        spec = resource.field(name)
        enum = frozenset(spec.enum) if spec.enum is not None else None
        pattern = re.compile(spec.pattern) if spec.pattern is not None else None
        checks.append((name, spec.required, enum, pattern, spec.minimum, spec.maximum, name == "iso3"))
    plan = _Plan(
        allowed=frozenset((set(resource.columns) - derived) | EXTRA_KEYS),
        template=dict.fromkeys(resource.columns),
        exact={name: _EXACT_TYPES.get(resource.field(name).type) for name in resource.columns},
        checks=tuple(checks),
        required_only=_values_of([c[0] for c in checks if c[1] and c[2:] == (None, None, None, None, False)]),
        other_checks=tuple(c for c in checks if not (c[1] and c[2:] == (None, None, None, None, False))),
        derived_key=derived_key,
    )
    _PLANS[id(resource)] = (resource, plan)
    return plan


def _values_of(names: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]] | None:
    """A function giving a row's values of ``names`` as a tuple (None for no names)."""
    return itemgetter(*names, *names[:1]) if names else None  # a tuple even for one name


_COUNTRIES: dict[str, bool] = {}


def _known_country(value: Any) -> bool:
    if not isinstance(value, str):
        return pycountry.countries.get(alpha_3=value) is not None
    known = _COUNTRIES.get(value)
    if known is None:
        known = _COUNTRIES[value] = pycountry.countries.get(alpha_3=value) is not None
    return known


def build_row(
    project: Project,
    texts: dict[str, str],
    regions: dict[str, list[Region]],
    resource: Resource,
    record: Record,
    default_document: str,
) -> dict[str, Any]:
    """Turn one annotation record into a typed row of ``resource``, with its evidence resolved
    against the text of its document (``document_id``, else its folder's, else the default)."""
    return _build_row(_plan(resource), project, texts, regions, resource, record, default_document)


def _build_row(
    plan: _Plan,
    project: Project,
    texts: dict[str, str],
    regions: dict[str, list[Region]],
    resource: Resource,
    record: Record,
    default_document: str,
) -> dict[str, Any]:
    named = record.get("document_id")  # ``Record.document``, inline: once per row of millions
    document_id = named if isinstance(named, str) and named else (record.folder_document or default_document)
    if document_id not in texts:
        document_of(record, texts, default_document)  # raises unknown-document
    record.resolved_document = document_id
    derived_key = plan.derived_key
    if not plan.allowed.issuperset(record):
        _refuse_unknown_keys(record, resource, derived_key)
    row: dict[str, Any] = plan.template.copy()
    exact = plan.exact
    for name, value in record.items():
        if value is not None and name in exact:
            # one type test for the usual value; anything else is typed (or refused) by coerce
            row[name] = value if type(value) is exact[name] else coerce(record, resource, name, value)
    if "excerpt" in exact:  # the documents table is the evidence, it rests on none
        _attach_evidence(texts[document_id], regions[document_id], record, row, document_id)
    if derived_key is not None:
        prefix = "" if document_id == SEED_DOCUMENT else f"{document_id}@"
        row[derived_key] = resource.id_template.format(**row, document_prefix=prefix)  # type: ignore[union-attr]
    if "origin" in exact:  # a typed record is curated; derived rows say otherwise
        row["origin"] = "curated"
    if row.get("path") is not None and "sha256" in exact:
        row["sha256"] = _sha256_of(project, record, row["path"])
    if plan.required_only is not None and None in plan.required_only(row):
        for name in resource.constrained_columns:  # the first defect in column order
            check_constraints(record, resource, name, row[name])
    for name, required, enum, pattern, low, high, iso3 in plan.other_checks:  # the others cannot fail
        value = row[name]
        if value is None:
            if required:
                check_constraints(record, resource, name, value)
        elif (
            (enum is not None and value not in enum)
            or (pattern is not None and not pattern.fullmatch(str(value)))
            or (low is not None and value < low)
            or (high is not None and value > high)
            or (iso3 and not _known_country(value))
        ):
            check_constraints(record, resource, name, value)
    return row


def _refuse_unknown_keys(record: Record, resource: Resource, derived_key: str | None) -> None:
    derived = set(COMPUTED_FIELDS) | ({derived_key} if derived_key else set())
    allowed = (set(resource.columns) - derived) | EXTRA_KEYS
    for key in record:
        if key not in allowed:
            raise NewstablesError(
                "unknown-field",
                **record.where(str(key)),
                table=resource.name,
                expected=", ".join(sorted(allowed)),
            )


def coerce(record: Record, resource: Resource, name: str, value: Any) -> Any:
    """Check a YAML value against its field's type (the model's ``Field.coerce``), naming the
    record on failure."""
    try:
        return resource.field(name).coerce(value)
    except Mismatch as mismatch:
        coordinates = {"value": value, "got": type(value).__name__, "expected": mismatch.expected}
        if mismatch.error_type == "wrong-type":
            raise NewstablesError(
                "wrong-type", **record.where(name), **coordinates, hint=mismatch.hint
            ) from None
        raise NewstablesError("invalid-date", **record.where(name), value=value) from None


def _attach_evidence(
    raw: str, regions: list[Region], record: Record, row: dict[str, Any], document_id: str
) -> None:
    row["is_external"] = bool(row.get("is_external"))
    row["evidence_source_id"] = row.get("evidence_source_id") or document_id
    excerpt = record.get("excerpt")
    if row["is_external"] and not excerpt:
        row["document_id"] = None
        return
    if not excerpt:
        raise NewstablesError("evidence-missing", **record.where("excerpt"))
    start, end = record.get("char_start"), record.get("char_end")
    if not (
        # what ``locate`` accepts as is, tested inline (most records of a large corpus give their
        # offsets, in a document without boilerplate regions): trimmed text at valid offsets
        not regions
        and type(start) is int
        and type(end) is int
        and type(excerpt) is str
        and 0 <= start < end <= len(raw)
        and raw[start:end] == excerpt
        and excerpt == excerpt.strip()
    ):
        span = locate(raw, record, regions)  # anything else: resolved, or refused as before
        start, end = span.start, span.end
    row["document_id"] = document_id
    row["char_start"], row["char_end"] = start, end
    row["excerpt"] = raw[start:end]
    if "prefix" in row:
        row["prefix"] = raw[max(0, start - CONTEXT_CHARS) : start] or None  # ``context``, inline
        row["suffix"] = raw[end : end + CONTEXT_CHARS] or None


def context(raw: str, start: int, end: int) -> tuple[str | None, str | None]:
    """The W3C Web Annotation ``prefix`` and ``suffix`` of ``raw[start:end]``: up to
    ``CONTEXT_CHARS`` code points each side, verbatim; empty (None) at either end of the text."""
    return raw[max(0, start - CONTEXT_CHARS) : start] or None, raw[end : end + CONTEXT_CHARS] or None


def _sha256_of(project: Project, record: Record, path: str) -> str:
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts or not project.path(path).is_file():
        raise NewstablesError("resource-missing", file=record.file, record=record.label, value=path)
    return sha256_file(project.path(path))


def check_constraints(record: Record, resource: Resource, name: str, value: Any) -> None:
    """Apply a field's declared constraints (the model's ``Field.violation``) to a value."""
    broken = resource.field(name).violation(value)
    if broken is not None:
        error_type, expected = broken
        if error_type == "missing-field":
            raise NewstablesError("missing-field", **record.where(name))
        raise NewstablesError(error_type, **record.where(name), value=value, expected=expected)
    if value is not None and name == "iso3" and pycountry.countries.get(alpha_3=value) is None:
        raise NewstablesError("unknown-country-code", **record.where(name), value=value)


def check_formula_triggers(table: Table, waived: set[str]) -> None:
    """Refuse text cells that a spreadsheet would run as a formula, unless waived."""
    text_columns = [c for c in table.resource.text_columns if c not in CONTEXT_COLUMNS]
    if not any(_may_start_a_formula(table.rows, name) for name in text_columns):
        return
    for row, record in zip(table.rows, table.records, strict=True):
        for name in text_columns:
            value = row[name]
            if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and value not in waived:
                raise NewstablesError("formula-trigger", **record.where(name), char=value[0])


def _may_start_a_formula(rows: list[dict[str, Any]], name: str) -> bool:
    """False when no text of the column starts with a formula trigger: the first character of
    every non-empty text, collected in C (``map``), meets none of the triggers (one character
    each). A value that is not a text is skipped, as the row by row check skips it."""
    try:
        firsts = set(map(itemgetter(0), filter(None, map(itemgetter(name), rows))))
        if all(isinstance(value, str) for value in firsts):
            return not _TRIGGERS.isdisjoint(firsts)
    except (TypeError, KeyError, IndexError):  # a value that is not a text
        pass
    return any(isinstance(v := row[name], str) and v.startswith(FORMULA_TRIGGERS) for row in rows)


def check_date_order(table: Table) -> None:
    """Refuse rows whose ``*date_end`` is before their ``*date_start``."""
    # the (end, start) column pairs, found once per table rather than once per row
    pairs = [(name, name[: -len("end")] + "start") for name in table.columns if name.endswith("date_end")]
    if not pairs:
        return
    for row, record in zip(table.rows, table.records, strict=True):
        for name, start_name in pairs:
            start, end = row.get(start_name), row[name]
            if start is not None and end is not None and end < start:
                raise NewstablesError(
                    "date-order", **record.where(name), value=end, other_field=start_name, other=start
                )


def check_primary_key(table: Table) -> None:
    """Refuse two rows with the same primary key (or value of a ``unique`` field), naming both records."""
    keys = [table.primary_key] + [[f.name] for f in table.resource.fields if f.unique]
    for columns in keys:
        seen: dict[tuple[Any, ...], Record] = {}
        for row, record in zip(table.rows, table.records, strict=True):
            key = tuple(row[k] for k in columns)
            if None in key:
                continue
            if key in seen:
                raise NewstablesError(
                    "duplicate-id",
                    **record.where(columns[0]),
                    value="/".join(map(str, key)),
                    other=seen[key].label,
                )
            seen[key] = record


def check_foreign_keys(tables: dict[str, Table]) -> None:
    """Refuse references to rows that do not exist, as the schemas' foreignKeys declare."""
    for table in tables.values():
        for fk in table.resource.foreign_keys:
            target = tables[fk.resource]
            keys = {tuple(r[k] for k in fk.reference_fields) for r in target.rows}
            for row, record in zip(table.rows, table.records, strict=True):
                value = tuple(row[k] for k in fk.fields)
                if None not in value and value not in keys:
                    raise NewstablesError(
                        "dangling-reference",
                        **record.where(fk.fields[0]),
                        value="/".join(map(str, value)),
                        target=target.name,
                    )


def check_external_rows(tables: dict[str, Table]) -> None:
    """An external row must rest on a source that is itself an external reference."""
    kinds = {r["source_id"]: r["kind"] for r in tables["sources"].rows}
    for table in tables.values():
        for row, record in zip(table.rows, table.records, strict=True):
            if row.get("is_external") and kinds.get(row["evidence_source_id"]) not in EXTERNAL_KINDS:
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
    texts: dict[str, str],
    regions: dict[str, list[Region]],
    model: Model,
    records: dict[str, list[Record]],
    formula_waivers: set[str],
    default_document: str,
) -> dict[str, Table]:
    """Build and check every table of the model; the entry function of this stage.

    ``texts`` and ``regions`` hold every document of the project by id; a record's evidence is
    resolved in its own document."""
    tables: dict[str, Table] = {}
    for resource in model.resources:
        table = Table(resource.name, resource, records=list(records.get(resource.name, [])))
        table.rows = built_rows(project, texts, regions, resource, table.records, default_document)
        derive_rows(table, tables)
        check_primary_key(table)
        check_date_order(table)
        check_formula_triggers(table, formula_waivers)
        sort_rows(table)
        tables[resource.name] = table
    check_foreign_keys(tables)
    check_affiliation_chains(tables)
    check_external_rows(tables)
    check_wikidata_sources(tables)
    check_redirects(tables)
    return tables


def built_rows(
    project: Project,
    texts: dict[str, str],
    regions: dict[str, list[Region]],
    resource: Resource,
    records: list[Record],
    default_document: str,
) -> list[dict[str, Any]]:
    """Each record's row (:func:`build_row`; a record whose document's evidence an earlier
    build resolved brings the spans it found, ``Record.cached_span``)."""
    plan = _plan(resource)
    return [
        _build_row(plan, project, texts, regions, resource, record, default_document) for record in records
    ]


def derive_rows(table: Table, built: dict[str, Table]) -> None:
    """Add the rows the build derives from tables built before this one (the model's order):
    ``actor_aliases`` from the mentions, the event's own report in ``event_reports``."""
    derived: list[tuple[dict[str, Any], Record]] = []
    if table.name == "actor_aliases" and "actor_mentions" in built:
        derived = actor_aliases(built)
    elif table.name == "event_reports" and "events" in built:
        derived = event_reports(
            built, table.resource.id_template or "{event_id}@{document_prefix}{char_start:05d}"
        )
    for row, record in derived:
        table.rows.append({name: row.get(name) for name in table.columns})
        table.records.append(record)


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
