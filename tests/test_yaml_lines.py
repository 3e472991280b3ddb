"""The line reader (``core.yamllines``) answers exactly what the full loader (libyaml through
PyYAML, ``read.RECORD_LOADER``) answers, or declines: same records, same value types, same line
of each record and key, and, because every defect is declined, the same error.

Compared on every YAML file of the repository, on a synthetic corpus (where the reader must
answer for every file), on generated texts (hypothesis) and on mutated synthetic lines; and on
every bad-input case rewritten one record per line, built with and without the reader.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newstables import read
from newstables.core.yamllines import block_mapping, flow_records
from newstables.errors import ErrorList, NewstablesError
from newstables.pipeline import load_inputs, make_tables
from newstables.project import Project
from newstables.read import MAX_EXPANDED_NODES, RECORD_LOADER, Record, load_yaml, load_yaml_records
from tests.conftest import FIXTURES, REPO, assemble

BAD_INPUTS = Path(__file__).parent / "bad_inputs"
REPO_YAML = sorted(
    p
    for p in [*(REPO / "data").rglob("*.yaml"), *FIXTURES.rglob("*.yaml"), *BAD_INPUTS.rglob("*.yaml")]
    if p.is_file()
)


def typed(value: Any) -> Any:
    """A value with its exact type (``1 == True == 1.0`` in Python; NaN never equals itself)."""
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def shape(record: dict[str, Any], line: int, lines: dict[str, int]) -> Any:
    """What a record is: its fields in order with their types, its line and its keys' lines."""
    return ([(k, typed(v)) for k, v in record.items()], line, lines)


def full(text: str) -> Any:
    """What the full loader reads from ``text`` (an error as its class name)."""
    try:
        return load_yaml(text, RECORD_LOADER)
    except (yaml.YAMLError, RecursionError, read._TooLarge) as exc:
        return exc.__class__.__name__


def agree(text: str) -> tuple[bool, bool]:
    """Assert the line reader agrees with the full loader on ``text``; whether it answered as
    a list of records and as a mapping."""
    records = flow_records(text, RECORD_LOADER, MAX_EXPANDED_NODES)
    if records is not None:
        loaded = full(text)
        assert isinstance(loaded, list) and all(isinstance(r, Record) for r in loaded), (text, loaded)
        assert [shape(*r) for r in records] == [shape(r, r.line, r.lines) for r in loaded], text
    mapping = block_mapping(text, RECORD_LOADER, MAX_EXPANDED_NODES)
    if mapping is not None:
        loaded = full(text)
        assert isinstance(loaded, Record), (text, loaded)
        assert shape(*mapping) == shape(loaded, loaded.line, loaded.lines), text
    return records is not None, mapping is not None


def file_outcome(path: Path, loader: Any) -> Any:
    """``load_yaml_records`` of ``path`` (``loader`` None: the line reader may answer)."""
    try:
        records = load_yaml_records(Project(path.parent), path, loader)
    except NewstablesError as error:
        return ("error", error.to_dict())
    return [(shape(r, r.line, r.lines), r.file, r.index) for r in records]


@pytest.mark.parametrize("path", REPO_YAML, ids=lambda p: str(p.relative_to(REPO)))
def test_every_yaml_file_of_the_repository_reads_alike(path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return  # refused before any YAML is read (annotation-not-utf8)
    agree(text)
    assert file_outcome(path, None) == file_outcome(path, RECORD_LOADER)


@pytest.fixture(scope="module")
def synth_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic corpus (``newstables synth``)."""
    out = tmp_path_factory.mktemp("synth") / "corpus"
    command = [
        sys.executable,
        "-m",
        "newstables",
        "synth",
        "--articles",
        "40",
        "--seed",
        "3",
        "--out",
        str(out),
    ]
    subprocess.run(command, check=True, capture_output=True)
    return out


def test_the_line_reader_answers_for_every_synthetic_file(synth_corpus: Path) -> None:
    files = sorted((synth_corpus / "data").rglob("*.yaml"))
    assert len(files) > 200
    for path in files:
        as_records, as_mapping = agree(path.read_text(encoding="utf-8"))
        assert as_mapping if path.name == "meta.yaml" else as_records, path


def test_a_synthetic_corpus_is_read_without_the_full_loader(
    synth_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = load_inputs(synth_corpus)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the full loader read a synthetic file")

    monkeypatch.setattr(read, "load_yaml", refuse)
    fast = load_inputs(synth_corpus)
    assert fast.annotations.tables.keys() == reference.annotations.tables.keys()
    for name, records in fast.annotations.tables.items():
        want = reference.annotations.tables[name]
        assert [(shape(r, r.line, r.lines), r.file, r.index) for r in records] == [
            (shape(r, r.line, r.lines), r.file, r.index) for r in want
        ], name
    assert sum(len(r) for r in fast.annotations.tables.values()) > 1000


# --- generated texts ----------------------------------------------------------------------------

# What the reader answers for, and (in the "wild" lines) the variations it must decline or type
# as the full loader does; a text mixes both kinds of line, so texts land on both sides.
GOOD_KEYS = ["a", "b", "actor_id", "_x", "k9", "char_start", *(f"key{n}" for n in range(30))]
KEYS = GOOD_KEYS[:6] * 2 + ["on", "yes", "n", "null", "True", "y", "No", "~", "a b", "a:b", "-a", "1", '"q"']
GOOD_PLAIN = ["0", "7", "42", "2022-03-13", "word", "synth-000001-s01", "true", "null"]
PLAIN = [
    *GOOD_PLAIN,
    "010", "0x1F", "0b101", "0o17", "1_000", "-5", "+3", "1:30", "1.5", ".5", "-.5", "1e3", "1.0e+3",
    ".inf", "-.Inf", ".nan", ".NaN", "yes", "No", "ON", "off", "y", "n", "Null", "~", "FALSE",
    "2022-02-30", "2022-3-1", "2022-03-13T10:00:00Z", "2022-03-13t10:00:00", "a.b", "-", "+", ".",
    "_", "x-", "=", "<<", "@x", "`x", "%x", "!x", "&a", "*a", "|", ">", "a#b", "a #b", "[1]", "{}",
    "'q'", "", " ",
]  # fmt: skip
SAFE_CHARS = list("aZ é/bnu0tx{}[],:#&*!|>'%@`€😀") + [" "] * 4
CHARS = "aZ é\" \\/bnu0tx{}[],:#&*!|>'%@`\t\x85\u2028\ufeff\x00\x7f€😀\ud83d"
ESCAPES = [
    "\\n", "\\t", '\\"', "\\\\", "\\/", "\\u00e9",
    "\\b", "\\f", "\\r", "\\u0000", "\\ud83d", "\\ud83d\\ude00", "\\x41", "\\0", "\\N", "\\_",
    "\\e", "\\ ", "\\U0001F600", "\\q", "\\",
]  # fmt: skip
SEPARATORS = [", "] * 4 + [",", " ,", ",  "]
OPENINGS = ["- {"] * 4 + ["-  {", "- { ", "-{", "  - {", "- !!map {"]
CLOSINGS = ["}"] * 4 + [" }", "}  ", "} # c", "}\t", "},"]
OTHER_LINES = ["", "# a comment", "  "] * 3 + ["#", "---", "...", "  # indented", "\t"]


def quoted(chars: list[str], escapes: list[str]) -> st.SearchStrategy[str]:
    parts = st.one_of(st.sampled_from(chars), st.sampled_from(escapes))
    return st.lists(parts, max_size=6).map(lambda found: '"' + "".join(found) + '"')


def values(wild: bool) -> st.SearchStrategy[str]:
    if not wild:
        return st.one_of(quoted(SAFE_CHARS, ESCAPES[:6]), st.sampled_from(GOOD_PLAIN), st.sampled_from(PLAIN))
    plain = st.sampled_from(PLAIN)
    return st.one_of(quoted(SAFE_CHARS + list(CHARS), ESCAPES), plain, plain.map(lambda p: f'"{p}"'))


@st.composite
def flow_line(draw: st.DrawFn, wild: bool) -> str:
    """One record line: only what the reader answers for, or (``wild``) anything near it."""
    if not wild:
        keys = draw(st.lists(st.sampled_from(GOOD_KEYS), min_size=1, max_size=5, unique=True))
        return "- {" + ", ".join(f"{key}: {draw(values(False))}" for key in keys) + "}"
    pair = st.tuples(st.sampled_from(KEYS), values(wild)).map(lambda kv: f"{kv[0]}: {kv[1]}")
    pairs = draw(st.lists(pair, max_size=4))
    separator = draw(st.sampled_from(SEPARATORS))
    return draw(st.sampled_from(OPENINGS)) + separator.join(pairs) + draw(st.sampled_from(CLOSINGS))


@st.composite
def block_line(draw: st.DrawFn, wild: bool) -> str:
    """One ``key: value`` line, plain or (``wild``) with variations."""
    key, text = draw(st.sampled_from(KEYS if wild else GOOD_KEYS)), draw(values(wild))
    if not wild:
        return f"{key}: {text}"
    spaces = draw(st.sampled_from([" ", " ", "  ", ""]))
    return f"{key}:{spaces}{text}{draw(st.sampled_from(['', ' ', ' # c']))}"


def text_of(lines: list[str], ending: str) -> str:
    return "\n".join(lines) + ending


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.one_of(flow_line(wild=False), flow_line(wild=True), st.sampled_from(OTHER_LINES)),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(["\n", "", "\n\n"]),
)
def test_generated_flow_texts_read_alike(lines: list[str], ending: str) -> None:
    agree(text_of(lines, ending))


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.one_of(block_line(wild=False), block_line(wild=True), st.sampled_from(OTHER_LINES)),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(["\n", ""]),
)
def test_generated_block_texts_read_alike(lines: list[str], ending: str) -> None:
    agree(text_of(lines, ending))


def mutate(rng: random.Random, text: str) -> str:
    """``text`` with one to three characters inserted, deleted or replaced."""
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(text) + 1)
        how = rng.choice(("insert", "delete", "replace"))
        char = rng.choice(CHARS + "\n")
        if how == "insert":
            text = text[:at] + char + text[at:]
        elif how == "delete":
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + char + text[at + 1 :]
    return text


def test_mutated_synthetic_files_read_alike(synth_corpus: Path) -> None:
    rng = random.Random(9)
    files = sorted((synth_corpus / "data").rglob("*.yaml"))
    answered = declined = 0
    for _ in range(1500):
        text = rng.choice(files).read_text(encoding="utf-8")
        lines = text.split("\n")
        start = rng.randrange(len(lines))
        sample = "\n".join(lines[start : start + 3])
        as_records, as_mapping = agree(mutate(rng, sample))
        answered += as_records or as_mapping
        declined += not (as_records or as_mapping)
    assert answered > 300 and declined > 300, (answered, declined)  # both sides exercised


def test_a_duplicate_key_is_the_full_loaders_error(tmp_path: Path) -> None:
    path = tmp_path / "statements.yaml"
    path.write_text('- {a: "x", b: 1}\n- {a: "y", b: 2, a: "z"}\n', encoding="utf-8")
    assert flow_records(path.read_text(encoding="utf-8"), RECORD_LOADER, MAX_EXPANDED_NODES) is None
    with pytest.raises(NewstablesError) as raised:
        load_yaml_records(Project(tmp_path), path)
    assert (raised.value.type, raised.value.coordinates["line"], raised.value.coordinates["field"]) == (
        "duplicate-key",
        2,
        "a",
    )


# --- every bad input, one record per line -----------------------------------------------------


def flow_value(value: Any) -> str:
    """``value`` written as the drafter and synth write it (JSON where YAML reads it alike)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False, default=str)


def as_flow_lines(path: Path) -> bool:
    """Rewrite a YAML list of records one flow mapping per line (left alone if it is not one);
    whether the line reader answers for the result."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError, read._TooLarge):
        return False
    if not isinstance(data, list) or not data or not all(isinstance(r, dict) and r for r in data):
        return False
    lines = ["- {" + ", ".join(f"{k}: {flow_value(v)}" for k, v in r.items()) + "}" for r in data]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return flow_records(path.read_text(encoding="utf-8"), RECORD_LOADER, MAX_EXPANDED_NODES) is not None


def build_outcome(root: Path) -> Any:
    """The error of reading and building ``root``'s tables, or the built tables' sizes."""
    try:
        return {name: len(table.rows) for name, table in make_tables(load_inputs(root)).items()}
    except NewstablesError as error:
        return error.to_dict()
    except ErrorList as errors:
        return [error.to_dict() for error in errors.errors]


def test_every_bad_input_in_flow_lines_fails_alike_with_and_without_the_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = assemble(tmp_path / "template", "mini")
    rewritten = answered = 0
    for case in sorted(p for p in BAD_INPUTS.iterdir() if (p / "expected.yaml").is_file()):
        expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
        if expected.get("command", "build") != "build":
            continue
        root = tmp_path / case.name
        shutil.copytree(template, root)
        for source in case.rglob("*"):
            if source.is_file() and source.name != "expected.yaml":
                target = root / source.relative_to(case)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
        for relative in expected.get("delete", []):
            (root / relative).unlink()
        for path in sorted((root / "data").rglob("*.yaml")):
            if path.name != "meta.yaml":
                answered += as_flow_lines(path)
        with monkeypatch.context() as off:
            off.setattr(read, "flow_records", lambda *args: None)
            off.setattr(read, "block_mapping", lambda *args: None)
            without = build_outcome(root)
        rewritten += 1
        assert build_outcome(root) == without, case.name
    assert rewritten > 50 and answered > 200, (rewritten, answered)
