"""The ``newstables`` command line: the one boundary where findings become messages.

Stages return findings or raise catalogued errors (``NewstablesError``, ``ErrorList``);
every command runs its action through :func:`run_reporting`, which prints them (text or
``--json``) and exits 2; a file-system refusal (``OSError``) is a catalogued ``io-error``
naming the path, also exit 2. Anything else that escapes is a bug: it is printed as a catalogued
``internal-error`` with a hint to report it (exit 70), never as a traceback.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from newstables.errors import ErrorList, NewstablesError

# Click itself, not Typer: Typer 0.29 coerces every option through a Pydantic TypeAdapter, and
# importing Pydantic and building the adapters cost a third of a no-op `newstables build` (and
# as much of every edit rebuild, before any work starts). Click documents positional arguments
# (their help) and the defaults of options that take a value, as Typer did.


class Group(click.Group):
    """The ``newstables`` group: commands listed in the order they are declared."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Command names in declaration order (click sorts them)."""
        return list(self.commands)


def package_version() -> str:
    """The installed newstables version (package metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("newstables")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        click.echo(f"newstables {package_version()}")
        ctx.exit()


# Every command shows the defaults of its options that take a value.
@click.group(cls=Group, no_args_is_help=True, context_settings={"show_default": True})
@click.option(
    "--version",
    is_flag=True,
    callback=_print_version,
    is_eager=True,
    expose_value=False,
    help="Print the version and exit.",
)
def app() -> None:
    """Turn a news article into a versioned, validated data release.

    \b
    Example: newstables build && newstables release --bump minor --date 2026-12-05
    """


PATH = click.Path(path_type=Path)
project_option = click.option(
    "--project", "-p", type=PATH, default=Path("."), metavar="<path>", help="Project folder (inputs)."
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the result, or the errors, as JSON for machines."
)
quiet_option = click.option(
    "--quiet", "-q", is_flag=True, help="No progress bars (shown on stderr only when it is a terminal)."
)
# A semantic-version bump; auto: what the documents call for since the previous release (an
# added article: minor).
LEVELS = ("patch", "minor", "major", "auto")
# What runs the expectation suites (see ``gate.chosen_engine``): sql, the suites as DuckDB SQL (a
# suite it does not model: Great Expectations); gx, every suite through Great Expectations;
# both, Great Expectations' findings reported, any disagreement refused.
ENGINES = ("sql", "gx", "both")
date_option = click.option(
    "--date",
    metavar="YYYY-MM-DD",
    help="Release date (required with a bump). Never read from the clock, so that the same "
    "inputs give the same bytes.",
)
note_option = click.option(
    "--note", metavar="<str>", help="One line saying what changed, for the CHANGELOG entry."
)


def exit_with(code: int) -> NoReturn:
    """End the command with exit status ``code`` (click prints nothing more)."""
    raise click.exceptions.Exit(code)


def emit(as_json: bool, data: dict[str, Any], lines: list[str]) -> None:
    """Print a command's result: one JSON document on stdout, or lines of text."""
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        for line in lines:
            click.echo(line)


def print_errors(errors: list[NewstablesError], as_json: bool) -> None:
    """Print errors (human text or JSON) on stderr."""
    if as_json:
        print(
            json.dumps({"errors": [e.to_dict() for e in errors]}, indent=2, ensure_ascii=False),
            file=sys.stderr,
        )
    else:
        for error in errors:
            print(f"error [{error.type}] {error.title}\n  {error.message}", file=sys.stderr)


def fail(errors: list[NewstablesError], as_json: bool) -> NoReturn:
    """Print errors (human text or JSON) on stderr and exit 2."""
    print_errors(errors, as_json)
    exit_with(2)


INTERNAL_ERROR_EXIT = 70  # EX_SOFTWARE: a bug, not bad input
T = TypeVar("T")


def internal_error(exc: BaseException) -> NewstablesError:
    """The catalogued ``internal-error`` for an exception nothing else caught."""
    first_line = (str(exc).splitlines() or [""])[0][:300]
    return NewstablesError("internal-error", detail=f"{type(exc).__name__}: {first_line}")


def io_error(exc: OSError) -> NewstablesError:
    """The catalogued ``io-error`` for a file-system refusal (a file where a folder is
    expected, no permission, a full disk): the environment's problem, not a bug."""
    return NewstablesError(
        "io-error",
        file=str(exc.filename or "-"),
        detail=exc.strerror or " ".join(str(exc).split()),
    )


def report_internal_error(exc: BaseException, as_json: bool) -> NoReturn:
    """Print an unexpected exception as a catalogued ``internal-error``; exit 70."""
    print_errors([internal_error(exc)], as_json)
    exit_with(INTERNAL_ERROR_EXIT)


def run_reporting(as_json: bool, action: Callable[..., T], *args: object) -> T:
    """Run ``action``; catalogued errors exit 2 with a clean message, anything else is an
    ``internal-error`` (exit 70). Never a traceback."""
    try:
        return action(*args)
    except NewstablesError as error:
        fail([error], as_json)
    except ErrorList as errors:
        fail(errors.errors, as_json)
    except (click.exceptions.Exit, click.Abort, KeyboardInterrupt):
        raise
    except OSError as exc:
        fail([io_error(exc)], as_json)
    except Exception as exc:
        report_internal_error(exc, as_json)


@app.command()
@project_option
@click.option(
    "--out", "-o", type=PATH, metavar="<path>", help="Where to write outputs (default: the project)."
)
@quiet_option
@click.option("--force", is_flag=True, help="Build even when the inputs and outputs are unchanged.")
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    metavar="<sql|gx|both>",
    help="What runs the expectation suites: sql (default; DuckDB SQL with Great Expectations' "
    "findings, a suite it does not model goes to Great Expectations), gx (Great Expectations "
    "itself) or both (refuses any disagreement; what `newstables release` runs). gx and both "
    "build even when nothing changed. Default: $NEWSTABLES_GATE_ENGINE, else sql.",
)
@json_option
def build(
    project: Path, out: Path | None, quiet: bool, force: bool, engine: str | None, as_json: bool
) -> None:
    """Build, validate and publish the tables.

    A blocked build names every failing check, then sums up (e.g. "2 of 129 checks failed:
    ..."); the report, failing checks first, is in validation/report-failed/index.html.
    When no input (texts, annotations, schemas, suites, package metadata, the newstables code
    or the installed libraries) changed since the last build and its outputs are intact, the
    build says "up to date" and exits 0 at once (.newstables-build.json records both).

    \b
    Example: newstables build --project . --out /tmp/release
    Example: newstables build --engine gx   (validate with Great Expectations itself)
    """
    from newstables.core.fingerprint import freshness, recorded_counts

    force = force or engine in ("gx", "both")
    current, fingerprint = (
        (False, None) if force else freshness(project.resolve(), (out or project).resolve())
    )
    if current:
        recorded = recorded_counts((out or project).resolve())
        lines = [f"{name}: {n} rows" for name, n in recorded.items()]
        emit(
            as_json,
            {"tables": recorded, "up_to_date": True},
            [*lines, "up to date: no input changed and the outputs are intact"],
        )
        return
    from newstables.core.progress import configure
    from newstables.pipeline import build as run_build

    configure(quiet=quiet or as_json)
    # The fingerprint just taken (before anything is read) is the build's: not hashed twice.
    tables = run_reporting(as_json, summarising_gate(run_build), project, out, engine, fingerprint)
    assert isinstance(tables, dict), "build returns the built tables"
    counts = {name: table.size for name, table in tables.items()}
    emit(as_json, {"tables": counts}, [f"{name}: {n} rows" for name, n in counts.items()])


def summarising_gate(action: Callable[..., object]) -> Callable[..., object]:
    """``action`` (a build, or a release that builds) whose blocked build ends its errors
    with the plain-language summary ("2 of 129 checks failed: ...") and the report's path."""
    from newstables.pipeline import GateBlocked

    def run(*args: object) -> object:
        try:
            return action(*args)
        except GateBlocked as blocked:
            summary = NewstablesError("build-blocked", file=str(blocked.report), summary=blocked.summary)
            raise ErrorList([*blocked.errors, summary]) from blocked

    return run


@app.command()
@project_option
@click.option("--check", is_flag=True, help="Only report stale files; exit 1 if any.")
@json_option
def docs(project: Path, check: bool, as_json: bool) -> None:
    """Regenerate the data dictionary (docs/ and the README section) and CITATION.cff from
    the schemas and schemas/package.yaml.

    \b
    Example: newstables docs --check
    """
    from newstables.docs import write_docs

    stale = run_reporting(as_json, write_docs, project, check)
    assert isinstance(stale, list), "write_docs returns the stale files"
    paths = [p.as_posix() for p in stale]
    data = {"stale": paths} if check else {"written": paths}
    emit(as_json, data, [f"{'stale' if check else 'wrote'} {path}" for path in paths])
    if check and stale:
        exit_with(1)


# --- release / verify / diff / query (helper) -------------------------------------------------


@app.command()
@project_option
@click.option(
    "--dist", type=PATH, default=Path("dist"), metavar="<path>", help="Folder that receives the release."
)
@click.option(
    "--previous", type=PATH, metavar="<path>", help="Earlier release folder: ship the changes since it."
)
@click.option("--skip-existing", is_flag=True, help="Exit 0 without writing when this version exists.")
@click.option(
    "--bump",
    type=click.Choice(LEVELS),
    metavar="<patch|minor|major|auto>",
    help="First bump the version (patch, minor, major, or auto: what the documents added, "
    "removed or changed since --previous call for) with --date, as `newstables bump` does.",
)
@date_option
@note_option
@json_option
def release(
    project: Path,
    dist: Path,
    previous: Path | None,
    skip_existing: bool,
    bump: str | None,
    date: str | None,
    note: str | None,
    as_json: bool,
) -> None:
    """Build and publish a versioned release folder with .zip and .tar.gz archives.

    Great Expectations validates every release: its build runs the suites through Great
    Expectations and the DuckDB-SQL engine (`newstables build --engine both`) and stops on any
    disagreement; unchanged frames reuse Great Expectations' cached results.

    With --bump and --date, first set the new version and release date in
    schemas/package.yaml and regenerate CITATION.cff, the data dictionary and a dated
    CHANGELOG entry; if the release then fails, the bump is undone. The date is never read
    from the clock (same inputs, same bytes): you give it.

    \b
    Example: newstables release --bump minor --date 2026-12-05 --previous dist/x-0.1.0
    """
    from newstables.release import release as run_release
    from newstables.release import released_already

    if bump is not None:
        action = summarising_gate(_release_with_bump)
        bumped = run_reporting(as_json, action, project, dist, previous, bump, date, note)
        assert isinstance(bumped, tuple), "release_with_bump returns the bump and the paths"
        result, placed = bumped
        lines = result.lines()
        paths = [str(p) for p in placed]
        emit(as_json, {**result.to_dict(), "paths": paths}, lines + paths)
        return
    if date is not None or note is not None:
        fail([_needs_bump("--date" if date is not None else "--note")], as_json)
    existing = run_reporting(as_json, released_already, project, dist) if skip_existing else None
    if existing is not None:
        emit(as_json, {"already_released": str(existing), "paths": []}, [f"already released: {existing}"])
        return
    placed = run_reporting(as_json, summarising_gate(run_release), project, dist, previous)
    assert isinstance(placed, list), "release returns the paths it wrote"
    emit(as_json, {"paths": [str(p) for p in placed]}, [str(p) for p in placed])


def _release_with_bump(
    project: Path, dist: Path, previous: Path | None, level: str, date: str | None, note: str | None
) -> object:
    from newstables.bump import release_with_bump

    if date is None:
        raise _date_missing()
    return release_with_bump(project, dist, previous, level, date, note)


def _date_missing() -> NewstablesError:
    return NewstablesError(
        "bump-invalid",
        file="schemas/package.yaml",
        field="created",
        value=None,
        detail="give the release date with --date YYYY-MM-DD (it is never read from the clock)",
    )


def _needs_bump(option: str) -> NewstablesError:
    return NewstablesError(
        "bump-invalid",
        file="schemas/package.yaml",
        field="version",
        value=option,
        detail=f"{option} is used only with --bump patch|minor|major",
    )


@app.command("bump")
@click.argument(
    "level",
    type=click.Choice(LEVELS),
    default="auto",
    metavar="<patch|minor|major|auto>",
    help="Which part of MAJOR.MINOR.PATCH to increase; auto (the default): what the documents "
    "added, removed or changed since the previous release call for.",
)
@date_option
@note_option
@click.option(
    "--previous",
    type=PATH,
    metavar="<path>",
    help="The previous release (folder or archive) to compare the documents with "
    "(default: DIST/<name>-<current version> if present).",
)
@click.option(
    "--dist", type=PATH, default=Path("dist"), metavar="<path>", help="Folder holding the releases."
)
@project_option
@json_option
def bump_command(
    level: str,
    date: str | None,
    note: str | None,
    previous: Path | None,
    dist: Path,
    project: Path,
    as_json: bool,
) -> None:
    """Set a new version and release date in schemas/package.yaml (its comments and layout
    kept), then regenerate CITATION.cff, the data dictionary and a dated CHANGELOG entry.

    The date is never read from the clock (same inputs, same bytes): you give it with
    --date, and it may not be earlier than the previous release. Bump rules: major for a
    removed or renamed field or changed type, minor for added rows or fields, patch for
    corrected values (`newstables diff` proposes one). The documents are compared with the
    previous release: an added article proposes minor (a removed one major, a changed one
    patch), says why, and the CHANGELOG entry lists them.

    \b
    Example: newstables bump minor --date 2026-12-05 --note "Adds the Reuters follow-up."
    """
    from newstables.bump import BumpResult
    from newstables.bump import bump as run_bump

    def action() -> object:
        if date is None:
            raise _date_missing()
        return run_bump(project, level, date, note, previous, dist)

    result = run_reporting(as_json, action)
    assert isinstance(result, BumpResult), "bump returns a BumpResult"
    emit(as_json, result.to_dict(), result.lines() + [f"wrote {p.as_posix()}" for p in result.written])


@app.command()
@click.option("--accept", is_flag=True, help="Write the built counts into validation/expected_counts.yaml.")
@project_option
@json_option
def counts(accept: bool, project: Path, as_json: bool) -> None:
    """Compare each table's row count, as the annotations build it, with
    validation/expected_counts.yaml; exit 1 when they differ.

    The gate blocks a build whose counts differ, so that no row appears or disappears by
    accident. After a deliberate change, --accept writes the new counts (comments kept) and
    prints each change as "table: old -> new"; commit it with the annotations.

    \b
    Example: newstables counts --accept
    """
    from newstables.counts import CountReport
    from newstables.counts import counts as run_counts

    report = run_reporting(as_json, run_counts, project, accept)
    assert isinstance(report, CountReport), "counts returns a CountReport"
    if report.written:
        lines = [f"accepted {c.text()}" for c in report.changes]
        lines.append("wrote validation/expected_counts.yaml")
    elif report.changes:
        lines = [c.text() for c in report.changes]
        lines.append("row counts differ; if the change is deliberate, run `newstables counts --accept`")
    else:
        total = sum(report.actual.values())
        lines = [f"row counts as expected ({total} rows in {len(report.actual)} tables)"]
    emit(as_json, report.to_dict(), lines)
    if report.changes and not report.written:
        exit_with(1)


@app.command()
@click.argument("path", type=PATH, metavar="<path>", help="A release folder, or its .zip / .tar.gz archive.")
@json_option
def verify(path: Path, as_json: bool) -> None:
    """Check a release: SHA256SUMS, hashes, schemas, formats and Frictionless.

    \b
    Example: newstables verify dist/newstables-rome-meeting-2022-0.1.0.zip
    """
    from newstables.verify import verify as run_verify

    count = run_reporting(as_json, run_verify, path)
    emit(as_json, {"ok": True, "path": str(path), "files": count}, [f"OK {count} files verified"])


@app.command()
@click.argument("old", type=PATH, metavar="<path>", help="The earlier release: folder, .zip or .tar.gz.")
@click.argument("new", type=PATH, metavar="<path>", help="The later release: folder, .zip or .tar.gz.")
@click.option("--write-changes", is_flag=True, help="Write the changes table into NEW/data and its schema.")
@json_option
def diff(old: Path, new: Path, write_changes: bool, as_json: bool) -> None:
    """Compare two releases by primary key and propose a semantic-version bump.

    Prints a CHANGELOG-ready Markdown summary, or with --json the rows added, removed and
    changed per table and the proposed bump. Archives are extracted safely to a temporary
    folder, as `newstables verify` does.

    \b
    Example: newstables diff dist/x-0.1.0.zip dist/x-0.2.0 --write-changes
    """
    from newstables.diff import Diff, diff_dict, diff_paths, is_archive, markdown
    from newstables.diff import write_changes as run_write_changes

    if write_changes and is_archive(new):
        fail([NewstablesError("changes-need-folder", file=str(new))], as_json)
    result = run_reporting(as_json, diff_paths, old, new)
    assert isinstance(result, Diff), "diff_paths returns a Diff"
    written: list[Path] = []
    if write_changes:
        paths = run_reporting(as_json, run_write_changes, result, new)
        assert isinstance(paths, list), "write_changes returns the paths it wrote"
        written = [new / path for path in paths]
        if not as_json:
            for path in written:
                click.echo(f"wrote {path}", err=True)
    if as_json:
        emit(True, {**diff_dict(result), "written": [str(p) for p in written]}, [])
    else:
        click.echo(markdown(result), nl=False)


@app.command()
@click.argument("sql", metavar="<str>", help="The SQL to run (read-only).")
@click.option(
    "--db", type=PATH, default=Path("data/newstables.duckdb"), metavar="<path>", help="The DuckDB file."
)
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.option("--json", "as_json_rows", is_flag=True, help="Print a JSON array of rows (errors as JSON too).")
@click.option("--full", is_flag=True, help="Show whole cells in the table (default: cut at 60 characters).")
def query(sql: str, db: Path, as_csv: bool, as_json_rows: bool, full: bool) -> None:
    """Run SQL on the release's DuckDB file and print the result.

    The table view puts each cell on one line and cuts it at 60 characters; --full shows
    whole cells, --csv and --json give the text verbatim.

    \b
    Example: newstables query "SELECT speaker, subject, text FROM who_said_what_about_whom" --full
    """
    from newstables.query import query as run_query

    output = "csv" if as_csv else "json" if as_json_rows else "table"
    text = run_reporting(as_json_rows, run_query, db, sql, output, full)
    click.echo(text, nl=False)


# --- corpus: add / draft (helper) -------------------------------------------------------------


@app.command()
@click.argument(
    "path",
    type=PATH,
    metavar="<path>",
    help="The article's text file (UTF-8, NFC), stored byte for byte.",
)
@click.option("--outlet", required=True, metavar="<str>", help="The outlet that published it.")
@click.option("--url", required=True, metavar="<str>", help="Where it was published.")
@click.option("--published", required=True, metavar="<str>", help="Publication date, YYYY-MM-DD.")
@click.option("--id", "document_id", metavar="<str>", help="Document id (default: outlet-date-hash).")
@click.option("--language", metavar="<str>", help="Language tag, e.g. en.")
@click.option("--captured", metavar="<str>", help="Capture date, YYYY-MM-DD.")
@click.option("--rights", metavar="<str>", help="Rights note.")
@click.option("--relation", metavar="<str>", help='Relation to an original, e.g. "paraphrased copy of URL".')
@project_option
@json_option
def add(
    path: Path,
    outlet: str,
    url: str,
    published: str,
    document_id: str | None,
    language: str | None,
    captured: str | None,
    rights: str | None,
    relation: str | None,
    project: Path,
    as_json: bool,
) -> None:
    """Register an article: check its encoding, refuse duplicates, write data/articles/<id>/.

    Example: newstables add story.txt --outlet "The Guardian" --url https://x.org/a --published 2022-03-13
    """
    from newstables.articles import Document, add_article, parse_day
    from newstables.project import Project

    if captured is not None:
        run_reporting(as_json, parse_day, captured, "--captured")
    extra = {"language": language, "captured": captured, "rights": rights, "relation": relation}
    arguments = (Project(project), path, outlet, url, published, document_id, extra)
    document = run_reporting(as_json, add_article, *arguments)
    assert isinstance(document, Document), "add_article returns the new document"
    click.echo(f"added {document.document_id} ({document.sha256})")


@app.command()
@click.argument("document_id", metavar="<str>", help="The document to draft ('article' for the seed).")
@click.option("--no-registry", is_flag=True, help="Draft from the text alone, ignoring every curated file.")
@click.option("--json", "as_json_out", is_flag=True, help="Print the candidates (and errors) as JSON.")
@project_option
def draft(document_id: str, no_registry: bool, as_json_out: bool, project: Path) -> None:
    """Propose candidate annotations (actors, quotations, dates) as data/articles/<id>/draft/*.yaml.

    Example: newstables draft article --no-registry --json
    """
    from newstables.drafting import DraftResult, draft_json, run_draft
    from newstables.project import Project

    result = run_reporting(as_json_out, run_draft, Project(project), document_id, not no_registry)
    assert isinstance(result, DraftResult), "run_draft returns the draft"
    if as_json_out:
        click.echo(json.dumps(draft_json(result), indent=2, ensure_ascii=False))
        return
    counts = {kind: sum(c.kind == kind for c in result.candidates) for kind in ("actor", "quotation", "date")}
    click.echo(", ".join(f"{n} {kind} candidates" for kind, n in counts.items()))
    for written in result.written:
        click.echo(f"wrote {written}")


# --- scale: synthetic corpus (helper) ---------------------------------------------------------


@app.command()
@click.option(
    "--out",
    "-o",
    type=PATH,
    required=True,
    metavar="<path>",
    help="An empty (or new) folder for the project.",
)
@click.option("--articles", "-n", type=int, default=100, metavar="<int>", help="How many articles to write.")
@click.option(
    "--seed", type=int, default=0, metavar="<int>", help="Random seed: the same seed gives the same bytes."
)
@click.option(
    "--project",
    "-p",
    type=PATH,
    metavar="<path>",
    help="Project whose schemas and suites are copied (default: the package's).",
)
@json_option
def synth(out: Path, articles: int, seed: int, project: Path | None, as_json: bool) -> None:
    """Write a deterministic synthetic corpus (fictional articles, registries, curated annotations
    with exact offsets) as a project folder that `newstables build -p OUT` builds and validates.

    \b
    Example: newstables synth --articles 1000 --seed 7 --out /tmp/corpus && newstables build -p /tmp/corpus
    """
    from newstables.synth import SynthSummary, default_template
    from newstables.synth import synth as write_synth

    template = project if project is not None else default_template()
    summary = run_reporting(as_json, write_synth, out, articles, seed, template)
    assert isinstance(summary, SynthSummary), "synth returns its summary"
    data = {"out": str(summary.out), "articles": summary.articles, "tables": summary.counts}
    lines = [f"wrote {summary.articles} articles to {summary.out}"]
    lines += [f"{name}: {n} rows" for name, n in summary.counts.items()]
    emit(as_json, data, lines)


def main() -> None:
    """Console-script entry point, with a last resort: no exception escapes as a traceback."""
    try:
        app()
    except SystemExit as stop:
        finish(stop.code)
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        print_errors([internal_error(exc)], "--json" in sys.argv[1:])
        finish(INTERNAL_ERROR_EXIT)


def run() -> NoReturn:
    """The ``newstables`` program (console script, ``python -m newstables``): :func:`main`, then a
    quick exit.

    When the command is done, the threads still running are waited for (as the interpreter
    would), the exit handlers run (finalizers, the standard error stream silenced after Great
    Expectations: see :func:`finish`), the output streams are flushed, and the process ends
    without the interpreter's own teardown: its last garbage collection over every object of
    DuckDB, Arrow and NumPy cost about a tenth of a second of CPU, more than a no-op build
    itself. Every file was written and closed before (the build commits its outputs, and the
    caches are saved, before returning). In-process callers (tests)
    use :func:`main`, which exits the usual way.
    """
    try:
        main()
        code: int | str | None = 0
    except SystemExit as stop:
        code = stop.code
    _join_threads()
    atexit._run_exitfuncs()
    if isinstance(code, str):
        print(code, file=sys.stderr)  # as sys.exit prints a message, with status 1
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1  # a closed pipe: the output is lost, as sys.exit would say
    os._exit(code or 0)


def _join_threads() -> None:
    # os._exit would end a thread still writing; the interpreter's teardown waits for every
    # thread that is not a daemon, and so does this.
    current = threading.current_thread()
    for thread in threading.enumerate():
        if thread is not current and not thread.daemon:
            thread.join()


def finish(code: int | str | None) -> NoReturn:
    """Exit with ``code`` once the command is done.

    After the gate has run, Great Expectations and duckdb-engine keep DuckDB objects alive
    until interpreter shutdown, and DuckDB's nanobind bindings then print dozens of
    "nanobind: leaked instance" lines on stderr (noise that would also break ``--json``
    error output). Those lines are written while the interpreter finalizes, after the
    ``atexit`` handlers: one handler sends the standard error stream to /dev/null at that
    point, so the normal shutdown still runs (never ``os._exit``, which would also end a
    test runner that calls ``main()`` in-process).
    """
    if "great_expectations" in sys.modules:
        atexit.register(_silence_stderr_at_shutdown)
    sys.exit(code)


def _silence_stderr_at_shutdown() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
