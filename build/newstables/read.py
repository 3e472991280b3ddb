"""Stage 1, read: the raw article and the curated annotation files, checked on entry."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from newstables.core.cache import DocumentCache, Spans
from newstables.core.progress import track
from newstables.core.yamllines import block_mapping, flow_records
from newstables.errors import NewstablesError
from newstables.project import (
    ANNOTATIONS,
    SEED_DOCUMENT,
    Project,
    document_folder,
    document_ids,
    document_text_path,
)


def read_documents(project: Project) -> dict[str, str]:
    """The text of every document of the project, by document id (at least the seed's).

    A project without any document is refused as ``article-missing`` naming the seed's path.
    """
    ids = document_ids(project) or [SEED_DOCUMENT]
    return {
        document_id: read_article(project, document_id) for document_id in track(ids, len(ids), "read texts")
    }


def default_document(texts: dict[str, str]) -> str:
    """The document a record names when it names none: the seed, or the project's only one."""
    if SEED_DOCUMENT in texts or len(texts) != 1:
        return SEED_DOCUMENT
    return next(iter(texts))


def read_article(project: Project, document_id: str = SEED_DOCUMENT) -> str:
    """Read one document's raw text, refusing anything that would shift offsets.

    The article must be UTF-8 without a byte-order mark and with LF line endings, since
    evidence offsets are code points into exactly this text.
    """
    path = document_text_path(project, document_id)
    name = project.rel(path)
    if not path.is_file():
        raise NewstablesError("article-missing", file=name)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NewstablesError("article-not-utf8", file=name, offset=exc.start) from exc
    if text.startswith("\ufeff"):
        raise NewstablesError("article-has-bom", file=name, line=1)
    if "\r\n" in text:
        raise NewstablesError("article-crlf", file=name, line=text[: text.index("\r\n")].count("\n") + 1)
    for char, error in (("\r", "article-lone-cr"), ("\x00", "article-nul")):
        if char in text:
            offset = text.index(char)
            raise NewstablesError(error, file=name, line=text[:offset].count("\n") + 1, offset=offset)
    if not text.strip():
        raise NewstablesError("article-empty", file=name)
    return text


class Record(dict[str, Any]):
    """One annotation record: its fields, plus where it stands in its file."""

    file: str
    index: int
    line: int
    lines: dict[str, int]
    # The document of the annotation folder the record comes from (None: the corpus-wide
    # folder data/annotations/), used when the record names no ``document_id``.
    folder_document: str | None = None
    # The document the build resolved the record's evidence in (set by the tables stage).
    resolved_document: str | None = None
    # Where an earlier build found this record's excerpt (start, end), when its document's
    # inputs are unchanged (core.cache): the span is then checked, not searched for again.
    cached_span: tuple[int, int] | None = None
    # Where this build found the record's excerpt by searching the text (None: its offsets
    # were given, or it has no excerpt), for the cache entry of its document.
    found_span: tuple[int, int] | None = None

    def document(self, default: str) -> str:
        """The document this record's evidence is in: its ``document_id``, else its folder's
        document, else ``default`` (the seed or the project's only document)."""
        named = self.get("document_id")
        if isinstance(named, str) and named:
            return named
        return self.folder_document or default

    def where(self, field_name: str | None = None) -> dict[str, Any]:
        """Coordinates of this record (or one of its fields) for an error message."""
        line = self.lines.get(field_name, self.line) if field_name else self.line
        coords: dict[str, Any] = {"file": self.file, "record": self.label, "line": line}
        if field_name:
            coords["field"] = field_name
        return coords

    @property
    def label(self) -> str:
        """The record's number in its file and, when it has one, its id."""
        for key, value in self.items():  # the first id (asked for every staged row)
            if key.endswith("_id") and isinstance(value, str):
                return f"{self.index} ({value})"
        return str(self.index)


# A YAML file is a graph: an alias re-uses a node, so nine levels of nine aliases (the
# "billion laughs") expand to 10^9 values from a few hundred bytes. The composed graph is
# measured with every alias expanded, before anything is constructed.
MAX_EXPANDED_NODES = 200_000


class _TooLarge(Exception):
    """The document expands (through aliases) to more nodes than allowed."""

    def __init__(self, node: yaml.Node) -> None:
        super().__init__("too many nodes")
        self.node = node


def expanded_size(root: yaml.Node, limit: int = MAX_EXPANDED_NODES) -> int:
    """Number of nodes of ``root`` with every alias expanded; raises _TooLarge past ``limit``."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, path: frozenset[int]) -> int:
        if id(node) in path:  # a recursive alias expands without end
            raise _TooLarge(node)
        if id(node) not in sizes:
            children: list[yaml.Node] = []
            if isinstance(node, yaml.SequenceNode):
                children = list(node.value)
            elif isinstance(node, yaml.MappingNode):
                children = [part for pair in node.value for part in pair]
            inner = path | {id(node)}
            sizes[id(node)] = 1 + sum(size(child, inner) for child in children)
        if sizes[id(node)] > limit:
            raise _TooLarge(node)
        return sizes[id(node)]

    return size(root, frozenset())


class _Measured:
    """What both record loaders (PyYAML's and libyaml's) add to their composer: scalar tags
    remembered (``_remembered_tag``) and every document measured before anything is
    constructed, unless ``load_yaml`` found that the text alone cannot reach the limit."""

    measure = True  # see load_yaml

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        """The tag of a node (remembered for scalars, see ``_remembered_tag``)."""
        return _remembered_tag(super().resolve, kind, value, implicit)  # type: ignore[misc]

    def get_single_node(self) -> yaml.Node | None:
        """Compose the document, then measure it before anything is constructed."""
        node: yaml.Node | None = super().get_single_node()  # type: ignore[misc]
        if node is not None and self.measure:
            expanded_size(node)
        return node


class _RecordLoader(_Measured, yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping and key and refuses documents
    that alias expansion would blow up."""


class _DuplicateKey(yaml.MarkedYAMLError):
    """A key given twice in one record (PyYAML would silently keep the last value)."""


def _refuse_duplicate_keys(node: yaml.MappingNode) -> None:
    seen: set[str] = set()
    for key, _ in node.value:
        if str(key.value) in seen:
            raise _DuplicateKey(problem=str(key.value), problem_mark=key.start_mark)
        seen.add(str(key.value))


STR_TAG = "tag:yaml.org,2002:str"


INT_TAG = "tag:yaml.org,2002:int"


def _scalar(loader: Any, node: yaml.Node) -> Any:
    """A value node's Python value: a plain string as is, a plain decimal integer by ``int``
    (what ``construct_yaml_int`` gives for it: no sign, underscore or octal leading zero),
    anything else by the loader."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == STR_TAG:
            return node.value
        value = node.value
        if node.tag == INT_TAG and value.isascii() and value.isdigit() and (value == "0" or value[0] != "0"):
            return int(value)
    return loader.construct_object(node, deep=True)


_RESOLVED: dict[tuple[str, bool, bool], str] = {}


def _remembered_tag(resolve: Any, kind: Any, value: Any, implicit: Any) -> Any:
    """``Resolver.resolve`` (called as ``resolve``) remembered for scalars: a safe loader has
    no path resolvers, so a scalar's tag depends on its text and implicitness only, and record
    files repeat their keys and many values (the resolver's regular expressions ran on each)."""
    if kind is not yaml.ScalarNode or not isinstance(implicit, tuple):
        return resolve(kind, value, implicit)
    key = (value, bool(implicit[0]), bool(implicit[1]))
    tag = _RESOLVED.get(key)
    if tag is None:
        tag = resolve(kind, value, implicit)
        if len(_RESOLVED) > 200_000:  # bounded: free texts rarely repeat
            _RESOLVED.clear()
        _RESOLVED[key] = tag
    return tag


def _construct_fields(loader: Any, node: yaml.MappingNode) -> dict[str, Any]:
    """The mapping's fields. When every key is a plain string (the usual record: no merge key,
    no unhashable key) the values are constructed one by one, a plain string taken as is,
    which is what ``construct_mapping`` does, without its per-node overhead."""
    if not all(isinstance(k, yaml.ScalarNode) and k.tag == STR_TAG for k, _ in node.value):
        return {str(k): v for k, v in loader.construct_mapping(node, deep=True).items()}
    return {k.value: _scalar(loader, v) for k, v in node.value}


def _construct_record(loader: Any, node: yaml.MappingNode) -> Record:  # either loader class
    _refuse_duplicate_keys(node)
    record = Record(_construct_fields(loader, node))
    record.line = node.start_mark.line + 1
    record.lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
    return record


def _construct_timestamp(loader: Any, node: yaml.ScalarNode) -> Any:
    # An impossible date such as 2022-02-30 stays a string, for the build to report as
    # invalid-date with its coordinates (PyYAML would raise a bare ValueError).
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_RecordLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_record)
_RecordLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)

if yaml.__with_libyaml__:

    class _CRecordLoader(_Measured, yaml.CSafeLoader):
        """The same loader on libyaml: the C parser composes the nodes, with their marks
        (lines), about ten times faster than PyYAML's pure-Python scanner; the nodes are
        measured and constructed by the same Python code, so the checks are the same
        (``tests/test_yaml_loader.py`` compares both on every bad-input fixture)."""

    _CRecordLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_record)
    _CRecordLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
    RECORD_LOADER: type[Any] = _CRecordLoader
else:  # pragma: no cover - PyYAML built without libyaml
    RECORD_LOADER = _RecordLoader


@dataclass
class Annotations:
    """All curated records, by table, plus the regions and waivers files."""

    tables: dict[str, list[Record]] = field(default_factory=dict)
    regions: list[Record] = field(default_factory=list)
    waivers: list[Record] = field(default_factory=list)


def load_yaml_records(
    project: Project,
    path: Path,
    loader: type[Any] | None = None,
    data: bytes | None = None,
    name: str | None = None,
) -> list[Record]:
    """Load a YAML list of mappings safely, with line numbers for every record (with libyaml's
    C parser when PyYAML has it; ``loader`` picks one, for the tests that compare them).
    ``data``: the file's bytes when the caller read them already (to hash them), ``name``: its
    project-relative name when the caller has it (the file is then not read again)."""
    name = project.rel(path) if name is None else name
    text = _read_utf8(path, name) if data is None else _decoded(data, name)
    if loader is None:
        fast = flow_records(text, RECORD_LOADER, MAX_EXPANDED_NODES, Record)
        if fast is not None:
            return [
                _fast_record(fields, line, lines, name, index)
                for index, (fields, line, lines) in enumerate(fast, start=1)
            ]
    try:
        data = load_yaml(text, loader or RECORD_LOADER)
    except _TooLarge as exc:
        line = exc.node.start_mark.line + 1
        raise NewstablesError("yaml-too-large", file=name, line=line, limit=MAX_EXPANDED_NODES) from exc
    except RecursionError as exc:
        raise NewstablesError("yaml-too-large", file=name, line="-", limit=MAX_EXPANDED_NODES) from exc
    except yaml.reader.ReaderError as exc:
        line = _line_of_offset(path, exc.position)
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        detail = (
            f"character {char} at offset {exc.position} is not allowed in YAML (no NUL or control characters)"
        )
        raise NewstablesError("yaml-syntax", file=name, line=line, detail=detail) from exc
    except _DuplicateKey as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise NewstablesError("duplicate-key", file=name, line=line, field=exc.problem) from exc
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        if "unhashable" in str(exc.problem):
            raise NewstablesError("yaml-unhashable-key", file=name, line=line) from exc
        tag = (exc.problem or "").split("tag ")[-1].strip("'\"")
        raise NewstablesError("yaml-unsafe-tag", file=name, line=line, tag=tag) from exc
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise NewstablesError("yaml-syntax", file=name, line=line, detail=exc.problem) from exc
    except yaml.YAMLError as exc:
        raise NewstablesError("yaml-syntax", file=name, line=0, detail=" ".join(str(exc).split())) from exc
    if data is None:
        return []
    if not isinstance(data, list):
        got = "mapping" if isinstance(data, dict) else type(data).__name__
        raise NewstablesError("annotation-not-a-list", file=name, got=got)
    return [_check_record(item, name, index) for index, item in enumerate(data, start=1)]


def _fast_record(record: Record, line: int, lines: dict[str, int], name: str, index: int) -> Record:
    """A record read by the line reader (``core.yamllines``: it declines a text with a NUL)."""
    record.file, record.index, record.line, record.lines = name, index, line, lines
    return record


def load_yaml(text: str, loader_class: type[Any] = RECORD_LOADER) -> Any:
    """``yaml.load`` with the record loader. Without an alias (no ``*`` anywhere) nothing
    expands: a document has fewer nodes than twice its characters (an empty value is a node:
    ``- ``, ``?``), its cost is linear in the bytes read, and it is not measured. (The registry
    of a large corpus, 50,000 actors in one file, has more than ``MAX_EXPANDED_NODES`` nodes of
    its own; the limit is against alias expansion, which only a text with ``*`` can do.)"""
    loader = loader_class(text)
    if "*" not in text:
        loader.measure = False
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _read_utf8(path: Path, name: str) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise NewstablesError("annotation-not-utf8", file=name, offset=exc.start) from exc
    if "\x00" in text:
        raise NewstablesError("file-has-nul", file=name, line=text[: text.index("\x00")].count("\n") + 1)
    return text


def _decoded(data: bytes, name: str) -> str:
    """:func:`_read_utf8` of bytes already read: the same text (``read_text`` reads line breaks
    as universal newlines: CRLF and a lone CR become LF) and the same refusals."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NewstablesError("annotation-not-utf8", file=name, offset=exc.start) from exc
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        raise NewstablesError("file-has-nul", file=name, line=text[: text.index("\x00")].count("\n") + 1)
    return text


def _line_of_offset(path: Path, offset: int) -> int:
    return path.read_text(encoding="utf-8", errors="replace")[:offset].count("\n") + 1


def _check_record(item: Any, name: str, index: int) -> Record:
    if not isinstance(item, Record):
        raise NewstablesError(
            "record-not-a-mapping", file=name, record=index, line="-", got=type(item).__name__
        )
    item.file, item.index = name, index
    _refuse_nul(item)
    return item


def _refuse_nul(record: Record) -> None:
    """A NUL character (written ``"\\0"`` in YAML) truncates text in C-based readers; refuse it."""
    for key, value in record.items():
        if isinstance(value, str) and "\x00" in value:
            raise NewstablesError("nul-byte", **record.where(key), offset=value.index("\x00"))


def read_annotations(project: Project, tables: list[str], cache: DocumentCache | None = None) -> Annotations:
    """Read ``data/annotations/<table>.yaml`` (corpus-wide: the registries of actors, events and
    sources) and each document's ``data/articles/<id>/annotations/<table>.yaml``, concatenated
    in that order, for every table, plus regions and waivers.

    With a ``cache``, the records of a document whose inputs are unchanged bring the spans an
    earlier build found their excerpts at (``Record.cached_span``: checked, not searched for
    again); the other documents are noted for saving."""
    folders: list[tuple[Path, str | None]] = [(project.path(ANNOTATIONS), None)]
    folders += [(document_folder(project, d) / "annotations", d) for d in document_ids(project)]
    names = [*tables, "regions", "waivers"]
    by_name: dict[str, list[Record]] = {name: [] for name in names}
    # Folder by folder (each table's records still come registry first, then documents in id
    # order), so that the files of one document are read together.
    for folder, document_id in track(folders, len(folders), "read annotations", "folder"):
        if not folder.is_dir():
            continue
        spans: Spans | None = None
        if cache is not None and document_id is not None:
            files = [document_text_path(project, document_id), *sorted(folder.glob("*.yaml"))]
            key = cache.key(document_id, files)
            spans = cache.load(key)
            if spans is not None:
                cache.hits.add(document_id)
            else:
                cache.misses[document_id] = key
        for name in names:
            path = folder / f"{name}.yaml"
            if path.is_file():
                records = load_yaml_records(project, path)
                for record in records:
                    record.folder_document = document_id
                if spans:
                    attach_spans(records, spans)
                by_name[name] += records
    loaded = Annotations()
    for name, records in by_name.items():
        if name in ("regions", "waivers"):
            setattr(loaded, name, records)
        else:
            loaded.tables[name] = records
    refuse_draft_records([*loaded.tables.values(), loaded.regions, loaded.waivers])
    return loaded


def attach_spans(records: list[Record], spans: Spans) -> None:
    """Give each record of one file the span an earlier build found its excerpt at (a cache
    entry of its document: file -> record number -> span), as ``Record.cached_span``."""
    if not records:
        return
    found = spans.get(records[0].file)
    if found:
        for record in records:
            record.cached_span = found.get(record.index)


# meta.yaml key -> documents column (the rest of meta.yaml is for people: capture, rights).
META_COLUMNS = {
    "outlet": "outlet",
    "url": "url",
    "published": "date_published",
    "published_precision": "date_precision",
    "published_basis": "date_basis",
    "language": "language",
    "relation": "relation",
    "relation_source_id": "relation_source_id",
}
WORD = re.compile(r"[^\W_]+")


def document_records(project: Project, texts: dict[str, str]) -> list[Record]:
    """One record per document for the ``documents`` table: the measures of its text (computed
    here, never typed) and the values of its ``meta.yaml`` (none in the legacy layout)."""
    records = []
    for document_id, text in sorted(texts.items()):
        path = document_text_path(project, document_id)
        meta_path = path.parent / "meta.yaml"
        record = Record(
            document_id=document_id,
            path=project.rel(path),
            bytes=len(text.encode("utf-8")),
            characters=len(text),
            words=len(WORD.findall(text)),
        )
        record.file, record.index, record.line, record.lines = project.rel(path), 1, 1, {}
        if path.name == "article.txt" and path.parent.name == document_id and meta_path.is_file():
            (meta,) = load_yaml_mapping(project, meta_path)
            record.file, record.line, record.lines = meta.file, meta.line, meta.lines
            for key, column in META_COLUMNS.items():
                if meta.get(key) not in (None, ""):
                    record[column] = meta[key]
        record.folder_document = document_id
        records.append(record)
    return records


def load_yaml_mapping(project: Project, path: Path) -> list[Record]:
    """A YAML file holding one mapping (such as ``meta.yaml``), as a one-record list."""
    name = project.rel(path)
    text = _read_utf8(path, name)
    fast = block_mapping(text, RECORD_LOADER, MAX_EXPANDED_NODES, Record)
    if fast is not None:
        record, line, lines = fast
        record.file, record.index, record.line, record.lines = name, 1, line, lines
        return [record]
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise NewstablesError("yaml-syntax", file=name, line=0, detail=" ".join(str(exc).split())) from exc
    if not isinstance(data, Record):
        raise NewstablesError("draft-meta-invalid", file=name, field="-", detail="expected a mapping")
    data.file, data.index = name, 1
    return [data]


def refuse_draft_records(files: list[list[Record]]) -> None:
    """Refuse any record still marked ``status: draft`` (written by ``newstables draft``).

    Curating a draft record means checking it and deleting its ``status`` and ``reason``
    keys; elsewhere those keys are columns only where a schema declares them (events.status,
    waivers.reason), so a leftover one is an unknown field.
    """
    for records in files:
        for record in records:
            if record.get("status") == "draft":
                raise NewstablesError("draft-record-in-curated", **record.where("status"))
