"""`newstables verify`: releases pass; tampered copies fail, naming every problem."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from newstables.errors import ErrorList
from newstables.verify import verify, verify_path
from tests.test_release import NAME, Releases, shared_releases


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Releases:
    """The session's 0.1.0 and 0.2.0 releases."""
    return shared_releases(tmp_path_factory, with_v2=True)


@pytest.fixture
def copy(tmp_path: Path, releases: Releases) -> Path:
    """A throwaway copy of the 0.1.0 release folder, to tamper with."""
    return Path(shutil.copytree(releases.folder("0.1.0"), tmp_path / f"{NAME}-0.1.0"))


def _types(path: Path) -> list[tuple[str, str]]:
    return [(e.type, str(e.coordinates.get("file"))) for e in verify_path(path)]


@pytest.mark.parametrize("version", ["0.1.0", "0.2.0"])
@pytest.mark.parametrize("suffix", ["", ".zip", ".tar.gz"])
def test_releases_verify(releases: Releases, version: str, suffix: str) -> None:
    path = Path(f"{releases.folder(version)}{suffix}")
    assert verify_path(path) == []


def test_cli_prints_ok_with_the_file_count(releases: Releases, cli: object) -> None:
    folder = releases.folder("0.1.0")
    result = cli("verify", folder)  # type: ignore[operator]
    count = len((folder / "SHA256SUMS").read_text().splitlines())
    assert result.exit_code == 0 and result.output.strip() == f"OK {count} files verified"


def test_a_changed_byte_is_a_hash_mismatch(copy: Path, cli: object) -> None:
    readme = copy / "README.md"
    data = bytearray(readme.read_bytes())
    data[0] ^= 0x01
    readme.write_bytes(bytes(data))
    assert _types(copy) == [("hash-mismatch", "README.md")]
    result = cli("verify", copy)  # type: ignore[operator]
    assert result.exit_code == 2
    assert "hash-mismatch" in result.output and "README.md" in result.output


def test_a_changed_data_byte_is_caught_by_sums_descriptor_and_frictionless(copy: Path) -> None:
    csv = copy / "data/actors.csv"
    csv.write_bytes(
        csv.read_bytes().replace(b"US national security adviser", b"US national security advisor")
    )
    found = _types(copy)
    assert found.count(("hash-mismatch", "data/actors.csv")) == 2  # SHA256SUMS and datapackage.json
    assert ("frictionless-invalid", "datapackage.json") in found


def test_a_missing_file_is_named(copy: Path) -> None:
    (copy / "docs/data-dictionary.md").unlink()
    errors = verify_path(copy)
    assert [e.type for e in errors] == ["checksum-list-mismatch"]
    assert "docs/data-dictionary.md is listed but missing" in errors[0].message


def test_an_extra_file_is_named(copy: Path) -> None:
    (copy / "data/notes.txt").write_text("not part of the release\n")
    errors = verify_path(copy)
    assert [e.type for e in errors] == ["checksum-list-mismatch"]
    assert "data/notes.txt is in the release but not listed" in errors[0].message


def test_all_problems_are_collected_in_one_error_list(copy: Path) -> None:
    (copy / "docs/data-dictionary.md").unlink()
    (copy / "extra.txt").write_text("x")
    (copy / "CITATION.cff").write_text("tampered")
    with pytest.raises(ErrorList) as caught:
        verify(copy)
    assert len(caught.value.errors) == 3


def test_csv_header_must_equal_the_schema_fields(copy: Path) -> None:
    votes = copy / "data/votes.csv"
    header, rest = votes.read_text(encoding="utf-8").split("\n", 1)
    votes.write_text(header.replace("vote_id", "vote_key", 1) + "\n" + rest, encoding="utf-8")
    found = _types(copy)
    assert ("schema-field-missing", "data/votes.csv") in found
    assert ("extra-column", "data/votes.csv") in found


def test_an_unreadable_parquet_file_is_reported(copy: Path) -> None:
    (copy / "data/parquet/votes.parquet").write_bytes(b"PAR1 this is not parquet")
    assert ("parquet-unreadable", "data/parquet/votes.parquet") in _types(copy)


def test_an_unsafe_resource_path_is_refused(copy: Path) -> None:
    descriptor_path = copy / "datapackage.json"
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    descriptor["resources"][0]["path"] = "../outside.csv"
    descriptor_path.write_text(json.dumps(descriptor), encoding="utf-8")
    found = _types(copy)
    assert ("unsafe-resource-path", "datapackage.json") in found
    assert ("hash-mismatch", "datapackage.json") in found


def test_archives_with_unsafe_members_are_refused(tmp_path: Path) -> None:
    zipped = tmp_path / "evil.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("release/../../evil.txt", "x")
    assert _types(zipped) == [("unsafe-archive-member", "evil.zip")]
    tarred = tmp_path / "evil.tar.gz"
    with tarfile.open(tarred, "w:gz") as tf:
        link = tarfile.TarInfo("release/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
        absolute = tarfile.TarInfo("/tmp/absolute.txt")
        absolute.size = 1
        tf.addfile(absolute, io.BytesIO(b"x"))
    assert _types(tarred) == [("unsafe-archive-member", "evil.tar.gz")] * 2
    assert not (tmp_path / "evil.txt").exists()


def test_something_that_is_not_a_release(tmp_path: Path, cli: object) -> None:
    (tmp_path / "file.txt").write_text("x")
    assert [e.type for e in verify_path(tmp_path / "file.txt")] == ["not-a-package"]
    result = cli("verify", tmp_path / "file.txt")  # type: ignore[operator]
    assert result.exit_code == 2 and "not-a-package" in result.output


# --- partitioned Parquet (issue 9): every part listed with its own bytes and hash -------------


def _statement_parts(folder: Path) -> list[str]:
    """The parts datapackage.json lists for the statements table (one partition per year)."""
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    resource = next(r for r in descriptor["resources"] if r["name"] == "statements-parquet")
    return [str(p["path"]) for p in resource["parts"]]


def _rewrite_descriptor(folder: Path, change: object) -> None:
    """Apply ``change`` to the statements-parquet resource of the release's datapackage.json."""
    path = folder / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    resource = next(r for r in descriptor["resources"] if r["name"] == "statements-parquet")
    change(resource)  # type: ignore[operator]
    path.write_text(json.dumps(descriptor, indent=2) + "\n", encoding="utf-8")


def test_the_release_lists_each_part_with_its_bytes_and_hash(releases: Releases) -> None:
    from newstables.checksums import sha256_file

    folder = releases.folder("0.1.0")
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    resource = next(r for r in descriptor["resources"] if r["name"] == "statements-parquet")
    assert resource["path"] == [p["path"] for p in resource["parts"]]
    assert resource["path"] and all(p.startswith("data/parquet/statements/year=") for p in resource["path"])
    for part in resource["parts"]:
        assert part["bytes"] == (folder / part["path"]).stat().st_size
        assert part["hash"] == f"sha256:{sha256_file(folder / part['path'])}"
    assert resource["partitioning"]["null_partition"] == "__HIVE_DEFAULT_PARTITION__"


def test_a_wrong_part_hash_names_the_part_file(copy: Path) -> None:
    _rewrite_descriptor(copy, lambda r: r["parts"][0].update(hash="sha256:" + "0" * 64))
    assert ("hash-mismatch", _statement_parts(copy)[0]) in _types(copy)


def test_a_parts_listing_that_disagrees_with_the_path_list_is_refused(copy: Path) -> None:
    _rewrite_descriptor(copy, lambda r: r.update(path=[]))
    errors = verify_path(copy)
    assert ("parts-invalid", "statements-parquet") in [(e.type, e.coordinates.get("record")) for e in errors]


def test_parts_outside_the_table_folder_are_refused(copy: Path) -> None:
    def elsewhere(resource: dict[str, object]) -> None:
        resource["path"] = ["data/votes.csv"]
        resource["parts"] = [{"path": "data/votes.csv", "bytes": 1, "hash": "sha256:" + "0" * 64}]

    _rewrite_descriptor(copy, elsewhere)
    assert ("unsafe-resource-path", "datapackage.json") in _types(copy)


def test_parts_together_must_hold_the_csv_rows(copy: Path) -> None:
    """A listed part with fewer rows (descriptor and sums updated to match) is still caught:
    the parts together must equal the CSV's rows."""
    import pyarrow.parquet as pq

    from newstables.metadata import file_stats
    from newstables.verify import sha256sums_text

    part = _statement_parts(copy)[0]
    rows = pq.read_table(copy / part)
    pq.write_table(rows.slice(0, rows.num_rows - 1), copy / part, compression="zstd")

    def restat(resource: dict[str, object]) -> None:
        resource["parts"] = [{"path": part, **file_stats(copy / part)}]
        resource["path"] = [part]
        resource.update(file_stats(copy / part))

    _rewrite_descriptor(copy, restat)
    (copy / "SHA256SUMS").write_text(sha256sums_text(copy), encoding="utf-8")
    assert ("row-count-mismatch", "data/parquet/statements/") in _types(copy)
