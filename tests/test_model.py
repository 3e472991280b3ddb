"""The metadata model: one Field/Resource gives SQL, Arrow, coercion and the descriptor."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from newstables.core.model import (
    Field,
    Mismatch,
    changes_resource,
    changes_schema_text,
    load_model,
    parse_field,
    parse_schema,
    read_descriptor,
)
from newstables.errors import ErrorList, NewstablesError
from tests.conftest import REPO

FIELD_CASES = [
    # type, SQL, Arrow, a good YAML value and its Python value, a bad value, its error type
    ("string", "VARCHAR", pa.string(), "yes", "yes", True, "wrong-type"),
    ("integer", "BIGINT", pa.int64(), 3, 3, "3", "wrong-type"),
    ("boolean", "BOOLEAN", pa.bool_(), False, False, "false", "wrong-type"),
    ("date", "DATE", pa.date32(), "2022-03-13", dt.date(2022, 3, 13), "2022-02-30", "invalid-date"),
]


def spec(type_: str, **constraints: object) -> dict[str, object]:
    """A field descriptor with a title and description."""
    out: dict[str, object] = {"name": "x", "type": type_, "title": "X", "description": "An x."}
    if constraints:
        out["constraints"] = constraints
    return out


@pytest.mark.parametrize(("type_", "sql", "arrow", "good", "value", "bad", "error"), FIELD_CASES)
def test_each_type_maps_to_sql_arrow_and_coerces(
    type_: str, sql: str, arrow: pa.DataType, good: object, value: object, bad: object, error: str
) -> None:
    field = parse_field(spec(type_), "schemas/t.schema.json")
    assert field.to_sql() == sql
    assert field.to_arrow() == arrow
    assert field.coerce(good) == value
    with pytest.raises(Mismatch) as caught:
        field.coerce(bad)
    assert caught.value.error_type == error
    assert field.to_frictionless() == spec(type_)


def test_booleans_are_never_integers() -> None:
    with pytest.raises(Mismatch):
        parse_field(spec("integer"), "f").coerce(True)


def test_constraints_give_sql_and_violations() -> None:
    field = parse_field(spec("string", required=True, enum=["a", "b"]), "f")
    assert field.column_sql() == "\"x\" VARCHAR NOT NULL CHECK (\"x\" IN ('a', 'b'))"
    assert field.violation("c") == ("enum-violation", "a, b")
    assert field.violation(None) == ("missing-field", "a value")
    assert field.violation("a") is None
    bounded = parse_field(spec("integer", minimum=1, maximum=3), "f")
    assert bounded.violation(0) is not None and bounded.violation(4) is not None
    assert bounded.violation(2) is None
    assert parse_field(spec("string", pattern="[a-z]+"), "f").violation("A1") == (
        "pattern-violation",
        "[a-z]+",
    )


@pytest.mark.parametrize(
    ("descriptor", "error"),
    [
        (spec("number"), "schema-unsupported-type"),
        (spec("string", maxLength=3), "schema-unsupported-constraint"),
        (spec("string", pattern="[a-"), "schema-invalid-pattern"),
        ({"name": "x", "type": "string", "description": "no title"}, "schema-field-invalid"),
        (spec("string", minimum=1), "schema-field-invalid"),
        (spec("string", required="yes"), "schema-field-invalid"),
    ],
)
def test_unsupported_fields_are_refused_with_coordinates(descriptor: dict[str, object], error: str) -> None:
    text = json.dumps({"fields": [descriptor]}, indent=2)
    with pytest.raises(NewstablesError) as caught:
        parse_field(descriptor, "schemas/t.schema.json", text)
    assert caught.value.type == error
    assert caught.value.coordinates["file"] == "schemas/t.schema.json"
    assert caught.value.coordinates["field"] == "x"


def test_the_seed_model_round_trips_every_schema() -> None:
    model = load_model(REPO)
    assert list(model.tables) == model.package.table_names
    for resource in model.resources:
        on_disk = json.loads((REPO / resource.schema_file).read_text(encoding="utf-8"))
        assert resource.descriptor() == on_disk, resource.name
        assert resource.arrow_schema().names == resource.columns
        assert set(model.expected_counts) == set(model.tables)
    assert set(model.story) >= {"report_date", "window_start", "window_end"}


def test_ddl_declares_keys_only_to_tables_created_before() -> None:
    votes = load_model(REPO).tables["votes"]
    alone = votes.ddl(set())
    assert 'PRIMARY KEY ("vote_id")' in alone and "FOREIGN KEY" not in alone
    assert 'FOREIGN KEY ("event_id") REFERENCES events ("event_id")' in votes.ddl({"events"})


def test_the_changes_table_is_an_ordinary_resource() -> None:
    changes = changes_resource("Since 0.1.0.")
    assert changes.primary_key == ("table_name", "primary_key")
    assert changes.descriptor() == json.loads(changes_schema_text())
    assert changes.comment_sql()[0] == "COMMENT ON TABLE changes IS 'Since 0.1.0.'"


def test_a_schema_without_primary_key_is_refused() -> None:
    entry = {"name": "t", "title": "T", "description": "D"}
    with pytest.raises(NewstablesError) as caught:
        parse_schema({"fields": [spec("string")]}, "schemas/t.schema.json", entry)
    assert caught.value.type == "schema-no-primary-key"


@pytest.mark.parametrize("text", ['{"resources": null}', "[1, 2]", '{"resources": [1]}', "not json"])
def test_a_malformed_release_descriptor_is_not_a_package(tmp_path: Path, text: str) -> None:
    path = tmp_path / "datapackage.json"
    path.write_text(text, encoding="utf-8")
    descriptor, problems = read_descriptor(path, "datapackage.json")
    assert descriptor is None and [p.type for p in problems] == ["not-a-package"]


def test_a_folder_without_package_yaml_is_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(NewstablesError) as caught:
        load_model(tmp_path)
    assert caught.value.type == "not-a-project"


def test_every_broken_schema_is_reported_at_once(tmp_path: Path) -> None:
    shutil.copytree(REPO / "schemas", tmp_path / "schemas")
    shutil.copytree(REPO / "validation", tmp_path / "validation", ignore=shutil.ignore_patterns("report*"))
    for table in ("votes", "events"):
        path = tmp_path / f"schemas/{table}.schema.json"
        path.write_text(path.read_text(encoding="utf-8").replace('"type": "date"', '"type": "number"'))
    with pytest.raises(ErrorList) as caught:
        load_model(tmp_path)
    assert {e.coordinates["file"] for e in caught.value.errors} == {
        "schemas/votes.schema.json",
        "schemas/events.schema.json",
    }


def test_field_is_frozen() -> None:
    field = Field("x", "string", "X", "An x.")
    with pytest.raises(AttributeError):
        field.name = "y"  # type: ignore[misc]
