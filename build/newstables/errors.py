"""The error catalogue: named, stable error types with coordinates.

Types, titles and message templates live in ``errors.yaml`` (data, not code). Every
error raised by the project is a :class:`NewstablesError` carrying one catalogue type
and the coordinates (file, record, field, line, ...) that the template names.
"""

from __future__ import annotations

import functools
import string
from importlib import resources
from typing import Any

import yaml


@functools.cache
def catalogue() -> dict[str, dict[str, str]]:
    """Return the error catalogue: type -> {title, template}."""
    text = resources.files(__package__).joinpath("errors.yaml").read_text(encoding="utf-8")
    loaded: dict[str, dict[str, str]] = yaml.safe_load(text)
    return loaded


class _Lenient(dict[str, Any]):
    """Leave unknown placeholders visible instead of failing while formatting an error."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class NewstablesError(Exception):
    """An error of a catalogued type, with its coordinates.

    Example: ``NewstablesError("duplicate-id", file="data/annotations/actors.yaml",
    record=3, field="actor_id", value="china", other=1, line=12)``.
    """

    def __init__(self, error_type: str, **coordinates: Any) -> None:
        if error_type not in catalogue():
            raise KeyError(f"error type {error_type!r} is not in errors.yaml")
        self.type = error_type
        self.coordinates = coordinates
        super().__init__(self.message)

    @property
    def title(self) -> str:
        """The catalogue title of this error type."""
        return catalogue()[self.type]["title"]

    @property
    def message(self) -> str:
        """The message template filled with this error's coordinates."""
        template = catalogue()[self.type]["template"]
        return string.Formatter().vformat(template, (), _Lenient(self.coordinates))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: type, title, message and coordinates."""
        coords = {k: v for k, v in self.coordinates.items() if _is_plain(v)}
        return {"type": self.type, "title": self.title, "message": self.message, **coords}


def _is_plain(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None


class ErrorList(Exception):
    """Several errors found in one pass (e.g. all failing expectations of a gate)."""

    def __init__(self, errors: list[NewstablesError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.message for e in errors))
