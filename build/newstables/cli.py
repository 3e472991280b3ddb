"""The ``newstables`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

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


def fail(errors: list[NewstablesError], as_json: bool) -> None:
    """Print errors (human text or JSON) on stderr and exit non-zero."""
    if as_json:
        print(
            json.dumps({"errors": [e.to_dict() for e in errors]}, indent=2, ensure_ascii=False),
            file=sys.stderr,
        )
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
    assert isinstance(tables, dict), "build returns the built tables"
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
    assert isinstance(stale, list), "write_docs returns the stale files"
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

    if skip_existing and released_already(project, dist):
        typer.echo(f"already released: {released_already(project, dist)}")
        return
    placed = run_reporting(as_json, run_release, project, dist, previous)
    assert isinstance(placed, list), "release returns the paths it wrote"
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

    result = run_reporting(as_json, diff_paths, old, new)
    assert isinstance(result, Diff), "diff_paths returns a Diff"
    if write_changes:
        written = run_reporting(as_json, run_write_changes, result, new)
        assert isinstance(written, list), "write_changes returns the paths it wrote"
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


# --- corpus: add / draft (helper) -------------------------------------------------------------


@app.command()
def add(
    path: Annotated[Path, typer.Argument(help="The article's text file (UTF-8, NFC), stored byte for byte.")],
    outlet: Annotated[str, typer.Option("--outlet", help="The outlet that published it.")],
    url: Annotated[str, typer.Option("--url", help="Where it was published.")],
    published: Annotated[str, typer.Option("--published", help="Publication date, YYYY-MM-DD.")],
    document_id: Annotated[
        str | None, typer.Option("--id", help="Document id (default: outlet-date-hash).")
    ] = None,
    language: Annotated[str | None, typer.Option("--language", help="Language tag, e.g. en.")] = None,
    captured: Annotated[str | None, typer.Option("--captured", help="Capture date, YYYY-MM-DD.")] = None,
    rights: Annotated[str | None, typer.Option("--rights", help="Rights note.")] = None,
    relation: Annotated[
        str | None,
        typer.Option("--relation", help='Relation to an original, e.g. "paraphrased copy of URL".'),
    ] = None,
    project: ProjectOption = Path("."),
    as_json: JsonOption = False,
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
    typer.echo(f"added {document.document_id} ({document.sha256})")


@app.command()
def draft(
    document_id: Annotated[str, typer.Argument(help="The document to draft ('article' for the seed).")],
    no_registry: Annotated[
        bool, typer.Option("--no-registry", help="Draft from the text alone, ignoring every curated file.")
    ] = False,
    as_json_out: Annotated[
        bool, typer.Option("--json", help="Print the candidates (and errors) as JSON.")
    ] = False,
    project: ProjectOption = Path("."),
) -> None:
    """Propose candidate annotations (actors, quotations, dates) as data/articles/<id>/draft/*.yaml.

    Example: newstables draft article --no-registry --json
    """
    from newstables.drafting import DraftResult, draft_json, run_draft
    from newstables.project import Project

    result = run_reporting(as_json_out, run_draft, Project(project), document_id, not no_registry)
    assert isinstance(result, DraftResult), "run_draft returns the draft"
    if as_json_out:
        typer.echo(json.dumps(draft_json(result), indent=2, ensure_ascii=False))
        return
    counts = {kind: sum(c.kind == kind for c in result.candidates) for kind in ("actor", "quotation", "date")}
    typer.echo(", ".join(f"{n} {kind} candidates" for kind, n in counts.items()))
    for written in result.written:
        typer.echo(f"wrote {written}")


def main() -> None:
    """Console-script entry point."""
    app()
