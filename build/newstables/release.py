"""A versioned data release: ``dist/<name>-<version>/`` plus byte-reproducible archives.

The build runs into a staging folder inside ``dist/``; the release folder is assembled,
verified, archived, and only then moved into place by ``core.staging.commit`` (one journal,
then renames: archives first, the folder last). The reader documents come from
``release_docs``, the deterministic archives from ``archives``. Nothing in the release reads
the clock: archive timestamps are the ``created`` field of package.yaml.

The DuckDB file is byte-reproducible too: the build writes it with one thread and no
compression (see ``sql.reproducible_connection``), so it is copied like any other file.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from newstables.archives import fixed_mtime, normalise_modes, write_tar_gz, write_zip
from newstables.checksums import sha256_file
from newstables.core.model import Model, Package, load_model, load_package
from newstables.core.paths import check_release_identity, refuse_older_version
from newstables.core.staging import RELEASE_PREFIX, commit, recover, staging_area
from newstables.diff import Diff
from newstables.errors import ErrorList, NewstablesError
from newstables.project import (
    ARTICLES,
    DATAPACKAGE,
    DUCKDB_FILE,
    RAW_DIR,
    REPORT_DIR,
    Project,
    document_folder,
    document_ids,
    document_text_path,
)
from newstables.release_docs import CHANGELOG, write_documents
from newstables.verify import SUMS, sha256sums_text, verify_folder


def release_name(package: Package) -> str:
    """``<name>-<version>``, the release folder's and the archives' base name (both checked
    against strict patterns first: this becomes a path)."""
    name, version = check_release_identity(package.as_dict())
    return f"{name}-{version}"


# --- assembling the folder --------------------------------------------------------------------


def copy_build_outputs(built: Path, folder: Path) -> None:
    """Copy the data, schemas, descriptor and validation report of a build into ``folder``."""
    shutil.copytree(built / "data", folder / "data", ignore=shutil.ignore_patterns(".staging-*"))
    shutil.copytree(built / "schemas", folder / "schemas")
    shutil.copyfile(built / DATAPACKAGE, folder / DATAPACKAGE)
    if (built / REPORT_DIR).is_dir():
        shutil.copytree(built / REPORT_DIR, folder / REPORT_DIR)
    for reader_folder in ("viewer", "datasette"):  # the provenance page, Datasette's metadata
        if (built / reader_folder).is_dir():
            shutil.copytree(built / reader_folder, folder / reader_folder)


def copy_raw_inputs(project: Project, folder: Path) -> None:
    """Ship the raw article (and the external facts) so a reader can check every offset.
    Changed ids ship as the ``redirects`` table, like every other table."""
    # Links are copied as links, never followed: verify then refuses them (and the build
    # already refused any symlink in the inputs).
    shutil.copytree(project.path(RAW_DIR), folder / RAW_DIR, symlinks=True)
    # Every document of the corpus: its text and metadata (not its drafts or annotations).
    for document_id in document_ids(project):
        text = document_text_path(project, document_id)
        if text.parent == document_folder(project, document_id):
            target = folder / ARTICLES / document_id
            target.mkdir(parents=True, exist_ok=True)
            for name in ("article.txt", "meta.yaml"):
                if (text.parent / name).is_file() and not (text.parent / name).is_symlink():
                    shutil.copyfile(text.parent / name, target / name)


def add_changes_to_database(folder: Path, result: Diff, description: str) -> None:
    """Put the ``changes`` table into the release's DuckDB file too."""
    from newstables.core.model import CHANGES, changes_resource
    from newstables.diff import change_rows
    from newstables.publish import to_arrow
    from newstables.sql import add_table
    from newstables.tables import Table

    table = Table(CHANGES, changes_resource(description), rows=change_rows(result))
    add_table(folder / DUCKDB_FILE, table, to_arrow(table))


def add_changes(folder: Path, previous: Path) -> None:
    """Seal the comparison with ``previous`` into the release: the ``changes`` table (CSV +
    Parquet, listed in ``datapackage.json``) and its summary at the top of the CHANGELOG."""
    from newstables.core.model import changes_resource
    from newstables.diff import diff_paths, markdown, write_changes
    from newstables.metadata import csv_resource, file_stats, parquet_resource

    result = diff_paths(previous, folder)
    write_changes(result, folder)
    description = f"Rows added, removed or changed since version {result.old_version}."
    add_changes_to_database(folder, result, description)
    descriptor = json.loads((folder / DATAPACKAGE).read_text(encoding="utf-8"))
    database = next(r for r in descriptor["resources"] if r["path"] == DUCKDB_FILE.as_posix())
    database.update(file_stats(folder / DUCKDB_FILE))
    resource = changes_resource(description)
    descriptor["resources"] += [csv_resource(resource, folder), parquet_resource(resource, folder)]
    (folder / DATAPACKAGE).write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", "utf-8")
    changelog_file = folder / CHANGELOG
    changelog_file.write_text(
        with_changes(changelog_file.read_text(encoding="utf-8"), result, markdown), encoding="utf-8"
    )


def with_changes(changelog: str, result: Diff, markdown: Callable[[Diff, str], str]) -> str:
    """The CHANGELOG with the comparison's summary: inside this version's entry (as its last
    ``###`` section) when the bump wrote one, else as its own ``##`` entry at the top."""
    entry = re.search(rf"^## {re.escape(result.new_version)}\b.*$", changelog, flags=re.M)
    if entry is None:
        title, _, rest = changelog.partition("\n")
        return f"{title}\n\n{markdown(result, '##')}{rest}"
    following = re.search(r"^## ", changelog[entry.end() :], flags=re.M)
    end = entry.end() + following.start() if following else len(changelog)
    body = changelog[:end].rstrip("\n")
    return f"{body}\n\n{markdown(result, '###')}" + (f"\n{changelog[end:]}" if following else "")


def assemble(project: Project, model: Model, built: Path, folder: Path, previous: Path | None = None) -> None:
    """Fill the release folder from a build, add the documents, the changes since
    ``previous`` (when given) and ``SHA256SUMS``."""
    folder.mkdir(parents=True)
    copy_build_outputs(built, folder)
    copy_raw_inputs(project, folder)
    write_documents(project, model, folder)
    if previous is not None:
        add_changes(folder, previous)
    (folder / SUMS).write_text(sha256sums_text(folder), encoding="utf-8")
    normalise_modes(folder)


# --- the command ------------------------------------------------------------------------------


def targets(dist: Path, base: str) -> list[Path]:
    """The two archives and the release folder, in the order they are put in place: the
    folder last, so that its presence means the release is complete."""
    return [dist / f"{base}.zip", dist / f"{base}.tar.gz", dist / base]


def refuse_existing(dist: Path, base: str, version: str, staged: Path | None = None) -> None:
    """Refuse to overwrite a released version.

    The folder marks a complete release. An archive without its folder is what a run killed
    while moving files into place leaves behind; since archives are byte-reproducible, it
    is replaced only when it is byte-identical to the staged one (``staged``), else refused.
    """
    for target in targets(dist, base):
        if target.exists() and not _same_file(target, staged):
            raise NewstablesError("release-exists", file=str(target), value=version)


def _same_file(target: Path, staged: Path | None) -> bool:
    twin = staged / target.name if staged is not None else None
    return bool(twin and target.is_file() and twin.is_file() and sha256_file(target) == sha256_file(twin))


def released_already(project_root: Path, dist: Path) -> Path | None:
    """The existing release folder of the project's current version, if there is one."""
    folder = dist / release_name(load_package(project_root.resolve()))
    recover(dist.absolute(), clean=True)
    return folder if folder.exists() else None


def release(project_root: Path, dist: Path, previous: Path | None = None) -> list[Path]:
    """Build, assemble, verify and archive a release; return the paths put in place.

    With ``previous`` (an earlier release folder) the release also carries the ``changes``
    table and a CHANGELOG summary of what changed since. The gate runs both engines (Great
    Expectations, cached per unchanged frame, and the DuckDB-SQL one) and blocks on any
    disagreement.

    Example: ``release(Path("."), Path("dist"))`` writes ``dist/<name>-<version>/``,
    ``dist/<name>-<version>.zip`` and ``dist/<name>-<version>.tar.gz``.
    """
    from newstables.pipeline import build

    project = Project(project_root.resolve())
    model = load_model(project.root)
    package = model.package
    base, version = release_name(package), package.version
    dist = dist.resolve()
    with staging_area(dist, prefix=RELEASE_PREFIX) as staging:
        if (dist / base).exists():
            raise NewstablesError("release-exists", file=str(dist / base), value=version)
        refuse_older_version(dist, package.name, version)
        # Great Expectations validates every release: the suites run through it and through
        # the DuckDB-SQL engine of everyday builds, and any disagreement stops the release.
        build(project.root, out_root=staging / "build", engine="both")
        assemble(project, model, staging / "build", staging / base, previous)
        errors, _ = verify_folder(staging / base)
        if errors:
            raise ErrorList(errors)
        mtime = fixed_mtime(package)
        write_zip(staging / base, staging / f"{base}.zip", mtime)
        write_tar_gz(staging / base, staging / f"{base}.tar.gz", mtime)
        refuse_existing(dist, base, version, staged=staging)
        placed = targets(dist, base)
        commit(dist, staging, [Path(target.name) for target in placed])
    return placed
