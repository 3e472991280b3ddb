"""Suite results are reused only for exactly the same frame, expectations, code and libraries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from newstables import gate
from newstables.core.model import load_model
from newstables.gate import COULD_NOT_RUN, CheckResult, ResultCache, run_suites
from newstables.pipeline import build, load_inputs
from tests.conftest import assemble


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = assemble(tmp_path_factory.mktemp("gate-cache") / "mini", "mini")
    build(root)
    return root


def suites(root: Path) -> list[CheckResult]:
    """The suites' results through Great Expectations (the engine the cache is for)."""
    inputs = load_inputs(root)
    results, problems = run_suites(
        inputs.model, root, inputs.raw, inputs.waivers["formula"], inputs.texts, engine="gx"
    )
    assert problems == []
    return results


class NoGreatExpectations:
    def __init__(self, *args: Any) -> None:
        raise AssertionError("Great Expectations ran although every frame was cached")


def test_unchanged_frames_reuse_the_results_without_great_expectations(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", str(tmp_path / "cache"))
    first = suites(built)
    assert first and all(r.passed for r in first)
    monkeypatch.setattr(gate, "_Validator", NoGreatExpectations)
    assert suites(built) == first, "a full cache hit gives the very same results"


def test_a_changed_expectation_runs_great_expectations_again(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", str(tmp_path / "cache"))
    suites(built)
    counts = built / "validation/expected_counts.yaml"
    text = counts.read_text(encoding="utf-8")
    try:
        counts.write_text(text.replace("votes: 1", "votes: 2"), encoding="utf-8")
        results = suites(built)
        failed = [r for r in results if not r.passed]
        assert [(r.table, r.check) for r in failed] == [("votes", "row-count-as-expected")]
    finally:
        counts.write_text(text, encoding="utf-8")


def test_a_changed_frame_is_validated_again(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", str(tmp_path / "cache"))
    inputs = load_inputs(built)
    cache = ResultCache.for_this_code()
    expectations = gate.suite_expectations(inputs.model, "votes", ["vote_id"])
    assert cache.key("votes", "a", expectations) != cache.key("votes", "b", expectations)
    assert cache.key("votes", "a", expectations) != cache.key("votes", "a", expectations[:-1])
    assert cache.key("votes", "a", expectations) != ResultCache(None, "other code").key(
        "votes", "a", expectations
    )


def test_results_that_could_not_run_are_never_cached(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "code")
    broken = CheckResult("votes", "c", "why", "kind", False, observed=COULD_NOT_RUN + "boom")
    assert gate._could_not_run(broken)
    fine = CheckResult("votes", "c", "why", "kind", True, observed={"rows": 1, "expected": 1})
    assert cache.put("k", [fine]) == [fine] and cache.get("k") == [fine]
    assert json.loads((tmp_path / "k.json").read_text(encoding="utf-8"))[0]["check"] == "c"
    assert cache.get("missing") is None


def test_the_model_is_unchanged_by_caching(built: Path) -> None:
    assert load_model(built).tables


def test_the_worker_process_gives_the_same_results(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", str(tmp_path / "in-process"))
    here = suites(built)
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", str(tmp_path / "worker"))
    inputs = load_inputs(built)
    worker = gate.GateWorker()
    monkeypatch.setattr(gate, "_Validator", NoGreatExpectations)  # the worker must do it all
    results, problems = run_suites(
        inputs.model, built, inputs.raw, inputs.waivers["formula"], inputs.texts, worker, engine="gx"
    )
    assert problems == [] and results == here
    assert worker.process.poll() is not None, "the worker is ended once the gate is done"


def test_a_failing_worker_falls_back_to_this_process(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", str(tmp_path / "in-process"))
    here = suites(built)
    monkeypatch.setenv("NEWSTABLES_CACHE_DIR", str(tmp_path / "fallback"))
    worker = gate.GateWorker()
    worker.process.kill()  # dies before answering: the gate runs here instead
    inputs = load_inputs(built)
    results, _ = run_suites(
        inputs.model, built, inputs.raw, inputs.waivers["formula"], inputs.texts, worker, engine="gx"
    )
    assert results == here
