"""The command line: help texts, --version, JSON on success and failure for every command,
diff of archives, query --full, row counts, version bumps and the blocked-build summary."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from newstables.cli import app
from tests.conftest import REPO
from tests.test_release import NAME, NEW_STATEMENT, Releases, shared_releases

Cli = Callable[..., Any]


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Releases:
    """The session's 0.1.0 and 0.2.0 releases of the mini project."""
    return shared_releases(tmp_path_factory, with_v2=True)


def stdout_json(result: Any) -> Any:
    """The JSON document a command printed on stdout."""
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def stderr_errors(result: Any) -> list[dict[str, Any]]:
    """The ``{"errors": [...]}`` document a failed command printed on stderr."""
    assert result.exit_code != 0, result.output
    document = json.loads(result.stderr)
    assert set(document) == {"errors"}, document
    return list(document["errors"])


def command_paths() -> list[list[str]]:
    """Every command of the CLI (and the group itself, as [])."""
    return [[], *([name] for name in app.commands)]


# --- help and --version -------------------------------------------------------------------------


@pytest.mark.parametrize("command", command_paths(), ids=lambda c: " ".join(c) or "newstables")
def test_help_has_an_example_and_no_bool_type_on_flags(command: list[str], cli: Cli) -> None:
    result = cli(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert "Example: newstables" in result.output
    example = next(line for line in result.output.splitlines() if "Example:" in line)
    assert example.strip().startswith("Example: newstables"), "the example is one unbroken line"


def test_version_comes_from_the_package_metadata(cli: Cli) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.output == f"newstables {version('newstables')}\n"


# --- JSON on success and on failure -------------------------------------------------------------


def test_verify_json_on_success_and_failure(releases: Releases, tmp_path: Path, cli: Cli) -> None:
    data = stdout_json(cli("verify", releases.folder("0.1.0"), "--json"))
    assert data["ok"] is True and data["files"] > 20
    errors = stderr_errors(cli("verify", tmp_path / "nothing.zip", "--json"))
    assert errors[0]["type"] == "not-a-package"


def test_docs_json_lists_stale_files(cli: Cli) -> None:
    assert stdout_json(cli("docs", "--project", REPO, "--check", "--json")) == {"stale": []}


def test_query_errors_are_json_with_json(releases: Releases, cli: Cli) -> None:
    db = releases.folder("0.1.0") / "data/newstables.duckdb"
    (error,) = stderr_errors(cli("query", "SELECT nope FROM actors", "--db", db, "--json"))
    assert error["type"] == "query-failed" and error["file"] == str(db)


def test_diff_json_is_the_structured_diff(releases: Releases, cli: Cli) -> None:
    data = stdout_json(cli("diff", releases.folder("0.1.0"), releases.folder("0.2.0"), "--json"))
    assert (data["old_version"], data["new_version"], data["bump"]) == ("0.1.0", "0.2.0", "minor")
    assert data["rows"] == {"added": 1, "removed": 0, "changed": 1}
    tables = {t["name"]: t for t in data["tables"]}
    assert tables["statements"]["added"] == ["sullivan-rome-plan"]
    assert tables["statements"]["rows"] == {"added": 1, "removed": 0, "changed": 0}
    assert tables["actors"]["changed"] == [{"key": "jake-sullivan", "columns": ["role_title"]}]
    assert tables["actors"]["bump"] == "patch"
    errors = stderr_errors(cli("diff", releases.folder("0.1.0"), releases.root / "nope", "--json"))
    assert errors[0]["type"] == "not-a-package"


def test_diff_takes_archives_like_verify(releases: Releases, cli: Cli) -> None:
    folders = stdout_json(cli("diff", releases.folder("0.1.0"), releases.folder("0.2.0"), "--json"))
    old_zip = releases.dist / f"{NAME}-0.1.0.zip"
    new_tar = releases.dist / f"{NAME}-0.2.0.tar.gz"
    assert stdout_json(cli("diff", old_zip, new_tar, "--json")) == folders
    markdown = cli("diff", old_zip, releases.folder("0.2.0"))
    assert markdown.exit_code == 0 and "proposed bump: minor" in markdown.output
    (error,) = stderr_errors(cli("diff", old_zip, new_tar, "--write-changes", "--json"))
    assert error["type"] == "changes-need-folder"


def test_diff_refuses_an_unsafe_archive_through_verify_extraction(
    releases: Releases, tmp_path: Path, cli: Cli
) -> None:
    import zipfile

    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../escape.txt", "x")
    errors = stderr_errors(cli("diff", evil, releases.folder("0.2.0"), "--json"))
    assert errors[0]["type"] == "unsafe-archive-member"
    assert not (tmp_path.parent / "escape.txt").exists()


# --- query --full ---------------------------------------------------------------------------------

LONG_SQL = "SELECT string_agg(excerpt, ' ' ORDER BY char_start) AS excerpt FROM actor_mentions"


def test_query_cuts_cells_at_60_characters_unless_full(releases: Releases, cli: Cli) -> None:
    db = releases.folder("0.1.0") / "data/newstables.duckdb"
    (row,) = json.loads(cli("query", LONG_SQL, "--db", db, "--json").output)
    text = " ".join(row["excerpt"].split())
    assert len(text) > 60
    cut = cli("query", LONG_SQL, "--db", db).output.splitlines()[2]
    assert cut.endswith("…") and len(cut) == 60
    full = cli("query", LONG_SQL, "--db", db, "--full").output.splitlines()[2]
    assert full == text


# --- who said what about whom -------------------------------------------------------------------


def test_who_said_what_about_whom_names_actors_and_events_with_evidence() -> None:
    import duckdb

    con = duckdb.connect(str(REPO / "data/newstables.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT relation, subject_id, channel, subject_excerpt FROM who_said_what_about_whom "
        "WHERE statement_id = 'sullivan-cnn-watching-support' ORDER BY relation, subject_id"
    ).fetchall()
    assert rows == [
        ("about", "russia-arms-request", "Jake Sullivan's interview with CNN", rows[0][3]),
        ("about", "russia-economic-help-request", "Jake Sullivan's interview with CNN", rows[1][3]),
        ("mentions", "china", "Jake Sullivan's interview with CNN", "China"),
        ("mentions", "russia", "Jake Sullivan's interview with CNN", "Russia"),
    ]
    statements = con.execute("SELECT count(DISTINCT statement_id) FROM who_said_what_about_whom").fetchone()
    assert statements == con.execute("SELECT count(*) FROM statements").fetchone(), "every statement"
    speaker_as_subject = con.execute(
        "SELECT count(*) FROM who_said_what_about_whom WHERE subject_id = speaker_id"
    ).fetchone()
    assert speaker_as_subject == (0,)


# --- row counts: the blocked build, counts, counts --accept --------------------------------------


def test_a_new_row_blocks_the_build_until_counts_are_accepted(mini_project: Path, cli: Cli) -> None:
    statements = mini_project / "data/annotations/statements.yaml"
    statements.write_text(statements.read_text(encoding="utf-8") + NEW_STATEMENT, encoding="utf-8")
    counts_file = mini_project / "validation/expected_counts.yaml"
    before = counts_file.read_text(encoding="utf-8")

    blocked = cli("build", "--project", mini_project)
    assert blocked.exit_code == 2
    assert "row-count-changed" in blocked.stderr and "newstables counts --accept" in blocked.stderr
    last = blocked.stderr.strip().splitlines()[-1]
    assert re.search(r"1 of \d+ checks failed: row-count-as-expected \(statements\)\.", last), last
    assert "error [row-count-changed]" in blocked.stderr
    assert "table statements has 2 rows; expected 1" in blocked.stderr
    assert "error [build-blocked]" in blocked.stderr and "validation/report-failed/index.html" in last

    shown = cli("counts", "--project", mini_project)
    assert shown.exit_code == 1 and "statements: 1 -> 2" in shown.output
    assert counts_file.read_text(encoding="utf-8") == before, "counts alone writes nothing"
    accepted = cli("counts", "--project", mini_project, "--accept")
    assert accepted.exit_code == 0 and "accepted statements: 1 -> 2" in accepted.output
    after = counts_file.read_text(encoding="utf-8")
    assert after == before.replace("statements: 1", "statements: 2"), "only the count line changes"
    data = stdout_json(cli("counts", "--project", mini_project, "--json"))
    assert data["changes"] == [] and data["counts"]["statements"] == 2

    built = stdout_json(cli("build", "--project", mini_project, "--json"))
    assert built["tables"]["statements"] == 2


def test_counts_json_lists_the_changes(mini_project: Path, cli: Cli) -> None:
    counts_file = mini_project / "validation/expected_counts.yaml"
    counts_file.write_text(counts_file.read_text(encoding="utf-8").replace("votes: 1\n", ""), "utf-8")
    result = cli("counts", "--project", mini_project, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["changes"] == [{"table": "votes", "expected": None, "actual": 1}]
    cli("counts", "--project", mini_project, "--accept")
    assert yaml.safe_load(counts_file.read_text(encoding="utf-8"))["votes"] == 1


# --- bump and release --bump --------------------------------------------------------------------


def with_docs(project: Path) -> Path:
    """A project with the files a bump regenerates (README with markers, CHANGELOG, CITATION)."""
    for name in ("README.md", "CHANGELOG.md", "CITATION.cff"):
        shutil.copyfile(REPO / name, project / name)
    return project


def version_after(level: str) -> str:
    """The version a ``level`` bump gives from the repo's package.yaml (which moves with releases)."""
    from newstables.bump import next_version
    from newstables.core.model import load_package

    return next_version(load_package(REPO).version, level)


def test_bump_sets_version_and_date_and_regenerates_the_documents(mini_project: Path, cli: Cli) -> None:
    project = with_docs(mini_project)
    package = project / "schemas/package.yaml"
    before = package.read_text(encoding="utf-8")
    # the versions come from the repo's package.yaml (which moves with each release)
    from newstables.bump import next_version
    from newstables.core.model import load_package

    released = load_package(REPO)
    old, new = released.version, next_version(released.version, "minor")
    data = stdout_json(cli("bump", "minor", "--date", "2026-12-05", "--project", project, "--json"))
    assert (data["old_version"], data["new_version"], data["date"]) == (old, new, "2026-12-05")
    assert set(data["written"]) >= {"schemas/package.yaml", "CITATION.cff", "CHANGELOG.md"}

    after = package.read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert changed == [
        (f'version: "{old}"', f'version: "{new}"'),
        (f'created: "{released.created}"', 'created: "2026-12-05T00:00:00Z"'),
    ], "only the two scalar lines change; comments and layout are kept"
    citation = yaml.safe_load((project / "CITATION.cff").read_text(encoding="utf-8"))
    assert (citation["version"], citation["date-released"]) == (new, "2026-12-05")
    assert f"Version {new}, released 2026-12-05." in (project / "docs/data-dictionary.md").read_text("utf-8")
    changelog = (project / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.index(f"## {new} — 2026-12-05") < changelog.index(f"## {old} — {released.release_date}")
    assert f"Minor release (from {old})." in changelog and "`actors` (6)" in changelog
    assert stdout_json(cli("docs", "--project", project, "--check", "--json")) == {"stale": []}


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ([], "created"),
        (["--date", "2026-02-30"], "created"),
        (["--date", "5 Dec 2026"], "created"),
        (["--date", "2026-11-27"], "created"),
    ],
    ids=["no-date", "impossible-date", "not-iso", "before-previous-release"],
)
def test_bump_refuses_a_missing_or_bad_date_and_changes_nothing(
    mini_project: Path, cli: Cli, args: list[str], field: str
) -> None:
    project = with_docs(mini_project)
    before = {p: p.read_bytes() for p in sorted(project.rglob("*")) if p.is_file()}
    (error,) = stderr_errors(cli("bump", "patch", *args, "--project", project, "--json"))
    assert (error["type"], error["field"]) == ("bump-invalid", field)
    assert {p: p.read_bytes() for p in sorted(project.rglob("*")) if p.is_file()} == before


def test_release_bump_releases_the_new_version_in_one_step(
    mini_project: Path, tmp_path: Path, cli: Cli
) -> None:
    project = with_docs(mini_project)
    dist = tmp_path / "dist"
    data = stdout_json(
        cli(
            "release",
            "--project",
            project,
            "--dist",
            dist,
            "--bump",
            "patch",
            "--date",
            "2026-12-05",
            "--json",
        )
    )
    new = version_after("patch")
    folder = dist / f"{NAME}-{new}"
    assert data["new_version"] == new and str(folder) in data["paths"]
    released = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert (released["version"], released["created"]) == (new, "2026-12-05T00:00:00Z")
    assert f"## {new} — 2026-12-05" in (folder / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"version: {new}" in (folder / "CITATION.cff").read_text(encoding="utf-8")


def test_a_failed_release_undoes_the_bump(mini_project: Path, tmp_path: Path, cli: Cli) -> None:
    project = with_docs(mini_project)
    dist = tmp_path / "dist"
    (dist / f"{NAME}-{version_after('minor')}").mkdir(parents=True)
    before = {p: p.read_bytes() for p in sorted(project.rglob("*")) if p.is_file()}
    args = ("release", "--project", project, "--dist", dist, "--bump", "minor", "--date", "2026-12-05")
    (error,) = stderr_errors(cli(*args, "--json"))
    assert error["type"] == "release-exists"
    assert {p: p.read_bytes() for p in sorted(project.rglob("*")) if p.is_file()} == before


def test_release_date_without_bump_is_refused(mini_project: Path, tmp_path: Path, cli: Cli) -> None:
    args = ("release", "--project", mini_project, "--dist", tmp_path, "--date", "2026-12-05", "--json")
    (error,) = stderr_errors(cli(*args))
    assert error["type"] == "bump-invalid"


# --- evidence errors name the key; the annotation format is documented ---------------------------


def test_an_ambiguous_excerpt_names_the_occurrence_key(mini_project: Path) -> None:
    mentions = mini_project / "data/annotations/actor_mentions.yaml"
    text = mentions.read_text(encoding="utf-8")
    match = re.search(r", occurrence: \d+\}", text)
    assert match, "the mini fixture has a mention with an occurrence"
    mentions.write_text(text[: match.start()] + "}" + text[match.end() :], encoding="utf-8")
    (error, *_) = stderr_errors(CliRunner().invoke(app, ["build", "--project", str(mini_project), "--json"]))
    assert error["type"] == "excerpt-ambiguous" and "'occurrence: N'" in error["message"]
    mentions.write_text(text[: match.start()] + ", occurrence: 9}" + text[match.end() :], encoding="utf-8")
    (error, *_) = stderr_errors(CliRunner().invoke(app, ["build", "--project", str(mini_project), "--json"]))
    assert (error["type"], error["field"]) == ("occurrence-out-of-range", "occurrence")
    assert "field 'occurrence' = 9; expected a whole number from 1 to 2" in error["message"]


def test_annotations_doc_covers_every_file_and_key_and_is_linked() -> None:
    doc = (REPO / "docs/annotations.md").read_text(encoding="utf-8")
    assert "(docs/annotations.md)" in (REPO / "README.md").read_text(encoding="utf-8")
    from newstables.read import META_COLUMNS

    metadata = yaml.safe_load((REPO / "schemas/package.yaml").read_text(encoding="utf-8"))
    for resource in metadata["resources"]:
        if resource["name"] == "documents":  # not typed: built from each article's meta.yaml
            assert all(f"`{key}`" in doc for key in META_COLUMNS), "every meta.yaml key"
        elif resource["name"] == "actor_aliases":  # not typed: derived from the mentions
            assert "`actor_aliases` table is not typed" in doc
        else:
            assert f"`{resource['name']}.yaml`" in doc, resource["name"]
        schema = json.loads((REPO / f"schemas/{resource['name']}.schema.json").read_text(encoding="utf-8"))
        for spec in schema["fields"]:
            assert f"`{spec['name']}`" in doc, f"{resource['name']}.{spec['name']}"
    for key in ("regions.yaml", "waivers.yaml", "occurrence", "is_external", "counts --accept", "--bump"):
        assert key in doc, key


# --- the validation report: failing checks first, plain-language summary ------------------------


def test_the_report_lists_failing_checks_first_with_a_plain_summary() -> None:
    from dataclasses import replace

    from newstables.core.model import load_package
    from newstables.gate import CheckResult
    from newstables.report import render_html, results_document, summary_text

    checks = [
        CheckResult("actors", "unique-ids", "Ids are unique.", "k", True),
        CheckResult("votes", "vote-date-matches-event", "Dates agree.", "k", False, examples=["v1"]),
        CheckResult("actors", "row-count-as-expected", "Counts.", "k", False, {"rows": 7, "expected": 6}),
    ]
    summary = summary_text(checks)
    assert summary == (
        "2 of 3 checks failed: vote-date-matches-event (votes), row-count-as-expected (actors)."
    )
    assert summary_text(checks[:1]) == "The 1 check passed."
    assert summary_text([checks[0], checks[0]]) == "All 2 checks passed."
    package = replace(load_package(REPO), name="x", version="1.0.0")
    document = results_document(package, {"actors": 7}, checks)
    assert [c["passed"] for c in document["checks"]] == [False, False, True]
    assert document["summary"]["text"] == summary
    html = render_html(document, checks)
    assert "1 checks failed" not in html and summary in html
    assert html.index("Failed checks") < html.index("Row counts") < html.index("<h2>actors</h2>")
    actors = html[html.index("<h2>actors</h2>") :]
    assert actors.index("row-count-as-expected") < actors.index("unique-ids"), "failing first per table"


def test_counts_refuses_a_malformed_counts_file_as_json(mini_project: Path, cli: Cli) -> None:
    counts_file = mini_project / "validation/expected_counts.yaml"
    counts_file.write_text("votes: many\n", encoding="utf-8")
    (error,) = stderr_errors(cli("counts", "--project", mini_project, "--accept", "--json"))
    # one type per class: a bad value in a metadata file is value-invalid, with its line
    assert (error["type"], error["file"]) == ("value-invalid", "validation/expected_counts.yaml")
    assert (error["field"], error["line"]) == ("votes", 1)
    assert counts_file.read_text(encoding="utf-8") == "votes: many\n", "nothing accepted over an error"


def test_the_program_ends_with_the_commands_status_and_its_output_flushed(tmp_path: Path) -> None:
    """``python -m newstables`` (as the console script) leaves without the interpreter's teardown
    (``cli.run``): the status and every line printed are still the command's."""
    import subprocess
    import sys

    def program(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "newstables", *args], capture_output=True, text=True)

    shown = program("--version")
    assert (shown.returncode, shown.stdout) == (0, f"newstables {version('newstables')}\n")
    refused = program("build", "--project", str(tmp_path), "--json")
    assert refused.returncode == 2 and refused.stdout == ""
    assert [e["type"] for e in json.loads(refused.stderr)["errors"]] == ["not-a-project"]
    assert program("build", "--no-such-option").returncode == 2


def test_the_program_waits_for_a_thread_still_writing_before_it_ends(tmp_path: Path) -> None:
    """``cli.run`` ends the process without the interpreter's teardown, but not before a thread
    that is not a daemon has finished (as the teardown would wait for it)."""
    import subprocess
    import sys

    written = tmp_path / "late.txt"
    script = (
        "import sys, threading, time\n"
        "from pathlib import Path\n"
        "from newstables import cli\n"
        "def late():\n"
        "    time.sleep(0.3)\n"
        f"    Path({str(written)!r}).write_text('done')\n"
        "threading.Thread(target=late).start()\n"
        "sys.argv = ['newstables', '--version']\n"
        "cli.run()\n"
    )
    ended = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert ended.returncode == 0, ended.stderr
    assert written.read_text(encoding="utf-8") == "done"
