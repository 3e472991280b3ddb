"""The SQL row checks find exactly what Frictionless finds: same error type, row and field.

Both run on (1) the published CSVs of the built mini project, clean; (2) every bad-input
fixture that overlays published CSVs or Table Schemas (``tests/bad_inputs/verify-*``);
(3) a CSV twin of every build fixture whose defect is a row-level one in a published table
(the refused annotation value written into the built CSV: enum, pattern, required, types,
duplicate ids, dangling references); (4) one-defect CSVs of a tiny probe package written
here, one per check kind (types, each constraint, unique, primary and foreign keys,
composite keys and missing cells, self-references, blank rows, and the edge cases of
Frictionless's readers).
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from newstables.core.model import Resource, load_model, parse_schema
from newstables.core.rowchecks import RowFinding, row_findings
from newstables.pipeline import build
from tests.conftest import assemble

CASES_DIR = Path(__file__).parent / "bad_inputs"
ROW_TYPES = {"type-error", "constraint-error", "unique-error", "primary-key", "foreign-key", "blank-row"}
# Frictionless's header and cell-count errors: the SQL checks say "structure-error" instead.
STRUCTURE_TYPES = {"extra-label", "missing-label", "incorrect-label", "blank-label", "duplicate-label"}
STRUCTURE_TYPES |= {"extra-cell", "missing-cell", "source-error", "scheme-error"}

Key = tuple[str, str, int, str]


def frictionless_keys(descriptor: Path) -> tuple[set[Key], set[str]]:
    """Frictionless's row-level findings (table, type, row, field) and the tables it finds
    structurally broken."""
    import frictionless

    report = frictionless.validate(descriptor)
    found: set[Key] = set()
    broken: set[str] = set()
    for task in report.tasks:
        for error in task.errors:
            if error.type in ROW_TYPES:
                field = getattr(error, "field_name", "") or ""
                found.add((task.name, error.type, int(error.row_number), field))
            elif error.type in STRUCTURE_TYPES:
                broken.add(task.name)
    return found, broken


def sql_keys(files: dict[str, Path], resources: dict[str, Resource]) -> tuple[set[Key], set[str]]:
    """The SQL checks' findings, and the tables they find structurally broken."""
    found = row_findings(files, resources)
    broken = {f.table for f in found if f.type == "structure-error"}
    return {f.key() for f in found if f.type != "structure-error"}, broken


def assert_same(frictionless: tuple[set[Key], set[str]], sql: tuple[set[Key], set[str]]) -> None:
    """Same structurally broken tables; on the others, the very same findings."""
    (by_frictionless, broken_f), (by_sql, broken_s) = frictionless, sql
    assert broken_s == broken_f, "both must see the same malformed files"
    by_frictionless = {k for k in by_frictionless if k[0] not in broken_f}
    assert by_sql == by_frictionless, (
        f"only SQL: {sorted(by_sql - by_frictionless)}; only Frictionless: {sorted(by_frictionless - by_sql)}"
    )


# --- the published mini project and the verify-* fixtures -------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = assemble(tmp_path_factory.mktemp("rowchecks") / "mini", "mini")
    build(root)
    return root


def published(root: Path) -> tuple[dict[str, Path], dict[str, Resource]]:
    model = load_model(root)
    return {name: root / "data" / f"{name}.csv" for name in model.tables}, model.tables


def test_the_clean_build_has_no_findings_in_either(built: Path) -> None:
    files, resources = published(built)
    frictionless = frictionless_keys(built / "datapackage.json")
    assert frictionless == (set(), set())
    assert_same(frictionless, sql_keys(files, resources))


def overlays(case: Path) -> list[Path]:
    """The published CSVs and Table Schemas a verify fixture replaces in the built release
    (a build fixture's schemas are refused before any row is read)."""
    expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
    if expected.get("command") != "verify":
        return []
    return [*case.glob("data/*.csv"), *case.glob("schemas/*.schema.json")]


CSV_CASES = sorted(p.name for p in CASES_DIR.iterdir() if overlays(p))


def test_there_are_csv_fixtures_to_compare() -> None:
    assert len(CSV_CASES) >= 7, CSV_CASES


@pytest.mark.parametrize("case", CSV_CASES)
def test_bad_input_csvs_give_the_same_findings(built: Path, tmp_path: Path, case: str) -> None:
    root = tmp_path / "release"
    shutil.copytree(built, root)
    for overlay in overlays(CASES_DIR / case):
        shutil.copyfile(overlay, root / overlay.parent.name / overlay.name)
    files, resources = published(root)
    assert_same(frictionless_keys(root / "datapackage.json"), sql_keys(files, resources))


# --- CSV twins of the build's bad inputs --------------------------------------------------------
# The build refuses these annotations before any CSV exists; their twin is the built CSV with
# the refused value written into the cell, so both checkers meet the very same defect.

TWIN_FINDS = {  # the build's error -> what Frictionless (and the SQL) find in the twin CSV
    "enum-violation": "constraint-error",
    "pattern-violation": "constraint-error",
    "missing-field": "constraint-error",
    "invalid-date": "type-error",
    "wrong-type": "type-error",  # a string field reads any text: then no finding
    "duplicate-id": "primary-key",
    "dangling-reference": "foreign-key",
    "unknown-document": "foreign-key",
}
SCHEMAS = Path(__file__).parents[1] / "schemas"


def twin_of(case: Path) -> dict[str, Any] | None:
    """Table, record number, field and value as written of a build fixture with a row-level
    defect in a published table's annotations (None for the other fixtures)."""
    expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
    if expected.get("command", "build") != "build" or expected.get("error") not in TWIN_FINDS:
        return None
    table = Path(str(expected["file"])).stem
    schema_file = SCHEMAS / f"{table}.schema.json"
    if not schema_file.is_file():
        return None  # not a published table (regions)
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    fields = {f["name"]: f["type"] for f in schema["fields"]}
    if expected["field"] not in fields:
        return None  # an annotation-only key (occurrence), never a CSV column
    record = int(str(expected["record"]).split()[0])
    # The scalars as written (composed, not constructed: an impossible date stays text).
    node = yaml.compose((case / str(expected["file"])).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    values = {k.value: v.value for k, v in node.value[record - 1].value if isinstance(v, yaml.ScalarNode)}
    finds = TWIN_FINDS[expected["error"]]
    if finds == "type-error" and fields[expected["field"]] == "string":
        finds = ""
    return {"table": table, "record": record, "field": expected["field"], "values": values, "finds": finds}


TWIN_CASES = sorted(p.name for p in CASES_DIR.iterdir() if twin_of(p) is not None)


def test_every_row_level_build_fixture_has_a_twin() -> None:
    assert len(TWIN_CASES) >= 10, TWIN_CASES
    finds = {str(twin["finds"]) for twin in map(twin_of, (CASES_DIR / c for c in TWIN_CASES)) if twin}
    assert {"constraint-error", "type-error", "primary-key", "foreign-key"} <= finds


@pytest.mark.parametrize("case", TWIN_CASES)
def test_csv_twins_of_build_fixtures_give_the_same_findings(built: Path, tmp_path: Path, case: str) -> None:
    twin = twin_of(CASES_DIR / case)
    assert twin is not None
    root = tmp_path / "release"
    shutil.copytree(built, root)
    path = root / "data" / f"{twin['table']}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    index, field = twin["record"] - 1, twin["field"]
    if index >= len(rows):  # a record the built table does not have: a row of its own
        rows.append([twin["values"].get(name, rows[0][i] if rows else "") for i, name in enumerate(header)])
        index = len(rows) - 1
    rows[index][header.index(field)] = twin["values"].get(field, "")
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    files, resources = published(root)
    sql = sql_keys(files, resources)
    assert_same(frictionless_keys(root / "datapackage.json"), sql)
    if twin["finds"]:
        column = "" if twin["finds"] in ("primary-key", "foreign-key") else field
        assert (twin["table"], twin["finds"], index + 2, column) in sql[0], sorted(sql[0])


# --- one-defect CSVs of a probe package ---------------------------------------------------------

PROBE_SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "probe_id", "type": "string", "title": "Id", "description": "d",
         "constraints": {"required": True, "pattern": "^[a-z]+(-[a-z]+)*$"}},
        {"name": "count", "type": "integer", "title": "Count", "description": "d",
         "constraints": {"minimum": 0, "maximum": 10}},
        {"name": "flag", "type": "boolean", "title": "Flag", "description": "d",
         "constraints": {"required": True}},
        {"name": "day", "type": "date", "title": "Day", "description": "d"},
        {"name": "kind", "type": "string", "title": "Kind", "description": "d",
         "constraints": {"enum": ["a", "b"]}},
        {"name": "code", "type": "string", "title": "Code", "description": "d",
         "constraints": {"unique": True}},
        {"name": "parent_id", "type": "string", "title": "Parent", "description": "d",
         "constraints": {"pattern": "^[a-z]+(-[a-z]+)*$"}},
    ],
    "primaryKey": ["probe_id"],
    "foreignKeys": [{"fields": ["parent_id"], "reference": {"resource": "", "fields": ["probe_id"]}}],
    "missingValues": [""],
}  # fmt: skip
LINK_SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "probe_id", "type": "string", "title": "Probe", "description": "d"},
        {"name": "seq", "type": "integer", "title": "Seq", "description": "d"},
    ],
    "primaryKey": ["probe_id", "seq"],
    "foreignKeys": [{"fields": ["probe_id"], "reference": {"resource": "probes", "fields": ["probe_id"]}}],
    "missingValues": [""],
}  # fmt: skip
HEADER = "probe_id,count,flag,day,kind,code,parent_id"
GOOD = ["alpha,1,true,2022-03-13,a,x1,", "beta,2,false,2022-03-14,b,x2,alpha", "gamma,,1,,,,beta"]
LINK = ["probe_id,seq", "alpha,1", "alpha,2", "beta,1"]


DEFECTS: dict[str, tuple[list[str], list[str]]] = {
    "clean": (GOOD, LINK),
    "integer-not-a-number": ([*GOOD[:2], "gamma,many,1,,,,beta"], LINK),
    "integer-a-decimal": ([*GOOD[:2], "gamma,1.0,1,,,,beta"], LINK),
    "integer-python-forms": ([*GOOD[:2], 'gamma," +1_0 ",1,,,,beta'], LINK),
    "integer-leading-zeros-and-minus-zero": ([*GOOD[:2], "gamma,007,1,,,,beta", "delta,-0,1,,,,beta"], LINK),
    "integer-beyond-64-bits": ([*GOOD[:2], "gamma,99999999999999999999,1,,,,beta"], LINK),
    "integer-unicode-space": ([*GOOD[:2], "gamma,\u00a05,1,,,,beta"], LINK),
    "boolean-yes": ([*GOOD[:2], "gamma,,yes,,,,beta"], LINK),
    "date-impossible": ([*GOOD[:2], "gamma,,1,2022-02-30,,,beta"], LINK),
    "date-unpadded-and-padded": ([*GOOD[:2], 'gamma,,1,"2022-3- 5",,,beta'], LINK),
    "date-year-zero": ([*GOOD[:2], "gamma,,1,0000-01-01,,,beta"], LINK),
    "date-trailing-space": ([*GOOD[:2], 'gamma,,1,"2022-03-13 ",,,beta'], LINK),
    "date-leap-day": ([*GOOD[:2], "gamma,,1,2024-02-29,,,beta", "delta,,1,2023-02-29,,,beta"], LINK),
    "date-other-format": ([*GOOD[:2], "gamma,,1,13/03/2022,,,beta"], LINK),
    "required-missing": ([*GOOD[:2], "gamma,,,,,,beta"], LINK),
    "required-and-type": ([*GOOD[:2], "gamma,,maybe,,,,beta"], LINK),
    "enum": ([*GOOD[:2], "gamma,,1,,c,,beta"], LINK),
    "pattern": ([*GOOD[:2], "Gamma,,1,,,,beta"], LINK),
    "pattern-final-newline": ([*GOOD[:2], '"gamma\n",,1,,,,beta'], LINK),
    "minimum": ([*GOOD[:2], "gamma,-1,1,,,,beta"], LINK),
    "maximum": ([*GOOD[:2], "gamma,11,1,,,,beta"], LINK),
    "pattern-of-an-optional-field": ([*GOOD[:2], "gamma,,1,,,,Beta"], LINK),
    # A key column's pattern is matched on its distinct values: a broken value names every row.
    "pattern-broken-by-one-value-twice": ([*GOOD[:2], "gamma,,1,,,,Beta", "delta,,1,,,,Beta"], LINK),
    "two-constraints": ([*GOOD[:2], "Gamma,11,1,,c,,beta"], LINK),
    "unique": ([*GOOD[:2], "gamma,,1,,,x1,beta", "delta,,1,,,x1,beta"], LINK),
    # Two different codes of one DuckDB hash (found among 3.3M mention ids): no repeat.
    "unique-values-of-one-hash": (
        [
            *GOOD[:2],
            "gamma,,1,,,ingrid-d-papadakis-1@synth-030573@00629,beta",
            "delta,,1,,,ingrid-d-papadakis-1@synth-037963@00652,beta",
        ],
        LINK,
    ),
    # The primary key's pattern is matched on every row, not on its distinct values.
    "primary-key-duplicate-breaking-its-pattern": ([*GOOD[:2], "Gamma,,1,,,,beta", "Gamma,,1,,,,beta"], LINK),
    "primary-key-duplicate": ([*GOOD, "beta,3,true,,,,"], LINK),
    "primary-key-missing": ([*GOOD, ",3,true,,,,"], LINK),
    "primary-key-missing-twice": ([*GOOD, ",3,true,,,,", ",4,true,,,,"], LINK),
    "primary-key-duplicate-thrice": ([*GOOD, "beta,3,true,,,,", "beta,4,true,,,,"], LINK),
    "unique-missing-twice": ([*GOOD, "delta,,1,,,,beta"], LINK),
    "self-reference": ([*GOOD[:2], "gamma,,1,,,,omega"], LINK),
    "foreign-key": (GOOD, [*LINK, "omega,1"]),
    # Fewer keys than referenced rows: the referenced rows holding them are found first.
    "foreign-key-from-a-smaller-table": (GOOD, ["probe_id,seq", "omega,1", "alpha,1"]),
    "foreign-key-to-a-bad-row": ([*GOOD[:2], "Gamma,,1,,,,beta"], [*LINK, "Gamma,1"]),
    # A foreign key's pattern is left to the key check while every referenced value keeps it; here
    # one does not, and a row referencing it breaks the same pattern without any key finding.
    "pattern-broken-in-the-referenced-row-too": ([*GOOD[:2], "Gamma,,1,,,,beta", "delta,,1,,,,Gamma"], LINK),
    # A file sorted by its key (as published) needs no search for repeats, unless a key does
    # not follow the row before's: an equal key next to it, or a key after a missing one.
    "primary-key-repeated-on-the-next-row": ([*GOOD[:2], "beta,3,true,,,,", GOOD[2]], LINK),
    "primary-key-repeated-after-a-missing-key": ([*GOOD[:2], ",3,true,,,,", "beta,4,true,,,,"], LINK),
    "unique-repeated-on-the-next-row": ([GOOD[0], "beta,2,false,2022-03-14,b,x1,alpha", GOOD[2]], LINK),
    "composite-key-duplicate": (GOOD, [*LINK, "alpha,1"]),
    "composite-key-partly-missing": (GOOD, [*LINK, "alpha,", "alpha,"]),
    "composite-key-all-missing": (GOOD, [*LINK, ",", ","]),
    "blank-row": ([*GOOD[:2], ",,,,,,", "gamma,,1,,,,beta"], LINK),
    "blank-row-but-for-a-space": ([*GOOD[:2], ", ,,,,,"], LINK),
    "composite-key-type-error": (GOOD, [*LINK, "alpha,x", "alpha,y"]),
    "wrong-header": ([*GOOD[:2]], ["probe_id,sequence", "alpha,1"]),
}


# Forms Frictionless's readers accept (Python's int(), strptime, re's "$"): no finding in either.
ACCEPTED = {"clean", "integer-python-forms", "date-unpadded-and-padded", "pattern-final-newline"}
ACCEPTED |= {"integer-leading-zeros-and-minus-zero", "integer-unicode-space", "unique-missing-twice"}
ACCEPTED |= {"unique-values-of-one-hash"}


def write_probe(root: Path, rows: list[str], links: list[str]) -> dict[str, Resource]:
    """A two-table package (datapackage.json, schemas, CSVs); its resources."""
    (root / "data").mkdir(parents=True)
    (root / "data/probes.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    (root / "data/links.csv").write_text("\n".join(links) + "\n", encoding="utf-8")
    schemas = {"probes": PROBE_SCHEMA, "links": LINK_SCHEMA}
    descriptor = {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": "probe",
        "resources": [
            {"name": n, "type": "table", "path": f"data/{n}.csv", "format": "csv", "schema": s}
            for n, s in schemas.items()
        ],
    }
    (root / "datapackage.json").write_text(json.dumps(descriptor, indent=1), encoding="utf-8")
    return {n: parse_schema(s, f"{n}.schema.json", {"name": n}) for n, s in schemas.items()}


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_one_defect_csvs_give_the_same_findings(tmp_path: Path, defect: str) -> None:
    rows, links = DEFECTS[defect]
    resources = write_probe(tmp_path, rows, links)
    files = {name: tmp_path / "data" / f"{name}.csv" for name in resources}
    frictionless = frictionless_keys(tmp_path / "datapackage.json")
    sql = sql_keys(files, resources)
    assert_same(frictionless, sql)
    if defect in ACCEPTED:
        assert sql == (set(), set()), f"{defect}: Frictionless's readers accept it, so must SQL"
    else:
        assert sql != (set(), set()), f"{defect}: the defect must be found"


def test_the_one_hash_fixture_still_shares_a_duckdb_hash() -> None:
    """The fixture "unique-values-of-one-hash" proves something only while DuckDB gives its two
    codes one hash: an upgrade that changes the hash must say so here, not pass silently."""
    import duckdb

    rows = DEFECTS["unique-values-of-one-hash"][0][2:]
    codes = [row.split(",")[5] for row in rows]
    assert codes[0] != codes[1]
    hashes = duckdb.execute("SELECT hash(?), hash(?)", codes).fetchone()
    assert hashes is not None and hashes[0] == hashes[1]


def test_findings_name_row_field_and_constraint(tmp_path: Path) -> None:
    resources = write_probe(tmp_path, [*GOOD[:2], "Gamma,11,1,,,,beta"], LINK)
    files = {name: tmp_path / "data" / f"{name}.csv" for name in resources}
    found = row_findings(files, resources)
    assert RowFinding("constraint-error", 4, "count", "probes", "maximum") in found
    assert RowFinding("constraint-error", 4, "probe_id", "probes", "pattern") in found


def test_a_gzip_compressed_csv_gives_the_findings_of_the_plain_one(tmp_path: Path) -> None:
    resources = write_probe(tmp_path, [*GOOD[:2], "Gamma,11,maybe,,,,beta"], LINK)
    files = {name: tmp_path / "data" / f"{name}.csv" for name in resources}
    plain = row_findings(files, resources)
    packed = tmp_path / "data/probes.csv.gz"
    packed.write_bytes(gzip.compress(files["probes"].read_bytes(), mtime=0))
    assert plain and row_findings({**files, "probes": packed}, resources) == plain


def test_row_numbers_hold_in_a_file_read_in_parallel(tmp_path: Path) -> None:
    """A file DuckDB reads in parallel (26 MB: texts of a thousand characters, line breaks in
    quotes) through a check the planner turns into a join (an enum of many values): every finding
    still names its own row, as Frictionless does. The join once let rows be inserted out of
    order: a million statements' enum error was reported 3,334 rows off, this file's 16,000."""
    kinds = [f"kind{k}" for k in range(8)]
    schema: dict[str, Any] = {
        "fields": [
            {"name": "id", "type": "string", "title": "Id", "description": "d",
             "constraints": {"required": True, "pattern": "^[a-z0-9]+$"}},
            {"name": "kind", "type": "string", "title": "Kind", "description": "d",
             "constraints": {"enum": kinds}},
            {"name": "n", "type": "integer", "title": "N", "description": "d"},
            {"name": "text", "type": "string", "title": "Text", "description": "d"},
        ],
        "primaryKey": ["id"],
        "missingValues": [""],
    }  # fmt: skip
    text = "x" * 1000
    rows = [f'p{i:06d},{kinds[i % len(kinds)]},{i},"{text}\n\n{i}"' for i in range(25_000)]
    rows[12_498] = f'p012498,kind1,many,"{text}"'  # type error: row 12,500 (the header is row 1)
    rows[24_988] = f'p024988,bogus,24988,"{text}"'  # enum: row 24,990
    rows[24_993] = f'p000008,kind0,8,"{text}"'  # repeats row 10's key: row 24,995
    (tmp_path / "data").mkdir()
    (tmp_path / "data/many.csv").write_text("\n".join(["id,kind,n,text", *rows]) + "\n", encoding="utf-8")
    resource = {"name": "many", "type": "table", "path": "data/many.csv", "format": "csv", "schema": schema}
    (tmp_path / "datapackage.json").write_text(json.dumps({"name": "many", "resources": [resource]}))
    resources = {"many": parse_schema(schema, "many.schema.json", {"name": "many"})}
    sql = sql_keys({"many": tmp_path / "data/many.csv"}, resources)
    expected = {
        ("many", "type-error", 12_500, "n"),
        ("many", "constraint-error", 24_990, "kind"),
        ("many", "primary-key", 24_995, ""),
    }
    assert sql == (expected, set())
    assert_same(frictionless_keys(tmp_path / "datapackage.json"), sql)


PAIR_SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "a", "type": "string", "title": "A", "description": "d"},
        {"name": "b", "type": "string", "title": "B", "description": "d"},
    ],
    "primaryKey": ["a", "b"],
    "missingValues": ["", "NA", "-"],
}  # fmt: skip
PAIR_CASES: dict[str, tuple[list[str], bool]] = {  # rows, and whether they follow one another
    "sorted": (["x,a", "x,b", "y,a", "é,a"], True),
    "sorted-with-missing-keys-at-the-end": (["x,a", "y,b", ",", "NA,-"], True),
    "equal-to-the-row-before": (["x,a", "x,a", "y,a"], False),
    "unsorted": (["y,a", "x,b", "y,a"], False),
    # Two missing values read alike: texts in order, keys equal.
    "partly-missing-in-order": (["x,-", "x,NA"], False),
    "present-after-missing": (["x,a", ",", "y,a"], False),
}


@pytest.mark.parametrize("case", sorted(PAIR_CASES))
def test_a_key_sorted_as_published_is_not_searched_for_repeats(tmp_path: Path, case: str) -> None:
    """A composite text key, wholly present and rising row after row (byte order), is known
    to hold no repeats; any other file is searched, with Frictionless's findings either way."""
    import duckdb

    from newstables.core.rowchecks import _Checker, kept_fields

    rows, follows = PAIR_CASES[case]
    (tmp_path / "data").mkdir()
    (tmp_path / "data/pairs.csv").write_text("\n".join(["a,b", *rows]) + "\n", encoding="utf-8")
    resource: dict[str, Any] = {"name": "pairs", "type": "table", "path": "data/pairs.csv", "format": "csv"}
    resource["schema"] = PAIR_SCHEMA
    (tmp_path / "datapackage.json").write_text(json.dumps({"name": "pairs", "resources": [resource]}))
    resources = {"pairs": parse_schema(PAIR_SCHEMA, "pairs.schema.json", {"name": "pairs"})}
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS probe")
    checker = _Checker(con, kept_fields(resources), "probe")
    assert checker.load(resources["pairs"], tmp_path / "data/pairs.csv") is None
    assert checker.ascending(resources["pairs"], ("a", "b")) is follows
    sql = sql_keys({"pairs": tmp_path / "data/pairs.csv"}, resources)
    assert_same(frictionless_keys(tmp_path / "datapackage.json"), sql)
    if case in ("equal-to-the-row-before", "unsorted"):
        assert ("pairs", "primary-key", 4 if case == "unsorted" else 3, "") in sql[0]
