"""`newstables release`: a complete, checksummed, byte-reproducible release folder and archives.

The helpers here (``shared_releases``) are also used by test_verify and test_diff, so that
the mini project is released only once per test session.
"""

from __future__ import annotations

import json
import re
import shutil
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from newstables.errors import NewstablesError
from newstables.release import release
from tests.conftest import assemble

NAME = "newstables-rome-meeting-2022"
NEW_STATEMENT = """\
- statement_id: sullivan-rome-plan
  speaker_id: jake-sullivan
  statement_type: reported_claim
  fidelity: paraphrased_copy
  excerpt: will meet Yang Jiechi in Rome on Monday
"""
OLD_ROLE, NEW_ROLE = (
    "role_title: US national security adviser",
    "role_title: White House national security adviser",
)


@dataclass
class Releases:
    """The mini project released as 0.1.0 and, after small edits, as 0.2.0."""

    root: Path
    dist: Path
    project: Path
    paths: dict[str, Path] = field(default_factory=dict)

    def folder(self, version: str) -> Path:
        """The release folder of ``version``."""
        return self.dist / f"{NAME}-{version}"


_SESSION: dict[str, Releases] = {}


def edit_to_v2(project: Path) -> None:
    """One changed value (Sullivan's role), one added statement, version 0.2.0."""
    actors = project / "data/annotations/actors.yaml"
    text = actors.read_text(encoding="utf-8")
    assert OLD_ROLE in text
    actors.write_text(text.replace(OLD_ROLE, NEW_ROLE), encoding="utf-8")
    statements = project / "data/annotations/statements.yaml"
    statements.write_text(statements.read_text(encoding="utf-8") + NEW_STATEMENT, encoding="utf-8")
    package = project / "schemas/package.yaml"
    package.write_text(
        package.read_text(encoding="utf-8").replace('version: "0.1.0"', 'version: "0.2.0"'), encoding="utf-8"
    )
    counts_file = project / "validation/expected_counts.yaml"
    if counts_file.is_file():  # the gate checks row counts: the new statement is deliberate
        counts = yaml.safe_load(counts_file.read_text(encoding="utf-8"))
        counts["statements"] += 1
        counts_file.write_text(yaml.safe_dump(counts), encoding="utf-8")


def pin_version(project: Path, version: str = "0.1.0", created: str = "2026-11-28T00:00:00Z") -> None:
    """Give the mini project its own release series (version and release date), whatever the
    repo's current version."""
    package = project / "schemas/package.yaml"
    text = re.sub(r'(?m)^version: "[^"]*"', f'version: "{version}"', package.read_text(encoding="utf-8"))
    text = re.sub(r'(?m)^created: "[^"]*"', f'created: "{created}"', text)
    package.write_text(text, encoding="utf-8")


def shared_releases(factory: pytest.TempPathFactory, with_v2: bool = False) -> Releases:
    """Release 0.1.0 of the mini project once per session (and 0.2.0 when asked)."""
    if "main" not in _SESSION:
        root = factory.mktemp("releases")
        project = assemble(root / "project-0.1.0", "mini")
        pin_version(project)
        releases = Releases(root, root / "dist", project)
        release(project, releases.dist)
        _SESSION["main"] = releases
    releases = _SESSION["main"]
    if with_v2 and not releases.folder("0.2.0").exists():
        project_v2 = releases.root / "project-0.2.0"
        shutil.copytree(releases.project, project_v2)
        edit_to_v2(project_v2)
        release(project_v2, releases.dist, previous=releases.folder("0.1.0"))
    return releases


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Releases:
    """The session's 0.1.0 release."""
    return shared_releases(tmp_path_factory)


EXPECTED_FILES = {
    "CHANGELOG.md",
    "CITATION.cff",
    "README.md",
    "SHA256SUMS",
    "datapackage.json",
    "datapackage.jsonld",
    "docs/data-dictionary.md",
    "data/newstables.duckdb",
}


def test_release_folder_holds_data_docs_and_metadata(releases: Releases) -> None:
    folder = releases.folder("0.1.0")
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert files >= EXPECTED_FILES
    resources = yaml.safe_load((releases.project / "schemas/package.yaml").read_text())["resources"]
    for resource in resources:
        table = resource["name"]
        assert {f"data/{table}.csv", f"schemas/{table}.schema.json"} <= files
        if resource.get("partition"):  # hive-style parts by publication year (core.parts)
            assert any(f.startswith(f"data/parquet/{table}/year=") for f in files), table
            assert f"data/parquet/{table}.parquet" not in files
        else:
            assert f"data/parquet/{table}.parquet" in files
    assert not any(p.name.startswith(".release-") for p in releases.dist.iterdir()), "staging removed"


def test_sha256sums_lists_every_other_file_sorted(releases: Releases) -> None:
    folder = releases.folder("0.1.0")
    lines = (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    listed = [line.split("  ", 1)[1] for line in lines]
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert listed == sorted(listed)
    assert listed == [f for f in files if f != "SHA256SUMS"]


def test_generated_metadata_documents(releases: Releases) -> None:
    folder = releases.folder("0.1.0")
    cff = yaml.safe_load((folder / "CITATION.cff").read_text(encoding="utf-8"))
    assert (cff["cff-version"], cff["type"], cff["version"]) == ("1.2.0", "dataset", "0.1.0")
    assert cff["date-released"] == "2026-11-28" and cff["license"] == "CC-BY-4.0"
    assert cff["authors"] == [{"name": "newstables data desk"}]
    ld = json.loads((folder / "datapackage.jsonld").read_text(encoding="utf-8"))
    assert ld["@type"] == "Dataset" and ld["version"] == "0.1.0"
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    # one distribution per file: a partitioned table's parts are listed one by one
    files = [p for r in descriptor["resources"] for p in r.get("parts", [r])]
    assert [d["contentUrl"] for d in ld["distribution"]] == [f["path"] for f in files]
    assert all(f"sha256:{d['sha256']}" == f["hash"] for d, f in zip(ld["distribution"], files, strict=True))
    dictionary = (folder / "docs/data-dictionary.md").read_text(encoding="utf-8")
    assert "## actors: Actors" in dictionary and "| `actor_id` | string | yes |" in dictionary


def test_archives_have_fixed_metadata(releases: Releases) -> None:
    base = releases.dist / f"{NAME}-0.1.0"
    with tarfile.open(f"{base}.tar.gz") as tf:
        members = tf.getmembers()
    assert [m.name for m in members] == sorted(m.name for m in members)
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(1795824000, 0, 0, "", "")}
    assert {m.mode for m in members if m.isfile()} == {0o644}
    assert {m.mode for m in members if m.isdir()} == {0o755}
    raw = Path(f"{base}.tar.gz").read_bytes()
    assert raw[4:8] == b"\0\0\0\0" and not raw[3] & 0x08, "gzip: mtime 0, no file name"
    with zipfile.ZipFile(f"{base}.zip") as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(2026, 11, 28, 0, 0, 0)}


def test_releasing_the_same_version_twice_is_refused(releases: Releases, cli: object) -> None:
    with pytest.raises(NewstablesError) as caught:
        release(releases.project, releases.dist)
    assert caught.value.type == "release-exists"
    assert caught.value.coordinates["value"] == "0.1.0"
    result = cli("release", "--project", releases.project, "--dist", releases.dist)  # type: ignore[operator]
    assert result.exit_code == 2 and "release-exists" in result.output


def test_a_leftover_archive_of_an_interrupted_run_is_completed_when_identical(
    tmp_path: Path, releases: Releases
) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    leftover = releases.dist / f"{NAME}-0.1.0.zip"
    shutil.copyfile(leftover, dist / leftover.name)  # killed after the first rename
    release(releases.project, dist)
    assert sorted(p.name for p in dist.iterdir()) == [
        f"{NAME}-0.1.0",
        f"{NAME}-0.1.0.tar.gz",
        f"{NAME}-0.1.0.zip",
    ]


def test_release_refuses_when_a_different_archive_exists(tmp_path: Path, releases: Releases) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / f"{NAME}-0.1.0.zip").write_bytes(b"")
    with pytest.raises(NewstablesError) as caught:
        release(releases.project, dist)
    assert caught.value.type == "release-exists"
    assert sorted(p.name for p in dist.iterdir()) == [f"{NAME}-0.1.0.zip"]


def test_two_separate_runs_give_byte_identical_archives(
    tmp_path: Path, releases: Releases, cli: object
) -> None:
    project = assemble(tmp_path / "elsewhere" / "project", "mini")
    pin_version(project)
    dist = tmp_path / "other-dist"
    result = cli("release", "--project", project, "--dist", dist)  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    for suffix in (".zip", ".tar.gz"):
        first = (releases.dist / f"{NAME}-0.1.0{suffix}").read_bytes()
        second = (dist / f"{NAME}-0.1.0{suffix}").read_bytes()
        assert first == second, f"{suffix} differs between runs"
    duckdb_file = "data/newstables.duckdb"
    assert (releases.folder("0.1.0") / duckdb_file).read_bytes() == (
        dist / f"{NAME}-0.1.0" / duckdb_file
    ).read_bytes()


def test_a_release_with_a_previous_version_ships_its_changes(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    releases = shared_releases(tmp_path_factory, with_v2=True)
    folder = releases.folder("0.2.0")
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert {"changes", "changes-parquet"} <= {r["name"] for r in descriptor["resources"]}
    changes = (folder / "data/changes.csv").read_text(encoding="utf-8").splitlines()
    assert len(changes) == 3, changes  # header, the changed actor, the added statement
    changelog = (folder / "CHANGELOG.md").read_text(encoding="utf-8")
    # one entry per version: the comparison is a section of the version's entry
    assert changelog.count("\n## 0.2.0 ") == 1
    assert "### Changes since 0.1.0 (proposed bump: minor)" in changelog
    assert "data/changes.csv" in (folder / "SHA256SUMS").read_text(encoding="utf-8")


def test_a_release_ships_the_raw_article_and_no_second_id_map(tmp_path: Path) -> None:
    """Changed ids ship as the redirects table (one mechanism): no id-map.yaml is copied."""
    from newstables.project import Project
    from newstables.release import copy_raw_inputs

    project = assemble(tmp_path / "project", "mini")
    copy_raw_inputs(Project(project), tmp_path / "release")
    assert (tmp_path / "release/data/raw/article.txt").read_bytes() == (
        project / "data/raw/article.txt"
    ).read_bytes()
    assert not (tmp_path / "release/id-map.yaml").exists()
