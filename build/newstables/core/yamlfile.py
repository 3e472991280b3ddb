"""Reading the YAML metadata files a person edits (``schemas/package.yaml``,
``validation/story.yaml``, ``validation/expected_counts.yaml``) into plain data, with
every failure turned into a catalogued error naming the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from newstables.errors import NewstablesError


def read_text(path: Path, name: str) -> str:
    """A metadata file's text: refused when missing, not UTF-8 or holding a NUL byte."""
    if not path.is_file():
        raise NewstablesError("file-missing", file=name)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise NewstablesError("file-not-utf8", file=name, offset=exc.start) from exc
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise NewstablesError("file-has-nul", file=name, line=line)
    return text


def _line(exc: yaml.MarkedYAMLError) -> int:
    mark = exc.problem_mark or exc.context_mark
    return mark.line + 1 if mark else 0


def parse_yaml(text: str, name: str) -> Any:
    """Parse YAML safely; syntax errors, unsafe tags and unhashable keys are catalogued."""
    try:
        return yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        if "unhashable" in str(exc.problem):
            raise NewstablesError("yaml-unhashable-key", file=name, line=_line(exc)) from exc
        tag = (exc.problem or "").split("tag ")[-1].strip("'\"")
        raise NewstablesError("yaml-unsafe-tag", file=name, line=_line(exc), tag=tag) from exc
    except yaml.MarkedYAMLError as exc:
        raise NewstablesError("yaml-syntax", file=name, line=_line(exc), detail=exc.problem) from exc
    except yaml.YAMLError as exc:
        raise NewstablesError("yaml-syntax", file=name, line=0, detail=" ".join(str(exc).split())) from exc


def key_lines(text: str) -> dict[str, int]:
    """The line of every top-level key of a YAML mapping (1-based), for error messages."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(key.value): key.start_mark.line + 1 for key, _ in node.value}


def load_mapping(path: Path, name: str) -> tuple[dict[str, Any], dict[str, int]]:
    """A YAML file that must hold a mapping: its data and the line of each top-level key.

    An empty file is an empty mapping; any other top-level type is refused.
    """
    text = read_text(path, name)
    data = parse_yaml(text, name)
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        got = "list" if isinstance(data, list) else type(data).__name__
        raise NewstablesError("yaml-not-a-mapping", file=name, got=got)
    return {str(k): v for k, v in data.items()}, key_lines(text)
