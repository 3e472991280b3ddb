"""The README is a contract: two set-up commands, example queries that return rows."""

from __future__ import annotations

import re

import duckdb
import pytest

from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
QUERIES = re.findall(r"```sql\n(.*?)```", README, flags=re.S)


def test_the_readme_has_exactly_two_setup_commands() -> None:
    setup = README.split("## Set-up", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^(make \w+)", setup, flags=re.M)
    assert commands == ["make release", "make test"]


def test_the_readme_has_at_least_five_example_queries() -> None:
    assert len(QUERIES) >= 5


@pytest.mark.parametrize("query", QUERIES, ids=[f"query-{i + 1}" for i in range(len(QUERIES))])
def test_each_readme_query_runs_on_the_release_and_returns_rows(query: str) -> None:
    con = duckdb.connect(str(REPO / "data/newstables.duckdb"), read_only=True)
    assert con.execute(query).fetchall(), "the example returns rows"


def test_the_readme_links_the_validation_report() -> None:
    assert "(validation/report/index.html)" in README
    assert (REPO / "validation/report/index.html").is_file()


def test_the_generated_data_dictionary_is_up_to_date() -> None:
    from newstables.docs import write_docs

    assert write_docs(REPO, check=True) == [], "run `newstables docs` and commit"


QUERY_COMMANDS = re.findall(r"^newstables query .*$", README, flags=re.M)


@pytest.mark.parametrize("command", QUERY_COMMANDS, ids=[f"cli-{i + 1}" for i in range(len(QUERY_COMMANDS))])
def test_each_readme_query_command_runs_and_prints_rows(command: str, cli: object) -> None:
    import shlex

    args = [*shlex.split(command)[1:], "--db", str(REPO / "data/newstables.duckdb")]
    result = cli(*args)  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) >= 2, "a header and at least one row"
