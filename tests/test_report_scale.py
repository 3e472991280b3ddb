"""The report at scale (``newstables.report``): results.json is written by the C JSON encoder,
one check or document a line, and reads back as exactly what ``json.dumps`` would have written."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from newstables.core.model import load_model
from newstables.coverage import LARGE_CORPUS
from newstables.gate import CheckResult
from newstables.report import check_dict, json_text, write_report

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Nested:
    value: int


def checks() -> list[CheckResult]:
    return [
        CheckResult("doc-1", "coverage:name", "why", "coverage", True, {"hits": 3, "covered": 3}),
        CheckResult("votes", "row-count", "why «é»", "gate", False, 5, 2, ["a", "b"], "sql"),
        CheckResult("votes", "nested", "why", "gate", True, Nested(1)),
        CheckResult("votes", "listed", "why", "gate", True, [1, "x", None]),
    ]


def test_a_check_as_a_dict_equals_asdict_and_is_not_shared_with_the_check() -> None:
    for check in checks():
        assert check_dict(check) == asdict(check)
    first = checks()[1]
    check_dict(first)["examples"].append("c")
    assert first.examples == ["a", "b"]


def test_the_json_text_reads_back_as_the_value_one_list_item_a_line() -> None:
    value = {
        "checks": [check_dict(c) for c in checks()[:2]],
        "empty": {"list": [], "dict": {}},
        "names": ["a", "ü"],
        "n": 3,
    }
    text = json_text(value)
    assert json.loads(text) == json.loads(json.dumps(value, default=str))
    lines = text.splitlines()
    assert lines[0] == "{" and lines[1] == '  "checks": ['
    assert json.loads(lines[2].rstrip(",")) == check_dict(checks()[0])
    assert '"ü"' in text  # not escaped, as ensure_ascii=False writes it


def test_results_json_holds_every_check(tmp_path: Path) -> None:
    package = load_model(ROOT).package
    many = [
        CheckResult(f"doc-{i}", "coverage:name", "why", "coverage", i != 7, {"hits": i}) for i in range(2000)
    ]
    write_report(tmp_path, package, {"votes": 2}, many)
    document = json.loads((tmp_path / "validation/report/results.json").read_text(encoding="utf-8"))
    assert len(document["checks"]) == 2000
    assert document["checks"][0]["table"] == "doc-7"  # failing first
    assert document["summary"]["failed"] == 1


def test_past_a_large_corpus_the_html_folds_the_passing_coverage_checks(tmp_path: Path) -> None:
    package = load_model(ROOT).package
    many = [
        CheckResult(f"doc-{i:04d}", "coverage:name", "why", "coverage", i != 7, {"hits": 2, "covered": 2})
        for i in range(LARGE_CORPUS + 1)
    ]
    write_report(tmp_path, package, {"votes": 2}, many)
    page = (tmp_path / "validation/report/index.html").read_text(encoding="utf-8")
    assert "<h2>doc-0007</h2>" in page and "<h2>doc-0008</h2>" not in page
    assert "<h2>corpus</h2>" in page
    assert f"{{&quot;documents&quot;: {LARGE_CORPUS}, &quot;hits&quot;: {2 * LARGE_CORPUS}" in page
    few = many[:50]
    write_report(tmp_path, package, {"votes": 2}, few)
    page = (tmp_path / "validation/report/index.html").read_text(encoding="utf-8")
    assert "<h2>doc-0008</h2>" in page and "<h2>corpus</h2>" not in page
