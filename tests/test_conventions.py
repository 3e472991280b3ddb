"""Conventions every table, schema, suite and command follows (metadata as data)."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from newstables.evidence import BOILERPLATE_KINDS, EVIDENCE_FIELDS
from tests.conftest import REPO

METADATA = yaml.safe_load((REPO / "schemas/package.yaml").read_text(encoding="utf-8"))
TABLES = [r["name"] for r in METADATA["resources"]]
SCHEMAS = {t: json.loads((REPO / f"schemas/{t}.schema.json").read_text(encoding="utf-8")) for t in TABLES}


@pytest.mark.parametrize("table", TABLES)
def test_every_field_is_titled_and_described(table: str) -> None:
    for field in SCHEMAS[table]["fields"]:
        assert field.get("title") and field.get("description"), f"{table}.{field['name']}"


# The documents table is the evidence itself (built from data/articles/<id>/), not typed facts;
# redirects are editorial metadata about ids, not facts of a text.
FACT_TABLES = [t for t in TABLES if t not in ("documents", "redirects")]
# Tables the build derives, never typed: no annotation file.
DERIVED_TABLES = ("documents", "actor_aliases")


@pytest.mark.parametrize("table", FACT_TABLES)
def test_every_table_carries_the_evidence_columns(table: str) -> None:
    names = [f["name"] for f in SCHEMAS[table]["fields"]]
    assert names[-len(EVIDENCE_FIELDS) :] == list(EVIDENCE_FIELDS)


@pytest.mark.parametrize("table", TABLES)
def test_every_id_column_is_a_key(table: str) -> None:
    schema = SCHEMAS[table]
    keyed = set(schema["primaryKey"]) | {c for fk in schema.get("foreignKeys", []) for c in fk["fields"]}
    ids = {f["name"] for f in schema["fields"] if f["name"].endswith("_id")}
    if table == "redirects":  # its ids name rows of the table in table_name: the build checks them
        ids -= {"new_id"}
    assert ids <= keyed, f"{table}: {sorted(ids - keyed)} reference nothing"


@pytest.mark.parametrize("table", TABLES)
def test_every_foreign_key_names_a_real_table_and_field(table: str) -> None:
    for fk in SCHEMAS[table].get("foreignKeys", []):
        target = SCHEMAS[fk["reference"]["resource"]]
        assert set(fk["reference"]["fields"]) <= {f["name"] for f in target["fields"]}


@pytest.mark.parametrize("table", TABLES)
def test_every_table_has_annotations_a_suite_and_an_expected_count(table: str) -> None:
    counts = yaml.safe_load((REPO / "validation/expected_counts.yaml").read_text(encoding="utf-8"))
    assert table in DERIVED_TABLES or (REPO / f"data/annotations/{table}.yaml").is_file()
    assert (REPO / f"validation/{table}.json").is_file()
    assert table in counts


@pytest.mark.parametrize("table", TABLES)
def test_suites_are_stable_data_with_a_reason_per_expectation(table: str) -> None:
    text = (REPO / f"validation/{table}.json").read_text(encoding="utf-8")
    suite = json.loads(text)
    assert '"id"' not in text, "no random GX ids in a suite file"
    for expectation in suite["expectations"]:
        assert expectation["type"].startswith("expect_")
        assert expectation["meta"]["check"] and expectation["meta"]["why"]
    assert text == json.dumps(suite, indent=2, ensure_ascii=False) + "\n", "canonical JSON bytes"


def test_every_suite_loads_in_great_expectations_without_losing_expectations() -> None:
    import great_expectations as gx

    for table in TABLES:
        suite = json.loads((REPO / f"validation/{table}.json").read_text(encoding="utf-8"))
        loaded = gx.ExpectationSuite(name=table, expectations=suite["expectations"])
        assert len(loaded.expectations) == len(suite["expectations"]), table


def test_ids_in_annotations_are_readable_never_row_numbers() -> None:
    files = [REPO / "data/annotations", *sorted((REPO / "data/articles").glob("*/annotations"))]
    for table in TABLES:
        key = SCHEMAS[table]["primaryKey"][0]
        paths = [folder / f"{table}.yaml" for folder in files if (folder / f"{table}.yaml").is_file()]
        records = [r for path in paths for r in yaml.safe_load(path.read_text(encoding="utf-8")) or []]
        if table == "documents":  # built from the article folders: the id is the folder's name
            records = [{key: p.name} for p in (REPO / "data/articles").iterdir() if p.is_dir()]
        for record in records:
            value = record.get(key)
            if value is not None:
                assert not re.fullmatch(r"\d+", str(value)), f"{table}: {value}"


def test_regions_declare_the_boilerplate() -> None:
    regions = yaml.safe_load((REPO / "data/annotations/regions.yaml").read_text(encoding="utf-8"))
    assert {r["kind"] for r in regions} >= set(BOILERPLATE_KINDS)


def test_every_waiver_has_a_reason() -> None:
    for waiver in yaml.safe_load((REPO / "data/annotations/waivers.yaml").read_text(encoding="utf-8")):
        assert len(waiver["reason"]) > 10, waiver


def test_gitignore_does_not_ignore_the_package_folder() -> None:
    import subprocess

    ignored = subprocess.run(["git", "check-ignore", "-q", "build/newstables/cli.py"], cwd=REPO)
    assert ignored.returncode == 1, "build/ holds the package and must be tracked"


def test_every_command_has_help_with_an_example() -> None:
    from newstables.cli import app

    for name, command in app.commands.items():
        assert "Example: newstables " + name in (command.help or ""), name
