"""What the gate reads of a table: the columns its frame keeps, whether it waits for the texts
(from the metadata model alone, no build)."""

from __future__ import annotations

import dataclasses
from pathlib import Path


def test_a_frame_keeps_only_the_columns_its_expectations_read(mini_project: Path) -> None:
    """The evidence's context (prefix, suffix) is no check's business in actor_mentions: the
    frame leaves it out; a suite with SQL of its own keeps every column."""
    from newstables import gate
    from newstables.core.model import load_model

    model = load_model(mini_project)
    resource = model.tables["actor_mentions"]
    columns = [f.name for f in resource.fields] + ["from_its_document", "evidence_is_the_name_only"]
    kept = gate.columns_read(model, resource, columns)
    assert "prefix" not in kept and "suffix" not in kept
    assert {"mention_id", "excerpt", "is_external", "evidence_is_the_name_only"} <= set(kept)
    assert kept == [c for c in columns if c in kept], "the frame's column order is kept"
    suite = model.suites["actor_mentions"]
    own_sql = {
        "type": "unexpected_rows_expectation",
        "kwargs": {"unexpected_rows_query": "SELECT * FROM {batch}"},
    }
    model.suites["actor_mentions"] = dataclasses.replace(suite, expectations=(*suite.expectations, own_sql))
    assert gate.columns_read(model, resource, columns) == columns


def test_a_frame_naming_the_texts_in_any_case_waits_for_them(mini_project: Path) -> None:
    from newstables import gate
    from newstables.core.model import load_model

    model = load_model(mini_project)
    votes = model.tables["votes"]
    assert not gate.reads_texts(model, votes)
    naming = {**model.frame_sql, "votes": "SELECT * FROM votes, RAW_Article"}
    assert gate.reads_texts(dataclasses.replace(model, frame_sql=naming), votes)
