"""The bad-input catalogue: one tiny one-defect fixture per error the build or verify reports.

Each case is a folder ``tests/bad_inputs/<case>/`` holding the ONE changed file, at its
path relative to the project (an overlay on the mini project), and ``expected.yaml``::

    command: build            # or verify (the overlay then lands on the BUILT output)
    error: duplicate-id       # the catalogue type the command must report
    file: data/annotations/votes.yaml
    record: 2 (china-unsc-vote)
    field: vote_id
    line: 8                   # only the coordinates that apply; any other key (offset,
    other: 1 (china-unsc-vote)  # count, value, ...) is compared with the error too
    delete: [schemas/votes.schema.json]   # optional: files the defect removes
    xfail: <the known bug>    # optional: the case fails for a reported bug, not yet fixed

For every case the project is first built successfully (so outputs exist); the failing
command must exit non-zero with the expected error and, for ``build``, leave every
previous output byte-identical and no ``.staging-*`` folder behind.
"""

from __future__ import annotations

import functools
import importlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from newstables.cli import app
from tests.conftest import assemble

CASES_DIR = Path(__file__).parent / "bad_inputs"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "expected.yaml").is_file())
# Keys of expected.yaml that steer the test rather than name a coordinate of the error.
CONTROL_KEYS = frozenset({"command", "error", "delete", "xfail"})
OUTPUT_GLOBS = (
    "data/*.csv",
    "data/parquet/*",
    "data/parquet/*/*/*",
    "data/newstables.duckdb",
    "datapackage.json",
)


def _verify_importable() -> bool:
    try:
        importlib.import_module("newstables.verify")
    except ImportError:
        return False
    return True


HAS_VERIFY = _verify_importable()


def expected_of(case: str) -> dict[str, Any]:
    """The parsed ``expected.yaml`` of a case."""
    loaded: dict[str, Any] = yaml.safe_load((CASES_DIR / case / "expected.yaml").read_text(encoding="utf-8"))
    return loaded


def case_params() -> list[Any]:
    """One pytest param per case; verify cases skip until ``newstables.verify`` exists."""
    params = []
    for case in CASES:
        marks = []
        if expected_of(case).get("command", "build") == "verify":
            marks.append(pytest.mark.skipif(not HAS_VERIFY, reason="newstables.verify not written yet"))
        if expected_of(case).get("xfail"):
            # A known bug outside the catalogue, named in expected.yaml; not strict, so the
            # suite stays green when it is fixed (then delete the xfail line).
            marks.append(pytest.mark.xfail(reason=expected_of(case)["xfail"], strict=False))
        params.append(pytest.param(case, id=case, marks=marks))
    return params


@pytest.fixture(scope="session")
def built_mini(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini project, built once per session; each case works on a copy of it."""
    root = assemble(tmp_path_factory.mktemp("template") / "mini", "mini")
    result = CliRunner().invoke(app, ["build", "--project", str(root), "--json"])
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def project(built_mini: Path, tmp_path: Path) -> Path:
    """A private copy of the built mini project (inputs plus previous outputs)."""
    target = tmp_path / "mini"
    shutil.copytree(built_mini, target)
    return target


def snapshot(root: Path) -> dict[str, bytes]:
    """The bytes of every output of a built project, by relative path."""
    files = {p for pattern in OUTPUT_GLOBS for p in root.glob(pattern) if p.is_file()}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(files)}


def apply_overlay(case: str, root: Path, expected: dict[str, Any]) -> None:
    """Copy the case's changed file(s) over ``root`` and delete what the case deletes."""
    source = CASES_DIR / case
    for path in sorted(source.rglob("*")):
        if path.is_file() and path.name != "expected.yaml":
            target = root / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    for relative in expected.get("delete", []):
        (root / relative).unlink()


def coordinates(expected: dict[str, Any]) -> dict[str, Any]:
    """The coordinates an error must carry: every key of expected.yaml but the control keys."""
    return {k: v for k, v in expected.items() if k not in CONTROL_KEYS}


def same_file(got: object, want: object) -> bool:
    """File coordinates match exactly or as a path suffix (verify may report absolute paths)."""
    return got == want or (isinstance(got, str) and isinstance(want, str) and got.endswith("/" + want))


def matches(error: dict[str, Any], expected: dict[str, Any]) -> bool:
    """True when ``error`` has the expected type and every expected coordinate."""
    if error.get("type") != expected["error"]:
        return False
    for key, want in coordinates(expected).items():
        got = error.get(key)
        if not (same_file(got, want) if key == "file" else got == want):
            return False
    return True


def run_build(root: Path) -> tuple[int, list[dict[str, Any]]]:
    """Run ``newstables build --json`` in-process; return the exit code and the errors."""
    result = CliRunner().invoke(app, ["build", "--project", str(root), "--json"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}")
    text = result.stderr.strip()
    errors = json.loads(text)["errors"] if text.startswith("{") else []
    return result.exit_code, errors


def check_build(case: str, root: Path, expected: dict[str, Any], template: Path) -> None:
    before = snapshot(root)
    assert before, "the template build left no outputs to protect"
    apply_overlay(case, root, expected)
    code, errors = run_build(root)
    assert code != 0, f"{case}: the build succeeded"
    assert errors, f"{case}: no JSON error on stderr"
    first = errors[0]
    assert first["type"] == expected["error"], f"{case}: got {first['type']}: {first['message']}"
    wrong = {k: (first.get(k), v) for k, v in coordinates(expected).items() if first.get(k) != v}
    assert not wrong, f"{case}: coordinates (got, expected): {wrong}; message: {first['message']}"
    assert snapshot(root) == before, f"{case}: a failed build changed previous outputs"
    assert not list(root.rglob(".staging-*")), f"{case}: a staging folder was left behind"


@functools.cache
def _baseline(template: Path) -> tuple[dict[str, Any], ...]:
    """What verify reports on the untouched built project (computed once per session)."""
    from newstables.verify import verify_path  # type: ignore[import-not-found,unused-ignore]

    return tuple(e.to_dict() for e in verify_path(template))


def check_verify(case: str, root: Path, expected: dict[str, Any], template: Path) -> None:
    from newstables.verify import verify_path  # type: ignore[import-not-found,unused-ignore]

    # A built project is not a release (no SHA256SUMS, ...): its baseline may have errors of
    # its own, but never the one the overlay introduces.
    assert not any(matches(e, expected) for e in _baseline(template)), f"{case}: reported before the overlay"
    apply_overlay(case, root, expected)
    got = [e.to_dict() for e in verify_path(root)]
    assert any(matches(e, expected) for e in got), f"{case}: expected {expected}, got {got}"
    if "verify" in app.commands:
        result = CliRunner().invoke(app, ["verify", str(root)])
        assert result.exit_code != 0, f"{case}: `newstables verify` exited 0"


CHECKS: dict[str, Callable[[str, Path, dict[str, Any], Path], None]] = {
    "build": check_build,
    "verify": check_verify,
}


def test_catalogue_has_enough_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", case_params())
def test_bad_input(case: str, project: Path, built_mini: Path) -> None:
    expected = expected_of(case)
    command = expected.get("command", "build")
    assert command in CHECKS, f"{case}: unknown command {command!r}"
    CHECKS[command](case, project, expected, built_mini)
