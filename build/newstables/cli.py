"""The ``newstables`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from newstables.errors import ErrorList, NewstablesError

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Turn a news article into a versioned, validated data release.")

ProjectOption = Annotated[Path, typer.Option("--project", "-p", help="Project folder (inputs).")]


@app.callback()
def _group() -> None:
    """Turn a news article into a versioned, validated data release."""


JsonOption = Annotated[bool, typer.Option("--json", help="Print errors as JSON for machines.")]


def fail(errors: list[NewstablesError], as_json: bool) -> None:
    """Print errors (human text or JSON) on stderr and exit non-zero."""
    if as_json:
        print(json.dumps({"errors": [e.to_dict() for e in errors]}, indent=2, ensure_ascii=False),
              file=sys.stderr)
    else:
        for error in errors:
            print(f"error [{error.type}] {error.title}\n  {error.message}", file=sys.stderr)
    raise typer.Exit(code=2)


def run_reporting(as_json: bool, action: object, *args: object) -> object:
    """Run ``action``; turn catalogued errors into a clean message and exit code 2."""
    try:
        return action(*args)  # type: ignore[operator]
    except NewstablesError as error:
        fail([error], as_json)
    except ErrorList as errors:
        fail(errors.errors, as_json)
    return None


@app.command()
def build(
    project: ProjectOption = Path("."),
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write outputs (default: the project).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Build, validate and publish the tables.

    Example: newstables build --project . --out /tmp/release
    """
    from newstables.pipeline import build as run_build

    tables = run_reporting(as_json, run_build, project, out)
    assert isinstance(tables, dict), "build returns the built tables"
    for name, table in tables.items():
        typer.echo(f"{name}: {len(table.rows)} rows")


def main() -> None:
    """Console-script entry point."""
    app()
