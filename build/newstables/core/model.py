"""The one typed model of the metadata, loaded and checked once.

Everything a person declares about the release, rather than the rows themselves, is read
here and nowhere else: ``schemas/package.yaml`` (package metadata and table order), the
Table Schemas ``schemas/<table>.schema.json``, the expectation suites
``validation/<table>.json`` and the frames they validate ``validation/<table>.sql``,
``validation/expected_counts.yaml`` and ``validation/story.yaml``. Every problem becomes a
catalogued error naming the file a person edits (never a generated one), the field and,
where it can be known, the line.

API (stages and other helpers build on this; keep it small)::

    model = load_model(project)          # raises ErrorList of every problem found
    model.package.name / .version / .created / .licenses ...
    for resource in model.resources:     # tables, in publication order
        resource.name, resource.title, resource.description, resource.id_template
        resource.fields, resource.primary_key, resource.foreign_keys
        resource.ddl(created)            # CREATE TABLE with keys and CHECKs (DuckDB)
        resource.comment_sql()           # COMMENT ON texts
        resource.arrow_schema()          # pyarrow schema
        resource.descriptor()            # the Frictionless Table Schema (a dict)
    field.to_sql(), field.to_arrow(), field.coerce(value), field.to_frictionless()
    field.violation(value)               # the first constraint a value breaks, or None
    model.suites[t], model.frame_sql[t], model.expected_counts[t], model.story[name]

Supported field types: string, integer, boolean, date. Supported constraints: required,
enum, pattern, minimum, maximum, unique. Anything else is refused, naming what is supported.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources as package_files
from pathlib import Path
from typing import Any

import pyarrow as pa

from newstables.core.yamlfile import load_mapping, read_text
from newstables.errors import ErrorList, NewstablesError

PACKAGE_FILE = "schemas/package.yaml"
SQL_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "boolean": "BOOLEAN", "date": "DATE"}
# SQLite has no BOOLEAN or DATE: booleans are 0/1 integers, dates ISO text (both CHECKed).
SQLITE_TYPES = {"string": "TEXT", "integer": "INTEGER", "boolean": "INTEGER", "date": "TEXT"}
ARROW_TYPES = {"string": pa.string(), "integer": pa.int64(), "boolean": pa.bool_(), "date": pa.date32()}
EXPECTED_VALUE = {
    "string": "a string (quote values such as NO, yes or 2022)",
    "integer": "an integer",
    "boolean": "true or false",
    "date": "a date string YYYY-MM-DD",
}
CONSTRAINTS = ("required", "enum", "pattern", "minimum", "maximum", "unique")
REQUIRED_PACKAGE_KEYS = ("name", "title", "version", "created", "licenses", "resources")
TABLE_NAME = re.compile(r"[a-z][a-z0-9_]*")
SQL_NAME = re.compile(r"[a-z_][a-z0-9_]*")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_CREATED = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?")
SUITE_KEYS = ("type", "kwargs")


def quote_literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    """A SQL identifier in double quotes."""
    return '"' + name.replace('"', '""') + '"'


class Mismatch(ValueError):
    """A value that does not fit a field's type (raised by :meth:`Field.coerce`).

    ``error_type`` is the catalogue type to report (``wrong-type`` or ``invalid-date``);
    the caller adds the coordinates of the record it came from.
    """

    def __init__(self, error_type: str, expected: str, hint: str = "") -> None:
        super().__init__(expected)
        self.error_type, self.expected, self.hint = error_type, expected, hint


# --- fields -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One column of a table, as its Table Schema declares it."""

    name: str
    type: str
    title: str
    description: str
    required: bool = False
    enum: tuple[str, ...] | None = None
    pattern: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    unique: bool = False
    source: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_sql(self) -> str:
        """The DuckDB column type."""
        return SQL_TYPES[self.type]

    def to_arrow(self) -> pa.DataType:
        """The Arrow (and Parquet) column type."""
        return ARROW_TYPES[self.type]

    def to_sqlite(self) -> str:
        """The SQLite column type."""
        return SQLITE_TYPES[self.type]

    def sqlite_column_sql(self) -> str:
        """The SQLite column definition: type, NOT NULL, enum CHECK, and the CHECKs that keep
        booleans 0/1 and dates real ISO dates (SQLite has neither type)."""
        name = quote_identifier(self.name)
        parts = [name, self.to_sqlite()]
        if self.required:
            parts.append("NOT NULL")
        if self.enum is not None:
            parts.append(f"CHECK ({name} IN ({', '.join(quote_literal(v) for v in self.enum)}))")
        if self.type == "boolean":
            parts.append(f"CHECK ({name} IN (0, 1))")
        if self.type == "date":
            parts.append(f"CHECK ({name} IS date({name}))")
        return " ".join(parts)

    def to_frictionless(self) -> dict[str, Any]:
        """The field as a Frictionless Table Schema field descriptor."""
        return dict(self.source)

    def column_sql(self) -> str:
        """The column definition: type, NOT NULL and an enum CHECK."""
        parts = [f'"{self.name}"', self.to_sql()]
        if self.required:
            parts.append("NOT NULL")
        if self.unique:
            parts.append("UNIQUE")
        if self.enum is not None:
            values = ", ".join(quote_literal(v) for v in self.enum)
            parts.append(f'CHECK ("{self.name}" IN ({values}))')
        return " ".join(parts)

    def coerce(self, value: Any) -> Any:
        """A YAML value as the Python value of this field's type; :class:`Mismatch` if it is not.

        Example: ``Field("d", "date", "D", "").coerce("2022-03-13")`` -> ``date(2022, 3, 13)``.
        """
        if self.type == "date":
            return _coerce_date(value)
        if self.type == "string":  # one test per value: the build types millions of cells
            ok = isinstance(value, str)
        elif self.type == "integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif self.type == "boolean":
            ok = isinstance(value, bool)
        else:
            raise KeyError(self.type)
        if not ok:
            hint = "; YAML reads unquoted NO/yes/on/off as booleans" if isinstance(value, bool) else ""
            raise Mismatch("wrong-type", EXPECTED_VALUE[self.type], hint)
        return value

    def violation(self, value: Any) -> tuple[str, str] | None:
        """The first declared constraint ``value`` breaks, as (error type, expected), or None.

        ``None`` values are checked for ``required`` only.
        """
        if value is None:
            return ("missing-field", "a value") if self.required else None
        if self.enum is not None and value not in self.enum:
            return "enum-violation", ", ".join(self.enum)
        if self.pattern is not None and not re.fullmatch(self.pattern, str(value)):
            return "pattern-violation", self.pattern
        if self.minimum is not None and value < self.minimum:
            return "pattern-violation", f">= {self.minimum}"
        if self.maximum is not None and value > self.maximum:
            return "pattern-violation", f"<= {self.maximum}"
        return None


def _coerce_date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        raise Mismatch("wrong-type", EXPECTED_VALUE["date"])
    if not ISO_DATE.fullmatch(value):
        raise Mismatch("invalid-date", "YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise Mismatch("invalid-date", "YYYY-MM-DD") from exc


# --- tables ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForeignKey:
    """``fields`` of a table reference ``reference_fields`` of ``resource``."""

    fields: tuple[str, ...]
    resource: str
    reference_fields: tuple[str, ...]


@dataclass(frozen=True)
class Resource:
    """One table: its package.yaml entry and its Table Schema."""

    name: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    missing_values: tuple[str, ...] = ("",)
    id_template: str | None = None
    schema_file: str = ""
    # How the table's Parquet copy is split (``partition`` in package.yaml): None for one file,
    # ``publication_year`` for hive-style parts by the year of the row's document (core.parts).
    partition: str | None = None

    @cached_property
    def _by_name(self) -> dict[str, Field]:
        # Looked up for every cell the build types and checks (millions at scale): built once;
        # the first field of a name wins, as a scan in order would find it.
        found: dict[str, Field] = {}
        for spec in self.fields:
            found.setdefault(spec.name, spec)
        return found

    @cached_property
    def _names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def columns(self) -> list[str]:
        """Column names in schema order."""
        return list(self._names)

    @cached_property
    def constrained_columns(self) -> tuple[str, ...]:
        """The columns, in schema order, that the build checks value by value: those with a
        declared constraint (required, enum, pattern, bounds; :meth:`Field.violation` finds
        nothing in the others) and ``iso3`` (checked against ISO 3166 country codes)."""
        return tuple(
            f.name
            for f in self.fields
            if f.required
            or f.enum is not None
            or f.pattern is not None
            or f.minimum is not None
            or f.maximum is not None
            or f.name == "iso3"
        )

    @property
    def text_columns(self) -> list[str]:
        """The columns of type string."""
        return [f.name for f in self.fields if f.type == "string"]

    def field(self, name: str) -> Field:
        """The field called ``name`` (KeyError when there is none)."""
        return self._by_name[name]

    def has_field(self, name: str) -> bool:
        """True when the table has a column ``name``."""
        return name in self._by_name

    def ddl(self, created: set[str] | frozenset[str] = frozenset()) -> str:
        """CREATE TABLE with the primary key and the foreign keys DuckDB can enforce.

        DuckDB has no ALTER TABLE ADD FOREIGN KEY and rejects self-references inserted in
        one statement, so only keys to tables already ``created`` are declared; the build
        checks all foreign keys itself before writing anything.
        """
        lines = [f.column_sql() for f in self.fields]
        lines.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in self.primary_key) + ")")
        for fk in self.foreign_keys:
            if fk.resource in created and fk.resource != self.name:
                cols = ", ".join(f'"{c}"' for c in fk.fields)
                refs = ", ".join(f'"{c}"' for c in fk.reference_fields)
                lines.append(f"FOREIGN KEY ({cols}) REFERENCES {fk.resource} ({refs})")
        return f"CREATE TABLE {self.name} (\n  " + ",\n  ".join(lines) + "\n)"

    def sqlite_ddl(self) -> str:
        """SQLite's CREATE TABLE with the primary key and every foreign key (SQLite declares
        self-references and keys to later tables freely)."""
        lines = [f.sqlite_column_sql() for f in self.fields]
        lines.append("PRIMARY KEY (" + ", ".join(quote_identifier(k) for k in self.primary_key) + ")")
        for fk in self.foreign_keys:
            cols = ", ".join(quote_identifier(c) for c in fk.fields)
            refs = ", ".join(quote_identifier(c) for c in fk.reference_fields)
            target = quote_identifier(fk.resource or self.name)
            lines.append(f"FOREIGN KEY ({cols}) REFERENCES {target} ({refs})")
        return f"CREATE TABLE {quote_identifier(self.name)} (\n  " + ",\n  ".join(lines) + "\n)"

    def comment_sql(self) -> list[str]:
        """COMMENT ON statements for the table and each column, from the metadata texts."""
        statements = [f"COMMENT ON TABLE {self.name} IS {quote_literal(self.description)}"]
        for spec in self.fields:
            text = f"{spec.title}: {spec.description}"
            statements.append(f'COMMENT ON COLUMN {self.name}."{spec.name}" IS {quote_literal(text)}')
        return statements

    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema of the table's columns (all nullable, as Parquet stores them)."""
        return pa.schema([pa.field(f.name, f.to_arrow()) for f in self.fields])

    def descriptor(self) -> dict[str, Any]:
        """The Frictionless Table Schema of the table (fields, keys, missing values)."""
        out: dict[str, Any] = {"fields": [f.to_frictionless() for f in self.fields]}
        out["primaryKey"] = list(self.primary_key)
        if self.foreign_keys:
            out["foreignKeys"] = [
                {
                    "fields": list(fk.fields),
                    "reference": {"resource": fk.resource, "fields": list(fk.reference_fields)},
                }
                for fk in self.foreign_keys
            ]
        out["missingValues"] = list(self.missing_values)
        return out

    def targets(self) -> set[str]:
        """The other tables this one references."""
        return {fk.resource for fk in self.foreign_keys} - {self.name}


# --- package ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Package:
    """``schemas/package.yaml``: the package metadata and the table order."""

    name: str
    title: str
    description: str
    version: str
    created: str
    homepage: str
    keywords: tuple[str, ...]
    licenses: tuple[dict[str, Any], ...]
    contributors: tuple[dict[str, Any], ...]
    sources: tuple[dict[str, Any], ...]
    entries: tuple[dict[str, Any], ...]
    caveats: tuple[str, ...] = ()
    rights: str = ""

    @property
    def table_names(self) -> list[str]:
        """The tables of the release, in publication order."""
        return [str(e["name"]) for e in self.entries]

    @property
    def release_date(self) -> str:
        """The release date ``YYYY-MM-DD``: the date part of ``created`` (never the clock)."""
        return self.created[:10]

    def as_dict(self) -> dict[str, Any]:
        """The metadata as plain data (what ``package.yaml`` holds, checked)."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "version": self.version,
            "created": self.created,
            "homepage": self.homepage,
            "keywords": list(self.keywords),
            "licenses": [dict(x) for x in self.licenses],
            "contributors": [dict(x) for x in self.contributors],
            "sources": [dict(x) for x in self.sources],
            "resources": [dict(x) for x in self.entries],
            "caveats": list(self.caveats),
            "rights": self.rights,
        }


@dataclass(frozen=True)
class Suite:
    """An expectation suite ``validation/<table>.json`` (empty when the file is absent)."""

    table: str
    file: str
    expectations: tuple[dict[str, Any], ...] = ()


@dataclass
class Model:
    """Everything declared about the release, checked: package, tables, suites, counts, story."""

    root: Path
    package: Package
    tables: dict[str, Resource]
    suites: dict[str, Suite] = field(default_factory=dict)
    frame_sql: dict[str, str | None] = field(default_factory=dict)
    expected_counts: dict[str, int] = field(default_factory=dict)
    story: dict[str, dt.date] = field(default_factory=dict)

    @property
    def resources(self) -> list[Resource]:
        """The tables, in publication order."""
        return list(self.tables.values())


# --- loading: package.yaml ----------------------------------------------------------------------


def _invalid(name: str, lines: dict[str, int], key: str, value: Any, expected: str) -> NewstablesError:
    return NewstablesError(
        "value-invalid", file=name, line=lines.get(key, "-"), field=key, value=value, expected=expected
    )


def _text_list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key) or []
    return value if isinstance(value, list) else [value]


def _check_package_values(data: dict[str, Any], lines: dict[str, int]) -> None:
    name = PACKAGE_FILE
    for key in REQUIRED_PACKAGE_KEYS:
        if data.get(key) in (None, "", [], {}):
            raise NewstablesError(
                "metadata-invalid", file=name, field=key, line=lines.get(key, "-"), detail="is required"
            )
    for key in ("name", "title", "version", "created"):
        if not isinstance(data[key], str):
            raise _invalid(name, lines, key, data[key], "a quoted string")
    if not ISO_CREATED.fullmatch(data["created"]) or not _real_date(data["created"][:10]):
        raise _invalid(
            name, lines, "created", data["created"], "an ISO 8601 date-time such as 2026-11-28T00:00:00Z"
        )
    for key in ("licenses", "contributors", "sources", "resources"):
        items = data.get(key) or []
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise _invalid(name, lines, key, items, "a list of mappings")
    for key in ("licenses",):
        if not all(isinstance(i.get("name") or i.get("path"), str) for i in data[key]):
            raise _invalid(name, lines, key, data[key], "each licence with a name or path")


def _real_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _check_entries(entries: list[dict[str, Any]], lines: dict[str, int]) -> None:
    seen: set[str] = set()
    for entry in entries:
        table = entry.get("name")
        if not isinstance(table, str) or not TABLE_NAME.fullmatch(table) or table in seen:
            raise _invalid(
                PACKAGE_FILE,
                lines,
                "resources",
                table,
                "each resource with a unique lower-case name (letters, digits, _)",
            )
        for key in ("title", "description"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise _invalid(
                    PACKAGE_FILE, lines, "resources", f"{table}.{key}", f"resource {table} has a {key}"
                )
        template = entry.get("id_template")
        if template is not None and not isinstance(template, str):
            raise _invalid(PACKAGE_FILE, lines, "resources", f"{table}.id_template", "a string")
        _check_partition(entry, table, lines)
        seen.add(table)


# Values of a resource's ``partition`` property (see core.parts): the Parquet copy is split by
# the publication year of each row's document, so the table needs a ``document_id`` column.
PARTITION_SCHEMES = ("publication_year",)


def _check_partition(entry: dict[str, Any], table: str, lines: dict[str, int]) -> None:
    partition = entry.get("partition")
    if partition is not None and partition not in PARTITION_SCHEMES:
        raise _invalid(
            PACKAGE_FILE,
            lines,
            "resources",
            f"{table}.partition: {partition}",
            "partition: " + " or ".join(PARTITION_SCHEMES) + " (or no partition key)",
        )


def load_package(project_root: Path) -> Package:
    """Load and check ``schemas/package.yaml``, the one metadata source of the release.

    A folder without it is not a project: ``not-a-project``.
    """
    path = project_root / PACKAGE_FILE
    if not path.is_file():
        raise NewstablesError("not-a-project", file=PACKAGE_FILE, folder=str(project_root))
    data, lines = load_mapping(path, PACKAGE_FILE)
    _check_package_values(data, lines)
    _check_entries(data["resources"], lines)
    return Package(
        name=data["name"],
        title=data["title"],
        description=str(data.get("description") or ""),
        version=data["version"],
        created=data["created"],
        homepage=str(data.get("homepage") or ""),
        keywords=tuple(str(k) for k in _text_list(data, "keywords")),
        licenses=tuple(data["licenses"]),
        contributors=tuple(data.get("contributors") or []),
        sources=tuple(data.get("sources") or []),
        entries=tuple(data["resources"]),
        caveats=tuple(str(c) for c in _text_list(data, "caveats")),
        rights=str(data.get("rights") or ""),
    )


# --- loading: Table Schemas ---------------------------------------------------------------------


def _json_line(text: str, name: str) -> int | str:
    """The line where a field ``"name": "<name>"`` is declared in a JSON text, or "-"."""
    match = re.search(r'"name"\s*:\s*' + re.escape(json.dumps(name)), text)
    return text[: match.start()].count("\n") + 1 if match else "-"


def _field_error(file: str, text: str, name: str, detail: str) -> NewstablesError:
    return NewstablesError(
        "schema-field-invalid", file=file, line=_json_line(text, name), field=name, detail=detail
    )


def parse_field(spec: Any, file: str, text: str = "") -> Field:
    """One Table Schema field descriptor as a :class:`Field`, refusing what we do not support."""
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
        raise NewstablesError(
            "schema-field-invalid",
            file=file,
            line="-",
            field=str(spec)[:60],
            detail="expected a mapping with a non-empty string 'name'",
        )
    name = spec["name"]
    line = _json_line(text, name)
    if spec.get("type") not in SQL_TYPES:
        raise NewstablesError(
            "schema-unsupported-type",
            file=file,
            line=line,
            field=name,
            value=spec.get("type"),
            expected=", ".join(SQL_TYPES),
        )
    for key in ("title", "description"):
        if not isinstance(spec.get(key), str) or not spec[key].strip():
            raise _field_error(
                file, text, name, f"'{key}' is required (the data dictionary and the DuckDB comments show it)"
            )
    constraints = spec.get("constraints", {})
    if not isinstance(constraints, dict):
        raise _field_error(file, text, name, "'constraints' must be a mapping")
    for key in constraints:
        if key not in CONSTRAINTS:
            raise NewstablesError(
                "schema-unsupported-constraint",
                file=file,
                line=line,
                field=name,
                value=key,
                expected=", ".join(CONSTRAINTS),
            )
    return Field(
        name=name,
        type=spec["type"],
        title=spec["title"],
        description=spec["description"],
        required=_flag(constraints, "required", file, text, name),
        enum=_enum(constraints, file, text, name),
        pattern=_pattern(constraints, file, line, name),
        minimum=_bound(constraints, "minimum", file, text, name, spec["type"]),
        maximum=_bound(constraints, "maximum", file, text, name, spec["type"]),
        unique=_flag(constraints, "unique", file, text, name),
        source=spec,
    )


def _flag(constraints: dict[str, Any], key: str, file: str, text: str, name: str) -> bool:
    value = constraints.get(key, False)
    if not isinstance(value, bool):
        raise _field_error(file, text, name, f"constraint '{key}' must be true or false, not {value!r}")
    return value


def _enum(constraints: dict[str, Any], file: str, text: str, name: str) -> tuple[str, ...] | None:
    if "enum" not in constraints:
        return None
    values = constraints["enum"]
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise _field_error(file, text, name, "constraint 'enum' must be a non-empty list of strings")
    return tuple(values)


def _pattern(constraints: dict[str, Any], file: str, line: int | str, name: str) -> str | None:
    if "pattern" not in constraints:
        return None
    pattern = constraints["pattern"]
    try:
        re.compile(str(pattern))
    except re.error as exc:
        raise NewstablesError(
            "schema-invalid-pattern", file=file, line=line, field=name, value=pattern, detail=str(exc)
        ) from exc
    if not isinstance(pattern, str):
        raise NewstablesError(
            "schema-invalid-pattern",
            file=file,
            line=line,
            field=name,
            value=pattern,
            detail="a pattern is a string",
        )
    return pattern


def _bound(constraints: dict[str, Any], key: str, file: str, text: str, name: str, type_: str) -> int | None:
    if key not in constraints:
        return None
    value = constraints[key]
    if type_ != "integer" or not isinstance(value, int) or isinstance(value, bool):
        raise _field_error(file, text, name, f"constraint '{key}' applies to integer fields, as an integer")
    return value


def _names(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def parse_foreign_key(spec: Any, file: str, table: str) -> ForeignKey:
    """A foreignKeys entry (checked for shape; targets are checked across tables)."""
    reference = spec.get("reference") if isinstance(spec, dict) else None
    fields = _names(spec.get("fields")) if isinstance(spec, dict) else None
    ref_fields = _names(reference.get("fields")) if isinstance(reference, dict) else None
    target = reference.get("resource") if isinstance(reference, dict) else None
    if fields is None or ref_fields is None or not isinstance(target, str) or len(fields) != len(ref_fields):
        raise NewstablesError(
            "schema-unknown-reference",
            file=file,
            field=str(spec)[:80],
            detail="expected {fields: [...], reference: {resource, fields: [...]}} "
            "with as many fields on each side",
        )
    return ForeignKey(fields, target or table, ref_fields)


def parse_schema(descriptor: Any, file: str, entry: dict[str, Any], text: str = "") -> Resource:
    """A Table Schema (already parsed JSON) and its package.yaml entry as a :class:`Resource`."""
    if not isinstance(descriptor, dict):
        raise NewstablesError(
            "schema-invalid", file=file, detail=f"expected a JSON object, got {type(descriptor).__name__}"
        )
    specs = descriptor.get("fields")
    if not isinstance(specs, list) or not specs:
        raise NewstablesError("schema-invalid", file=file, detail="'fields' must be a non-empty list")
    fields = tuple(parse_field(spec, file, text) for spec in specs)
    names = [f.name for f in fields]
    for name in names:
        if names.count(name) > 1:
            raise _field_error(file, text, name, "declared twice")
    key = _names(descriptor.get("primaryKey"))
    if key is None:
        raise NewstablesError("schema-no-primary-key", file=file, detail="none declared")
    for column in key:
        if column not in names:
            raise NewstablesError(
                "schema-no-primary-key", file=file, detail=f"primaryKey names {column!r}, not a field"
            )
    fks = descriptor.get("foreignKeys", [])
    if not isinstance(fks, list):
        raise NewstablesError("schema-invalid", file=file, detail="'foreignKeys' must be a list")
    foreign_keys = tuple(parse_foreign_key(fk, file, str(entry["name"])) for fk in fks)
    for fk in foreign_keys:
        for column in fk.fields:
            if column not in names:
                raise NewstablesError(
                    "schema-unknown-reference",
                    file=file,
                    field=column,
                    detail=f"{column!r} is not a field of this table",
                )
    missing = descriptor.get("missingValues", [""])
    if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
        raise NewstablesError("schema-invalid", file=file, detail="'missingValues' must be a list of strings")
    return Resource(
        name=str(entry["name"]),
        title=str(entry.get("title", "")),
        description=str(entry.get("description", "")),
        fields=fields,
        primary_key=key,
        foreign_keys=foreign_keys,
        missing_values=tuple(missing),
        id_template=entry.get("id_template"),
        schema_file=file,
        partition=entry.get("partition"),
    )


def load_schema_file(path: Path, file: str, entry: dict[str, Any]) -> Resource:
    """Read and parse a Table Schema file for the table ``entry`` names."""
    if not path.is_file():
        raise NewstablesError("schema-missing", file=file, table=entry["name"])
    text = read_text(path, file)
    try:
        descriptor = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NewstablesError("schema-invalid", file=file, detail=str(exc), line=exc.lineno) from exc
    return parse_schema(descriptor, file, entry, text)


def _unknown_reference(resource: Resource, fk: ForeignKey, detail: str) -> NewstablesError:
    return NewstablesError(
        "schema-unknown-reference", file=resource.schema_file, field=fk.fields[0], detail=detail
    )


def check_references(tables: dict[str, Resource]) -> list[NewstablesError]:
    """Every foreign key names a known table and fields of it."""
    found = []
    for resource in tables.values():
        for fk in resource.foreign_keys:
            target = tables.get(fk.resource)
            if target is None:
                detail = f"resource {fk.resource!r} is not a table of {PACKAGE_FILE}"
                found.append(_unknown_reference(resource, fk, detail))
                continue
            found += [
                _unknown_reference(resource, fk, f"{column!r} is not a field of table {fk.resource}")
                for column in fk.reference_fields
                if not target.has_field(column)
            ]
    return found


def load_tables(root: Path, package: Package) -> tuple[dict[str, Resource], list[NewstablesError]]:
    """Every table of the package, with the problems found (one per broken schema file)."""
    tables: dict[str, Resource] = {}
    found: list[NewstablesError] = []
    for entry in package.entries:
        file = f"schemas/{entry['name']}.schema.json"
        try:
            tables[str(entry["name"])] = load_schema_file(root / file, file, entry)
        except NewstablesError as error:
            found.append(error)
    if not found:
        found += check_references(tables)
    for resource in tables.values():
        if resource.id_template and resource.name in tables:
            found += _check_template(resource)
        if resource.partition and not resource.has_field("document_id"):
            found.append(
                _invalid(
                    PACKAGE_FILE,
                    {},
                    "resources",
                    f"{resource.name}.partition: {resource.partition}",
                    f"a partitioned table with a document_id column ({resource.name} has none)",
                )
            )
    return tables, found


# Names an id_template may use besides its table's columns: ``document_prefix`` is empty for
# the seed document (so ids published before the corpus layout never change) and
# ``<document_id>@`` for any other document (so two documents never derive the same id).
TEMPLATE_NAMES = frozenset({"document_prefix"})


def _check_template(resource: Resource) -> list[NewstablesError]:
    names = set(re.findall(r"\{(\w+)", resource.id_template or ""))
    unknown = sorted(names - set(resource.columns) - TEMPLATE_NAMES)
    if unknown:
        return [
            _invalid(
                PACKAGE_FILE,
                {},
                "resources",
                resource.id_template,
                f"an id_template naming fields of {resource.name} (not {', '.join(unknown)})",
            )
        ]
    return []


# --- loading: validation ------------------------------------------------------------------------


def parse_suite(data: Any, file: str, table: str) -> Suite:
    """An expectation suite: a JSON object whose ``expectations`` have a type and kwargs."""
    if not isinstance(data, dict):
        raise NewstablesError(
            "suite-invalid", file=file, detail=f"expected a JSON object, got {type(data).__name__}"
        )
    expectations = data.get("expectations", [])
    if not isinstance(expectations, list):
        raise NewstablesError("suite-invalid", file=file, detail="'expectations' must be a list")
    if "id" in data or any(isinstance(e, dict) and "id" in e for e in expectations):
        raise NewstablesError(
            "suite-invalid", file=file, detail="suites are saved without GX's random 'id' fields"
        )
    for index, item in enumerate(expectations, start=1):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("type"), str)
            or not isinstance(item.get("kwargs", {}), dict)
        ):
            raise NewstablesError(
                "suite-invalid",
                file=file,
                detail=f"expectation {index}: expected {{type: expect_..., kwargs: {{...}}}}",
            )
        if not re.fullmatch(r"expect_[a-z0-9_]+", item["type"]):
            raise NewstablesError(
                "suite-unknown-expectation",
                file=file,
                record=index,
                field="type",
                value=item["type"],
                expected="expect_column_values_to_be_in_set",
            )
    return Suite(table, file, tuple(expectations))


def load_suite(root: Path, table: str) -> Suite:
    """``validation/<table>.json``, or an empty suite when the table has none."""
    file = f"validation/{table}.json"
    path = root / file
    if not path.is_file():
        return Suite(table, file)
    text = read_text(path, file)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NewstablesError("suite-invalid", file=file, detail=f"not JSON: {exc}") from exc
    return parse_suite(data, file, table)


def load_frame_sql(root: Path, table: str) -> str | None:
    """``validation/<table>.sql`` (one SELECT that DuckDB parses), or None when absent."""
    import duckdb

    file = f"validation/{table}.sql"
    path = root / file
    if not path.is_file():
        return None
    sql = read_text(path, file)
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise NewstablesError("sql-invalid", file=file, detail=" ".join(str(exc).split())) from exc
    if len(statements) != 1:
        raise NewstablesError(
            "sql-invalid", file=file, detail=f"{len(statements)} statements; expected one SELECT"
        )
    return sql


def load_expected_counts(root: Path, tables: list[str], complete: bool = True) -> dict[str, int]:
    """``validation/expected_counts.yaml``: table -> expected row count.

    With ``complete`` (the build), every table must have a count; ``newstables counts`` reads
    the file without that demand, since listing the missing counts is its job."""
    file = "validation/expected_counts.yaml"
    data, lines = load_mapping(root / file, file)
    for table, count in data.items():
        if table not in tables:
            raise _invalid(file, lines, table, count, f"a table of {PACKAGE_FILE} ({', '.join(tables)})")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise _invalid(file, lines, table, count, "a row count (an integer >= 0)")
    for table in tables if complete else []:
        if table not in data:
            raise NewstablesError(
                "metadata-invalid",
                file=file,
                field=table,
                line="-",
                detail="no expected row count for this table",
            )
    return dict(data)


def load_story(root: Path) -> dict[str, dt.date]:
    """``validation/story.yaml``: variable name -> date, for the suites' SQL."""
    file = "validation/story.yaml"
    data, lines = load_mapping(root / file, file)
    story = {}
    for name, value in data.items():
        if not SQL_NAME.fullmatch(name):
            raise _invalid(file, lines, name, value, "a lower-case name (letters, digits, _)")
        try:
            story[name] = _coerce_date(value)
        except Mismatch as exc:
            raise _invalid(file, lines, name, value, "a real calendar date YYYY-MM-DD") from exc
    return story


def _collect(found: list[NewstablesError], load: Any, *args: Any) -> Any:
    try:
        return load(*args)
    except NewstablesError as error:
        found.append(error)
        return None


def check_model(
    project_root: Path, complete_counts: bool = True
) -> tuple[Model | None, list[NewstablesError]]:
    """Load every metadata file; return the model (None when broken) and every problem found.

    ``complete_counts=False`` accepts an expected-counts file that lacks some tables."""
    package = load_package(project_root)
    tables, found = load_tables(project_root, package)
    model = Model(project_root, package, tables)
    for table in package.table_names:
        suite = _collect(found, load_suite, project_root, table)
        if suite is not None:
            model.suites[table] = suite
        try:
            model.frame_sql[table] = load_frame_sql(project_root, table)
        except NewstablesError as error:
            found.append(error)
    counts = _collect(found, load_expected_counts, project_root, package.table_names, complete_counts)
    model.expected_counts = counts or {}
    model.story = _collect(found, load_story, project_root) or {}
    if not found:
        found += undefined_variables(model)
    return (None if found else model), found


def undefined_variables(model: Model) -> list[NewstablesError]:
    """Story variables a frame's SQL reads (``getvariable('x')``) that story.yaml lacks."""
    found = []
    for table, sql in model.frame_sql.items():
        for name in sorted(set(re.findall(r"getvariable\(\s*'(\w+)'\s*\)", sql or "", re.IGNORECASE))):
            if name not in model.story:
                found.append(
                    NewstablesError(
                        "metadata-invalid",
                        file="validation/story.yaml",
                        field=name,
                        line="-",
                        detail=f"validation/{table}.sql reads it; expected a date for it here",
                    )
                )
    return found


def load_model(project_root: Path, complete_counts: bool = True) -> Model:
    """The checked model of a project folder; raises ErrorList with every problem found.

    Example: ``load_model(Path(".")).tables["votes"].ddl()``.
    """
    model, found = check_model(project_root, complete_counts)
    if found or model is None:
        raise ErrorList(found)
    return model


# --- resources shipped with the package ---------------------------------------------------------


CHANGES = "changes"


def changes_schema_text() -> str:
    """The Table Schema text of the ``changes`` table (``core/changes.schema.json``)."""
    return package_files.files(__package__).joinpath("changes.schema.json").read_text(encoding="utf-8")


def changes_resource(description: str) -> Resource:
    """The ``changes`` table written by ``diff --write-changes`` and ``release --previous``."""
    text = changes_schema_text()
    entry = {"name": CHANGES, "title": "Changes since the previous release", "description": description}
    return parse_schema(json.loads(text), f"schemas/{CHANGES}.schema.json", entry, text)


# --- release descriptors (datapackage.json of a built or released package) -----------------------


def read_descriptor(path: Path, file: str) -> tuple[dict[str, Any] | None, list[NewstablesError]]:
    """A published ``datapackage.json``: a JSON object whose ``resources`` is a list of objects.

    Returns the descriptor, or None and the catalogued problem (``not-a-package``).
    """
    if not path.is_file():
        return None, [
            NewstablesError(
                "not-a-package", file=file, detail="no such file; expected a Data Package descriptor"
            )
        ]
    try:
        descriptor = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, [NewstablesError("not-a-package", file=file, detail=f"not JSON: {exc}")]
    if not isinstance(descriptor, dict):
        return None, [
            NewstablesError(
                "not-a-package", file=file, detail=f"expected a JSON object, got {type(descriptor).__name__}"
            )
        ]
    resources = descriptor.get("resources")
    if not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources):
        return None, [
            NewstablesError(
                "not-a-package",
                file=file,
                detail=f"'resources' is {json.dumps(resources)[:40]}; expected a list of objects",
            )
        ]
    return descriptor, []
