"""A strict, fast reader for the two shapes of YAML the build reads by the hundred thousand:
a list of records written one flow mapping per line (what ``newstables synth`` writes:
``- {statement_id: "s1", char_start: 276, excerpt: "Nobody can ..."}``) and a block mapping of
one ``key: value`` per line (``meta.yaml``). Other files (the drafter's block lists, the seed's
hand-written annotations) are read by the full loader.

Why hand-written: the build needs, for every record, the line of the record and of each key,
refusal of duplicate keys, and PyYAML's YAML 1.1 typing of plain scalars (``yes`` is a
boolean, ``2022-03-13`` a date, ``010`` octal). No maintained C-speed YAML library gives per-key
line numbers with that typing: libyaml through PyYAML does, but composes a Python node with two
marks per scalar (about 3.6 MB/s, more than half of the per-article build at scale); ruamel's
C loader and the Rust/C bindings (rapidyaml, yaml-rs) give neither the marks nor YAML 1.1.

What makes it safe: it answers only for a text made entirely of lines of its grammar (plus
comment lines starting with ``#`` and blank lines), and returns ``None`` (declines) for anything
else, so that the caller reads the whole file with the full loader instead; it never guesses.
The grammar is deliberately narrow:

- keys are plain ``[A-Za-z_][A-Za-z0-9_]*`` words that YAML reads as strings (``on``, ``yes``,
  ``null`` are declined), separated by ``, `` in a flow mapping opened by ``- {`` at column 0;
- a value is a double-quoted string or a plain word of ``[A-Za-z0-9_.+-]`` (no space, colon
  or indicator), never empty;
- a double-quoted string holds no raw control or line-break character; its escapes, if any,
  are those JSON and YAML decode alike (``\\" \\\\ \\/ \\b \\f \\n \\r \\t`` and ``\\uXXXX``
  outside the surrogates), decoded by ``json.loads``;
- a plain word is typed by the very resolver and constructors of the loader the caller names
  (``loader_class``), so ``yes``, ``0x1F``, ``1_000``, ``.inf`` and ``2022-02-30`` come out as
  the full loader makes them;
- the text holds no character YAML refuses or reads as a line break (``\\x85``,
  ``\\u2028``...), no byte-order mark, and no tab;
- a key given twice in one mapping, a string escaping a NUL character (``\\u0000``), or a
  text with ``*`` and more nodes than the alias guard allows, is declined too: the full loader
  then raises exactly its own error, or the caller its own refusal.

``tests/test_yaml_lines.py`` runs this reader and the full loader on every YAML file of the
repository, on a synthetic corpus and on generated and mutated lines, and asserts the same
records (fields, value types, lines) or the same error.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

import yaml

# A character YAML refuses or reads as a line break, a tab or a byte-order mark.
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_KEY = r"[A-Za-z_][A-Za-z0-9_]*"
_QUOTED_CONTENT = r'[^"\\\n]*(?:\\[^\n][^"\\\n]*)*'
_QUOTED = f'"{_QUOTED_CONTENT}"'
_PLAIN = r"(?:[A-Za-z0-9_]|[-+.][A-Za-z0-9_])[A-Za-z0-9_.+-]*"
_VALUE = f"(?:{_QUOTED}|{_PLAIN})"
_PAIR = f"{_KEY}: {_VALUE}"
_OTHER = "#[^\\n]*| *"  # a comment or a blank line
_FLOW_LINE = f"- \\{{{_PAIR}(?:, {_PAIR})*\\}} *"
FLOW_LINE = re.compile(_FLOW_LINE)
_BLOCK_LINE = f"{_KEY}: {_VALUE} *"
# A whole mapping's text, checked in one pass before any line is read (with _UNSAFE).
BLOCK_TEXT = re.compile(f"(?:{_BLOCK_LINE}|{_OTHER})(?:\\n(?:{_BLOCK_LINE}|{_OTHER}))*")
# Each pair of a checked line: key, double-quoted content (without the quotes), plain word,
# and what follows: "," (another pair) or "}" (the record's end).
_PAIRS = re.compile(f'({_KEY}): (?:"([^"\\\\]*(?:\\\\.[^"\\\\]*)*)"|({_PLAIN}))(,|}}?)')
# Escapes JSON and YAML decode to the same characters (no surrogate halves: YAML keeps them
# apart, JSON pairs them).
_JSON_ALIKE = re.compile(
    r'(?:[^\\]|\\["\\/bfnrt]|\\u(?:[0-9a-cA-Ce-fE-F][0-9a-fA-F]{3}|[dD][0-7][0-9a-fA-F]{2}))*'
)
STR_TAG = "tag:yaml.org,2002:str"
INT_TAG = "tag:yaml.org,2002:int"
_MISSING = object()
Mapping = TypeVar("Mapping", bound=dict[str, Any])


class _Declined(Exception):
    """The text is outside the grammar: the full loader reads it."""


class _Scalars:
    """The Python value of each plain word and escaped string, as one loader class would
    construct it (cached: record files repeat their ids, types and numbers; every cached value
    is immutable), and which plain words are string keys."""

    def __init__(self, loader_class: type[Any]) -> None:
        self.loader = loader_class("")
        self.plain: dict[str, Any] = {}
        self.keys: set[str] = set()

    def check_keys(self, keys: dict[str, Any]) -> None:
        """Decline unless every key is read as a string (``on`` and ``null`` are not)."""
        if self.keys.issuperset(keys):
            return
        for key in keys:
            if self.loader.resolve(yaml.ScalarNode, key, (True, False)) != STR_TAG:
                raise _Declined(key)
            self.keys.add(key)

    def escaped(self, content: str) -> str:
        """A double-quoted string's content with escapes, decoded (declined unless JSON and
        YAML decode them alike)."""
        if not _JSON_ALIKE.fullmatch(content):
            raise _Declined(content)
        value: str = json.loads(f'"{content}"')
        if "\x00" in value:  # refused by the caller's own check, with its coordinates
            raise _Declined(content)
        return value

    def typed(self, text: str) -> Any:
        """A plain word's value (declined when the loader has no plain scalar for it)."""
        value = self.plain.get(text, _MISSING)
        if value is not _MISSING:
            return value
        tag = self.loader.resolve(yaml.ScalarNode, text, (True, False))
        if tag == STR_TAG:
            value = text
        elif tag == INT_TAG and text.isdigit() and (text == "0" or text[0] != "0"):
            value = int(text)
        else:
            constructor = self.loader.yaml_constructors.get(tag)
            if constructor is None:
                raise _Declined(text)
            try:
                value = constructor(self.loader, yaml.ScalarNode(tag, text))
            except Exception as exc:  # whatever the full loader would do, it does it itself
                raise _Declined(text) from exc
            if isinstance(value, (list, dict, set, bytearray)):  # not a plain scalar's value
                raise _Declined(text)
        if len(self.plain) > 100_000:
            self.plain.clear()
        self.plain[text] = value
        return value

    def value(self, quoted: str, word: str) -> Any:
        """The value of a pair: its plain ``word`` typed, else its double-quoted content."""
        if word:
            value = self.plain.get(word, _MISSING)
            return self.typed(word) if value is _MISSING else value
        return self.escaped(quoted) if "\\" in quoted else quoted

    def finish(self, fields: Mapping, pairs: int) -> Mapping:
        """A mapping read from ``pairs`` pairs: declined if a key came twice (the full loader
        refuses it) or is not read as a string."""
        if len(fields) != pairs:
            raise _Declined("a key given twice")
        if not self.keys.issuperset(fields):
            self.check_keys(fields)
        return fields


_SCALARS: dict[type[Any], _Scalars] = {}


def _scalars(loader_class: type[Any]) -> _Scalars:
    found = _SCALARS.get(loader_class)
    if found is None:
        found = _SCALARS[loader_class] = _Scalars(loader_class)
    return found


def _checked(text: str, grammar: re.Pattern[str]) -> bool:
    return grammar.fullmatch(text) is not None and _UNSAFE.search(text) is None


class _Shape:
    """The exact line of one sequence of keys, each with a double-quoted or a plain value:
    one compiled expression whose groups are the values (the quotes left out), so that a line
    like the one before is matched and split in one call (a file's records share their keys)."""

    def __init__(self, pairs: tuple[tuple[str, bool], ...]) -> None:
        self.keys = tuple(key for key, _ in pairs)
        self.quoted = tuple(i for i, (_, quoted) in enumerate(pairs) if quoted)
        self.plain = tuple(i for i, (_, quoted) in enumerate(pairs) if not quoted)
        values = [
            f'{key}: "({_QUOTED_CONTENT})"' if quoted else f"{key}: ({_PLAIN})" for key, quoted in pairs
        ]
        self.line = re.compile("- \\{" + ", ".join(values) + "\\} *")


_SHAPES: dict[tuple[tuple[str, bool], ...], _Shape] = {}


def _shape_of(line: str, scalars: _Scalars) -> _Shape:
    """The shape of a record line (declined when it is not one, or repeats a key)."""
    if FLOW_LINE.fullmatch(line) is None:
        raise _Declined(line)
    pairs = tuple((key, not word) for key, _, word, _ in _PAIRS.findall(line))
    shape = _SHAPES.get(pairs)
    if shape is None:
        keys = dict.fromkeys(key for key, _ in pairs)
        if len(keys) != len(pairs):
            raise _Declined("a key given twice")  # the full loader refuses it
        scalars.check_keys(keys)
        if len(_SHAPES) > 1000:
            _SHAPES.clear()
        shape = _SHAPES[pairs] = _Shape(pairs)
    return shape


def flow_records(
    text: str,
    loader_class: type[Any],
    alias_limit: int,
    mapping: type[Mapping] = dict,  # type: ignore[assignment]
) -> list[tuple[Mapping, int, dict[str, int]]] | None:
    """Each record of a list of one-line flow mappings: (fields as a ``mapping``, line, line of
    each key), or None when the text is not made only of such lines (see the module docstring)."""
    if _UNSAFE.search(text) is not None:
        return None
    scalars = _scalars(loader_class)
    plain, typed, escaped = scalars.plain.get, scalars.typed, scalars.escaped
    records: list[tuple[Mapping, int, dict[str, int]]] = []
    shape: _Shape | None = None
    try:
        for number, line in enumerate(text.split("\n"), start=1):
            if line[:1] != "-":
                if line[:1] == "#" or not line.strip(" "):
                    continue  # a comment or a blank line
                return None
            found = shape.line.fullmatch(line) if shape is not None else None
            if shape is None or found is None:
                shape = _shape_of(line, scalars)
                found = shape.line.fullmatch(line)
                assert found is not None, "a line matches its own shape"
            values = list(found.groups())
            if "\\" in line:
                for i in shape.quoted:
                    if "\\" in values[i]:
                        values[i] = escaped(values[i])
            for i in shape.plain:
                value = plain(values[i], _MISSING)
                values[i] = typed(values[i]) if value is _MISSING else value
            records.append(
                (mapping(zip(shape.keys, values, strict=True)), number, dict.fromkeys(shape.keys, number))
            )
    except _Declined:
        return None
    nodes = 1 + sum(1 + 2 * len(fields) for fields, _, _ in records) if "*" in text else 0
    if not records or nodes > alias_limit:
        return None  # nothing, or what the full loader measures (and refuses)
    return records


def block_mapping(
    text: str,
    loader_class: type[Any],
    alias_limit: int,
    mapping: type[Mapping] = dict,  # type: ignore[assignment]
) -> tuple[Mapping, int, dict[str, int]] | None:
    """A block mapping of one ``key: value`` per line: (fields as a ``mapping``, line of its
    first key, line of each key), or None when the text is not made only of such lines."""
    if not _checked(text, BLOCK_TEXT):
        return None
    numbered = [
        (number, line) for number, line in enumerate(text.split("\n"), start=1) if line[:1] not in "# "
    ]
    if not numbered:
        return None
    scalars = _scalars(loader_class)
    fields = mapping()
    where: dict[str, int] = {}
    try:
        for number, line in numbered:
            found = _PAIRS.match(line)
            if found is None:
                return None
            key, quoted, word, _ = found.groups()
            fields[key] = scalars.value(quoted, word)
            where[key] = number
        scalars.finish(fields, len(numbered))
    except _Declined:
        return None
    if 1 + 2 * len(fields) > alias_limit and "*" in text:
        return None
    return fields, numbered[0][0], where
