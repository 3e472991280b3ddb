"""The ``newstables`` command line: the one boundary where findings become messages.

Stages return findings or raise catalogued errors (``NewstablesError``, ``ErrorList``);
every command runs its action through :func:`run_reporting`, which prints them (text or
``--json``) and exits 2; a file-system refusal (``OSError``) is a catalogued ``io-error``
naming the path, also exit 2. Anything else that escapes is a bug: it is printed as a catalogued
``internal-error`` with a hint to report it (exit 70), never as a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from newstables.errors import ErrorList, NewstablesError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Turn a news article into a versioned, validated data release.",
)

ProjectOption = Annotated[Path, typer.Option("--project", "-p", help="Project folder (inputs).")]


@app.callback()
def _group() -> None:
    """Turn a news article into a versioned, validated data release."""


JsonOption = Annotated[bool, typer.Option("--json", help="Print errors as JSON for machines.")]


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
    raise typer.Exit(code=2)


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
    raise typer.Exit(code=INTERNAL_ERROR_EXIT)


def run_reporting(as_json: bool, action: Callable[..., T], *args: object) -> T:
    """Run ``action``; catalogued errors exit 2 with a clean message, anything else is an
    ``internal-error`` (exit 70). Never a traceback."""
    try:
        return action(*args)
    except NewstablesError as error:
        fail([error], as_json)
    except ErrorList as errors:
        fail(errors.errors, as_json)
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except OSError as exc:
        fail([io_error(exc)], as_json)
    except Exception as exc:
        report_internal_error(exc, as_json)


@app.command()
def build(
    project: ProjectOption = Path("."),
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write outputs (default: the project).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Build, validate and publish the tables.

    Example: newstables build --project . --out /tmp/release
    """
    from newstables.pipeline import build as run_build

    tables = run_reporting(as_json, run_build, project, out)
    for name, table in tables.items():
        typer.echo(f"{name}: {len(table.rows)} rows")


@app.command()
def docs(
    project: ProjectOption = Path("."),
    check: Annotated[bool, typer.Option("--check", help="Only report stale files; exit 1 if any.")] = False,
) -> None:
    """Regenerate the data dictionary (docs/ and the README section) from the schemas.

    Example: newstables docs --check
    """
    from newstables.docs import write_docs

    stale = run_reporting(False, write_docs, project, check)
    for path in stale:
        typer.echo(f"{'stale' if check else 'wrote'} {path}")
    if check and stale:
        raise typer.Exit(code=1)


# --- release / verify / diff / query (helper) -------------------------------------------------


@app.command()
def release(
    project: ProjectOption = Path("."),
    dist: Annotated[Path, typer.Option("--dist", help="Folder that receives the release.")] = Path("dist"),
    previous: Annotated[
        Path | None,
        typer.Option("--previous", help="Earlier release folder: ship the changes since it."),
    ] = None,
    skip_existing: Annotated[
        bool, typer.Option("--skip-existing", help="Exit 0 without writing when this version exists.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Build and publish a versioned release folder with .zip and .tar.gz archives.

    Example: newstables release --dist dist --previous dist/newstables-rome-meeting-2022-0.1.0
    """
    from newstables.release import release as run_release
    from newstables.release import released_already

    existing = run_reporting(as_json, released_already, project, dist) if skip_existing else None
    if existing is not None:
        typer.echo(f"already released: {existing}")
        return
    placed = run_reporting(as_json, run_release, project, dist, previous)
    for path in placed:
        typer.echo(str(path))


@app.command()
def verify(
    path: Annotated[Path, typer.Argument(help="A release folder, or its .zip / .tar.gz archive.")],
    as_json: JsonOption = False,
) -> None:
    """Check a release: SHA256SUMS, hashes, schemas, formats and Frictionless.

    Example: newstables verify dist/newstables-rome-meeting-2022-0.1.0.zip
    """
    from newstables.verify import verify as run_verify

    count = run_reporting(as_json, run_verify, path)
    typer.echo(f"OK {count} files verified")


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The earlier release folder (or build output).")],
    new: Annotated[Path, typer.Argument(help="The later release folder (or build output).")],
    write_changes: Annotated[
        bool, typer.Option("--write-changes", help="Write the changes table into NEW/data and its schema.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Compare two releases by primary key and propose a semantic-version bump.

    Example: newstables diff dist/x-0.1.0 dist/x-0.2.0 --write-changes
    """
    from newstables.diff import Diff, diff_paths, markdown
    from newstables.diff import write_changes as run_write_changes

    result: Diff = run_reporting(as_json, diff_paths, old, new)
    if write_changes:
        written = run_reporting(as_json, run_write_changes, result, new)
        for path in written:
            typer.echo(f"wrote {new / path}", err=True)
    typer.echo(markdown(result), nl=False)


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="The SQL to run (read-only).")],
    db: Annotated[Path, typer.Option("--db", help="The DuckDB file.")] = Path("data/newstables.duckdb"),
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    as_json_rows: Annotated[bool, typer.Option("--json", help="Print a JSON array of rows.")] = False,
) -> None:
    """Run SQL on the release's DuckDB file and print the result.

    Example: newstables query "SELECT speaker, text FROM statements_by_speaker" --csv
    """
    from newstables.query import query as run_query

    output = "csv" if as_csv else "json" if as_json_rows else "table"
    text = run_reporting(False, run_query, db, sql, output)
    typer.echo(text, nl=False)


def main() -> None:
    """Console-script entry point, with a last resort: no exception escapes as a traceback."""
    try:
        app()
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as exc:
        print_errors([internal_error(exc)], "--json" in sys.argv[1:])
        sys.exit(INTERNAL_ERROR_EXIT)
