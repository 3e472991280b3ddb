"""Shared test helpers: throwaway projects assembled from the repo and tiny fixtures."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from newstables.cli import app

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
MINI = FIXTURES / "mini"
INPUT_DIRS = ("schemas", "validation", "data/raw", "data/annotations", "data/articles")


def copy_inputs(source: Path, target: Path) -> None:
    """Copy the input folders of a project (not its outputs) from ``source`` to ``target``."""
    for folder in INPUT_DIRS:
        if (source / folder).is_dir():
            shutil.copytree(
                source / folder,
                target / folder,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("report", "__pycache__", "draft"),
            )


def assemble(target: Path, base: str = "mini") -> Path:
    """A project in ``target``: the repo's schemas and suites, plus the chosen data.

    ``base="mini"`` overlays the tiny fixture project (a 5-line article); ``base="repo"``
    uses the real article and annotations.
    """
    copy_inputs(REPO, target)
    if base == "mini":
        shutil.rmtree(target / "data", ignore_errors=True)
        copy_inputs(MINI, target)
    return target


@pytest.fixture
def mini_project(tmp_path: Path) -> Path:
    """A fresh copy of the tiny fixture project."""
    return assemble(tmp_path / "mini", "mini")


@pytest.fixture
def repo_project(tmp_path: Path) -> Path:
    """A fresh copy of the real project's inputs."""
    return assemble(tmp_path / "repo", "repo")


@pytest.fixture
def cli() -> Callable[..., object]:
    """Run the ``newstables`` CLI in-process; returns the click Result."""
    runner = CliRunner()

    def invoke(*args: str) -> object:
        return runner.invoke(app, [str(a) for a in args])

    return invoke


@pytest.fixture(autouse=True, scope="session")
def _private_gate_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Suite results cached by the gate go to this session's own folder (and to the
    subprocesses' it starts), never to the user's cache."""
    import os

    os.environ["NEWSTABLES_CACHE_DIR"] = str(tmp_path_factory.mktemp("gate-cache"))
