"""The report's structural rows say what really happened: a finding makes a row fail."""

from __future__ import annotations

from newstables.errors import NewstablesError
from newstables.pipeline import STRUCTURAL_CHECKS, structural_result


def test_a_structural_check_with_findings_is_reported_failed() -> None:
    finding = NewstablesError("frictionless-invalid", file="datapackage.json", detail="type-error row 2")
    row = structural_result("frictionless", [finding])
    assert (row.passed, row.unexpected_count) == (False, 1)
    assert row.observed == [finding.message]


def test_a_structural_check_without_findings_passes() -> None:
    for check in STRUCTURAL_CHECKS:
        row = structural_result(check, [])
        assert (row.passed, row.unexpected_count, row.observed) == (True, 0, None)


def test_an_expectation_that_could_not_run_says_so() -> None:
    from newstables.gate import COULD_NOT_RUN, CheckResult, failures

    broken = CheckResult("votes", "voter-is-a-country", "Why.", "expect_x", False, COULD_NOT_RUN + "KeyError")
    detail = failures([broken])[0].coordinates["detail"]
    assert "could not run: KeyError" in detail and "offending rows" not in detail
