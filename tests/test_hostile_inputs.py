"""Every command against a corrupted copy of every input file kind: never a traceback.

Each file kind a command reads is corrupted five ways (truncated, binary garbage, the
wrong top-level type, a NUL byte, empty); every command that reads it must exit non-zero
with a catalogued error type and no traceback. A 3 MB text cell must simply work.
"""

from __future__ import annotations

import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from newstables.cli import app
from newstables.errors import catalogue
from newstables.verify import sha256sums_text, verify_path
from tests.conftest import REPO as REPO_ROOT
from tests.conftest import assemble

ERROR_LINE = re.compile(r"error \[([a-z0-9-]+)\]")
JSON_TYPE = re.compile(r'"type": "([a-z0-9-]+)"')

# file kind -> (path in the built mini project, text that has the wrong top-level type)
INPUTS = {
    "package": ("schemas/package.yaml", b"- a\n- b\n"),
    "schema": ("schemas/votes.schema.json", b"[1, 2]\n"),
    "suite": ("validation/votes.json", b"[1, 2]\n"),
    "frame-sql": ("validation/votes.sql", b"42\n"),
    "expected-counts": ("validation/expected_counts.yaml", b"- 1\n"),
    "story": ("validation/story.yaml", b"- 2022-03-13\n"),
    "annotations": ("data/annotations/votes.yaml", b"vote_id: x\n"),
    "article": ("data/raw/article.txt", b"\xef\xbb\xbf42\n"),
}
OUTPUTS = {
    "datapackage": ("datapackage.json", b"[1, 2]\n"),
    "csv": ("data/votes.csv", b"{}\n"),
    "parquet": ("data/parquet/votes.parquet", b"vote_id\nx\n"),
    "database": ("data/newstables.duckdb", b"{}\n"),
}


def truncated(data: bytes, wrong: bytes) -> bytes:
    """The first half of the file."""
    return data[: len(data) // 2]


def garbage(data: bytes, wrong: bytes) -> bytes:
    """512 bytes of noise (fixed seed)."""
    rng = random.Random(7)
    return bytes(rng.randrange(256) for _ in range(512))


def wrong_type(data: bytes, wrong: bytes) -> bytes:
    """Valid syntax, wrong top-level type."""
    return wrong


def nul_byte(data: bytes, wrong: bytes) -> bytes:
    """A NUL byte in the middle."""
    middle = len(data) // 2
    return data[:middle] + b"\x00" + data[middle:]


def empty(data: bytes, wrong: bytes) -> bytes:
    """Nothing at all."""
    return b""


CORRUPTIONS: dict[str, Callable[[bytes, bytes], bytes]] = {
    "truncated": truncated,
    "garbage": garbage,
    "wrong-type": wrong_type,
    "nul-byte": nul_byte,
    "empty": empty,
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini project, built once, with a SHA256SUMS so that it verifies as a release."""
    root = assemble(tmp_path_factory.mktemp("hostile") / "mini", "mini")
    result = CliRunner().invoke(app, ["build", "--project", str(root)])
    assert result.exit_code == 0, result.output
    (root / "SHA256SUMS").write_text(sha256sums_text(root), encoding="utf-8")
    assert verify_path(root) == [], "the untouched build must verify"
    return root


def corrupt(built: Path, tmp_path: Path, relative: str, how: str, wrong: bytes) -> Path:
    """A copy of the built project with one file corrupted."""
    root = tmp_path / "copy"
    shutil.copytree(built, root)
    target = root / relative
    target.write_bytes(CORRUPTIONS[how](target.read_bytes(), wrong))
    return root


def assert_clean_refusal(args: list[str], may_succeed: bool = False) -> None:
    """The command exits non-zero, names a catalogued error type, prints no traceback.

    With ``may_succeed`` the corrupted file is still well-formed (a diff of a truncated or
    NUL-carrying CSV is a legitimate comparison): only the absence of a traceback counts.
    """
    result = CliRunner().invoke(app, args)
    output = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{args}: uncaught {type(result.exception).__name__}: {result.exception}"
    )
    assert "Traceback" not in output, f"{args}: {output}"
    if may_succeed and result.exit_code == 0:
        return
    assert result.exit_code != 0, f"{args}: exit 0\n{output}"
    types = ERROR_LINE.findall(output) + JSON_TYPE.findall(output)
    assert types and all(t in catalogue() for t in types), f"{args}: {output}"


@pytest.mark.parametrize("how", sorted(CORRUPTIONS))
@pytest.mark.parametrize("kind", sorted(INPUTS))
def test_project_commands_refuse_a_corrupted_input(kind: str, how: str, built: Path, tmp_path: Path) -> None:
    relative, wrong = INPUTS[kind]
    root = corrupt(built, tmp_path, relative, how, wrong)
    assert_clean_refusal(["build", "--project", str(root)])
    if kind in ("package", "schema"):
        assert_clean_refusal(["docs", "--project", str(root), "--check"])
    if kind in ("package", "schema", "suite", "expected-counts", "story"):
        # release builds first: the model refuses these before any work is done
        assert_clean_refusal(["release", "--project", str(root), "--dist", str(tmp_path / "dist")])


@pytest.mark.parametrize("how", sorted(CORRUPTIONS))
@pytest.mark.parametrize("kind", sorted(OUTPUTS))
def test_release_commands_refuse_a_corrupted_output(kind: str, how: str, built: Path, tmp_path: Path) -> None:
    relative, wrong = OUTPUTS[kind]
    root = corrupt(built, tmp_path, relative, how, wrong)
    assert_clean_refusal(["verify", str(root)])
    if kind in ("datapackage", "csv"):
        well_formed = kind == "csv" and how in ("nul-byte", "truncated")
        assert_clean_refusal(["diff", str(built), str(root)], may_succeed=well_formed)
    if kind == "database":
        assert_clean_refusal(["query", "SELECT count(*) FROM votes", "--db", str(root / relative)])


def test_commands_outside_a_project_are_refused(tmp_path: Path) -> None:
    for args in (
        ["build", "--project", str(tmp_path)],
        ["docs", "--project", str(tmp_path)],
        ["release", "--project", str(tmp_path), "--dist", str(tmp_path / "dist")],
        ["release", "--project", str(tmp_path), "--dist", str(tmp_path / "dist"), "--skip-existing"],
    ):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2 and "[not-a-project]" in result.output, result.output


def test_an_unexpected_exception_is_an_internal_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("newstables.pipeline.build", boom)
    result = CliRunner().invoke(app, ["build", "--project", str(tmp_path), "--json"])
    assert result.exit_code == 70 and "Traceback" not in result.output
    assert '"type": "internal-error"' in result.output and "simulated bug" in result.output


def test_a_file_system_refusal_is_an_io_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An OSError nothing more specific caught (no permission, a full disk) is the environment's
    problem: the catalogued io-error naming the file, exit 2, not an internal error."""

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device", str(tmp_path / "data/votes.csv"))

    monkeypatch.setattr("newstables.pipeline.build", full_disk)
    result = CliRunner().invoke(app, ["build", "--project", str(tmp_path)])
    assert result.exit_code == 2 and "[io-error]" in result.output, result.output
    assert "data/votes.csv" in result.output and "No space left on device" in result.output


def test_main_is_the_last_resort(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from newstables import cli

    def boom() -> None:
        raise ValueError("escaped the commands")

    monkeypatch.setattr(cli, "app", boom)
    monkeypatch.setattr("sys.argv", ["newstables", "build"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 70
    assert "[internal-error]" in capsys.readouterr().err


def test_a_3_mb_text_cell_is_read_back_past_duckdbs_line_limit(tmp_path: Path) -> None:
    """A CSV line longer than DuckDB's default 2 MiB limit is written and read back whole."""
    import duckdb

    from newstables.core.formats import DEFAULT_MAX_LINE, arrow_table, read_csv_sql, write_csv
    from newstables.core.model import load_model

    votes = load_model(REPO_ROOT).tables["votes"]
    long_title = "A" + "x" * (3 * 1024 * 1024)
    assert len(long_title) > DEFAULT_MAX_LINE
    row = {f.name: "" for f in votes.fields} | {votes.primary_key[0]: "v1", "motion_title": long_title}
    path = tmp_path / "votes.csv"
    write_csv(arrow_table(votes, [row]), path)
    ((title,),) = duckdb.sql(f"SELECT motion_title FROM {read_csv_sql(path, votes)}").fetchall()
    assert title == long_title


def test_a_3_mb_text_cell_is_refused_by_the_workbook_with_coordinates(mini_project: Path) -> None:
    """Excel cells hold 32767 characters: the build refuses (verbatim text is never cut), names the
    record and field, and leaves the previous outputs untouched."""
    votes = mini_project / "data/annotations/votes.yaml"
    before = {p: p.read_bytes() for p in sorted(mini_project.rglob("*")) if p.is_file() and p != votes}
    long_title = "A" + "x" * (3 * 1024 * 1024)
    votes.write_text(votes.read_text(encoding="utf-8") + f"  motion_title: {long_title}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["build", "--project", str(mini_project)])
    assert result.exit_code == 2 and "[xlsx-cell-too-long]" in result.output, result.output
    assert "motion_title" in result.output and "Traceback" not in result.output
    after = {p: p.read_bytes() for p in sorted(mini_project.rglob("*")) if p.is_file() and p != votes}
    assert after == before, "a refused build leaves every other file as it was"


def test_out_naming_a_file_is_refused_as_not_a_folder(tmp_path: Path) -> None:
    # one type for the class "an output path that is a file": output-not-a-folder (as test_safety)
    (tmp_path / "taken").write_text("a file, not a folder")
    result = CliRunner().invoke(app, ["build", "--project", str(REPO_ROOT), "--out", str(tmp_path / "taken")])
    assert result.exit_code == 2 and "[output-not-a-folder]" in result.output, result.output
    assert "Traceback" not in result.output
