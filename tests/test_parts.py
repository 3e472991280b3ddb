"""Partitioned publication (issue 9): hive-style Parquet parts by publication year, gzip CSV past
a size threshold, and no stale file left when the layout of a table changes."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from newstables.core.formats import gzip_file, write_csv_maybe_gz
from newstables.core.model import load_package
from newstables.core.parts import DEFAULT_PARTITION, found_parts, is_part_path, write_partitioned
from newstables.errors import NewstablesError
from newstables.pipeline import build
from tests.conftest import REPO

PUBLISHED = {"a": dt.date(2022, 3, 13), "b": dt.date(2024, 1, 2), "c": None}


def rows(count: int) -> pa.Table:
    """A table like a span table: ids, a document, some text; documents interleaved."""
    documents = ["b", "a", None, "c"]
    return pa.table(
        {
            "row_id": [f"r{i:05d}" for i in range(count)],
            "document_id": pa.array([documents[i % 4] for i in range(count)], pa.string()),
            "text": [f"words of row {i} " * 8 for i in range(count)],
        }
    )


def test_rows_go_to_their_documents_year_and_undated_rows_to_the_null_partition(tmp_path: Path) -> None:
    written = write_partitioned(rows(40), "spans", tmp_path, PUBLISHED, ["document_id", "row_id"])
    assert [p.as_posix() for p in written] == [
        "data/parquet/spans/year=2022/part-0.parquet",
        "data/parquet/spans/year=2024/part-0.parquet",
        f"data/parquet/spans/year={DEFAULT_PARTITION}/part-0.parquet",
    ]
    default = pq.read_table(tmp_path / written[2])
    # no document (external rows) and a document without a date: sorted by document, nulls last
    assert default.column("document_id").to_pylist() == ["c"] * 10 + [None] * 10
    assert "year" not in default.column_names, "the year is in the folder name only (hive style)"
    assert pq.read_table(tmp_path / written[0]).column("row_id").to_pylist() == sorted(
        f"r{i:05d}" for i in range(1, 40, 4)
    )


def test_a_partition_past_the_size_limit_is_cut_into_balanced_parts(tmp_path: Path) -> None:
    table = rows(1000)
    limit = table.nbytes // 12
    written = write_partitioned(table, "spans", tmp_path, {"a": None}, ["row_id"], max_bytes=limit)
    assert 12 <= len(written) <= 13, "the fewest parts under the limit, numbered from 0"
    assert [p.name for p in written] == [f"part-{n}.parquet" for n in range(len(written))]
    counts = [pq.ParquetFile(tmp_path / p).metadata.num_rows for p in written]
    assert sum(counts) == 1000 and max(counts) - min(counts) <= 1
    firsts = [pq.read_table(tmp_path / p).column("row_id")[0].as_py() for p in written]
    assert firsts == sorted(firsts), "parts continue the sort order"
    assert found_parts(tmp_path, "spans") == [p.as_posix() for p in written], "part-10 after part-9"


def test_the_same_rows_give_the_same_part_bytes(tmp_path: Path) -> None:
    first = write_partitioned(rows(200), "spans", tmp_path / "1", PUBLISHED, ["document_id", "row_id"])
    second = write_partitioned(rows(200), "spans", tmp_path / "2", PUBLISHED, ["document_id", "row_id"])
    assert first == second
    for part in first:
        assert (tmp_path / "1" / part).read_bytes() == (tmp_path / "2" / part).read_bytes()


def test_only_names_like_parts_are_parts() -> None:
    assert is_part_path("data/parquet/statements/year=2022/part-0.parquet", "statements")
    assert is_part_path(f"data/parquet/statements/year={DEFAULT_PARTITION}/part-12.parquet", "statements")
    for other in (
        "data/parquet/statements/year=2022/part-01.parquet",
        "data/parquet/statements/part-0.parquet",
        "data/parquet/votes/year=2022/part-0.parquet",
        "data/parquet/statements/year=22/part-0.parquet",
    ):
        assert not is_part_path(other, "statements"), other


def test_a_large_csv_is_published_gzip_compressed_with_reproducible_bytes(tmp_path: Path) -> None:
    import duckdb

    table = rows(100)
    plain = write_csv_maybe_gz(table, tmp_path / "small.csv")
    assert plain.name == "small.csv"
    packed = write_csv_maybe_gz(table, tmp_path / "big.csv", min_gzip_bytes=100)
    assert packed.name == "big.csv.gz" and not (tmp_path / "big.csv").exists()
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    header = packed.read_bytes()[:10]
    assert header[4:8] == b"\0\0\0\0" and not header[3] & 0x08, "mtime 0, no file name"
    gzip_file(plain, tmp_path / "again.csv.gz")
    assert (tmp_path / "again.csv.gz").read_bytes() == packed.read_bytes()
    count = duckdb.execute(f"SELECT count(*) FROM read_csv('{packed.as_posix()}')").fetchall()[0][0]
    assert count == 100


def test_the_seed_partitions_statements_and_mentions() -> None:
    package = load_package(REPO)
    partitioned = [e["name"] for e in package.entries if e.get("partition")]
    assert partitioned == ["actor_mentions", "statements"]
    descriptor = json.loads((REPO / "datapackage.json").read_text(encoding="utf-8"))
    for name in partitioned:
        resource = next(r for r in descriptor["resources"] if r["name"] == f"{name}-parquet")
        assert resource["path"] == [p["path"] for p in resource["parts"]]
        assert resource["partitioning"]["field"] == "year"


def test_an_unknown_partition_scheme_is_refused(mini_project: Path) -> None:
    path = mini_project / "schemas/package.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(r for r in data["resources"] if r["name"] == "votes")["partition"] = "by_month"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(NewstablesError) as caught:
        load_package(mini_project)
    assert caught.value.type == "value-invalid" and "votes.partition" in str(caught.value)


def test_a_table_that_becomes_partitioned_leaves_no_stale_file(mini_project: Path) -> None:
    """The upgrade path of every existing project: one file per table, then parts."""
    path = mini_project / "schemas/package.yaml"
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    for resource in data["resources"]:
        resource.pop("partition", None)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    build(mini_project)
    assert (mini_project / "data/parquet/statements.parquet").is_file()
    path.write_text(text, encoding="utf-8")
    build(mini_project)
    assert not (mini_project / "data/parquet/statements.parquet").exists(), "the single file removed"
    assert found_parts(mini_project, "statements") and not list(mini_project.glob(".staging-*"))


def test_parts_and_files_the_new_build_does_not_write_are_obsolete(tmp_path: Path) -> None:
    from newstables.core.model import load_model
    from newstables.publish import obsolete_outputs, remove_empty_folders
    from newstables.tables import Table

    model = load_model(REPO)
    tables = {name: Table(name, model.tables[name]) for name in ("statements", "votes")}
    old = [
        "data/statements.csv",
        "data/parquet/statements.parquet",
        "data/parquet/statements/year=2019/part-0.parquet",
        "data/parquet/statements/year=2022/part-0.parquet",
        "data/parquet/statements/year=2022/part-1.parquet",
        "data/parquet/votes.parquet",
        "data/parquet/unrelated.parquet",
    ]
    for relative in old:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(b"x")
    written = [
        Path("data/statements.csv.gz"),
        Path("data/parquet/statements/year=2022/part-0.parquet"),
        Path("data/parquet/votes.parquet"),
    ]
    assert sorted(p.as_posix() for p in obsolete_outputs(tmp_path, tables, written)) == [
        "data/parquet/statements.parquet",
        "data/parquet/statements/year=2019/part-0.parquet",
        "data/parquet/statements/year=2022/part-1.parquet",
        "data/statements.csv",
    ]
    (tmp_path / "data/parquet/statements/year=2019/part-0.parquet").unlink()
    remove_empty_folders(tmp_path, tables)
    assert not (tmp_path / "data/parquet/statements/year=2019").exists()
    assert (tmp_path / "data/parquet/statements/year=2022").is_dir()


@pytest.mark.parametrize("cross_device", [False, True])
def test_commit_moves_obsolete_files_out_whatever_the_file_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cross_device: bool
) -> None:
    """Obsolete parts leave the release in the same journaled commit as the new files; across
    file systems every move stays in its folder (renames never cross a device)."""
    import os

    from newstables.core import staging
    from newstables.core.staging import commit, leftovers, staging_area

    out = tmp_path / "out"
    old_part = Path("data/parquet/statements/year=2019/part-0.parquet")
    (out / old_part).parent.mkdir(parents=True)
    (out / old_part).write_bytes(b"old")
    renames: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def replace(src: object, dst: object) -> None:
        renames.append((Path(str(src)), Path(str(dst))))
        real_replace(src, dst)  # type: ignore[arg-type]

    if cross_device:
        monkeypatch.setattr(staging, "same_file_system", lambda source, target_dir: False)
    monkeypatch.setattr(staging.os, "replace", replace)
    new_part = Path("data/parquet/statements/year=2022/part-0.parquet")
    with staging_area(out) as folder:
        (folder / new_part).parent.mkdir(parents=True)
        (folder / new_part).write_bytes(b"new")
        commit(out, folder, [new_part], [old_part])
    assert (out / new_part).read_bytes() == b"new" and not (out / old_part).exists()
    if cross_device:
        moves = [(s, d) for s, d in renames if d.name != staging.JOURNAL]
        assert all(s.parent == d.parent for s, d in moves), "every journaled move stays in its folder"
    assert not leftovers(out) and not list(out.rglob(".staging-*"))
